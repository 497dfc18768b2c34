#!/usr/bin/env bash
# Redis memory per stored peer for each engine (docs/clustering.md, "Capacity"): a fresh
# redis-server (with the octotracker module loaded) per row, filled by
# target/release/redis_memory with PEERS peers over TORRENTS swarms of the load generator's
# population (Zipf, exponent ZIPF; 0 = uniform): used_memory after − before, divided by the peers
# the store counts.
#
#   benches/redis_memory.sh          PEERS=1000000 TORRENTS=100000 ZIPF=1.0 PORT=7250
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT=${PORT:-7250}
PEERS=${PEERS:-1000000}
TORRENTS=${TORRENTS:-100000}
ZIPF=${ZIPF:-1.0}
DIR=$(mktemp -d)
REDIS=""
cleanup() {
    [ -n "$REDIS" ] && kill "$REDIS" 2>/dev/null || true
    rm -rf -- "$DIR"
}
trap cleanup EXIT

cargo build --release --locked -q -p octotracker-redis-module -p octotracker-benches --bin redis_memory
MODULE=$PWD/target/release/liboctotracker_redis_module.so

echo "$(date -u '+%F %T UTC'); $(redis-server --version | cut -d' ' -f1-3); $PEERS peers over $TORRENTS torrents, Zipf $ZIPF"
echo
echo "| engine | peers | swarms | used_memory delta | bytes per peer |"
echo "|---|--:|--:|--:|--:|"
for engine in lua module; do
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$DIR/redis.pid" --dir "$DIR" --logfile "$DIR/redis.log" --loadmodule "$MODULE"
    for _ in $(seq 1 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    REDIS=$(cat "$DIR/redis.pid")
    out=$(target/release/redis_memory "redis://127.0.0.1:$PORT/0" "$engine" --peers "$PEERS" --torrents "$TORRENTS" --zipf "$ZIPF")
    /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
delta = r["used_memory_after"] - r["used_memory_before"]
print("| %s | {:,} | {:,} | {:,} | %.1f |".format(r["peers"], r["swarms"], delta) % (r["engine"], r["bytes_per_peer"]))
' "$out"
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    while kill -0 "$REDIS" 2>/dev/null; do sleep 0.05; done
    REDIS=""
done
