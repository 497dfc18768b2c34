//! The invariant of every algorithm: the peer timeout exceeds every `interval` it hands out, so no
//! peer is expired before it was told to come back. And `min interval` never exceeds `interval`.

use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
use octotracker_interval::{
    IntervalSpec, Jitter, LoadAdaptive, LoadAdaptiveConfig, Static, Step, SwarmScaled, peer_timeout_for,
};

/// Swarm sizes around every bound anyone uses, and the extremes.
fn swarms() -> impl Iterator<Item = SwarmStats> {
    let sizes = [0u32, 1, 2, 9, 10, 49, 50, 99, 100, 101, 999, 1000, 1001, 65_535, 1 << 20, u32::MAX];
    sizes.into_iter().flat_map(move |seeders| {
        sizes.into_iter().map(move |leechers| SwarmStats { complete: seeders, incomplete: leechers, downloaded: 0 })
    })
}

/// Asks `algorithm` for intervals over every swarm size and `announces_per_second` for `seconds`,
/// and checks each answer.
fn assert_timeout_exceeds_intervals(algorithm: &dyn IntervalAlgorithm, announces_per_second: u64, seconds: u64) {
    let timeout = algorithm.peer_timeout().as_secs();
    let mut longest = 0;
    for now in 0..seconds {
        for (n, swarm) in swarms().enumerate() {
            if n as u64 >= announces_per_second {
                break;
            }
            let i = algorithm.intervals(&swarm, UnixTime(now));
            assert!(i.interval >= 1, "{i:?}");
            assert!(i.min_interval <= i.interval, "{i:?}");
            assert!(timeout > u64::from(i.interval), "timeout {timeout}s, {i:?} for {swarm:?} at {now}");
            longest = longest.max(i.interval);
        }
    }
    assert!(timeout >= peer_timeout_for(longest).as_secs() || announces_per_second == 0, "{timeout} {longest}");
}

fn statics() -> Vec<Static> {
    let mut all = vec![Static::default()];
    for interval in [1, 59, 60, 600, 2700, 3000, 3001, 86_400, u32::MAX - 1] {
        all.push(Static::new(interval, interval / 2, peer_timeout_for(interval)).unwrap());
    }
    all
}

fn swarm_tables() -> Vec<SwarmScaled> {
    vec![
        SwarmScaled::default(),
        SwarmScaled::new(vec![Step::otherwise(1, 1)]).unwrap(),
        SwarmScaled::new(vec![Step::below(10, 86_400, 0), Step::below(11, 60, 60), Step::otherwise(600, 0)]).unwrap(),
        SwarmScaled::with_min_ratio(&[(Some(1), 5), (Some(1 << 40), u32::MAX), (None, 7)], 1.0).unwrap(),
    ]
}

fn load_configs() -> Vec<LoadAdaptiveConfig> {
    let base = LoadAdaptiveConfig::new(5.0);
    vec![
        base,
        base.bounds(1, 1),
        base.bounds(1, 10),
        base.bounds(60, 7200),
        LoadAdaptiveConfig { window: 1, max_step: 1.0, damping: 1.0, ..base.bounds(10, 100_000) },
        LoadAdaptiveConfig { target: 1e-6, ..base },
        LoadAdaptiveConfig { target: 1e9, ..base },
    ]
}

#[test]
fn static_intervals_stay_below_the_timeout() {
    for s in statics() {
        assert_timeout_exceeds_intervals(&s, 1, 1);
    }
}

#[test]
fn swarm_scaled_intervals_stay_below_the_timeout() {
    for s in swarm_tables() {
        assert_timeout_exceeds_intervals(&s, 1000, 1);
    }
}

#[test]
fn load_adaptive_intervals_stay_below_the_timeout_under_any_load() {
    for config in load_configs() {
        // Idle, trickling and hammered, each long enough to reach a bound.
        for rate in [0, 1, 256] {
            let load = LoadAdaptive::new(config).unwrap();
            assert_timeout_exceeds_intervals(&load, rate, 3 * 3600);
        }
    }
}

#[test]
fn jittered_intervals_stay_below_the_extended_timeout() {
    for percent in [0, 1, 10, 33, 50] {
        for (seed, s) in statics().into_iter().enumerate() {
            assert_timeout_exceeds_intervals(&Jitter::with_seed(s, percent, seed as u64).unwrap(), 256, 4);
        }
        for (seed, s) in swarm_tables().into_iter().enumerate() {
            assert_timeout_exceeds_intervals(&Jitter::with_seed(s, percent, seed as u64).unwrap(), 256, 4);
        }
        for (seed, config) in load_configs().into_iter().enumerate() {
            let load = LoadAdaptive::new(config).unwrap();
            assert_timeout_exceeds_intervals(&Jitter::with_seed(load, percent, seed as u64).unwrap(), 64, 600);
        }
    }
}

#[test]
fn parsed_specs_stay_below_their_timeout() {
    let specs = [
        "static",
        "static,interval=1",
        "static,interval=1h,min=1h,jitter=50",
        "swarm",
        "swarm,steps=1:1s/2:1h/5s,min_ratio=1,jitter=50",
        "load,target=0.001,min=1,max=2h,jitter=50",
        "load,target=1000000,min=1,max=1,window=1s",
    ];
    for spec in specs {
        let parsed: IntervalSpec = spec.parse().unwrap();
        assert_timeout_exceeds_intervals(&*parsed.build_seeded(Some(7)), 64, 300);
    }
}
