#!/usr/bin/env bash
# Soak: the release octotracker under a steady, realistic, churning load for MINUTES on one
# backend; fails if its memory, open descriptors or swarms grow without bound (docs/reliability.md,
# "Soak").
#
#   benches/soak.sh MINUTES [memory|redis|postgres] [OUT_DIR]
#
# What runs (everything on 127.0.0.1, free ports, stopped by pid on exit whatever happens):
#   - the backend's store when it needs one: a throwaway redis-server, or a throwaway PostgreSQL
#     cluster (initdb + pg_ctl as the postgres user, fsync off);
#   - target/release/octotracker (built with --locked when missing) with short intervals so that
#     expiry is part of the steady state: --interval 10 --min-interval 5 --peer-timeout 30
#     --expiry-interval 10, --accept-ip-param true, /stats on --metrics 127.0.0.1:0;
#   - `octotracker load --rate RATE` (open loop) for the whole run: PEERS = 10 × RATE peer slots
#     (each announces about every 10 s, well inside the 30 s peer timeout), sessions of
#     `started`, ~SESSION regular announces, then `stopped` — or, for VANISH of them, nothing:
#     the peer falls silent and the slot rejoins at once as a new peer with a new address
#     (--vanish, --send-ip), so the silent ones stay in their swarms until the tracker expires
#     them. The population turns over continuously: a tracker that leaks departed or expired
#     peers grows here;
#   - every SAMPLE seconds: the tracker's VmRSS and open descriptors (/proc/PID), the store's
#     memory (Redis INFO used_memory; PostgreSQL pg_database_size), /stats peers and torrents,
#     and the latency of a small probe: a second `octotracker load --rate 100` of 4 s (4
#     connections, 50 peers of its own) run during that window, whose p50/p99 are what a client
#     got while the soak load was on. One CSV row per sample.
#
# Rates (defaults): 3,000 announces/s on memory and Redis, 1,000 on PostgreSQL. A soak looks
# for growth, not for the ceiling: these are a busy public tracker's steady rate, ~4 % of what
# the memory backend serves (docs/benchmarks.md), and they leave the shared 2-core
# machine usable; PostgreSQL does a transaction per announce, so it gets a third.
#
# Verdict (exit 1 on FAIL), over the steady window = the samples after the warm-up (the first
# third of the run, at least 3 minutes: every session of the first population has ended and its
# silent peers have had a peer timeout plus an expiry interval to go):
#   - a series grows without bound when BOTH
#       (a) the mean of the steady window's last fifth exceeds the mean of its first fifth by
#           more than BOUND (RSS, store memory, peers: 10 %; descriptors: 16 descriptors), and
#       (b) it is still rising at the end: the least-squares slope over the steady window's
#           second half extrapolates to more than that bound per hour;
#     so a step that stopped (a hash table that doubled once) passes and a steady climb fails.
#     Judged: tracker RSS, tracker descriptors, /stats peers, store memory (Redis, PostgreSQL).
#   - any error reported by the load generator or the probe (timeouts, backlog, failure
#     reasons, connection errors), or the tracker or the store exiting, is a FAIL.
# Latency is reported (median and worst p50/p99 of the windows), not judged.
#
# Output: OUT_DIR (default target/soak) gets soak-BACKEND.csv, soak-BACKEND.txt (the summary)
# and soak-BACKEND.png when gnuplot is installed (benches/soak_plot.gp; apt-get install
# gnuplot-nox); the summary is printed too.
#
# Environment (defaults): RATE (3000; postgres 1000), PEERS (10 × RATE), TORRENTS (PEERS / 5),
# SESSION=5 (mean regular announces a session), VANISH=0.3, CONNECTIONS=32, SAMPLE=5 (seconds),
# NEW_CONNECTION=0 (1: the load opens a new connection per announce, as most BitTorrent clients
# do, which the standalone server answers on its one-shot path),
# BACKLOG (3 s of one connection's requests, see below),
# WARMUP (seconds; see above), BIN=target/release/octotracker,
# REDIS_PORT (redis only: the redis-server's port; default a free one),
# REDIS_ENGINE=lua (redis only: `lua`, or `module`: the redis-server loads the octotracker module,
# built in release when missing, and the tracker runs with --redis-engine module; the output
# files are then soak-redis-module.*).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

log() { printf 'soak.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

MINUTES=${1:-}
BACKEND=${2:-memory}
OUT_DIR=${3:-target/soak}
[[ $MINUTES =~ ^[0-9]+$ ]] && (( MINUTES >= 1 && MINUTES <= 59 )) ||
    die "usage: benches/soak.sh MINUTES(1..59) [memory|redis|postgres] [OUT_DIR]"
case $BACKEND in memory | redis | postgres) ;; *) die "backend must be memory, redis or postgres" ;; esac

DEFAULT_RATE=3000
[[ $BACKEND == postgres ]] && DEFAULT_RATE=1000
RATE=${RATE:-$DEFAULT_RATE}
PEERS=${PEERS:-$(( RATE * 10 ))}
TORRENTS=${TORRENTS:-$(( PEERS / 5 ))}
SESSION=${SESSION:-5}
VANISH=${VANISH:-0.3}
CONNECTIONS=${CONNECTIONS:-32}
SAMPLE=${SAMPLE:-5}
NEW_CONNECTION=${NEW_CONNECTION:-0}
# Open loop: a connection more than BACKLOG intended requests behind drops the overdue ones as
# `backlog` errors. At RATE / CONNECTIONS requests per second per connection the default is 3 s
# of delay, so a `backlog` error means a stall of seconds (the tracker's or the machine's), not a
# scheduling hiccup of a shared machine; shorter delays show in the latency figures.
BACKLOG=${BACKLOG:-$(( RATE * 3 / CONNECTIONS > 16 ? RATE * 3 / CONNECTIONS : 16 ))}
DURATION=$(( MINUTES * 60 ))
WARMUP=${WARMUP:-$(( DURATION / 3 > 180 ? DURATION / 3 : 180 ))}
(( WARMUP < DURATION - 6 * SAMPLE )) || die "a run of $MINUTES min has no steady window after a ${WARMUP} s warm-up"
BIN=${BIN:-$REPO_ROOT/target/release/octotracker}
TRACKER_FLAGS=(--interval 10 --min-interval 5 --peer-timeout 30 --expiry-interval 10 --accept-ip-param true)

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
REDIS_ENGINE=${REDIS_ENGINE:-lua}
case $REDIS_ENGINE in lua | module) ;; *) die "REDIS_ENGINE must be lua or module" ;; esac
RUN_NAME=$BACKEND
[[ $BACKEND == redis && $REDIS_ENGINE == module ]] && RUN_NAME=redis-module
CSV=$OUT_DIR/soak-$RUN_NAME.csv
SUMMARY=$OUT_DIR/soak-$RUN_NAME.txt
PNG=$OUT_DIR/soak-$RUN_NAME.png

WORK=$(mktemp -d /tmp/octotracker-soak.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=benches/processes.sh
source "$REPO_ROOT/benches/processes.sh"

# ---------------------------------------------------------------- processes

TRACKER_PID=
STORE_PID=
LOAD_PID=
PROBE_PID=
PG_DATA=

# The generators, then the tracker, then its store (the tracker must not spend its last seconds
# retrying a vanished store).
soak_cleanup() {
    [[ -n $LOAD_PID ]] && stop_pid "$LOAD_PID"
    [[ -n $PROBE_PID ]] && stop_pid "$PROBE_PID"
    [[ -n $TRACKER_PID ]] && stop_pid "$TRACKER_PID"
    if [[ -n $PG_DATA && -f $PG_DATA/postmaster.pid ]]; then
        # SIGQUIT: immediate shutdown of the postmaster and its children; the data is thrown away.
        kill -QUIT "$(head -1 "$PG_DATA/postmaster.pid")" 2>/dev/null || true
        for _ in $(seq 1 50); do [[ -f $PG_DATA/postmaster.pid ]] || break; sleep 0.1; done
    fi
    [[ -n $STORE_PID ]] && stop_pid "$STORE_PID"
    cleanup
}
trap soak_cleanup EXIT

# A free TCP port on 127.0.0.1, in PORT_MIN..PORT_MAX (default 20000..49999).
free_port() {
    local port
    while :; do
        port=$(( ${PORT_MIN:-20000} + RANDOM % (${PORT_MAX:-49999} - ${PORT_MIN:-20000} + 1) ))
        ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
    done
}

wait_until() { # SECONDS COMMAND...
    local deadline=$(( SECONDS + $1 ))
    shift
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || return 1
        sleep 0.1
    done
}

start_redis() {
    local port module_args=()
    port=${REDIS_PORT:-$(free_port)}
    if [[ $REDIS_ENGINE == module ]]; then
        local module=target/release/liboctotracker_redis_module.so
        [[ -f $module ]] || { log "building the Redis module"; cargo build --release --locked -q -p octotracker-redis-module; }
        module_args=(--loadmodule "$REPO_ROOT/$module")
    fi
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --logfile "$WORK/redis.log" "${module_args[@]}" &
    STORE_PID=$!
    wait_until 10 redis-cli -p "$port" ping || die "redis-server did not start: $(cat "$WORK/redis.log")"
    STORE_PORT=$port
    BACKEND_URL="redis://127.0.0.1:$port/0"
    TRACKER_FLAGS+=(--redis-prefix soak --redis-engine "$REDIS_ENGINE")
}

postgres_bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { echo "$dir"; return; }
    done
    die "no initdb/pg_ctl under /usr/lib/postgresql (apt-get install postgresql)"
}

start_postgres() {
    local port bin dir=$WORK/pg
    (( EUID == 0 )) || die "PostgreSQL is started as the postgres user: run as root"
    port=$(free_port)
    bin=$(postgres_bin_dir)
    mkdir -p "$dir"
    chown postgres: "$dir"
    (cd "$dir" && runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1) || die "initdb failed: $(cat "$dir/initdb.log")"
    PG_DATA=$dir/data
    (cd "$dir" && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off" >/dev/null) ||
        die "PostgreSQL did not start: $(cat "$dir/postgres.log")"
    STORE_PID=$(head -1 "$PG_DATA/postmaster.pid")
    STORE_PORT=$port
    BACKEND_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# The store's memory in KiB: Redis used_memory, PostgreSQL's database size; empty for memory.
store_kib() {
    case $BACKEND in
        redis) redis-cli -p "$STORE_PORT" info memory 2>/dev/null |
            awk -F: '/^used_memory:/ { printf "%d", $2 / 1024 }' ;;
        postgres) psql -h 127.0.0.1 -p "$STORE_PORT" -U postgres -d postgres -tAc \
            'select pg_database_size(current_database()) / 1024' 2>/dev/null | tr -d ' ' ;;
        *) ;;
    esac
}

# "ADDR" from the first "PREFIX ADDR" in a log; waits for it.
wait_logged() { # LOGFILE PATTERN
    local addr
    for _ in $(seq 1 300); do
        addr=$(grep -aoE "$2" "$1" | head -1 | sed -E 's|.*http://([0-9.:]+).*|\1|') || true
        [[ -n $addr ]] && { echo "$addr"; return; }
        kill -0 "$TRACKER_PID" 2>/dev/null || die "the tracker exited: $(cat "$1")"
        sleep 0.1
    done
    die "no '$2' in $1"
}

# ---------------------------------------------------------------- start

[[ -x $BIN ]] || { log "building the release binary"; cargo build --release --locked -q -p octotracker; }
"$BIN" load --help | grep -q -- '--vanish' || die "$BIN has no 'load --vanish': rebuild it (cargo build --release)"

BACKEND_URL=memory
STORE_PORT=
case $BACKEND in
    redis) start_redis ;;
    postgres) start_postgres ;;
    *) ;;
esac

"$BIN" --http "127.0.0.1:$(free_port)" --metrics "127.0.0.1:$(free_port)" --backend "$BACKEND_URL" "${TRACKER_FLAGS[@]}" \
    >"$WORK/tracker.log" 2>&1 &
TRACKER_PID=$!
ADDR=$(wait_logged "$WORK/tracker.log" 'listening on http://[0-9.:]+')
METRICS=$(wait_logged "$WORK/tracker.log" 'metrics on http://[0-9.:]+')
URL=http://$ADDR/announce

COMMAND="RATE=$RATE PEERS=$PEERS TORRENTS=$TORRENTS SESSION=$SESSION VANISH=$VANISH CONNECTIONS=$CONNECTIONS \
BACKLOG=$BACKLOG SAMPLE=$SAMPLE WARMUP=$WARMUP NEW_CONNECTION=$NEW_CONNECTION REDIS_ENGINE=$REDIS_ENGINE benches/soak.sh $MINUTES $BACKEND"
log "$COMMAND"
log "tracker pid $TRACKER_PID on $URL (${TRACKER_FLAGS[*]}), backend $BACKEND_URL"

# The generator outlives the sampling by a few seconds so that every sample has load behind it.
LOAD_ARGS=(--rate "$RATE" --duration $(( DURATION + 10 )) --connections "$CONNECTIONS" --peers "$PEERS"
    --torrents "$TORRENTS" --session-announces "$SESSION" --vanish "$VANISH" --send-ip --max-backlog "$BACKLOG" --json)
[[ $NEW_CONNECTION == 1 ]] && LOAD_ARGS+=(--new-connection-per-request)
"$BIN" load "$URL" "${LOAD_ARGS[@]}" >"$WORK/load.json" 2>"$WORK/load.err" &
LOAD_PID=$!
# The probe's backlog bound is the same 3 s of its connections' requests (25 a second each).
PROBE_ARGS=(--rate 100 --duration 4 --connections 4 --peers 50 --torrents 10 --seed 2 --max-backlog 75 --json --quiet)

# ---------------------------------------------------------------- sample

# The last progress line of the generator: "[  3s]  61234 req/s  total 183702  errors 0".
progress_field() { # total|errors
    tail -c 300 "$WORK/load.err" | grep -ao "$1 [0-9]*" | tail -1 | cut -d' ' -f2
}

# "peers torrents p50 p99 probe_errors" (one line, "-" for none) from the /stats reply and the
# probe's JSON report.
stats_and_probe() { # STATS_JSON PROBE_JSON_FILE PROBE_ERR_FILE
    python3 - "$@" <<'EOF' || echo "- - - - sampling_failed"
import json, sys
try:
    stats = json.loads(sys.argv[1])
except ValueError:
    stats = {}
try:
    probe = json.load(open(sys.argv[2]))
    lat, errors = probe["latency_ms"], probe["errors"]["total"]
    if errors:  # with their kinds, e.g. 33(backlog:33)
        kinds = ";".join(f"{k}:{n}" for k, n in probe["errors"].items() if k != "total" and n)
        errors = f"{errors}({kinds})"
    p50, p99 = f"{lat['p50']:.3f}", f"{lat['p99']:.3f}"
except (OSError, ValueError, KeyError, TypeError):
    last = (open(sys.argv[3]).read().strip().splitlines() or ["no output"])[-1]
    p50, p99, errors = "-", "-", "probe_failed:" + "_".join(last.replace(",", ";").split())
def shown(x):
    return "-" if x is None else x
print(shown(stats.get("peers")), shown(stats.get("torrents")), p50, p99, errors)
EOF
}

echo "t_s,rss_kib,fds,peers,torrents,store_kib,requests,errors,probe_p50_ms,probe_p99_ms,probe_errors" >"$CSV"
START=$SECONDS
DIED=
# Sample k is taken at START + k × SAMPLE: a slow sample delays the next one, not all the rest.
for (( k = 1; k * SAMPLE <= DURATION; k++ )); do
    "$BIN" load "$URL" "${PROBE_ARGS[@]}" >"$WORK/probe.json" 2>"$WORK/probe.err" &
    PROBE_PID=$!
    wait "$PROBE_PID" || true
    PROBE_PID=
    wait_s=$(( START + k * SAMPLE - SECONDS ))
    if (( wait_s > 0 )); then sleep "$wait_s"; fi
    if ! kill -0 "$TRACKER_PID" 2>/dev/null; then DIED="the tracker exited"; break; fi
    if [[ -n $STORE_PID ]] && ! kill -0 "$STORE_PID" 2>/dev/null; then DIED="the $BACKEND server exited"; break; fi
    if ! kill -0 "$LOAD_PID" 2>/dev/null; then DIED="the load generator exited early: $(tail -3 "$WORK/load.err")"; break; fi
    t=$(( SECONDS - START ))
    rss=$(rss_kib "$TRACKER_PID")
    fds=$(ls "/proc/$TRACKER_PID/fd" | wc -l)
    stats=$(curl -s --max-time 2 "http://$METRICS/stats" || true)
    read -r peers torrents p50 p99 perr < <(stats_and_probe "$stats" "$WORK/probe.json" "$WORK/probe.err")
    row=("$t" "$rss" "$fds" "$peers" "$torrents" "$(store_kib)" "$(progress_field total)" "$(progress_field errors)"
        "$p50" "$p99" "$perr")
    for i in "${!row[@]}"; do [[ ${row[$i]} == - ]] && row[$i]=; done
    (IFS=,; echo "${row[*]}") >>"$CSV"
done

if [[ -z $DIED ]]; then
    wait "$LOAD_PID" || DIED="the load generator failed: $(tail -3 "$WORK/load.err")"
fi
LOAD_PID=

# ---------------------------------------------------------------- verdict and plot

case $BACKEND in
    redis) STORE_LABEL="redis-server used\\_memory" ;;
    postgres) STORE_LABEL="PostgreSQL database size" ;;
    *) STORE_LABEL="" ;;
esac
status=0
python3 "$REPO_ROOT/benches/soak_judge.py" "$CSV" "$WARMUP" "$BACKEND" "$COMMAND" "$WORK/load.json" "${DIED:-}" \
    | tee "$SUMMARY" || status=$?
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot -e "csv='$CSV'; png='$PNG'; title='octotracker soak, $BACKEND backend, $RATE announces/s'; warmup=$WARMUP; store='$STORE_LABEL'" \
        "$REPO_ROOT/benches/soak_plot.gp" && log "plot: $PNG"
else
    log "gnuplot is missing: no plot (apt-get install gnuplot-nox)"
fi
log "CSV: $CSV; summary: $SUMMARY"
exit "$status"
