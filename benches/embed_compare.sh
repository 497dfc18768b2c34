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
# shellcheck source=benches/pinned_run.sh
source benches/pinned_run.sh

cargo build --release --locked -p octotracker -p octotracker-http --bins --examples >&2

pinned_header
for _ in $(seq 1 "$RUNS"); do
    pinned_run standalone /announce "$R/octotracker" --http 127.0.0.1:0
    # The axum example attaches Prometheus metrics to its tracker: compare it with this row too.
    pinned_run standalone_metrics /announce "$R/octotracker" --http 127.0.0.1:0 --metrics 127.0.0.1:0
    pinned_run axum_embed /tracker/announce "$R/examples/axum_embed" 127.0.0.1:0
    pinned_run hyper_embed /tracker/announce "$R/examples/hyper_embed" 127.0.0.1:0
done
