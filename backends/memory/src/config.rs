//! [`MemoryConfig`]: how the in-memory store is laid out.

/// Layout of a [`MemoryTorrentManager`](crate::MemoryTorrentManager).
///
/// ```
/// use octotracker_memory::MemoryConfig;
/// let config = MemoryConfig { shards: 1024, ..MemoryConfig::default() };
/// assert_eq!(config.shard_count(), 1024);
/// assert!(MemoryConfig::default().shard_count() >= 256);
/// assert!(MemoryConfig::default().peer_ids);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    /// How many shards the swarms are spread over, each behind its own lock; rounded up to a
    /// power of two, between 1 and 65,536. More shards mean less contention between cores and
    /// shorter lock holds during expiry. Default: 256, or the power of two at or above 16 per
    /// core when that is more.
    pub shards: usize,
    /// Whether peers' ids are stored and handed out (default: yes, as the storage contract
    /// says). Only non-compact HTTP replies carry peer ids; compact replies, UDP and every
    /// reply with `no_peer_id` do not. A tracker that refuses non-compact replies can turn this
    /// off: an IPv4 peer then takes 10 bytes in its list instead of 30, and the peers handed out
    /// carry an all-zero id.
    pub peer_ids: bool,
}

/// The most shards a store will make.
const MAX_SHARDS: usize = 1 << 16;

impl MemoryConfig {
    /// The number of shards actually used: [`shards`](Self::shards) rounded up to a power of
    /// two, between 1 and 65,536.
    pub fn shard_count(&self) -> usize {
        self.shards.clamp(1, MAX_SHARDS).next_power_of_two()
    }
}

impl Default for MemoryConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        MemoryConfig { shards: (16 * cores).next_power_of_two().max(256), peer_ids: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_counts_are_powers_of_two_within_bounds() {
        for (asked, used) in [(0, 1), (1, 1), (3, 4), (256, 256), (300, 512), (usize::MAX, MAX_SHARDS)] {
            assert_eq!(MemoryConfig { shards: asked, peer_ids: true }.shard_count(), used, "asked for {asked}");
        }
    }
}
