#!/usr/bin/env bash
# octotracker's UDP frontend (BEP 15) side by side with Debian's opentracker over UDP, in one
# run, on 127.0.0.1.
#
#   benches/udp_compare.sh [TABLE_FILE]          (as root: opentracker chroots and drops privileges)
#
# Starts two servers, each pinned to the server core (SERVER_CPUS, default core 0):
#   - octotracker (release build, memory backend): `octotracker --udp 127.0.0.1:0 --http 127.0.0.1:0`;
#   - Debian's /usr/bin/opentracker, whitelist-only as Debian builds it, listening on UDP (and
#     TCP, only for the probe that proves its whitelist is loaded; see compare.sh);
# and drives each, from the generator core (GENERATOR_CPUS, default core 1), with the same
# `octotracker load udp://…` settings: aquatic's methodology by default, 1,000,000 torrents with
# Zipf popularity, numwant 30, closed loop, one request in flight per socket, announces only,
# one connect per connection id lifetime (60 s) unless CONNECT_EVERY is set.
#
# Per server: receive-buffer drops during the run (the system's `Udp: RcvbufErrors` counter from
# /proc/net/snmp, before and after: any UDP socket's drops, the run's own on a quiet machine);
# responses/s (replies received: requests minus timeouts and socket errors), latency
# p50/p99, server CPU µs per response (utime + stime from /proc/PID/stat before and after the
# measured run), resident memory (VmRSS) after it, errors, and the generator's own CPU µs per
# request (near the inverse of the rate means the generator, not the server, set the pace).
# A last row gives octotracker / opentracker.
#
# Prints the machine, the command line and ONE markdown table; writes the table to TABLE_FILE
# too when given. Everything it starts is stopped on exit (by pid), its temp dir removed.
#
# Environment (defaults):
#   DURATION=10  CONNECTIONS=64  TORRENTS=1000000  PEERS=1000000  NUMWANT=30  SEED=1  ZIPF=1.0
#   THREADS=1 (generator threads)  WARMUP=3 (seconds per server before measuring)
#   CONNECT_EVERY= (empty: connect only when the id is 60 s old; N: --udp-connect-every N)
#   SERVER_CPUS=0  GENERATOR_CPUS=1
#   OCTOTRACKER_BIN= (empty: build and use target/release/octotracker; a path: that binary, for
#                before/after runs)  OCT_EXTRA= (more octotracker flags, e.g. "--udp-batch 1")
#   BASELINE_BIN= (a second octotracker binary, measured as "baseline" right after octotracker in
#                each round, same flags apart from OCT_EXTRA)  ROUNDS=1 (rounds of alternated runs)
#   WORKERS= (empty: octotracker's default, one receive worker per core; N: --udp-workers N)
#   PORT_MIN=20000 PORT_MAX=49999 (the servers' ports are picked at random in this range)
#   PERF=0       1: record `perf record -g` of octotracker during a second run, print its top
#                symbols (needs perf)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
TORRENTS=${TORRENTS:-1000000}
PEERS=${PEERS:-1000000}
NUMWANT=${NUMWANT:-30}
SEED=${SEED:-1}
ZIPF=${ZIPF:-1.0}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-3}
CONNECT_EVERY=${CONNECT_EVERY:-}
SERVER_CPUS=${SERVER_CPUS:-0}
GENERATOR_CPUS=${GENERATOR_CPUS:-1}
PERF=${PERF:-0}
WORKERS=${WORKERS:-}
OCT_EXTRA=${OCT_EXTRA:-}
BASELINE_BIN=${BASELINE_BIN:-}
ROUNDS=${ROUNDS:-1}
PORT_MIN=${PORT_MIN:-20000}
PORT_MAX=${PORT_MAX:-49999}
OCT_ARGS=()
[[ -n $WORKERS ]] && OCT_ARGS+=(--udp-workers "$WORKERS")
# shellcheck disable=SC2206
OCT_ARGS+=($OCT_EXTRA)
TABLE_FILE=${1:-}

OCTOTRACKER=${OCTOTRACKER_BIN:-$REPO_ROOT/target/release/octotracker}

log() { printf 'udp_compare.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- cleanup

WORK=$(mktemp -d /tmp/octotracker-udp-compare.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"
# shellcheck source=benches/udp_servers.sh
source "$REPO_ROOT/benches/udp_servers.sh"

# ---------------------------------------------------------------- machine and tools

CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
NPROC=$(nproc)
MACHINE="$NPROC cores ($CPU_MODEL), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
COMMAND="DURATION=$DURATION CONNECTIONS=$CONNECTIONS TORRENTS=$TORRENTS PEERS=$PEERS NUMWANT=$NUMWANT SEED=$SEED \
ZIPF=$ZIPF THREADS=$THREADS CONNECT_EVERY=$CONNECT_EVERY WORKERS=$WORKERS ROUNDS=$ROUNDS BASELINE_BIN=$BASELINE_BIN OCT_EXTRA=\"$OCT_EXTRA\" SERVER_CPUS=$SERVER_CPUS GENERATOR_CPUS=$GENERATOR_CPUS \
benches/udp_compare.sh $*"
echo "machine: $MACHINE"
echo "command: $COMMAND"

if (( NPROC < 2 )); then
    log "one CPU only: servers and generator share it (no pinning)"
    PIN_SERVER=()
    PIN_GENERATOR=()
else
    PIN_SERVER=(taskset -c "$SERVER_CPUS")
    PIN_GENERATOR=(taskset -c "$GENERATOR_CPUS")
fi

for tool in opentracker curl python3 ss; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install -y $tool)"
done
(( EUID == 0 )) || die "run as root: opentracker chroots to its directory and drops to _opentracker"

if [[ -z ${OCTOTRACKER_BIN:-} ]]; then
    log "building (release)"
    cargo build --release -q -p octotracker
fi

# ---------------------------------------------------------------- helpers

CLK_TCK=$(getconf CLK_TCK)

# The system's UDP receive-buffer drops so far (`Udp: RcvbufErrors` in /proc/net/snmp).
rcvbuf_errors() {
    awk '$1 == "Udp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "RcvbufErrors") col = i; n = 1 } else print $col }' /proc/net/snmp
}

# CPU ticks (utime + stime, every thread) of a pid.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat")
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo $(( ${12} + ${13} ))
}

# ---------------------------------------------------------------- the population and servers

HASHES=$WORK/hashes.txt
"$OCTOTRACKER" load --list-info-hashes --torrents "$TORRENTS" --seed "$SEED" >"$HASHES"

log "starting octotracker (CPUs $SERVER_CPUS)"
"${PIN_SERVER[@]}" "$OCTOTRACKER" --udp "127.0.0.1:$(free_port udp)" --http "127.0.0.1:$(free_port tcp)" "${OCT_ARGS[@]}" \
    --log warn,octotracker=info \
    </dev/null >"$WORK/octotracker.log" 2>&1 &
OCT_PID=$!
PIDS+=("$OCT_PID")
OCT_UDP=$(wait_listening "$WORK/octotracker.log" "$OCT_PID" udp)
if [[ -n $BASELINE_BIN ]]; then
    log "starting the baseline octotracker $BASELINE_BIN (CPUs $SERVER_CPUS)"
    "${PIN_SERVER[@]}" "$BASELINE_BIN" --udp "127.0.0.1:$(free_port udp)" --http "127.0.0.1:$(free_port tcp)" \
        ${WORKERS:+--udp-workers "$WORKERS"} --log warn,octotracker=info </dev/null >"$WORK/baseline.log" 2>&1 &
    BASE_PID=$!
    PIDS+=("$BASE_PID")
    BASE_UDP=$(wait_listening "$WORK/baseline.log" "$BASE_PID" udp)
fi

log "starting opentracker (CPUs $SERVER_CPUS), whitelisting $(wc -l <"$HASHES") hashes"
start_opentracker_udp "$HASHES"
log "octotracker udp://$OCT_UDP (pid $OCT_PID), opentracker udp://$OT_UDP (pid $OT_PID)"

# ---------------------------------------------------------------- runs

LOAD_ARGS=(--torrents "$TORRENTS" --peers "$PEERS" --zipf "$ZIPF" --seed "$SEED" --numwant "$NUMWANT"
    --connections "$CONNECTIONS" --threads "$THREADS" --quiet --json)
[[ -n $CONNECT_EVERY ]] && LOAD_ARGS+=(--udp-connect-every "$CONNECT_EVERY")

declare -A M
ROWS=()

# run NAME ADDR PID: one measured closed-loop run.
run() {
    local name=$1 addr=$2 pid=$3 out=$WORK/$1.json t0 t1 rss drops0 drops
    log "warm-up: $name ($WARMUP s)"
    run_waited "${PIN_GENERATOR[@]}" "$OCTOTRACKER" load "udp://$addr/announce" "${LOAD_ARGS[@]}" \
        --duration "$WARMUP" >/dev/null 2>&1 || true
    log "run: $name ($DURATION s)"
    t0=$(cpu_ticks "$pid")
    drops0=$(rcvbuf_errors)
    run_waited "${PIN_GENERATOR[@]}" "$OCTOTRACKER" load "udp://$addr/announce" "${LOAD_ARGS[@]}" \
        --duration "$DURATION" >"$out" 2>"$out.err" || die "load against $name failed: $(tail -5 "$out.err")"
    t1=$(cpu_ticks "$pid")
    drops=$(( $(rcvbuf_errors) - drops0 ))
    rss=$(rss_kib "$pid")
    python3 - "$out" "$name" "$t0" "$t1" "$CLK_TCK" "$rss" >"$WORK/$name.row" <<'EOF'
import json, sys
path, name, t0, t1, tck, rss = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
r = json.load(open(path))
e = r["errors"]
responses = r["requests"] - e["timeout"] - e["connect"] - e["io"]
rps = responses / r["duration_seconds"]
cpu_us = (t1 - t0) / tck * 1e6 / responses if responses else float("nan")
# name rps p50 p99 cpu_us rss_mib errors gen_us reasons
reasons = "; ".join(f"{k} ×{v}" for k, v in r["failure_reasons"].items())
print(name, f"{rps:.0f}", f"{r['latency_ms']['p50']:.3f}", f"{r['latency_ms']['p99']:.3f}", f"{cpu_us:.2f}",
      f"{rss / 1024:.1f}", e["total"], f"{r['generator_cpu_us_per_request'] or 0:.2f}", r["udp_connects"], reasons, sep="\t")
EOF
    IFS=$'\t' read -r _ rps p50 p99 cpu rssm errors gen connects reasons <"$WORK/$name.row"
    M[$name/rps]=$rps M[$name/p50]=$p50 M[$name/p99]=$p99 M[$name/cpu]=$cpu M[$name/rss]=$rssm
    local rps_fmt
    rps_fmt=$(printf "%.0f" "$rps" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/; ta')
    ROWS+=("| $name | $rps_fmt | $p50 | $p99 | $cpu | $rssm | $errors | $gen | $connects | $drops |")
    [[ -n $reasons ]] && log "$name failure reasons: $reasons"
    return 0
}

# ratio_row A B: the row of A / B.
ratio_row() {
    ROWS+=("| **$1 / $2** | $(ratio "${M[$1/rps]}" "${M[$2/rps]}") \
| $(ratio "${M[$1/p50]}" "${M[$2/p50]}") | $(ratio "${M[$1/p99]}" "${M[$2/p99]}") \
| $(ratio "${M[$1/cpu]}" "${M[$2/cpu]}") | $(ratio "${M[$1/rss]}" "${M[$2/rss]}") | | | | |")
}

for (( round = 1; round <= ROUNDS; round++ )); do
    suffix=
    (( ROUNDS > 1 )) && suffix=-r$round
    run "octotracker$suffix" "$OCT_UDP" "$OCT_PID"
    [[ -n $BASELINE_BIN ]] && run "baseline$suffix" "$BASE_UDP" "$BASE_PID"
    run "opentracker$suffix" "$OT_UDP" "$OT_PID"
    ratio_row "octotracker$suffix" "opentracker$suffix"
    if [[ -n $BASELINE_BIN ]]; then
        ratio_row "baseline$suffix" "opentracker$suffix"
        ratio_row "octotracker$suffix" "baseline$suffix"
    fi
done

if (( PERF )) && command -v perf >/dev/null 2>&1; then
    log "perf: recording octotracker for $DURATION s under the same load"
    perf record -q -g -p "$OCT_PID" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    PERF_PID=$!
    run_waited "${PIN_GENERATOR[@]}" "$OCTOTRACKER" load "udp://$OCT_UDP/announce" "${LOAD_ARGS[@]}" \
        --duration "$DURATION" >/dev/null 2>&1 || true
    wait "$PERF_PID" || true
    echo
    echo "perf, octotracker, self time by symbol (top 25):"
    # `|| true`: head closes the pipe early (SIGPIPE under pipefail).
    perf report -i "$WORK/perf.data" --no-children --sort symbol -g none --stdio 2>/dev/null \
        | grep -v '^#' | grep '%' | head -25 | cut -c1-110 || true
fi

# ---------------------------------------------------------------- the table

TABLE=$(
    echo "| server | responses/s | p50 ms | p99 ms | server CPU µs / response | RSS MiB | errors | generator CPU µs / request | connects | RcvbufErrors |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Machine: $MACHINE; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
    echo "Servers on CPU $SERVER_CPUS, generator on CPU $GENERATOR_CPUS ($THREADS thread(s)); $DURATION s per run after" \
        "$WARMUP s of warm-up; closed loop, $CONNECTIONS sockets; population: $TORRENTS torrents (Zipf $ZIPF)," \
        "$PEERS peers, numwant $NUMWANT, seed $SEED."
    echo "Command: \`$COMMAND\`"
)
echo
echo "$TABLE"
if [[ -n $TABLE_FILE ]]; then
    echo "$TABLE" >"$TABLE_FILE"
    log "table written to $TABLE_FILE"
fi
