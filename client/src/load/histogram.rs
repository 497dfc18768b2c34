//! [`Histogram`]: a log-linear latency histogram, exact below 256 units and within 1/128 of the
//! value above, mergeable across workers.

use std::time::Duration;

/// Linear sub-buckets per power of two (2^7 = 128: at most 0.8% relative error).
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Bucket count covering all of `u64`: `2·SUB` exact buckets, then `SUB` for each of the
/// `63 - SUB_BITS` powers of two above.
const BUCKETS: usize = ((65 - SUB_BITS) as usize) * SUB as usize;

/// Counts of recorded values (nanoseconds, for latencies) in log-linear buckets: values below
/// 256 have a bucket each; above, each power of two is split into 128 equal buckets. A
/// percentile is the highest value of the bucket that holds it, capped at the largest value
/// recorded, so percentiles are exact for values below 256 and at most 0.8% high above.
///
/// ```
/// use octotracker_client::load::Histogram;
/// let mut h = Histogram::new();
/// for v in 1..=100 {
///     h.record(v);
/// }
/// assert_eq!(h.value_at_quantile(0.5), 50);
/// assert_eq!(h.value_at_quantile(0.99), 99);
/// ```
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram").field("count", &self.count).field("min", &self.min).field("max", &self.max).finish()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram (about 58 KiB of counters).
    pub fn new() -> Self {
        Histogram { counts: vec![0; BUCKETS].into_boxed_slice(), count: 0, sum: 0, min: u64::MAX, max: 0 }
    }

    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.count += 1;
        self.sum += u128::from(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Records a duration, in nanoseconds (saturating at `u64::MAX`, some 584 years).
    pub fn record_duration(&mut self, d: Duration) {
        self.record(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest value recorded (0 when empty).
    pub fn min(&self) -> u64 {
        if self.count == 0 { 0 } else { self.min }
    }

    /// The largest value recorded (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the values recorded (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.sum as f64 / self.count as f64 }
    }

    /// The value at quantile `q` (`0.0..=1.0`) by the nearest-rank method: the smallest
    /// recorded value such that at least `q` of all values are at or below it. 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // The rank, 1-based; the small epsilon keeps 0.9 × 100 at 90 despite rounding.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64) - 1e-9).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_high(i).min(self.max).max(self.min);
            }
        }
        self.max
    }
}

/// The bucket of a value.
fn bucket_of(value: u64) -> usize {
    if value < 2 * SUB {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // ≥ SUB_BITS + 1
    let shift = exponent - SUB_BITS;
    // (value >> shift) is in SUB..2·SUB.
    (shift as usize + 1) * SUB as usize + ((value >> shift) - SUB) as usize
}

/// The highest value that falls into bucket `i`.
fn bucket_high(i: usize) -> u64 {
    if i < 2 * SUB as usize {
        return i as u64;
    }
    let shift = (i / SUB as usize - 1) as u32;
    let low = (SUB + (i as u64 % SUB)) << shift;
    low + ((1u64 << shift) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_exact_on_small_values() {
        let mut h = Histogram::new();
        for v in 1..=200 {
            h.record(v);
        }
        assert_eq!(h.value_at_quantile(0.5), 100);
        assert_eq!(h.value_at_quantile(0.9), 180);
        assert_eq!(h.value_at_quantile(0.99), 198);
        assert_eq!(h.value_at_quantile(0.999), 200);
        assert_eq!(h.value_at_quantile(0.0), 1);
        assert_eq!(h.value_at_quantile(1.0), 200);
        assert_eq!((h.min(), h.max(), h.count()), (1, 200, 200));
        assert!((h.mean() - 100.5).abs() < 1e-9);
    }

    #[test]
    fn repeated_large_values_read_back_within_one_bucket_and_the_maximum_exactly() {
        let mut h = Histogram::new();
        for (value, times) in [(50_000, 900), (1_000_000, 90), (7_000_000, 10)] {
            for _ in 0..times {
                h.record(value);
            }
        }
        let within = |got: u64, want: u64| got >= want && got as f64 <= want as f64 * (1.0 + 1.0 / 128.0);
        assert!(within(h.value_at_quantile(0.5), 50_000));
        assert!(within(h.value_at_quantile(0.9), 50_000));
        assert!(within(h.value_at_quantile(0.99), 1_000_000));
        assert_eq!(h.value_at_quantile(0.999), 7_000_000);
    }

    #[test]
    fn large_values_are_within_one_bucket_width() {
        let mut h = Histogram::new();
        for v in (1_000..=1_000_000u64).step_by(1_000) {
            h.record(v);
        }
        for (q, want) in [(0.5, 500_000.0), (0.9, 900_000.0), (0.99, 990_000.0)] {
            let got = h.value_at_quantile(q) as f64;
            assert!(got >= want && got <= want * (1.0 + 1.0 / 128.0), "q={q}: {got} vs {want}");
        }
    }

    #[test]
    fn buckets_tile_the_whole_range() {
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
        for i in 0..BUCKETS - 1 {
            assert_eq!(bucket_of(bucket_high(i)), i);
            assert_eq!(bucket_of(bucket_high(i) + 1), i + 1);
        }
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = (Histogram::new(), Histogram::new(), Histogram::new());
        for v in 0..5000u64 {
            let x = v * v % 100_003;
            if v % 3 == 0 {
                a.record(x)
            } else {
                b.record(x)
            }
            all.record(x);
        }
        a.merge(&b);
        for q in [0.1, 0.5, 0.9, 0.99, 0.999] {
            assert_eq!(a.value_at_quantile(q), all.value_at_quantile(q));
        }
        assert_eq!((a.count(), a.min(), a.max()), (all.count(), all.min(), all.max()));
    }

    #[test]
    fn an_empty_histogram_reads_zero() {
        let h = Histogram::new();
        assert_eq!((h.value_at_quantile(0.99), h.min(), h.max(), h.mean()), (0, 0, 0, 0.0));
    }
}
