//! [`LoadAdaptive`] under simulated load: peers re-announce after the interval they were given,
//! time comes from a fake clock stepping one second at a time.

use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
use octotracker_interval::{Jitter, LoadAdaptive, LoadAdaptiveConfig};

const WINDOW: u64 = 60;

/// Clients come back up to this many seconds late (timers, network, the tracker's clock resolution).
const SLOP: u64 = 30;

/// One measurement window of the simulation.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Announces per second in the window.
    rate: f64,
    /// `LoadAdaptive`'s interval (before any jitter) at the window's end.
    interval: u32,
    /// Peers in the swarm.
    peers: u64,
}

/// Runs `load` for `seconds`, the population following `peers(t)`: `initial` peers announce
/// spread evenly over their first `spread` seconds, joiners announce at once, leavers drop out when
/// they are next due.
fn simulate(load: &LoadAdaptive, peers: impl Fn(u64) -> u64, spread: u64, seconds: u64) -> Vec<Window> {
    simulate_with(load, load, 0, peers, spread, seconds)
}

/// [`simulate`], the intervals asked of `algorithm`, which wraps `load` and adds up to `jitter` %.
fn simulate_with(
    algorithm: &dyn IntervalAlgorithm,
    load: &LoadAdaptive,
    jitter: u32,
    peers: impl Fn(u64) -> u64,
    spread: u64,
    seconds: u64,
) -> Vec<Window> {
    let max = u64::from(load.config().max) * u64::from(100 + jitter) / 100;
    let ring = (max + SLOP + 2) as usize;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut due = vec![0u64; ring];
    let mut population = peers(0);
    for p in 0..population {
        due[(p * spread / population) as usize % ring] += 1;
    }
    let mut windows = Vec::new();
    let mut count = 0u64;
    let mut last_interval = load.current_interval();
    for t in 0..seconds {
        let wanted = peers(t);
        let slot = (t % ring as u64) as usize;
        let mut now_due = std::mem::take(&mut due[slot]);
        if wanted > population {
            now_due += wanted - population;
            population = wanted;
        } else if wanted < population {
            // Each peer due leaves with the probability that brings the population down to `wanted`.
            let excess = population - wanted;
            let staying = (0..now_due).filter(|_| next(&mut rng) % population >= excess).count() as u64;
            population -= now_due - staying;
            now_due = staying;
        }
        for _ in 0..now_due {
            let i = algorithm.intervals(&SwarmStats::default(), UnixTime(t));
            assert!(u64::from(i.interval) <= max, "{i:?} out of bounds");
            assert!(jitter > 0 || (load.config().min..=load.config().max).contains(&i.interval), "{i:?} out of bounds");
            assert!(i.min_interval <= i.interval);
            assert!(algorithm.peer_timeout().as_secs() > u64::from(i.interval));
            let slop = next(&mut rng) % (SLOP + 1);
            due[((t + u64::from(i.interval) + slop) % ring as u64) as usize] += 1;
            last_interval = load.current_interval();
        }
        count += now_due;
        if (t + 1) % WINDOW == 0 {
            windows.push(Window { rate: count as f64 / WINDOW as f64, interval: last_interval, peers: population });
            count = 0;
        }
    }
    windows
}

fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

fn ramp(from: u64, to: u64, start: u64, end: u64) -> impl Fn(u64) -> u64 {
    move |t| match t {
        t if t <= start => from,
        t if t >= end => to,
        t => {
            let (from, to) = (from as f64, to as f64);
            (from + (to - from) * (t - start) as f64 / (end - start) as f64).round() as u64
        }
    }
}

fn config() -> LoadAdaptiveConfig {
    LoadAdaptiveConfig::new(TARGET).bounds(60, 7200)
}

const TARGET: f64 = 20.0;
const HOUR: u64 = 3600;
/// Windows per hour.
const WINDOWS_PER_HOUR: usize = (HOUR / WINDOW) as usize;

/// The mean rate over the 10 windows ending at each window.
fn smoothed(windows: &[Window]) -> Vec<f64> {
    (0..windows.len())
        .map(|k| windows[k.saturating_sub(9)..=k].iter().map(|w| w.rate).sum::<f64>() / 10.0_f64.min(k as f64 + 1.0))
        .collect()
}

/// Asserts that from window `settled` to `end`, the 10-window rate stays within `tolerance` of the target.
fn assert_on_target(windows: &[Window], settled: usize, end: usize, tolerance: f64) {
    for (k, rate) in smoothed(windows).iter().enumerate().take(end).skip(settled) {
        assert!((rate / TARGET - 1.0).abs() <= tolerance, "window {k}: rate {rate:.2}/s, {:?}", windows[k]);
    }
}

/// Asserts that over windows `from..to` the interval moves one way only, towards its value at `to`,
/// give or take `slack` (relative): no overshoot, no oscillation.
fn assert_monotone_approach(windows: &[Window], from: usize, to: usize, slack: f64) {
    let last = f64::from(windows[to - 1].interval);
    let first = f64::from(windows[from].interval);
    let (lo, hi) = if first <= last {
        (first * (1.0 - slack), last * (1.0 + slack))
    } else {
        (last * (1.0 - slack), first * (1.0 + slack))
    };
    for (k, w) in windows.iter().enumerate().take(to).skip(from) {
        let i = f64::from(w.interval);
        assert!(lo <= i && i <= hi, "window {k}: interval {i} left [{lo:.0}, {hi:.0}]");
    }
    let mut peak = first;
    for (k, w) in windows.iter().enumerate().take(to).skip(from) {
        let i = f64::from(w.interval);
        let backwards = if first <= last { (peak - i) / peak } else { (i - peak) / peak };
        assert!(backwards <= slack, "window {k}: interval {i} turned back from {peak}");
        peak = if first <= last { peak.max(i) } else { peak.min(i) };
    }
}

#[test]
fn a_ramp_from_10k_to_100k_peers_is_followed_without_oscillation() {
    let load = LoadAdaptive::new(config()).unwrap();
    let w = simulate(&load, ramp(10_000, 100_000, 6 * HOUR, 12 * HOUR), 2700, 36 * HOUR);
    let h = WINDOWS_PER_HOUR;
    // Start: 10k peers on 45 minutes make 3.7 announces/s; the interval shortens to about 500 s.
    assert_monotone_approach(&w, 0, 6 * h, 0.01);
    assert_on_target(&w, 4 * h, 6 * h, 0.10);
    assert!((480..=520).contains(&w[6 * h - 1].interval), "{:?}", w[6 * h - 1]);
    // The ramp: the interval follows it upwards.
    assert_monotone_approach(&w, 6 * h, 12 * h, 0.01);
    // After the ramp, about 5000 s for 100k peers, reached from below within 8 hours.
    assert_monotone_approach(&w, 12 * h, 36 * h, 0.01);
    assert_on_target(&w, 20 * h, 36 * h, 0.10);
    assert!((4900..=5100).contains(&w[36 * h - 1].interval), "{:?}", w[36 * h - 1]);
    assert_eq!((w[0].peers, w[36 * h - 1].peers), (10_000, 100_000), "the simulated population followed the ramp");
}

#[test]
fn a_swarm_shrinking_from_100k_to_10k_peers_is_followed_without_oscillation() {
    let load = LoadAdaptive::new(LoadAdaptiveConfig { initial: Some(5000), ..config() }).unwrap();
    let w = simulate(&load, ramp(100_000, 10_000, 2 * HOUR, 3 * HOUR), 5000, 24 * HOUR);
    let h = WINDOWS_PER_HOUR;
    assert_on_target(&w, 0, 2 * h, 0.10);
    assert_monotone_approach(&w, 2 * h, 24 * h, 0.01);
    assert_on_target(&w, 10 * h, 24 * h, 0.10);
    assert!((480..=520).contains(&w[24 * h - 1].interval), "{:?}", w[24 * h - 1]);
}

#[test]
fn a_flash_crowd_lengthens_the_interval_without_overshoot() {
    let load = LoadAdaptive::new(LoadAdaptiveConfig { initial: Some(1000), ..config() }).unwrap();
    // 20k peers, then 60k more within 10 minutes.
    let w = simulate(&load, ramp(20_000, 80_000, 4 * HOUR, 4 * HOUR + 600), 1000, 30 * HOUR);
    let h = WINDOWS_PER_HOUR;
    assert_on_target(&w, h, 4 * h, 0.10);
    assert_monotone_approach(&w, 4 * h, 30 * h, 0.01);
    assert_on_target(&w, 18 * h, 30 * h, 0.10);
    assert!((3900..=4100).contains(&w[30 * h - 1].interval), "{:?}", w[30 * h - 1]);
}

#[test]
fn jittered_the_ramp_is_followed_as_well() {
    let load = Jitter::with_seed(LoadAdaptive::new(config()).unwrap(), 10, 3).unwrap();
    let w = simulate_with(&load, load.inner(), 10, ramp(10_000, 100_000, 6 * HOUR, 12 * HOUR), 2700, 36 * HOUR);
    let h = WINDOWS_PER_HOUR;
    assert_monotone_approach(&w, 0, 6 * h, 0.01);
    assert_monotone_approach(&w, 6 * h, 12 * h, 0.01);
    assert_monotone_approach(&w, 12 * h, 36 * h, 0.01);
    assert_on_target(&w, 20 * h, 36 * h, 0.10);
    assert!((4900..=5100).contains(&w[36 * h - 1].interval), "{:?}", w[36 * h - 1]);
}

#[test]
fn the_bounds_hold_when_the_target_is_out_of_reach() {
    // 1M peers would need 50,000 s: the interval stays at max, the rate above target.
    let load = LoadAdaptive::new(config()).unwrap();
    let w = simulate(&load, |_| 1_000_000, 2700, 6 * HOUR);
    assert!(w[2 * WINDOWS_PER_HOUR..].iter().all(|w| w.interval == 7200), "{:?}", w.last());
    assert!(w.last().unwrap().rate > TARGET);
    // 100 peers would need 5 s: the interval stays at min, the rate below target.
    let load = LoadAdaptive::new(config()).unwrap();
    let w = simulate(&load, |_| 100, 2700, 6 * HOUR);
    assert!(w[5 * WINDOWS_PER_HOUR..].iter().all(|w| w.interval == 60), "{:?}", w.last());
}
