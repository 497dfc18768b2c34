//! Opening the configured storage backend. A backend that cannot be reached at startup stops
//! the binary with exit code 1 and a message naming it.

use std::sync::Arc;

use octotracker_core::TorrentManager;

use crate::Failure;
use crate::settings::Backend;

/// Connects to (or creates) the backend.
pub(crate) async fn open(backend: &Backend) -> Result<Arc<dyn TorrentManager>, Failure> {
    match backend {
        Backend::Memory { shards, peer_ids } => {
            let mut config = octotracker_memory::MemoryConfig { peer_ids: *peer_ids, ..Default::default() };
            if *shards > 0 {
                config.shards = *shards;
            }
            Ok(Arc::new(octotracker_memory::MemoryTorrentManager::new(config)))
        }
        Backend::Postgres { url, pool_size, statement_timeout } => {
            let mut config = octotracker_postgres::PostgresConfig::new(url.clone());
            config.pool_size = *pool_size;
            config.statement_timeout = *statement_timeout;
            let store = octotracker_postgres::PostgresTorrentManager::connect(&config)
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            Ok(Arc::new(store))
        }
        Backend::Redis { target, prefix, peer_timeout, engine } => {
            let config = octotracker_redis::RedisConfig {
                prefix: prefix.clone(),
                peer_timeout: *peer_timeout,
                engine: *engine,
                ..octotracker_redis::RedisConfig::default()
            };
            let store = octotracker_redis::RedisTorrentManager::connect(target, config)
                .await
                .map_err(|e| Failure::Runtime(format!("cannot use redis backend {target}: {e}")))?;
            tracing::info!(
                "redis backend {target}, prefix {prefix:?}: {} engine (--redis-engine {engine})",
                store.engine()
            );
            Ok(Arc::new(store))
        }
    }
}

/// The backend's name as the status page shows it.
pub(crate) fn name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Memory { .. } => "memory",
        Backend::Postgres { .. } => "postgres",
        Backend::Redis { .. } => "redis",
    }
}
