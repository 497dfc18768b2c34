#!/usr/bin/env bash
# Deterministic per-request costs of one HTTP server, for a fixed number of announces on 127.0.0.1:
# system calls per request (strace -c over every thread of the server) and user-space
# instructions per request (callgrind, counters zeroed after a warm-up, dumped after the run).
# Noise-free evidence on a shared machine, where CPU-time figures move by 20% from run to run.
#
#   benches/conn_counts.sh SERVER TOOL [MODE]     (as root for opentracker)
#     SERVER: octotracker | ceiling | opentracker
#     TOOL:   strace | callgrind (not opentracker: see benches/opentracker_callgrind.sh)
#             | cpu (user and system CPU time per request from /proc/PID/stat: the split, but noisy)
#     MODE:   close (default: a new connection per request, `Connection: close`) | keepalive
#
# Environment (defaults): REQUESTS=20000 announces measured, after WARMUP=2000; CONNECTIONS=64;
# TORRENTS=1000; PEERS=10000; SEED=1; SERVER_CPUS=0 GENERATOR_CPUS=1 (taskset lists);
# OCTOTRACKER (target/release/octotracker), CEILING (target/release/ceiling): the binaries,
# GENERATOR (the octotracker binary that runs `load`; default: OCTOTRACKER).
#
# Prints the requests the generator completed, then per-request figures: for strace, every
# system call made at least 0.05 times per request (calls / requests, sorted); for callgrind, the
# instructions (Ir) per request. Everything started is stopped by pid; the temp dir is removed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER=${1:?usage: conn_counts.sh octotracker|ceiling|opentracker strace|callgrind [close|keepalive]}
TOOL=${2:?usage: conn_counts.sh SERVER strace|callgrind [close|keepalive]}
MODE=${3:-close}
REQUESTS=${REQUESTS:-20000}
WARMUP=${WARMUP:-2000}
CONNECTIONS=${CONNECTIONS:-64}
TORRENTS=${TORRENTS:-1000}
PEERS=${PEERS:-10000}
SEED=${SEED:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
GENERATOR_CPUS=${GENERATOR_CPUS:-1}
OCTOTRACKER=${OCTOTRACKER:-$REPO_ROOT/target/release/octotracker}
CEILING=${CEILING:-$REPO_ROOT/target/release/ceiling}
GENERATOR=${GENERATOR:-$OCTOTRACKER}

die() { printf 'conn_counts.sh: error: %s\n' "$*" >&2; exit 1; }
[[ $MODE == close || $MODE == keepalive ]] || die "MODE is close or keepalive, not $MODE"
[[ $TOOL == strace || $TOOL == callgrind || $TOOL == cpu ]] || die "TOOL is strace, callgrind or cpu, not $TOOL"
[[ $TOOL == callgrind && $SERVER == opentracker ]] && die "opentracker under callgrind: benches/opentracker_callgrind.sh"

WORK=$(mktemp -d /tmp/octotracker-counts.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"

# One run of the generator: load N
load() {
    local args=(load "http://$ADDR/announce" --torrents "$TORRENTS" --peers "$PEERS" --connections "$CONNECTIONS"
        --duration 600 --max-requests "$1" --seed "$SEED" --numwant 50 --quiet --json)
    [[ $MODE == close ]] && args+=(--new-connection-per-request)
    run_waited taskset -c "$GENERATOR_CPUS" "$GENERATOR" "${args[@]}"
}

WRAP=()
[[ $TOOL == callgrind ]] && WRAP=(valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no)
case $SERVER in
octotracker)
    taskset -c "$SERVER_CPUS" "${WRAP[@]}" "$OCTOTRACKER" --http 127.0.0.1:0 --log warn,octotracker=info </dev/null >"$WORK/server.log" 2>&1 &
    PID=$!
    ;;
ceiling)
    taskset -c "$SERVER_CPUS" "${WRAP[@]}" "$CEILING" --listen 127.0.0.1:0 </dev/null >"$WORK/server.log" 2>&1 &
    PID=$!
    ;;
opentracker)
    (( EUID == 0 )) || die "opentracker chroots: run as root"
    PORT=$(( 20000 + RANDOM % 30000 ))
    "$GENERATOR" load --list-info-hashes --torrents "$TORRENTS" --seed "$SEED" >"$WORK/whitelist.txt"
    chmod 644 "$WORK/whitelist.txt"
    printf 'listen.tcp 127.0.0.1:%s\naccess.whitelist /whitelist.txt\ntracker.rootdir %s\ntracker.user _opentracker\n' \
        "$PORT" "$WORK" >"$WORK/opentracker.conf"
    taskset -c "$SERVER_CPUS" opentracker -f "$WORK/opentracker.conf" </dev/null >"$WORK/server.log" 2>&1 &
    PID=$!
    ADDR=127.0.0.1:$PORT
    sleep "${OPENTRACKER_START:-1}" # the whitelist thread; a warm-up announce that fails is harmless
    ;;
*) die "SERVER is octotracker, ceiling or opentracker, not $SERVER" ;;
esac
PIDS+=("$PID")
[[ -n ${ADDR:-} ]] || ADDR=$(wait_listening "$WORK/server.log" "$PID")
load "$WARMUP" >/dev/null

# utime and stime of every thread of PID, in clock ticks: "user system"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat"; }
# Nanoseconds on a CPU, summed over every thread of PID (the scheduler's own account: exact,
# where utime and stime are sampled at clock ticks)
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%d\n", s }'; }

case $TOOL in
cpu)
    read -r USER0 SYS0 < <(cpu_ticks "$PID")
    NS0=$(cpu_ns "$PID")
    load "$REQUESTS" >"$WORK/load.json"
    NS1=$(cpu_ns "$PID")
    read -r USER1 SYS1 < <(cpu_ticks "$PID")
    ;;
strace)
    tasks=$(ls "/proc/$PID/task" | paste -sd,)
    strace -f -c -o "$WORK/strace.out" -p "$tasks" 2>/dev/null &
    STRACE_PID=$!
    sleep 1
    load "$REQUESTS" >"$WORK/load.json"
    sleep 0.5
    kill -INT "$STRACE_PID"
    wait "$STRACE_PID" || true
    ;;
callgrind)
    callgrind_control -z "$PID" >/dev/null
    load "$REQUESTS" >"$WORK/load.json"
    callgrind_control -d "$PID" >/dev/null
    ;;
esac
N=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["requests"])' "$WORK/load.json")
ERRORS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["errors"]["total"])' "$WORK/load.json")
echo "server: $SERVER, mode: $MODE, tool: $TOOL, requests: $N, errors: $ERRORS, connections: $CONNECTIONS"
case $TOOL in
cpu)
    awk -v u="$(( USER1 - USER0 ))" -v s="$(( SYS1 - SYS0 ))" -v t="$(getconf CLK_TCK)" -v n="$N" 'BEGIN {
        printf "%.1f µs user + %.1f µs system = %.1f µs of server CPU per request (not deterministic)\n",
            u / t * 1e6 / n, s / t * 1e6 / n, (u + s) / t * 1e6 / n }'
    awk -v ns="$(( NS1 - NS0 ))" -v n="$N" 'BEGIN { printf "%.2f µs on a CPU per request (schedstat: exact time, not tick samples)\n", ns / 1e3 / n }'
    ;;
strace)
    awk -v n="$N" '
        $1 ~ /^[0-9.]+$/ && NF >= 5 { calls = $4; name = $NF; if (name == "total") next
            if (calls / n >= 0.05) printf "%8.2f  %s\n", calls / n, name; total += calls }
        END { printf "%8.2f  total system calls per request\n", total / n }' "$WORK/strace.out" | sort -rn
    ;;
callgrind)
    # The last dump holds the counts between the zeroing and the dump.
    last=$(ls -t "$WORK"/callgrind.out* | head -1)
    ir=$(sed -n 's/^summary: //p; s/^totals: //p' "$last" | head -1 | awk '{print $1}')
    awk -v ir="$ir" -v n="$N" 'BEGIN { printf "%.0f instructions (Ir) per request, user space (%s in all)\n", ir / n, ir }'
    cp "$last" "/tmp/callgrind-$SERVER-$MODE.out"
    echo "profile: /tmp/callgrind-$SERVER-$MODE.out (callgrind_annotate --inclusive=yes)"
    ;;
esac
