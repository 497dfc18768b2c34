#!/usr/bin/env bash
# opentracker's user-space instructions per connection-per-request announce, under callgrind.
# `conn_counts.sh` zeroes and dumps callgrind's counters with callgrind_control, which cannot
# reach opentracker (it drops root for `nobody`); so this runs opentracker twice, serving WARMUP
# and then WARMUP + REQUESTS announces, and divides the difference of the totals callgrind writes
# at exit by REQUESTS (start-up, whitelist loading and shutdown cancel out).
#
#   benches/opentracker_callgrind.sh       (as root)
#
# Environment (defaults): REQUESTS=20000 WARMUP=2000 CONNECTIONS=64 TORRENTS=1000 PEERS=10000
# SEED=1 SERVER_CPUS=0 GENERATOR_CPUS=1, GENERATOR (target/release/octotracker, runs `load`).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQUESTS=${REQUESTS:-20000}
WARMUP=${WARMUP:-2000}
CONNECTIONS=${CONNECTIONS:-64}
TORRENTS=${TORRENTS:-1000}
PEERS=${PEERS:-10000}
SEED=${SEED:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
GENERATOR_CPUS=${GENERATOR_CPUS:-1}
GENERATOR=${GENERATOR:-$REPO_ROOT/target/release/octotracker}

die() { printf 'opentracker_callgrind.sh: error: %s\n' "$*" >&2; exit 1; }
(( EUID == 0 )) || die "run as root (opentracker starts as root and drops to nobody)"

WORK=$(mktemp -d /tmp/octotracker-otcg.XXXXXX)
chmod 777 "$WORK" # opentracker writes callgrind's output as nobody
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"

"$GENERATOR" load --list-info-hashes --torrents "$TORRENTS" --seed "$SEED" >"$WORK/whitelist.txt"
chmod 644 "$WORK/whitelist.txt"

# Total Ir of one opentracker process that served N announces: total_ir N
total_ir() {
    local n=$1 port pid out=$WORK/callgrind.$1.out
    port=$(( 20000 + RANDOM % 30000 ))
    printf 'listen.tcp 127.0.0.1:%s\naccess.whitelist %s/whitelist.txt\n' "$port" "$WORK" >"$WORK/opentracker.conf"
    touch "$out"
    chmod 666 "$out" # created by root, written at exit by nobody
    taskset -c "$SERVER_CPUS" valgrind --tool=callgrind --callgrind-out-file="$out" \
        opentracker -f "$WORK/opentracker.conf" </dev/null >"$WORK/server.$n.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    sleep 5 # valgrind start-up and the whitelist thread
    run_waited taskset -c "$GENERATOR_CPUS" "$GENERATOR" load "http://127.0.0.1:$port/announce" --torrents "$TORRENTS" \
        --peers "$PEERS" --connections "$CONNECTIONS" --duration 600 --max-requests "$n" --seed "$SEED" --numwant 50 \
        --new-connection-per-request --quiet --json >"$WORK/load.$n.json"
    kill -TERM "$pid"
    wait "$pid" || true
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["errors"]["total"]; sys.exit(f"{e} errors") if e else None' \
        "$WORK/load.$n.json"
    sed -n 's/^totals: //p' "$out" | awk '{print $1}'
}

small=$(total_ir "$WARMUP")
large=$(total_ir $(( WARMUP + REQUESTS )))
[[ -n $small && -n $large ]] || die "callgrind wrote no totals (see $WORK/server.*.log)"
awk -v a="$small" -v b="$large" -v n="$REQUESTS" 'BEGIN {
    printf "server: opentracker, mode: close, tool: callgrind, requests: %d\n%.0f instructions (Ir) per request, user space\n", n, (b - a) / n }'
