//! [`LatencyHistogram`]: a Prometheus histogram of durations kept in atomics.
//!
//! prometheus-client's own `Histogram` takes a mutex on every observation; on the announce path
//! that would be a lock every request contends for. This one adds to two atomics per
//! observation (the bucket and the sum; the count is the buckets' total) and encodes as a
//! regular Prometheus histogram.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of the buckets, in seconds: 10 µs to 10 s, roughly ×2.5 apart, then `+Inf`.
pub const BUCKETS_SECONDS: [f64; 19] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0, 2.5, 5.0, 10.0,
];

const BOUNDS_NANOS: [u64; 19] = {
    let mut out = [0u64; 19];
    let mut i = 0;
    while i < 19 {
        out[i] = (BUCKETS_SECONDS[i] * 1e9) as u64;
        i += 1;
    }
    out
};

/// A histogram of durations. Clones share the same counts.
#[derive(Debug, Clone, Default)]
pub struct LatencyHistogram {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// One per bound, plus `+Inf`; not cumulative.
    buckets: [AtomicU64; 20],
    sum_nanos: AtomicU64,
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS.iter().position(|&bound| nanos <= bound).unwrap_or(BOUNDS_NANOS.len());
        self.inner.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.inner.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.inner.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// How many durations fell in each bucket (not cumulative): one count per bound of
    /// [`BUCKETS_SECONDS`], then the `+Inf` bucket.
    pub fn bucket_counts(&self) -> [u64; 20] {
        std::array::from_fn(|i| self.inner.buckets[i].load(Ordering::Relaxed))
    }

    /// The sum of the recorded durations.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.inner.sum_nanos.load(Ordering::Relaxed))
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut buckets = [(f64::INFINITY, 0u64); 20];
        let mut count = 0;
        for (i, slot) in buckets.iter_mut().enumerate() {
            let n = self.inner.buckets[i].load(Ordering::Relaxed);
            *slot = (BUCKETS_SECONDS.get(i).copied().unwrap_or(f64::INFINITY), n);
            count += n;
        }
        let sum = self.inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::registry::Registry;

    use super::*;

    #[test]
    fn observations_land_in_their_bucket_and_encode_cumulatively() {
        let h = LatencyHistogram::default();
        h.observe(Duration::from_micros(10)); // exactly on the first bound
        h.observe(Duration::from_micros(11));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(60)); // beyond the last bound
        assert_eq!(h.count(), 4);
        assert_eq!(h.sum(), Duration::from_nanos(10_000 + 11_000 + 3_000_000 + 60_000_000_000));

        let mut registry = Registry::default();
        registry.register("latency_seconds", "test", h.clone());
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        let line = |le: &str| {
            let prefix = format!("latency_seconds_bucket{{le=\"{le}\"}} ");
            text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no bucket {le}:\n{text}"))
        };
        assert_eq!(line("0.00001"), "1");
        assert_eq!(line("0.000025"), "2");
        assert_eq!(line("0.0025"), "2");
        assert_eq!(line("0.005"), "3");
        assert_eq!(line("10.0"), "3");
        assert_eq!(line("+Inf"), "4");
        assert!(text.contains("latency_seconds_count 4"), "{text}");
    }
}
