#!/usr/bin/env bash
# WebSocket (WebTorrent) tracker benchmark: octotracker --ws against the npm bittorrent-tracker
# server (WebSocket only, from tracker-bin/tests/webtorrent's lock file), in the same run, on
# 127.0.0.1 only.
#
# 1. Throughput: `octotracker load ws://…` (CONNECTIONS simulated leechers over TORRENTS swarms,
#    each announcing with 5 offers and answering every offer it gets, closed loop) for SECONDS,
#    ROUNDS times alternating the two servers. Each server's CPU ticks (/proc/PID/stat utime +
#    stime) over the run give the CPU per announce.
# 2. Memory: IDLE connections that each announce once and stay idle; the server's RSS
#    (/proc/PID/status VmRSS) before and with them, per connection.
#
#   benches/ws_compare.sh [SECONDS] [CONNECTIONS] [IDLE]      (defaults 10, 200, 20000; IDLE 0: no memory run)
#   BIN=path/to/octotracker to measure another build; ROUNDS, TORRENTS from the environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${1:-10}
CONNS=${2:-200}
IDLE=${3:-20000}
TORRENTS=${TORRENTS:-20}
ROUNDS=${ROUNDS:-2}
BIN=${BIN:-target/release/octotracker}
NODE_DIR=tracker-bin/tests/webtorrent
[[ -x $BIN ]] || cargo build --release -p octotracker
[[ -d $NODE_DIR/node_modules/bittorrent-tracker ]] || (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund)
# Each side needs a descriptor per connection: raise the soft limit to the hard one, and keep
# IDLE below it (a container may cap the hard limit at 20,000; then 19,800 are measured).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
limit=$(ulimit -n)
if [[ $limit != unlimited ]] && ((IDLE > limit - 200)); then
    echo "ws_compare: $limit descriptors per process here: measuring $((limit - 200)) idle connections, not $IDLE" >&2
    IDLE=$((limit - 200))
fi

dir=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
wait_line() { # file, text
    for _ in $(seq 1 200); do grep -q "$2" "$1" && return 0; sleep 0.05; done
    echo "no '$2' in $1" >&2; cat "$1" >&2; exit 1
}

start_octo() {
    local port; port=$(free_port)
    "$BIN" --http 127.0.0.1:0 --ws "127.0.0.1:$port" --ws-rate-limit 1000000 --ws-rate-limit-burst 1000000 \
        --ws-max-connections 100000 >"$dir/octo.log" 2>&1 &
    pids+=($!); OCTO_PID=$!; OCTO_URL="ws://127.0.0.1:$port"
    wait_line "$dir/octo.log" "listening on ws://"
}
start_npm() {
    local port; port=$(free_port)
    (cd "$NODE_DIR" && exec node reference_server.mjs "$port") >"$dir/npm.log" 2>&1 &
    pids+=($!); NPM_PID=$!; NPM_URL="ws://127.0.0.1:$port"
    wait_line "$dir/npm.log" "listening on ws://"
}

throughput() { # name pid url
    local before after out
    before=$(ticks "$2")
    out=$("$BIN" load "$3" --connections "$CONNS" --torrents "$TORRENTS" --duration "$SECS" --json --seed $RANDOM)
    after=$(ticks "$2")
    python3 - "$1" "$out" "$((after - before))" <<'EOF'
import json, sys
name, out, ticks = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
a = out["announces"]
per = ticks * 10.0 / a * 1000 if a else float("nan")  # ticks are 10 ms: µs of CPU per announce
print(f"{name:12s} {out['announces_per_second']:10.0f} announces/s  {out['offers_received']:8d} offers "
      f"{out['answers_received']:8d} answers relayed  errors {out['errors']} failures {out['failures']}  "
      f"server CPU {ticks / 100:.2f} s = {per:.1f} µs/announce  "
      f"generator CPU {out['generator_cpu_seconds']:.2f} s = {out['generator_cpu_seconds'] * 1e6 / a if a else float('nan'):.1f} µs/announce")
EOF
}

idle_memory() { # name pid url
    local before with
    before=$(rss_kib "$2")
    "$BIN" load "$3" --idle --connections "$IDLE" --torrents 1000 --duration 20 --json >"$dir/idle.json" &
    local loader=$!
    # Wait until every connection has announced (the load reports at the end; poll the server's
    # open sockets instead), then read the RSS while they are all open.
    for _ in $(seq 1 300); do
        local n; n=$(ls "/proc/$2/fd" | wc -l)
        ((n >= IDLE)) && break
        sleep 0.05
    done
    sleep 2
    with=$(rss_kib "$2")
    wait "$loader"
    python3 - "$1" "$before" "$with" "$IDLE" "$(cat "$dir/idle.json")" <<'EOF'
import json, sys
name, before, with_, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
print(f"{name:12s} RSS {before} KiB idle -> {with_} KiB with {out['connected']} connections "
      f"({out['announces']} announced): {(with_ - before) * 1024 / max(out['connected'], 1):.0f} bytes each")
EOF
}

start_octo
start_npm
echo "ws_compare: $CONNS connections x $SECS s over $TORRENTS swarms, $ROUNDS rounds; idle: $IDLE connections"
for round in $(seq 1 "$ROUNDS"); do
    throughput octotracker "$OCTO_PID" "$OCTO_URL"
    throughput npm-bittorrent-tracker "$NPM_PID" "$NPM_URL"
done
((IDLE > 0)) || exit 0
idle_memory octotracker "$OCTO_PID" "$OCTO_URL"
idle_memory npm-bittorrent-tracker "$NPM_PID" "$NPM_URL"
