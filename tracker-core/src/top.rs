//! The busiest swarms: [`SwarmRank`] orders them and [`TorrentManager::top_swarms`] lists the
//! first few (a status page's "top torrents", an admin API's top-N).
//!
//! [`TorrentManager::top_swarms`]: crate::TorrentManager::top_swarms

use crate::{InfoHash, SwarmStats};

/// How many swarms the default [`TorrentManager::top_swarms`] looks at: the first this many a
/// full scrape lists. Below it the ranking is exact; a backend holding more swarms ranks a sample
/// of this size unless it overrides the method (PostgreSQL sorts in the database).
///
/// [`TorrentManager::top_swarms`]: crate::TorrentManager::top_swarms
pub const TOP_SWARMS_SCAN: usize = 1_000_000;

/// What "busiest" means when ranking swarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SwarmRank {
    /// Seeders plus leechers.
    #[default]
    Peers,
    /// Seeders (`complete`).
    Seeders,
    /// Leechers (`incomplete`).
    Leechers,
    /// Completed downloads.
    Downloaded,
}

impl SwarmRank {
    /// Every rank, for parsers and tests.
    pub const ALL: [SwarmRank; 4] = [SwarmRank::Peers, SwarmRank::Seeders, SwarmRank::Leechers, SwarmRank::Downloaded];

    /// The swarm's value for this rank.
    pub fn key(self, stats: &SwarmStats) -> u64 {
        match self {
            SwarmRank::Peers => stats.peers(),
            SwarmRank::Seeders => u64::from(stats.complete),
            SwarmRank::Leechers => u64::from(stats.incomplete),
            SwarmRank::Downloaded => stats.downloaded,
        }
    }

    /// The name used in URLs and JSON (`peers`, `seeders`, `leechers`, `downloaded`).
    pub fn as_str(self) -> &'static str {
        match self {
            SwarmRank::Peers => "peers",
            SwarmRank::Seeders => "seeders",
            SwarmRank::Leechers => "leechers",
            SwarmRank::Downloaded => "downloaded",
        }
    }
}

/// Keeps the `limit` first swarms of `swarms` by `rank`, highest first; ties go to the smaller
/// info hash, so the answer does not depend on the order the store listed them in.
pub fn rank_swarms(
    mut swarms: Vec<(InfoHash, SwarmStats)>,
    rank: SwarmRank,
    limit: usize,
) -> Vec<(InfoHash, SwarmStats)> {
    let order = |a: &(InfoHash, SwarmStats), b: &(InfoHash, SwarmStats)| {
        rank.key(&b.1).cmp(&rank.key(&a.1)).then_with(|| a.0.0.cmp(&b.0.0))
    };
    if limit < swarms.len() {
        // Linear partition first: a status page asks for ten out of possibly millions.
        swarms.select_nth_unstable_by(limit, order);
        swarms.truncate(limit);
    }
    swarms.sort_unstable_by(order);
    swarms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swarm(n: u8, complete: u32, incomplete: u32, downloaded: u64) -> (InfoHash, SwarmStats) {
        (InfoHash([n; 20]), SwarmStats { complete, incomplete, downloaded })
    }

    #[test]
    fn ranks_highest_first_with_ties_by_hash() {
        let swarms = vec![swarm(1, 1, 1, 9), swarm(2, 5, 0, 0), swarm(3, 0, 3, 1), swarm(4, 2, 0, 4)];
        let hashes = |v: Vec<(InfoHash, SwarmStats)>| v.into_iter().map(|(h, _)| h.0[0]).collect::<Vec<_>>();
        assert_eq!(hashes(rank_swarms(swarms.clone(), SwarmRank::Peers, 10)), [2, 3, 1, 4]);
        assert_eq!(hashes(rank_swarms(swarms.clone(), SwarmRank::Peers, 2)), [2, 3]);
        assert_eq!(hashes(rank_swarms(swarms.clone(), SwarmRank::Seeders, 1)), [2]);
        assert_eq!(hashes(rank_swarms(swarms.clone(), SwarmRank::Leechers, 2)), [3, 1]);
        assert_eq!(hashes(rank_swarms(swarms.clone(), SwarmRank::Downloaded, 3)), [1, 4, 3]);
        assert_eq!(hashes(rank_swarms(swarms, SwarmRank::Peers, 0)), Vec::<u8>::new());
    }
}
