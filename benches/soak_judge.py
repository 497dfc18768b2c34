#!/usr/bin/env python3
"""The verdict of a soak run (benches/soak.sh): reads its CSV, prints a summary table in markdown
and exits 1 when a judged series grows without bound or anything failed.

    soak_judge.py CSV WARMUP_SECONDS BACKEND COMMAND LOAD_JSON [DIED]

A series grows without bound when BOTH (a) the mean of the steady window's last fifth exceeds
the mean of its first fifth by more than its bound, and (b) the least-squares slope over the
steady window's second half extrapolates to more than that bound per hour. Bounds: 10 % for
tracker RSS, store memory and peers; 16 descriptors for open descriptors. The steady window is
every sample after WARMUP_SECONDS. Any generator or probe error, or DIED (a process that
exited), fails the run too.
"""

import csv
import json
import statistics
import sys

# (column, label, relative bound or None, absolute bound or None)
JUDGED = [
    ("rss_kib", "tracker RSS (KiB)", 0.10, None),
    ("fds", "tracker open descriptors", None, 16.0),
    ("peers", "peers (/stats)", 0.10, None),
    ("store_kib", "store memory (KiB)", 0.10, None),
]
REPORTED = [("torrents", "torrents (/stats)")]


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def slope_per_hour(points):
    """Least-squares slope of (t seconds, value) points, per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in points) / var * 3600.0


def judge(points, rel, absolute):
    """(first-fifth mean, last-fifth mean, growth, slope per hour, bound, verdict)."""
    fifth = max(1, len(points) // 5)
    first = statistics.fmean(v for _, v in points[:fifth])
    last = statistics.fmean(v for _, v in points[-fifth:])
    slope = slope_per_hour(points[len(points) // 2 :])
    bound = absolute if absolute is not None else rel * first
    grows = last - first > bound and slope > bound
    return first, last, last - first, slope, bound, "FAIL" if grows else "ok"


def fmt(x):
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def main():
    path, warmup, backend, command, load_json = sys.argv[1:6]
    died = sys.argv[6] if len(sys.argv) > 6 else ""
    warmup = float(warmup)
    rows = list(csv.DictReader(open(path)))
    failures = []
    if died:
        failures.append(died)
    if not rows:
        failures.append("no sample taken")
    steady = [r for r in rows if float(r["t_s"]) > warmup]
    if rows and len(steady) < 10:
        failures.append(f"only {len(steady)} samples after the {warmup:.0f} s warm-up")

    print(f"soak, {backend} backend: {command}")
    print()
    print(f"samples: {len(rows)} (every ~{float(rows[1]['t_s']) - float(rows[0]['t_s']) if len(rows) > 1 else 0:.0f} s), "
          f"steady window: {len(steady)} samples after {warmup:.0f} s")
    print()
    print("| series | start | end of warm-up | steady first fifth | steady last fifth | growth | "
          "slope, 2nd half (/h) | bound | verdict |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|---|")
    for col, label, rel, absolute in JUDGED:
        series = [(float(r["t_s"]), number(r[col])) for r in rows]
        if all(v is None for _, v in series):
            continue
        points = [(t, v) for t, v in series if v is not None and t > warmup]
        if len(points) < 10:
            failures.append(f"{label}: only {len(points)} steady samples")
            continue
        start = next(v for _, v in series if v is not None)
        at_warmup = [v for t, v in series if v is not None and t <= warmup]
        first, last, growth, slope, bound, verdict = judge(points, rel, absolute)
        if verdict == "FAIL":
            failures.append(f"{label} grows: {fmt(first)} → {fmt(last)} over the steady window, "
                            f"still {fmt(slope)}/h at the end (bound {fmt(bound)})")
        print(f"| {label} | {fmt(start)} | {fmt(at_warmup[-1] if at_warmup else None)} | {fmt(first)} | "
              f"{fmt(last)} | {growth:+,.0f} | {slope:+,.0f} | {fmt(bound)} | {verdict} |")
    for col, label in REPORTED:
        values = [number(r[col]) for r in steady if number(r[col]) is not None]
        if values:
            print(f"| {label} | | | {fmt(values[0])} | {fmt(values[-1])} | | | | (not judged) |")

    p50 = [number(r["probe_p50_ms"]) for r in steady if number(r["probe_p50_ms"]) is not None]
    p99 = [number(r["probe_p99_ms"]) for r in steady if number(r["probe_p99_ms"]) is not None]
    print()
    if p50 and p99:
        print(f"probe latency over the steady window (ms, per {len(p99)} windows): p50 median "
              f"{statistics.median(p50):.2f}, worst {max(p50):.2f}; p99 median {statistics.median(p99):.2f}, "
              f"worst {max(p99):.2f}")
    else:
        failures.append("no probe latency measured")

    probe_errors = [r["probe_errors"] for r in rows if r["probe_errors"] not in ("0", "")]
    if probe_errors:
        failures.append(f"probe errors in {len(probe_errors)} windows, e.g. {probe_errors[0]}")
    try:
        load = json.load(open(load_json))
        errors = load["errors"]
        print(f"load generator: {load['requests']:,} requests, {load['requests_per_second']:,.0f}/s, "
              f"errors {errors['total']}, latency p50 {load['latency_ms']['p50']:.2f} ms, "
              f"p99 {load['latency_ms']['p99']:.2f} ms, events {load['events']}")
        if errors["total"]:
            failures.append(f"load generator errors: {errors}, reasons {load.get('failure_reasons')}")
    except (OSError, ValueError, KeyError) as e:
        failures.append(f"no load generator report ({e})")

    print()
    if failures:
        print("verdict: FAIL")
        for f in failures:
            print(f"- {f}")
        sys.exit(1)
    print("verdict: PASS (no judged series grows without bound; no error)")


if __name__ == "__main__":
    main()
