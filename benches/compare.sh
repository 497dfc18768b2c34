#!/usr/bin/env bash
# octotracker side by side with a ceiling and a reference tracker, in one run, on 127.0.0.1.
#
#   benches/compare.sh [TABLE_FILE]            (as root: installs opentracker and wrk when missing)
#
# Starts three HTTP servers, each pinned to the server core:
#   - octotracker (release build, memory backend): `octotracker --http 127.0.0.1:0`;
#   - the ceiling: `ceiling` (benches/src/bin/ceiling.rs), hyper answering every GET with a fixed
#     100-byte body: what octotracker's HTTP stack costs with no tracker behind it;
#   - Debian's opentracker, whitelist-only as Debian builds it (see "opentracker" below).
# and drives each, from the generator core, with the same settings:
#   - `octotracker load` (octotracker's own generator; JSON summary), and
#   - wrk with benches/wrk_announce.lua (realistic announces over the same info hashes), an
#     independent second opinion;
# both with keep-alive connections and with one connection per request (wrk: `Connection:
# close`). opentracker closes the connection after every reply whatever the client asks, so its
# "keep-alive" rows show what a keep-alive client gets from it (a reconnect per request).
#
# Per run: requests/s, latency p50/p99, the server's CPU seconds (utime + stime from
# /proc/PID/stat, before and after) per 1,000 requests, its resident memory (VmRSS) after the
# run, errors, and the generator's CPU use (% of one core: near 100% means the generator, not
# the server, set the pace). Ratio rows give octotracker / opentracker and octotracker / ceiling.
# Memory rows: bytes per peer at 1,000,000 peers over 100,000 torrents, for octotracker's memory
# backend in process (`bytes_per_peer`), and for octotracker and opentracker as servers filled
# over HTTP by `populate` (fresh processes; (VmRSS after − VmRSS before) / peers).
#
# Prints the machine, the command line and ONE markdown table; writes the table to TABLE_FILE
# too when given. Everything it starts is stopped on exit (by pid), its temp dir removed.
#
# Environment (defaults):
#   DURATION=10         seconds per measured run
#   CONNECTIONS=64      concurrent connections per run
#   TORRENTS=100000     swarms of the load population (and of the wrk script)
#   PEERS=1000000       peers of the load population
#   SEED=1              the load population's seed
#   SERVER_CPUS=0       taskset CPU list for the servers
#   GENERATOR_CPUS=1    taskset CPU list for the load generators and populate
#                       (on a 2-core machine: servers on core 0, generators on core 1, so a
#                       server gets one core, as many tokio workers as cores it may use = 1)
#   GENERATORS="load wrk"   which generators to run
#   MEMORY=1            0 skips the memory rows (the opentracker fill takes about a minute)
#   MEMORY_TORRENTS=100000 MEMORY_PEERS_PER_TORRENT=10
#
# opentracker: Debian builds it with WANT_ACCESSLIST_WHITE (announces of hashes not in the
# whitelist fail) and its config chroots to `tracker.rootdir` and drops to `tracker.user`
# (_opentracker). The whitelist is read by a thread after the chroot, so its path is relative to
# the new root, and it is re-read on SIGHUP. This script writes its own config in a temp dir
# (listen.tcp 127.0.0.1:PORT, tracker.rootdir = that dir, access.whitelist /whitelist.txt), with
# every info hash of the load population in the whitelist (the memory rows use a second, fresh
# instance whitelisting the memory population), and measures once a regular announce of the last
# hash is accepted (a `stopped` one proves nothing: opentracker answers it without the whitelist).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
TORRENTS=${TORRENTS:-100000}
PEERS=${PEERS:-1000000}
SEED=${SEED:-1}
# Ports of the servers: picked at random in PORT_MIN..PORT_MAX (a shared machine may reserve a range).
PORT_MIN=${PORT_MIN:-20000}
PORT_MAX=${PORT_MAX:-49999}
SERVER_CPUS=${SERVER_CPUS:-0}
GENERATOR_CPUS=${GENERATOR_CPUS:-1}
GENERATORS=${GENERATORS:-load wrk}
MEMORY=${MEMORY:-1}
MEMORY_TORRENTS=${MEMORY_TORRENTS:-100000}
MEMORY_PEERS_PER_TORRENT=${MEMORY_PEERS_PER_TORRENT:-10}
TABLE_FILE=${1:-}

# OCTOTRACKER_BIN: another octotracker binary to measure (before/after runs); default: this build.
OCTOTRACKER=${OCTOTRACKER_BIN:-$REPO_ROOT/target/release/octotracker}
CEILING=$REPO_ROOT/target/release/ceiling
POPULATE=$REPO_ROOT/target/release/populate
WRK_SCRIPT=$REPO_ROOT/benches/wrk_announce.lua

log() { printf 'compare.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup

WORK=$(mktemp -d /tmp/octotracker-compare.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"

# ---------------------------------------------------------------- machine and tools

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
NPROC=$(nproc)
MACHINE="$NPROC cores ($CPU_MODEL), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
COMMAND="DURATION=$DURATION CONNECTIONS=$CONNECTIONS TORRENTS=$TORRENTS PEERS=$PEERS SEED=$SEED \
SERVER_CPUS=$SERVER_CPUS GENERATOR_CPUS=$GENERATOR_CPUS GENERATORS=\"$GENERATORS\" MEMORY=$MEMORY benches/compare.sh $*"
echo "machine: $MACHINE"
echo "command: $COMMAND"

# Command prefixes (arrays, not functions: `taskset` execs the command, so `$!` of a background
# job is the server itself, whose /proc entry is read and whose pid is stopped).
if (( NPROC < 2 )); then
    log "one CPU only: servers and generators share it (no pinning)"
    PIN_SERVER=()
    PIN_GENERATOR=()
else
    PIN_SERVER=(taskset -c "$SERVER_CPUS")
    PIN_GENERATOR=(taskset -c "$GENERATOR_CPUS")
fi

need_package() { # COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    (( EUID == 0 )) || die "$1 is missing: apt-get install -y $2 (as root)"
    log "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || {
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    }
}
need_package opentracker opentracker
need_package wrk wrk
need_package curl curl
need_package python3 python3
(( EUID == 0 )) || die "run as root: opentracker chroots to its directory and drops to _opentracker"

log "building (release)"
cargo build --release -q -p octotracker -p octotracker-benches --bins

HAVE_LOAD=0
if "$OCTOTRACKER" load --help >/dev/null 2>&1; then
    HAVE_LOAD=1
fi
GENS=()
for g in $GENERATORS; do
    if [[ $g == load && $HAVE_LOAD == 0 ]]; then
        log "octotracker has no 'load' command yet: skipping that generator"
        continue
    fi
    GENS+=("$g")
done
(( ${#GENS[@]} > 0 )) || die "no generator to run"

# ---------------------------------------------------------------- helpers

CLK_TCK=$(getconf CLK_TCK)

# CPU seconds (utime + stime, every thread) of a pid.
cpu_seconds() {
    local stat
    stat=$(cat "/proc/$1/stat")
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    awk -v u="${12}" -v s="${13}" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (u + s) / t }'
}

# CPU seconds used so far by this shell's waited-for children (the second line of bash's
# `times`). Call it as `children_cpu VAR`, not in $(...): a subshell has no children's times.
children_cpu() {
    times >"$WORK/times"
    printf -v "$1" '%s' "$(awk 'END {
        s = 0
        for (i = 1; i <= NF; i++) { split($i, ms, "m"); sub("s", "", ms[2]); s += ms[1] * 60 + ms[2] }
        printf "%.2f", s }' "$WORK/times")"
}

# A value from the last JSON object in FILE: json_get FILE a.b.c
json_get() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.lstrip().startswith("{")]
d = json.loads(lines[-1]) if lines else {}
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
if isinstance(d, dict):  # errors by kind: their total
    d = d.get("total", sum(v for v in d.values() if isinstance(v, (int, float))))
print("" if d is None else d)
EOF
}

# A free TCP port on 127.0.0.1.
free_port() {
    local port
    while :; do
        port=$(( PORT_MIN + RANDOM % (PORT_MAX - PORT_MIN + 1) ))
        if ! ss -Htln "sport = :$port" | grep -q .; then
            echo "$port"
            return
        fi
    done
}

# Starts octotracker (with any further flags given); sets OCT_PID and OCT_ADDR.
start_octotracker() { # NAME [FLAGS…]
    local name=$1
    shift
    "${PIN_SERVER[@]}" "$OCTOTRACKER" --http "127.0.0.1:$(free_port)" "$@" --log warn,octotracker=info </dev/null >"$WORK/$name.log" 2>&1 &
    OCT_PID=$!
    PIDS+=("$OCT_PID")
    OCT_ADDR=$(wait_listening "$WORK/$name.log" "$OCT_PID")
}

# Starts opentracker chrooted to $WORK/$1 with WHITELIST; sets OT_PID and OT_ADDR.
start_opentracker() { # NAME WHITELIST PROBE_HASH
    local root=$WORK/$1 port
    mkdir -p "$root"
    chmod 755 "$root"
    cp "$2" "$root/whitelist.txt"
    chmod 644 "$root/whitelist.txt"
    port=$(free_port)
    cat >"$WORK/$1.conf" <<EOF
listen.tcp 127.0.0.1:$port
access.whitelist /whitelist.txt
tracker.rootdir $root
tracker.user _opentracker
EOF
    "${PIN_SERVER[@]}" opentracker -f "$WORK/$1.conf" </dev/null >"$WORK/$1.log" 2>&1 &
    OT_PID=$!
    PIDS+=("$OT_PID")
    OT_ADDR=127.0.0.1:$port
    # The whitelist is loaded by a thread after start: wait until the probe hash is accepted.
    for _ in $(seq 1 200); do
        check_announce "$OT_ADDR" "$3" && return
        kill -0 "$OT_PID" 2>/dev/null || die "opentracker exited: $(cat "$WORK/$1.log")"
        sleep 0.1
    done
    die "opentracker does not accept whitelisted hashes (see $WORK/$1.log)"
}

# ---------------------------------------------------------------- the population

HASHES=$WORK/hashes.txt
if (( HAVE_LOAD )); then
    "$OCTOTRACKER" load --list-info-hashes --torrents "$TORRENTS" --seed "$SEED" >"$HASHES"
else
    "$POPULATE" --list-info-hashes --torrents "$TORRENTS" --seed "$SEED" >"$HASHES"
fi
[[ $(wc -l <"$HASHES") -ge 1 ]] || die "no info hashes listed"
MEMORY_HASHES=$WORK/memory-hashes.txt
"$POPULATE" --list-info-hashes --torrents "$MEMORY_TORRENTS" --seed 7 >"$MEMORY_HASHES"
PROBE=$(tail -1 "$HASHES")

# ---------------------------------------------------------------- servers

log "starting the servers (CPUs $SERVER_CPUS)"
start_octotracker octotracker
OCTOTRACKER_PID=$OCT_PID OCTOTRACKER_ADDR=$OCT_ADDR
"${PIN_SERVER[@]}" "$CEILING" --listen "127.0.0.1:$(free_port)" </dev/null >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
PIDS+=("$CEILING_PID")
CEILING_ADDR=$(wait_listening "$WORK/ceiling.log" "$CEILING_PID")
start_opentracker opentracker "$HASHES" "$PROBE"
OPENTRACKER_PID=$OT_PID OPENTRACKER_ADDR=$OT_ADDR
check_announce "$OCTOTRACKER_ADDR" "$PROBE" || die "octotracker refuses the probe announce"
log "octotracker http://$OCTOTRACKER_ADDR (pid $OCTOTRACKER_PID), ceiling http://$CEILING_ADDR (pid $CEILING_PID)," \
    "opentracker http://$OPENTRACKER_ADDR (pid $OPENTRACKER_PID)"

# ---------------------------------------------------------------- runs

ROWS=()        # markdown rows
declare -A M   # metrics: M[gen/mode/server/metric]

fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") print "–"; else printf f, v }'; }
thousands() { [[ -z $1 ]] && { echo "–"; return; }; printf "%.0f" "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/; ta'; }

# One measured run: run GEN MODE SERVER ADDR PID
run() {
    local gen=$1 mode=$2 server=$3 addr=$4 pid=$5 out=$WORK/$1-$2-$3.out
    local cpu0 cpu1 gcpu0 gcpu1 rps requests p50 p99 errors rss
    log "run: $gen, $mode, $server ($DURATION s)"
    cpu0=$(cpu_seconds "$pid")
    children_cpu gcpu0
    local t0=$EPOCHREALTIME t1
    case $gen in
    load)
        local args=(load "http://$addr/announce" --torrents "$TORRENTS" --peers "$PEERS" --connections "$CONNECTIONS"
            --duration "$DURATION" --seed "$SEED" --numwant 50 --quiet --json)
        [[ $mode == close ]] && args+=(--new-connection-per-request)
        run_waited "${PIN_GENERATOR[@]}" "$OCTOTRACKER" "${args[@]}" >"$out" 2>"$out.err" || die "octotracker load failed: $(tail -5 "$out.err")"
        ;;
    wrk)
        local extra=()
        [[ $mode == close ]] && extra=(close)
        run_waited "${PIN_GENERATOR[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s "$WRK_SCRIPT" "http://$addr" \
            -- "$HASHES" "$PEERS" "${extra[@]}" >"$out.raw" 2>&1 || die "wrk failed: $(tail -5 "$out.raw")"
        sed -n 's/^WRKJSON //p' "$out.raw" >"$out"
        ;;
    esac
    children_cpu gcpu1
    t1=$EPOCHREALTIME
    cpu1=$(cpu_seconds "$pid")
    rss=$(rss_kib "$pid")
    rps=$(json_get "$out" requests_per_second)
    requests=$(json_get "$out" requests)
    [[ -n $requests ]] || requests=$(json_get "$out" total_requests)
    [[ -n $requests ]] || requests=$(awk -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.0f", r * d }')
    p50=$(json_get "$out" latency_ms.p50)
    p99=$(json_get "$out" latency_ms.p99)
    errors=$(json_get "$out" errors)
    local key=$gen/$mode/$server
    M[$key/rps]=$rps
    M[$key/p50]=$p50
    M[$key/p99]=$p99
    M[$key/cpu]=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" 'BEGIN { if (n > 0) printf "%.4f", (b - a) * 1000 / n }')
    M[$key/rss]=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
    M[$key/err]=$errors
    # The generator's CPU over its whole run (start-up included) as a share of one core.
    M[$key/gen]=$(awk -v a="$gcpu0" -v b="$gcpu1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) * 100 / (t1 - t0) }')
    ROWS+=("| $gen | ${MODE_LABEL[$mode]} | $server | $(thousands "$rps") | $(fmt "$p50" %.2f) | $(fmt "$p99" %.2f) \
| $(fmt "${M[$key/cpu]}" %.4f) | ${M[$key/rss]} | $(thousands "$errors") | ${M[$key/gen]}% | – |")
}

ratio_row() { # GEN MODE OTHER
    local a=$1/$2/octotracker b=$1/$2/$3
    ROWS+=("| $1 | ${MODE_LABEL[$2]} | **octotracker / $3** | $(ratio "${M[$a/rps]}" "${M[$b/rps]}") \
| $(ratio "${M[$a/p50]}" "${M[$b/p50]}") | $(ratio "${M[$a/p99]}" "${M[$b/p99]}") | $(ratio "${M[$a/cpu]}" "${M[$b/cpu]}") \
| $(ratio "${M[$a/rss]}" "${M[$b/rss]}") | | | |")
}

declare -A MODE_LABEL=([keepalive]="keep-alive, $CONNECTIONS conns" [close]="new connection per request, $CONNECTIONS conns")

# Fault in each server's code and first swarms before measuring.
log "warm-up (2 s per server)"
for target in "$OCTOTRACKER_ADDR" "$CEILING_ADDR" "$OPENTRACKER_ADDR"; do
    run_waited "${PIN_GENERATOR[@]}" wrk -t1 -c"$CONNECTIONS" -d2s -s "$WRK_SCRIPT" "http://$target" -- "$HASHES" "$PEERS" close >/dev/null 2>&1 || true
done

for gen in "${GENS[@]}"; do
    for mode in keepalive close; do
        run "$gen" "$mode" octotracker "$OCTOTRACKER_ADDR" "$OCTOTRACKER_PID"
        run "$gen" "$mode" ceiling "$CEILING_ADDR" "$CEILING_PID"
        run "$gen" "$mode" opentracker "$OPENTRACKER_ADDR" "$OPENTRACKER_PID"
        ratio_row "$gen" "$mode" opentracker
        ratio_row "$gen" "$mode" ceiling
    done
done

# Is octotracker's generator the bottleneck? Against the ceiling it should drive at least what
# wrk drives with the same connections.
if [[ " ${GENS[*]} " == *" load "* && " ${GENS[*]} " == *" wrk "* ]]; then
    for mode in keepalive close; do
        ROWS+=("| **load / wrk** | ${MODE_LABEL[$mode]} | ceiling | $(ratio "${M[load/$mode/ceiling/rps]}" "${M[wrk/$mode/ceiling/rps]}") \
| $(ratio "${M[load/$mode/ceiling/p50]}" "${M[wrk/$mode/ceiling/p50]}") | $(ratio "${M[load/$mode/ceiling/p99]}" "${M[wrk/$mode/ceiling/p99]}") \
| $(ratio "${M[load/$mode/ceiling/cpu]}" "${M[wrk/$mode/ceiling/cpu]}") | | | \
$(ratio "${M[load/$mode/ceiling/gen]}" "${M[wrk/$mode/ceiling/gen]}") | |")
    done
fi

# ---------------------------------------------------------------- memory

# Fills a fresh server with the memory population: memory_row NAME PID ADDR LABEL [populate flags]
memory_row() {
    local name=$1 pid=$2 addr=$3 label=$4 before after cpu0 cpu1 out=$WORK/populate-$1.out
    shift 4
    local peers=$(( MEMORY_TORRENTS * MEMORY_PEERS_PER_TORRENT ))
    log "memory: filling $name with $peers peers over $MEMORY_TORRENTS torrents"
    before=$(rss_kib "$pid")
    cpu0=$(cpu_seconds "$pid")
    run_waited "${PIN_GENERATOR[@]}" "$POPULATE" "http://$addr/announce" --torrents "$MEMORY_TORRENTS" \
        --peers-per-torrent "$MEMORY_PEERS_PER_TORRENT" --seed 7 "$@" >"$out" || die "populate failed"
    cpu1=$(cpu_seconds "$pid")
    after=$(rss_kib "$pid")
    # A few refusals (seen now and then from opentracker: "not authorized" for a whitelisted
    # hash) are reported in the errors column; more than 1% makes the row meaningless.
    local errors
    errors=$(json_get "$out" errors)
    (( errors * 100 <= peers )) || die "populate $name: $errors errors: $(cat "$out")"
    (( errors == 0 )) || log "warning: populate $name: $errors errors: $(cat "$out")"
    [[ $(json_get "$out" last_round_peers) == "$peers" ]] || log "warning: $name did not report every peer: $(cat "$out")"
    local bpp rps
    bpp=$(awk -v a="$after" -v b="$before" -v p="$peers" 'BEGIN { printf "%.1f", (a - b) * 1024 / p }')
    rps=$(json_get "$out" announces_per_second)
    M[mem/$name/bpp]=$bpp
    M[mem/$name/rss]=$(awk -v k="$after" 'BEGIN { printf "%.1f", k / 1024 }')
    ROWS+=("| populate, $(thousands "$peers") peers / $(thousands "$MEMORY_TORRENTS") torrents | $label | $name | $(thousands "$rps") | – | – \
| $(awk -v a="$cpu0" -v b="$cpu1" -v n="$peers" 'BEGIN { printf "%.4f", (b - a) * 1000 / n }') | ${M[mem/$name/rss]} \
| $(thousands "$errors") | – | **$bpp** |")
}

if (( MEMORY )); then
    if [[ -f benches/src/bin/bytes_per_peer.rs ]]; then
        log "memory: bytes_per_peer (octotracker's memory backend, in process)"
        cargo run --release -q -p octotracker-benches --bin bytes_per_peer >"$WORK/bytes_per_peer.out"
        BPP=$(sed -n 's/^bytes per peer:[[:space:]]*//p' "$WORK/bytes_per_peer.out")
        ROWS+=("| bytes_per_peer (in process), 1,000,000 peers / 100,000 torrents | – | octotracker memory backend \
| – | – | – | – | – | – | – | **$BPP** |")
        cargo run --release -q -p octotracker-benches --bin bytes_per_peer -- no-peer-ids >"$WORK/bytes_per_peer.out"
        BPP=$(sed -n 's/^bytes per peer:[[:space:]]*//p' "$WORK/bytes_per_peer.out")
        ROWS+=("| bytes_per_peer no-peer-ids (in process), 1,000,000 peers / 100,000 torrents | – | octotracker memory \
backend without peer ids | – | – | – | – | – | – | – | **$BPP** |")
    fi
    # Compact replies only: the memory backend keeps no peer ids (what a public tracker runs).
    start_octotracker octotracker-compact-memory --allow-non-compact false
    memory_row octotracker-compact "$OCT_PID" "$OCT_ADDR" "keep-alive, $CONNECTIONS conns" --connections "$CONNECTIONS"
    stop_pid "$OCT_PID"
    start_octotracker octotracker-memory
    memory_row octotracker "$OCT_PID" "$OCT_ADDR" "keep-alive, $CONNECTIONS conns" --connections "$CONNECTIONS"
    stop_pid "$OCT_PID"
    start_opentracker opentracker-memory "$MEMORY_HASHES" "$(tail -1 "$MEMORY_HASHES")"
    memory_row opentracker "$OT_PID" "$OT_ADDR" "new connection per request, $CONNECTIONS conns" \
        --connections "$CONNECTIONS" --connection-per-request
    stop_pid "$OT_PID"
    ROWS+=("| memory | | **octotracker / opentracker** | | | | | $(ratio "${M[mem/octotracker/rss]}" "${M[mem/opentracker/rss]}") \
| | | $(ratio "${M[mem/octotracker/bpp]}" "${M[mem/opentracker/bpp]}") |")
fi

# ---------------------------------------------------------------- the table

TABLE=$(
    echo "| generator | connections | server | requests/s | p50 ms | p99 ms | server CPU s / 1,000 req | RSS MiB | errors \
| generator CPU | bytes/peer |"
    echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Machine: $MACHINE; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
    echo "Servers on CPU $SERVER_CPUS, generators on CPU $GENERATOR_CPUS; $DURATION s per run; load population:" \
        "$TORRENTS torrents, $PEERS peers, seed $SEED."
    echo "Command: \`$COMMAND\`"
)
echo
echo "$TABLE"
if [[ -n $TABLE_FILE ]]; then
    echo "$TABLE" >"$TABLE_FILE"
    log "table written to $TABLE_FILE"
fi
