//! The engine's policy knobs.

use std::sync::Arc;

/// Policy of a [`Tracker`](crate::Tracker). `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerConfig {
    /// Peers returned when an announce has no `numwant`.
    pub numwant_default: u32,
    /// Upper bound on peers returned; larger `numwant` values are clamped to it.
    pub numwant_max: u32,
    /// Answer `compact=0` with a list of dicts (otherwise refuse it).
    pub allow_non_compact: bool,
    /// Answer scrapes at all.
    pub allow_scrape: bool,
    /// Most hashes in one scrape; more is refused.
    pub scrape_max_hashes: usize,
    /// Answer a scrape without `info_hash` with every swarm.
    pub allow_full_scrape: bool,
    /// Most swarms in a full scrape reply.
    pub full_scrape_max: usize,
    /// Sent as `tracker id` in every announce reply.
    pub tracker_id: Option<Arc<str>>,
    /// Honour the `ip` parameter (BEP 3) instead of the connection's address. Off by default:
    /// it lets anyone announce on behalf of any address.
    pub accept_ip_param: bool,
    /// Send `external ip` (BEP 24) in announce replies.
    pub send_external_ip: bool,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            numwant_default: 50,
            numwant_max: 200,
            allow_non_compact: true,
            allow_scrape: true,
            scrape_max_hashes: 100,
            allow_full_scrape: false,
            full_scrape_max: 100_000,
            tracker_id: None,
            accept_ip_param: false,
            send_external_ip: true,
        }
    }
}
