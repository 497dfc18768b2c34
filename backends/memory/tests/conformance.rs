//! The core's conformance suite: every rule of the storage contract, one test each.

use octotracker_memory::{MemoryConfig, MemoryTorrentManager};

octotracker_core::conformance_tests!(|| async { MemoryTorrentManager::new(MemoryConfig::default()) });

/// The suite again on a single shard, where every swarm shares one lock and one map.
mod on_one_shard {
    use super::{MemoryConfig, MemoryTorrentManager};

    octotracker_core::conformance_tests!(|| async {
        MemoryTorrentManager::new(MemoryConfig { shards: 1, ..MemoryConfig::default() })
    });
}
