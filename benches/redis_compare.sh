#!/usr/bin/env bash
# One octotracker on the memory backend vs on Redis with each engine (the Lua scripts, the
# octotracker module), same run, same generator (docs/clustering.md, "Measured"). The server side (the tracker, and redis-server for Redis rows) is pinned to core 0,
# `octotracker load` to core 1; rows alternate, ROUNDS rounds. Each Redis row gets a fresh,
# empty redis-server (like each memory row gets a fresh tracker).
#
#   benches/redis_compare.sh                         rows: memory, redis lua, redis module (target/release)
#   OTHERS="before=/tmp/octotracker-old" benches/redis_compare.sh   adds "redis (before)" rows from
#                                                    other builds (space-separated LABEL=PATH)
#
# Every row serves the same fixed number of announces (ANNOUNCES, `octotracker load
# --max-requests`), so CPU and command counts are over the same work whatever the machine's load.
# Per row: announces/s, tracker and redis-server CPU µs per announce (utime+stime from
# /proc/PID/stat over the announces served) and announces per second of redis-server CPU, the
# announce command's usec_per_call (EVALSHA or OCTO.ANNOUNCE, INFO commandstats), Redis commands
# per announce (every command INFO commandstats counts, the EVALSHA and the script's calls
# included, but the bench's own INFO/PING/MODULE/SCAN/SCRIPT, over the announces served), errors;
# the load average before the run. Every redis-server loads the module (target/release, built
# when missing); the Lua rows run with --redis-engine lua.
#
# Environment (defaults): ROUNDS=2 ANNOUNCES=300000 CONNECTIONS=64 TORRENTS=10000 PEERS=100000
# PORT=7399 (redis-server's port), BIN=target/release/octotracker, MEMORY=1 (0: no memory rows).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-2}
PORT=${PORT:-7399}
BIN=${BIN:-target/release/octotracker}
LOAD_ARGS=(--max-requests "${ANNOUNCES:-300000}" --duration 3600 --connections "${CONNECTIONS:-64}" --torrents "${TORRENTS:-10000}"
    --peers "${PEERS:-100000}" --json)
TICK=$(getconf CLK_TCK)
LOGDIR=$(mktemp -d)
TRACKER=""
REDIS=""

cleanup() {
    [ -n "$TRACKER" ] && kill -INT "$TRACKER" 2>/dev/null || true
    [ -n "$REDIS" ] && kill "$REDIS" 2>/dev/null || true
    rm -rf -- "$LOGDIR"
}
trap cleanup EXIT

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

MODULE=target/release/liboctotracker_redis_module.so
[ -f "$MODULE" ] || cargo build --release --locked -q -p octotracker-redis-module

start_redis() {
    taskset -c 0 redis-server --port "$PORT" --save '' --appendonly no --daemonize yes \
        --pidfile "$LOGDIR/redis.pid" --bind 127.0.0.1 --logfile "$LOGDIR/redis.log" --loadmodule "$PWD/$MODULE"
    for _ in $(seq 1 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    REDIS=$(cat "$LOGDIR/redis.pid")
}

stop_redis() {
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$REDIS" 2>/dev/null || true
    while kill -0 "$REDIS" 2>/dev/null; do sleep 0.05; done
    REDIS=""
}

# row LABEL BINARY BACKEND-ARGS...
row() {
    local label=$1 bin=$2 log="$LOGDIR/tracker.log" addr="" out t0 t1 r0=0 r1=0 usec="-" calls=0
    shift 2
    local redis_row=0
    [[ "$*" == *redis://* ]] && redis_row=1
    [ "$redis_row" = 1 ] && start_redis
    taskset -c 0 "$bin" --http 127.0.0.1:0 "$@" >"$log" 2>&1 &
    TRACKER=$!
    for _ in $(seq 1 400); do
        addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -n 1 | sed 's/listening on //' || true)
        [ -n "$addr" ] && break
        sleep 0.05
    done
    [ -n "$addr" ] || { echo "$label did not start: $(cat "$log")" >&2; exit 1; }
    t0=$(ticks "$TRACKER")
    [ "$redis_row" = 1 ] && r0=$(ticks "$REDIS")
    out=$(taskset -c 1 "$bin" load "$addr/announce" "${LOAD_ARGS[@]}" 2>>"$LOGDIR/load.err")
    t1=$(ticks "$TRACKER")
    if [ "$redis_row" = 1 ]; then
        r1=$(ticks "$REDIS")
        local stats
        stats=$(redis-cli -p "$PORT" info commandstats)
        usec=$(grep -o -E 'cmdstat_(evalsha|octo.announce):[^,]*,[^,]*,usec_per_call=[0-9.]*' <<<"$stats" |
            sed 's/.*usec_per_call=//' || echo "-")
        calls=$(grep -v -E '^cmdstat_(info|ping|module|scan|script|hello|client|select|command|cluster)[:|]' <<<"$stats" |
            grep -o -E '^cmdstat_[^:]+:calls=[0-9]+' | awk -F'calls=' '{ s += $2 } END { print s + 0 }')
    fi
    kill -INT "$TRACKER"
    wait "$TRACKER" || true
    TRACKER=""
    [ "$redis_row" = 1 ] && stop_redis
    /usr/bin/python3 - "$label" "$((t1 - t0))" "$((r1 - r0))" "$TICK" "$usec" "$calls" "$out" <<'PY'
import json, sys
label, t, r, tick, usec, calls, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6]), json.loads(sys.argv[7])
n = out["requests"]
tr = t / tick * 1e6 / n
rs = r / tick * 1e6 / n
redis = f"{rs:.1f}" if r else "-"
per_core = f"{1e6 / rs:,.0f}" if r else "-"
per = f"{calls / n:.2f}" if calls else "-"
print(f"| {label} | {out['requests_per_second']:,.0f} | {tr:.1f} | {redis} | {per_core} | {usec} | {per} | {out['errors']['total']} |", flush=True)
PY
}

echo "$(date -u '+%F %T UTC'); load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f1-3)"
echo "load: octotracker load ${LOAD_ARGS[*]} (core 1); servers on core 0"
echo
echo "| setup | announces/s | tracker µs/announce | redis-server µs/announce | announces/s per Redis core | announce usec_per_call | Redis commands/announce | errors |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
for round in $(seq 1 "$ROUNDS"); do
    [ "${MEMORY:-1}" = 1 ] && row "memory" "$BIN" --backend memory
    row "redis lua" "$BIN" --backend "redis://127.0.0.1:$PORT/0" --redis-prefix bench --redis-engine lua
    row "redis module" "$BIN" --backend "redis://127.0.0.1:$PORT/0" --redis-prefix bench --redis-engine module
    for other in ${OTHERS:-}; do
        # A build that has engines runs its Lua engine here (builds before them only have Lua).
        engine=()
        "${other#*=}" --help 2>/dev/null | grep -q -- --redis-engine && engine=(--redis-engine lua)
        row "redis lua (${other%%=*})" "${other#*=}" --backend "redis://127.0.0.1:$PORT/0" --redis-prefix bench "${engine[@]}"
    done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
