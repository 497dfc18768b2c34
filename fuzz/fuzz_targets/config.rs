//! The configuration file: `Config::from_toml` never panics and names what it refuses; a parsed
//! configuration written back as TOML reads back equal; `Settings::from_config` never panics,
//! and settings it accepts can be armed: every timeout fits the clock, the numwant default is
//! within the cap, something listens, and no interval handed out outlives the peer timeout.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use octotracker_config::settings::MAX_SECONDS;
use octotracker_config::{Backend, Config, Settings};
use octotracker_core::{SwarmStats, UnixTime};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let config = match Config::from_toml(text) {
        Ok(config) => config,
        Err(message) => {
            assert!(!message.trim().is_empty(), "a refusal says why");
            return;
        }
    };
    let written = config.to_toml().expect("a parsed configuration can be written");
    assert_eq!(Config::from_toml(&written).as_ref(), Ok(&config), "round trip through\n{written}");

    let settings = match Settings::from_config(&config) {
        Ok(settings) => settings,
        Err(message) => {
            assert!(!message.trim().is_empty(), "a refusal says why");
            return;
        }
    };
    let now = Instant::now();
    let max = Duration::from_secs(MAX_SECONDS);
    let mut timeouts = vec![
        ("header_read_timeout", settings.http.header_read_timeout),
        ("idle_timeout", settings.http.idle_timeout),
        ("drain_timeout", settings.http.drain_timeout),
        ("expiry_interval", settings.expiry_interval),
        ("reload_interval", settings.access.reload_interval),
    ];
    match &settings.backend {
        Backend::Postgres { statement_timeout, .. } => timeouts.push(("statement_timeout", *statement_timeout)),
        Backend::Redis { peer_timeout, .. } => timeouts.push(("redis peer_timeout", *peer_timeout)),
        Backend::Memory { .. } => {}
    }
    for (name, timeout) in timeouts {
        assert!(timeout <= max && now.checked_add(timeout).is_some(), "{name} {timeout:?} accepted");
    }
    assert!(!settings.expiry_interval.is_zero() && !settings.http.header_read_timeout.is_zero());
    assert!(settings.tracker.numwant_default <= settings.tracker.numwant_max);
    assert!(settings.tracker.scrape_max_hashes >= 1);
    assert!(!settings.listen.is_empty() || !settings.udp.is_empty(), "accepted settings listen somewhere");

    let algorithm = settings.intervals.build_seeded(Some(7));
    let timeout = algorithm.peer_timeout();
    assert!(timeout <= max, "peer timeout {timeout:?}");
    for peers in [0u32, 1, 99, 100, 999, 1_000, 50_000, u32::MAX / 2] {
        let swarm = SwarmStats { complete: peers / 2, incomplete: peers - peers / 2, downloaded: 0 };
        for t in [0u64, 60, 3_600, 86_400] {
            let given = algorithm.intervals(&swarm, UnixTime(t));
            assert!(given.min_interval <= given.interval, "{given:?}");
            assert!(u64::from(given.interval) < timeout.as_secs(), "interval {given:?} vs timeout {timeout:?}");
        }
    }
});
