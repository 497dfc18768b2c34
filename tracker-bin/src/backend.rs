//! Opening the configured storage backend. A backend that cannot be reached at startup stops
//! the binary with exit code 1 and a message naming it.

use std::sync::Arc;

use octotracker_core::TorrentManager;

use crate::Failure;
use crate::settings::Backend;

/// Connects to (or creates) the backend.
pub async fn open(backend: &Backend) -> Result<Arc<dyn TorrentManager>, Failure> {
    match backend {
        Backend::Memory { shards } => {
            let mut config = octotracker_memory::MemoryConfig::default();
            if *shards > 0 {
                config.shards = *shards;
            }
            Ok(Arc::new(octotracker_memory::MemoryTorrentManager::new(config)))
        }
    }
}
