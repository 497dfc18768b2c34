//! [`Zipf`]: ranks drawn with Zipf-like popularity, in constant time and memory.

use fastrand::Rng;

/// Draws ranks `1..=n` with `P(k) ∝ 1 / k^s`: rank 1 is the most popular torrent.
///
/// Rejection-inversion sampling (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
/// variates from monotone discrete distributions", 1996), as in Apache Commons RNG: no table of
/// `n` weights, about one `ln`/`exp` pair per draw, exact for any exponent `s ≥ 0` (`s = 0` is
/// uniform). Deterministic for a given [`Rng`] seed.
///
/// ```
/// use octotracker_client::load::Zipf;
/// let zipf = Zipf::new(1000, 1.0).unwrap();
/// let mut rng = fastrand::Rng::with_seed(7);
/// let k = zipf.sample(&mut rng);
/// assert!((1..=1000).contains(&k));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Zipf {
    n: u64,
    exponent: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    threshold: f64,
}

impl Zipf {
    /// A sampler over `1..=n`; `None` when `n` is 0 or the exponent is negative or not finite.
    pub fn new(n: u64, exponent: f64) -> Option<Zipf> {
        if n == 0 || !exponent.is_finite() || exponent < 0.0 {
            return None;
        }
        let mut z = Zipf { n, exponent, h_integral_x1: 0.0, h_integral_n: 0.0, threshold: 0.0 };
        z.h_integral_x1 = z.h_integral(1.5) - 1.0;
        z.h_integral_n = z.h_integral(n as f64 + 0.5);
        z.threshold = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        Some(z)
    }

    /// The number of ranks.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// One rank in `1..=n`.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        if self.n == 1 {
            return 1;
        }
        loop {
            // u is uniform in (h_integral_x1, h_integral_n].
            let u = self.h_integral_n + rng.f64() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            // Truncation is the rounding the method prescribes; x is positive and at most n + 0.5.
            let k = ((x + 0.5) as u64).clamp(1, self.n);
            let kf = k as f64;
            if kf - x <= self.threshold || u >= self.h_integral(kf + 0.5) - self.h(kf) {
                return k;
            }
        }
    }

    /// One zero-based index in `0..n` (rank − 1).
    pub fn sample_index(&self, rng: &mut Rng) -> u64 {
        self.sample(rng) - 1
    }

    /// `h(x) = x^-s`, the unnormalised density.
    fn h(&self, x: f64) -> f64 {
        (-self.exponent * x.ln()).exp()
    }

    /// `H(x)`, an antiderivative of `h`: `(x^(1-s) - 1) / (1 - s)`, or `ln x` when `s = 1`.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        helper2((1.0 - self.exponent) * log_x) * log_x
    }

    /// The inverse of `H`.
    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        (helper1(t) * x).exp()
    }
}

/// `ln(1 + x) / x`, accurate near 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 { x.ln_1p() / x } else { 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x)) }
}

/// `(e^x - 1) / x`, accurate near 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 { x.exp_m1() / x } else { 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws `draws` ranks and returns how often each rank came up (index 0 is rank 1).
    fn frequencies(n: u64, s: f64, seed: u64, draws: usize) -> Vec<f64> {
        let zipf = Zipf::new(n, s).unwrap();
        let mut rng = Rng::with_seed(seed);
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            counts[(zipf.sample(&mut rng) - 1) as usize] += 1;
        }
        counts.into_iter().map(|c| c as f64 / draws as f64).collect()
    }

    /// The exact probabilities `k^-s / Σ j^-s`.
    fn expected(n: u64, s: f64) -> Vec<f64> {
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
        let total: f64 = weights.iter().sum();
        weights.into_iter().map(|w| w / total).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_ranks_and_another_seed_does_not() {
        let zipf = Zipf::new(10_000, 1.0).unwrap();
        let draw = |seed| {
            let mut rng = Rng::with_seed(seed);
            (0..1000).map(|_| zipf.sample(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn ranks_stay_in_range() {
        for (n, s) in [(1, 1.0), (2, 0.5), (3, 3.0), (1000, 1.0), (1000, 0.0)] {
            let zipf = Zipf::new(n, s).unwrap();
            let mut rng = Rng::with_seed(1);
            for _ in 0..10_000 {
                assert!((1..=n).contains(&zipf.sample(&mut rng)), "n={n} s={s}");
            }
        }
    }

    #[test]
    fn frequencies_follow_the_zipf_law_for_several_exponents() {
        for s in [0.0, 0.7, 1.0, 1.5] {
            let got = frequencies(50, s, 9, 400_000);
            let want = expected(50, s);
            for k in 0..50 {
                // Within 10% relative or 0.002 absolute: several standard deviations at 400k draws.
                let tolerance = (want[k] * 0.1).max(0.002);
                assert!((got[k] - want[k]).abs() < tolerance, "s={s} rank {}: got {} want {}", k + 1, got[k], want[k]);
            }
        }
    }

    #[test]
    fn with_exponent_one_rank_one_is_twice_as_popular_as_rank_two() {
        let got = frequencies(100_000, 1.0, 3, 500_000);
        let ratio = got[0] / got[1];
        assert!((ratio - 2.0).abs() < 0.1, "ratio {ratio}");
        // 1 / H(100000) ≈ 0.0830.
        assert!((got[0] - 0.0830).abs() < 0.003, "rank 1 share {}", got[0]);
    }

    #[test]
    fn rejects_degenerate_parameters() {
        assert!(Zipf::new(0, 1.0).is_none());
        assert!(Zipf::new(10, -0.1).is_none());
        assert!(Zipf::new(10, f64::NAN).is_none());
    }
}
