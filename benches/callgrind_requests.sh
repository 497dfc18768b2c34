#!/usr/bin/env bash
# Instructions per request of HTTP tracker servers, counted by callgrind: deterministic for one
# binary and input, so it attributes small costs (a layer, a router) that a noisy machine's
# requests/s cannot. Each server runs under `valgrind --tool=callgrind`, gets WARMUP announces
# (swarms filled, caches warm), its counters are zeroed, then it gets COUNT more and they are
# dumped. Prints instructions per request (user space of the server process, all threads) and
# keeps each dump (and a callgrind_annotate summary) in OUT.
#
#   benches/callgrind_requests.sh                      # the embedding rows of issue 4
#   COUNT=20000 OUT=/tmp/cg benches/callgrind_requests.sh      # OUT defaults to target/callgrind
#   ROWS="standalone_metrics axum_embed" benches/callgrind_requests.sh
#
# Only 127.0.0.1 is used; every server is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

COUNT=${COUNT:-10000}
WARMUP=${WARMUP:-3000}
OUT=${OUT:-target/callgrind}
WORK=$(mktemp -d)
mkdir -p "$OUT"
rm -f "$OUT"/callgrind.*.out*
R=target/release
LOAD_ARGS=(--torrents 1000 --peers 10000 --connections 4 --duration 120 --json --quiet)
# shellcheck source=benches/processes.sh
source benches/processes.sh
die() { printf 'callgrind_requests.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -x $R/octotracker && -x $R/examples/axum_embed && -x $R/examples/hyper_embed ]] ||
    cargo build --release --locked -p octotracker -p octotracker-http --bins --examples >&2
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian package valgrind)" >&2; exit 1; }

# callgrind_run LABEL PATH COMMAND...: one row.
callgrind_run() {
    local label=$1 path=$2 log addr="" pid file
    shift 2
    log="$OUT/$label.log"
    file="$OUT/callgrind.$label.out"
    valgrind --tool=callgrind --callgrind-out-file="$file" "$@" >"$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    addr=http://$(wait_listening "$log" "$pid")
    "$R/octotracker" load "$addr$path" "${LOAD_ARGS[@]}" --max-requests "$WARMUP" >/dev/null
    callgrind_control --zero "$pid" >/dev/null 2>&1
    "$R/octotracker" load "$addr$path" "${LOAD_ARGS[@]}" --max-requests "$COUNT" --seed 2 >"$OUT/$label.json"
    callgrind_control --dump="measured" "$pid" >/dev/null 2>&1
    kill -INT "$pid"
    wait "$pid" || true
    # The dump taken after zeroing is the one whose name ends in the highest part number.
    local measured
    measured=$(find "$OUT" -name "callgrind.$label.out.*" | sort -V | tail -n 1)
    callgrind_annotate --inclusive=yes "$measured" >"$OUT/$label.annotate.txt" 2>/dev/null || true
    /usr/bin/python3 - "$label" "$measured" "$OUT/$label.json" <<'PY'
import json, re, sys
label, dump, report = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
total = None
for line in open(dump, errors="replace"):
    m = re.match(r"(?:summary|totals):\s+(\d+)", line)
    if m:
        total = int(m.group(1))
requests = report["requests"]
errors = report["errors"]["total"]
print(f"| {label} | {requests:,} | {errors} | {total / requests:,.0f} |")
PY
}

echo "| server | requests | errors | instructions/request |"
echo "|---|--:|--:|--:|"
ROWS=${ROWS:-standalone standalone_metrics axum_embed hyper_embed}
for row in $ROWS; do
    case $row in
    standalone) callgrind_run standalone /announce "$R/octotracker" --http 127.0.0.1:0 ;;
    standalone_metrics) callgrind_run standalone_metrics /announce "$R/octotracker" --http 127.0.0.1:0 --metrics 127.0.0.1:0 ;;
    axum_embed) callgrind_run axum_embed /tracker/announce "$R/examples/axum_embed" 127.0.0.1:0 ;;
    hyper_embed) callgrind_run hyper_embed /tracker/announce "$R/examples/hyper_embed" 127.0.0.1:0 ;;
    *) echo "unknown row $row" >&2; exit 2 ;;
    esac
done
echo "dumps and annotations: $OUT" >&2
