//! The `--intervals` flag's grammar: `static|swarm|load` followed by `,key=value` parameters.

use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};
use octotracker_interval::{
    AlgorithmSpec, IntervalSpec, LoadAdaptiveConfig, SpecError, Static, SwarmScaled, SwarmScaledError, parse,
    peer_timeout_for,
};

fn spec(text: &str) -> IntervalSpec {
    text.parse().unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

fn error(text: &str) -> String {
    text.parse::<IntervalSpec>().map(|s| panic!("`{text}` parsed as {s:?}")).unwrap_err().to_string()
}

fn first(algorithm: &dyn IntervalAlgorithm, peers: u32) -> Intervals {
    algorithm.intervals(&SwarmStats { complete: peers, incomplete: 0, downloaded: 0 }, UnixTime(0))
}

mod static_spec {
    use super::*;

    #[test]
    fn without_parameters_is_exactly_the_default() {
        assert_eq!(spec("static"), IntervalSpec { algorithm: AlgorithmSpec::Static(Static::default()), jitter: 0 });
        let built = parse("static").unwrap();
        assert_eq!(first(&*built, 1), Intervals { interval: 2700, min_interval: 600 });
        assert_eq!(built.peer_timeout(), Duration::from_secs(3000));
    }

    #[test]
    fn takes_interval_and_min_in_seconds_minutes_or_hours() {
        let expected = Static::new(1800, 300, peer_timeout_for(1800)).unwrap();
        for text in
            ["static,interval=1800,min=300", "static,interval=30m,min=5m", "static, min = 300s , interval=1800s"]
        {
            assert_eq!(spec(text).algorithm, AlgorithmSpec::Static(expected), "{text}");
        }
        assert_eq!(
            spec("static,interval=2h").algorithm,
            AlgorithmSpec::Static(Static::new(7200, 600, Duration::from_secs(7920)).unwrap())
        );
    }

    #[test]
    fn a_short_interval_lowers_the_default_min() {
        let expected = Static::new(120, 120, Duration::from_secs(420)).unwrap();
        assert_eq!(spec("static,interval=2m").algorithm, AlgorithmSpec::Static(expected));
    }

    #[test]
    fn rejects_contradictions() {
        assert_eq!(
            error("static,interval=10m,min=11m"),
            "invalid static parameters: min interval (660s) must not exceed interval (600s)"
        );
        assert_eq!(error("static,interval=0"), "invalid static parameters: interval must be at least 1 second");
    }
}

mod swarm_spec {
    use super::*;

    #[test]
    fn without_parameters_is_the_default_table() {
        assert_eq!(spec("swarm").algorithm, AlgorithmSpec::Swarm(SwarmScaled::default()));
        let built = parse("swarm").unwrap();
        assert_eq!(first(&*built, 99).interval, 1800);
        assert_eq!(first(&*built, 100).interval, 3600);
        assert_eq!(first(&*built, 1000), Intervals { interval: 7200, min_interval: 1800 });
    }

    #[test]
    fn steps_are_peers_colon_interval_separated_by_slashes_ending_with_a_bare_interval() {
        let expected =
            SwarmScaled::with_min_ratio(&[(Some(100), 1800), (Some(1000), 3600), (None, 7200)], 0.1).unwrap();
        for text in
            ["swarm,steps=100:1800/1000:3600/7200,min_ratio=0.1", "swarm,min_ratio=.1,steps=100:30m / 1000:1h / 2h"]
        {
            assert_eq!(spec(text).algorithm, AlgorithmSpec::Swarm(expected.clone()), "{text}");
        }
        let single = SwarmScaled::with_min_ratio(&[(None, 900)], 0.25).unwrap();
        assert_eq!(spec("swarm,steps=15m").algorithm, AlgorithmSpec::Swarm(single));
    }

    #[test]
    fn rejects_malformed_steps() {
        assert_eq!(
            error("swarm,steps=100:30m/1h/2h"),
            "invalid value `100:30m/1h/2h` for `steps`: step `1h`: expected PEERS:INTERVAL"
        );
        assert_eq!(
            error("swarm,steps=100:30m/1000:1h"),
            "invalid value `100:30m/1000:1h` for `steps`: last step `1000:1h`: expected a bare INTERVAL for every bigger swarm"
        );
        assert_eq!(
            error("swarm,steps=many:30m/1h"),
            "invalid value `many:30m/1h` for `steps`: step `many:30m`: `many` is not a peer count"
        );
        assert_eq!(
            error("swarm,steps=10:30x/1h"),
            "invalid value `10:30x/1h` for `steps`: step `10:30x`: expected seconds, or a whole number with an s, m or h suffix"
        );
        assert!(error("swarm,steps=").starts_with("invalid value `` for `steps`: last step ``"));
    }

    #[test]
    fn rejects_inconsistent_tables() {
        assert_eq!(
            "swarm,steps=1000:1h/100:30m/2h".parse::<IntervalSpec>(),
            Err(SpecError::Swarm(SwarmScaledError::Unsorted { index: 1, below: 100, previous: 1000 }))
        );
        assert_eq!(
            error("swarm,steps=1000:1h/100:30m/2h"),
            "invalid `steps`: step 1: peer bounds must increase (below 100 follows below 1000)"
        );
        assert_eq!(error("swarm,steps=0"), "invalid `steps`: step 0: interval must be at least 1 second");
        assert_eq!(error("swarm,min_ratio=1.5"), "invalid value `1.5` for `min_ratio`: expected a number from 0 to 1");
    }
}

mod load_spec {
    use super::*;

    #[test]
    fn needs_a_target_and_defaults_the_rest() {
        assert_eq!(error("load"), "load needs `target`");
        assert_eq!(spec("load,target=250").algorithm, AlgorithmSpec::Load(LoadAdaptiveConfig::new(250.0)));
        assert_eq!(parse("load,target=250").unwrap().peer_timeout(), Duration::from_secs(7920));
    }

    #[test]
    fn takes_bounds_ratio_and_window() {
        let expected =
            LoadAdaptiveConfig { min_ratio: 0.5, window: 30, ..LoadAdaptiveConfig::new(0.5).bounds(600, 10_800) };
        let text = "load,target=0.5,min=10m,max=3h,min_ratio=0.5,window=30s";
        assert_eq!(spec(text).algorithm, AlgorithmSpec::Load(expected));
        let built = parse(text).unwrap();
        assert_eq!(first(&*built, 1), Intervals { interval: 2700, min_interval: 1350 });
        assert_eq!(built.peer_timeout(), peer_timeout_for(10_800));
    }

    #[test]
    fn one_bound_moves_the_other_default_out_of_its_way() {
        let low = LoadAdaptiveConfig::new(1.0).bounds(60, 120);
        assert_eq!(spec("load,target=1,max=2m,min=1m").algorithm, AlgorithmSpec::Load(low));
        assert_eq!(spec("load,target=1,max=2m").algorithm, AlgorithmSpec::Load(low.bounds(120, 120)));
        assert_eq!(spec("load,target=1,min=3h").algorithm, AlgorithmSpec::Load(low.bounds(10_800, 10_800)));
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(
            error("load,target=0"),
            "invalid value `0` for `target`: expected a positive number of announces per second"
        );
        assert_eq!(
            error("load,target=fast"),
            "invalid value `fast` for `target`: expected a positive number of announces per second"
        );
        assert_eq!(error("load,target=inf").split(':').next(), Some("invalid value `inf` for `target`"));
        assert_eq!(
            error("load,target=1,min=2h,max=1h"),
            "invalid load parameters: min (7200s) must not exceed max (3600s)"
        );
        assert_eq!(error("load,target=1,min=0"), "invalid load parameters: min must be at least 1 second");
        assert_eq!(error("load,target=1,window=0"), "invalid load parameters: window must be at least 1 second");
    }
}

mod jitter {
    use super::*;

    #[test]
    fn goes_with_every_algorithm() {
        assert_eq!(spec("static,jitter=10").jitter, 10);
        assert_eq!(spec("swarm,jitter=10%").jitter, 10);
        assert_eq!(spec("load,jitter=0,target=1").jitter, 0);
        assert_eq!(spec("static").jitter, 0);
    }

    #[test]
    fn extends_the_timeout_and_spreads_the_interval() {
        let built = "static,jitter=20".parse::<IntervalSpec>().unwrap().build_seeded(Some(1));
        assert_eq!(built.peer_timeout(), Duration::from_secs(3600));
        let intervals: Vec<u32> = (0..1000).map(|_| first(&*built, 1).interval).collect();
        assert!(intervals.iter().all(|i| (2160..=3240).contains(i)));
        assert!(intervals.iter().any(|&i| i != 2700));
    }

    #[test]
    fn is_a_whole_percentage_up_to_50() {
        for bad in ["51", "-1", "1.5", "ten", "", "10%%"] {
            assert_eq!(
                error(&format!("static,jitter={bad}")),
                format!("invalid value `{bad}` for `jitter`: expected a whole percentage from 0 to 50")
            );
        }
    }
}

mod syntax {
    use super::*;

    #[test]
    fn names_the_unknown_algorithm() {
        assert_eq!(error(""), "empty interval spec (expected static, swarm or load)");
        assert_eq!(error("  "), "empty interval spec (expected static, swarm or load)");
        assert_eq!(error("fixed"), "unknown interval algorithm `fixed` (expected static, swarm or load)");
        assert_eq!(error("Static"), "unknown interval algorithm `Static` (expected static, swarm or load)");
        assert_eq!(error(",interval=1"), "unknown interval algorithm `` (expected static, swarm or load)");
    }

    #[test]
    fn names_the_unknown_key_and_the_known_ones() {
        assert_eq!(error("static,steps=1h"), "unknown parameter `steps` for static (expected interval, min, jitter)");
        assert_eq!(error("swarm,min=1"), "unknown parameter `min` for swarm (expected steps, min_ratio, jitter)");
        assert_eq!(
            error("load,target=1,maximum=1h"),
            "unknown parameter `maximum` for load (expected target, min, max, min_ratio, window, jitter)"
        );
    }

    #[test]
    fn wants_key_value_pairs_each_key_once() {
        assert_eq!(error("static,interval"), "parameter `interval` is not of the form key=value");
        assert_eq!(error("static,=5"), "parameter `=5` is not of the form key=value");
        assert_eq!(error("static,"), "parameter `` is not of the form key=value");
        assert_eq!(error("static,min=1,min=2"), "parameter `min` is given twice");
    }

    #[test]
    fn durations_are_whole_seconds_minutes_or_hours() {
        let interval = |text: &str| match spec(&format!("static,min=0,interval={text}")).algorithm {
            AlgorithmSpec::Static(s) => first(&s, 1).interval,
            other => panic!("{other:?}"),
        };
        assert_eq!(interval("90"), 90);
        assert_eq!(interval("90s"), 90);
        assert_eq!(interval("90m"), 5400);
        assert_eq!(interval("25h"), 90_000);
        assert_eq!(interval("4294967295"), u32::MAX);
        for bad in ["1.5h", "1h30m", "h", "-5", "5d", "+5", " "] {
            let e = error(&format!("static,interval={bad}"));
            assert!(e.contains("expected seconds, or a whole number with an s, m or h suffix"), "{bad}: {e}");
        }
        assert_eq!(
            error("static,interval=4294967296"),
            "invalid value `4294967296` for `interval`: at most 4294967295 seconds"
        );
        assert_eq!(
            error("static,interval=1193047h"),
            "invalid value `1193047h` for `interval`: at most 4294967295 seconds"
        );
    }
}
