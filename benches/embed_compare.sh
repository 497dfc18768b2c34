#!/usr/bin/env bash
# Announce throughput of the tracker embedded in an axum app and behind TrackerLayer in a plain
# hyper app, against the standalone binary: same load generator, same run, alternating.
#
#   benches/embed_compare.sh            # RUNS=2 DURATION=8 by default
#
# Servers are pinned to core 0, `octotracker load` to core 1; only 127.0.0.1 is used. Server CPU
# per request is utime+stime of the server process (from /proc/PID/stat) over the requests
# served; when the generator's CPU per request is near the server's, the generator sets the pace
# and CPU per request is the figure to compare.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-2}
DURATION=${DURATION:-8}
LOAD_ARGS=(--torrents 1000 --peers 10000 --connections 32 --duration "$DURATION" --json --quiet)
R=target/release
TICK=$(getconf CLK_TCK)
PIDS=()
LOGDIR=$(mktemp -d)
cleanup() {
    for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    rm -rf -- "$LOGDIR"
}
trap cleanup EXIT

cargo build --release --locked -p octotracker -p octotracker-http --examples >&2

# run LABEL PATH COMMAND...: start a server, load it, print one line.
run() {
    local label=$1 path=$2 log addr="" pid out ticks
    shift 2
    log="$LOGDIR/$label.log"
    taskset -c 0 "$@" >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 400); do
        addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -n 1 | sed 's/listening on //' || true)
        [ -n "$addr" ] && break
        sleep 0.05
    done
    [ -n "$addr" ] || { echo "$label did not start: $(cat "$log")" >&2; exit 1; }
    out=$(taskset -c 1 "$R/octotracker" load "$addr$path" "${LOAD_ARGS[@]}")
    ticks=$(awk '{print $14+$15}' "/proc/$pid/stat")
    kill -INT "$pid"
    wait "$pid" || true
    /usr/bin/python3 - "$label" "$ticks" "$TICK" "$out" <<'PY'
import json, sys
label, ticks, tick, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
cpu_us = ticks / tick * 1e6 / out["requests"]
print(f"| {label} | {out['requests_per_second']:,.0f} | {cpu_us:.1f} | {out['generator_cpu_us_per_request']:.1f} | {out['errors']['total']} |")
PY
}

echo "| server | requests/s | server CPU µs/request | generator CPU µs/request | errors |"
echo "|---|--:|--:|--:|--:|"
for _ in $(seq 1 "$RUNS"); do
    run standalone /announce "$R/octotracker" --http 127.0.0.1:0
    run axum_embed /tracker/announce "$R/examples/axum_embed" 127.0.0.1:0
    run hyper_embed /tracker/announce "$R/examples/hyper_embed" 127.0.0.1:0
done
