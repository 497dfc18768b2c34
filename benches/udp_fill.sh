#!/usr/bin/env bash
# Memory of running trackers filled over UDP (BEP 15): octotracker (memory backend) and Debian's
# opentracker, side by side in one run, on 127.0.0.1 / ::1.
#
#   benches/udp_fill.sh [TABLE_FILE]          (as root: opentracker chroots and drops privileges)
#
# Each row is a fresh server, pinned to SERVER_CPUS, filled by `populate udp://…` (pinned to
# GENERATOR_CPUS) with TORRENTS swarms of PEERS_PER_TORRENT distinct peers (one `started`
# announce each, interleaved: round k adds peer k to every swarm). The fill runs twice: first one
# peer per swarm (the delta over TORRENTS is the cost of a torrent with its first peer), then
# all of them (round 0 again, which adds nothing, then the others: the delta over the other
# peers is the marginal cost of a peer). All-in: the whole delta over every peer. Resident
# memory is VmRSS from /proc/PID/status before and after (the process's own allocator: mimalloc
# for octotracker, glibc for opentracker).
#
# Rows: octotracker as it starts by default (peer ids kept for non-compact HTTP replies),
# octotracker with `--allow-non-compact false` (no peer ids: what a compact-only public tracker
# runs), opentracker (IPv4 only as Debian builds it: whitelist-only, its whitelist holds the
# fill's hashes); and the two octotracker rows again with IPv6 peers (the fill over [::1]).
#
# Environment (defaults):
#   TORRENTS=100000  PEERS_PER_TORRENT=10  CONNECTIONS=64  SERVER_CPUS=0  GENERATOR_CPUS=1
#   OCTOTRACKER_BIN= (empty: build target/release/octotracker)  POPULATE_BIN= (empty: build
#   target/release/populate)  IPV6=1 (0: skip the IPv6 rows)  PORT_MIN=20000 PORT_MAX=49999
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

TORRENTS=${TORRENTS:-100000}
PEERS_PER_TORRENT=${PEERS_PER_TORRENT:-10}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPUS=${SERVER_CPUS:-0}
GENERATOR_CPUS=${GENERATOR_CPUS:-1}
IPV6=${IPV6:-1}
PORT_MIN=${PORT_MIN:-20000}
PORT_MAX=${PORT_MAX:-49999}
TABLE_FILE=${1:-}
OCTOTRACKER=${OCTOTRACKER_BIN:-$REPO_ROOT/target/release/octotracker}
POPULATE=${POPULATE_BIN:-$REPO_ROOT/target/release/populate}

log() { printf 'udp_fill.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=$(mktemp -d /tmp/octotracker-udp-fill.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"
# shellcheck source=benches/udp_servers.sh
source "$REPO_ROOT/benches/udp_servers.sh"

MACHINE="$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)"
COMMAND="TORRENTS=$TORRENTS PEERS_PER_TORRENT=$PEERS_PER_TORRENT CONNECTIONS=$CONNECTIONS IPV6=$IPV6 benches/udp_fill.sh $*"
echo "machine: $MACHINE, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "command: $COMMAND"

PIN_SERVER=() PIN_GENERATOR=()
if (( $(nproc) >= 2 )); then
    PIN_SERVER=(taskset -c "$SERVER_CPUS")
    PIN_GENERATOR=(taskset -c "$GENERATOR_CPUS")
fi
for tool in opentracker curl python3 ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install -y $tool)"
done
(( EUID == 0 )) || die "run as root: opentracker chroots to its directory and drops to _opentracker"
if [[ -z ${OCTOTRACKER_BIN:-} || -z ${POPULATE_BIN:-} ]]; then
    log "building (release)"
    cargo build --release -q -p octotracker -p octotracker-benches --bin octotracker --bin populate
fi

HASHES=$WORK/hashes.txt
"$POPULATE" --list-info-hashes --torrents "$TORRENTS" --seed 7 >"$HASHES"
PEERS=$(( TORRENTS * PEERS_PER_TORRENT ))
ROWS=()

# fill NAME PID URL: the two fills and the row.
fill() {
    local name=$1 pid=$2 url=$3 r0 r1 r2 out=$WORK/$1
    r0=$(rss_kib "$pid")
    log "$name: one peer in each of $TORRENTS swarms ($url)"
    run_waited "${PIN_GENERATOR[@]}" "$POPULATE" "$url" --torrents "$TORRENTS" --peers-per-torrent 1 --seed 7 \
        --connections "$CONNECTIONS" >"$out.1.json" || die "populate failed: $(cat "$out.1.json")"
    r1=$(rss_kib "$pid")
    log "$name: $PEERS_PER_TORRENT peers in each"
    run_waited "${PIN_GENERATOR[@]}" "$POPULATE" "$url" --torrents "$TORRENTS" --peers-per-torrent "$PEERS_PER_TORRENT" \
        --seed 7 --connections "$CONNECTIONS" >"$out.2.json" || die "populate failed: $(cat "$out.2.json")"
    r2=$(rss_kib "$pid")
    ROWS+=("$(python3 - "$name" "$out.1.json" "$out.2.json" "$r0" "$r1" "$r2" "$TORRENTS" "$PEERS" <<'EOF'
import json, sys
name, first, full = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
r0, r1, r2, torrents, peers = (int(x) for x in sys.argv[4:9])
errors = first["errors"] + full["errors"]
if errors:
    print(f"udp_fill.sh: warning: {name}: {errors} errors: {first['first_error'] or full['first_error']}", file=sys.stderr)
stored = full["last_round_peers"]
print(f"| {name} | {(r2 - r0) * 1024 / peers:.1f} | {(r1 - r0) * 1024 / torrents:.1f} "
      f"| {(r2 - r1) * 1024 / (peers - torrents):.1f} | {r2 / 1024:.1f} | {full['announces_per_second']:,} "
      f"| {stored:,} | {errors} |")
EOF
)")
}

# octotracker_row NAME HOST [flags]: a fresh octotracker listening on udp://HOST:port, filled.
octotracker_row() {
    local name=$1 host=$2 pid port
    shift 2
    port=$(free_port udp)
    "${PIN_SERVER[@]}" "$OCTOTRACKER" --udp "$host:$port" --http "127.0.0.1:$(free_port tcp)" "$@" \
        --log warn,octotracker=info </dev/null >"$WORK/octotracker-$port.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 600); do
        grep -qs "listening on udp://" "$WORK/octotracker-$port.log" && break
        kill -0 "$pid" 2>/dev/null || die "$name exited: $(cat "$WORK/octotracker-$port.log")"
        (( i < 600 )) || die "$name does not say it listens"
        sleep 0.1
    done
    fill "$name" "$pid" "udp://$host:$port"
    stop_pid "$pid"
}

octotracker_row "octotracker (peer ids kept, the default)" 127.0.0.1
octotracker_row "octotracker --allow-non-compact false" 127.0.0.1 --allow-non-compact false

log "opentracker: whitelisting $TORRENTS hashes"
start_opentracker_udp "$HASHES"
fill "opentracker" "$OT_PID" "udp://$OT_UDP"
stop_pid "$OT_PID"

if (( IPV6 )); then
    octotracker_row "octotracker, IPv6 peers (peer ids kept)" "[::1]"
    octotracker_row "octotracker --allow-non-compact false, IPv6 peers" "[::1]" --allow-non-compact false
fi

TABLE=$(
    echo "| server | all-in bytes/peer | bytes/torrent (with its first peer) | marginal bytes/peer | RSS MiB after | fill announces/s | peers reported, last round | errors |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Machine: $MACHINE; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end. $PEERS peers over $TORRENTS" \
        "torrents, filled over UDP by \`populate\` ($CONNECTIONS sockets); servers on CPU $SERVER_CPUS, populate on CPU $GENERATOR_CPUS."
    echo "Command: \`$COMMAND\`"
)
echo
echo "$TABLE"
[[ -n $TABLE_FILE ]] && echo "$TABLE" >"$TABLE_FILE"
exit 0
