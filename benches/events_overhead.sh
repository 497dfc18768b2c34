#!/usr/bin/env bash
# What an engine event subscriber costs the keep-alive HTTP announce path (issue 19: with one
# subscriber attached, at most 5 % more server CPU per request than with none). The server is
# `events_server` (the binary's announce path: memory backend, hyper frontend, mimalloc) with
# EVENTS_SUBSCRIBER none | stalled (a full ring: every event built, refused, counted lost) |
# draining (a task reads them); each row is measured by benches/conn_counts.sh (fixed request
# count, keep-alive): callgrind instructions per request (deterministic) and /proc CPU per
# request (schedstat; noisy), rows alternated within each round.
#
#   benches/events_overhead.sh                         # ROUNDS=3 ROWS="none stalled" TOOLS="callgrind cpu"
#   ROWS="none stalled draining" REQUESTS=50000 benches/events_overhead.sh
#
# Needs target/release/{octotracker,events_server} (built when missing). Only 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${ROUNDS:-3}
ROWS=${ROWS:-none stalled}
TOOLS=${TOOLS:-callgrind cpu}
R=target/release
[[ -x $R/octotracker && -x $R/events_server ]] ||
    cargo build --release --locked -p octotracker -p octotracker-benches --bin octotracker --bin events_server >&2

RESULTS=$(mktemp /tmp/events-overhead.XXXXXX)
trap 'rm -f "$RESULTS" /tmp/callgrind-octotracker-keepalive.out' EXIT
for round in $(seq 1 "$ROUNDS"); do
    for tool in $TOOLS; do
        for row in $ROWS; do
            out=$(EVENTS_SUBSCRIBER=$row OCTOTRACKER=$R/events_server GENERATOR=$R/octotracker \
                benches/conn_counts.sh octotracker "$tool" keepalive)
            case $tool in
            callgrind) value=$(sed -n 's/^\([0-9]*\) instructions (Ir) per request.*/\1/p' <<<"$out") ;;
            cpu) value=$(sed -n 's/^\([0-9.]*\) µs on a CPU per request.*/\1/p' <<<"$out") ;;
            *) echo "TOOL is callgrind or cpu" >&2; exit 2 ;;
            esac
            errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
            printf '%s %s %s %s %s\n' "$round" "$tool" "$row" "$value" "$errors" | tee -a "$RESULTS" >&2
        done
    done
done
/usr/bin/python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for _, tool, row, value, errors in rows:
    by.setdefault((tool, row), []).append(float(value))
    assert errors == "0", f"{tool} {row}: {errors} errors"
unit = {"callgrind": "instructions/request", "cpu": "µs CPU/request"}
print("| tool | subscriber | runs | median | vs none |")
print("|---|---|--:|--:|--:|")
for (tool, row), values in by.items():
    base = statistics.median(by[(tool, "none")]) if (tool, "none") in by else None
    med = statistics.median(values)
    ratio = f"{med / base:.3f}×" if base else "–"
    shown = ", ".join(f"{v:,.0f}" if tool == "callgrind" else f"{v:.2f}" for v in values)
    print(f"| {tool} ({unit[tool]}) | {row} | {shown} | {med:,.2f} | {ratio} |")
PY
