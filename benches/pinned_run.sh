# Shared by embed_compare.sh and metrics_compare.sh (source it): start one server pinned to
# core 0, drive it with `octotracker load` pinned to core 1 on 127.0.0.1, print one table row.
#
# The caller sets LOAD_ARGS (array) and R (the release directory) before calling
# `pinned_run LABEL PATH COMMAND...`. Server CPU per request is utime+stime of the server process
# (from /proc/PID/stat) over the requests served.

TICK=$(getconf CLK_TCK)
PIDS=()
LOGDIR=$(mktemp -d)
pinned_cleanup() {
    for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    rm -rf -- "$LOGDIR"
}
trap pinned_cleanup EXIT

pinned_header() {
    echo "| server | requests/s | server CPU µs/request | generator CPU µs/request | errors |"
    echo "|---|--:|--:|--:|--:|"
}

pinned_run() {
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
