#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) with cargo-fuzz (libFuzzer, nightly),
# starting from the committed corpus in fuzz/corpus/TARGET; a crash stops the run and leaves the
# input in fuzz/artifacts/TARGET (turn it into a regression test). Prints executions and
# coverage per target.
#
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
SECONDS_EACH=${1:-30}
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz and a nightly toolchain are needed: cargo install cargo-fuzz --locked; rustup toolchain install nightly" >&2
    exit 1
fi
for target in http_query http_head bencode udp_packet torrent_file config ws_message; do
    mkdir -p "corpus/$target"
    # -rss_limit_mb and -max_len bound memory per input; the corpus grows only in a scratch copy
    # so the committed one stays small.
    scratch=$(mktemp -d)
    cp -r "corpus/$target/." "$scratch/" 2>/dev/null || true
    log=$(mktemp)
    # A target may come with a dictionary of the tokens its format is made of (fuzz/TARGET.dict).
    dict=()
    [[ -f "$target.dict" ]] && dict=(-dict="$target.dict")
    if ! cargo +nightly fuzz run --release "$target" "$scratch" -- \
        -max_total_time="$SECONDS_EACH" -max_len=4096 -rss_limit_mb=1024 -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz target $target FAILED: see fuzz/artifacts/$target" >&2
        rm -rf "$scratch" "$log"
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "$target: $runs executions in ${SECONDS_EACH}s, coverage $cov edges, no crash"
    rm -rf "$scratch" "$log"
done
