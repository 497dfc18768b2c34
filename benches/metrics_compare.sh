#!/usr/bin/env bash
# The cost of metrics on the real announce path: the release binary without and with
# `--metrics` (Prometheus counters, histograms and the announce rate attached to the engine and
# the HTTP frontend), same load generator, same run, alternating. Issue 7's target: under 5%.
#
#   benches/metrics_compare.sh          # RUNS=3 DURATION=8 by default
#
# Servers are pinned to core 0, `octotracker load` to core 1; only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-8}
LOAD_ARGS=(--torrents 1000 --peers 10000 --connections 32 --duration "$DURATION" --json --quiet)
R=target/release
# shellcheck source=benches/pinned_run.sh
source benches/pinned_run.sh

cargo build --release --locked -p octotracker >&2

pinned_header
for _ in $(seq 1 "$RUNS"); do
    pinned_run metrics_off /announce "$R/octotracker" --http 127.0.0.1:0
    pinned_run metrics_on /announce "$R/octotracker" --http 127.0.0.1:0 --metrics 127.0.0.1:0
done
