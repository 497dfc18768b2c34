//! What the admin API tests share: a request helper, a populated memory store, simple key and
//! list stores, a store that never answers.

#![allow(dead_code)] // each test file uses a part

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use octotracker_admin::{AdminApi, HashList, ListStore};
use octotracker_core::{
    Event, ExpiryReport, InfoHash, PeerAnnounce, PeerId, StorageError, SwarmReply, SwarmStats, TorrentManager, UnixTime,
};
use octotracker_memory::MemoryTorrentManager;
use serde_json::Value;
use tokio::sync::Mutex;
use tower::ServiceExt;

pub(crate) const TOKEN: &str = "test-token-0123456789";

pub(crate) async fn call(
    api: &AdminApi,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let resp = api.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    assert_eq!(resp.headers()["content-type"], "application/json", "{uri}");
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {bytes:?}"));
    (status, value)
}

pub(crate) async fn get(api: &AdminApi, uri: &str) -> (StatusCode, Value) {
    call(api, Method::GET, uri, Some(TOKEN), "").await
}

pub(crate) fn hash(n: u8) -> InfoHash {
    InfoHash([n; 20])
}

/// `seeders` seeders and `leechers` leechers in swarm `n`, addresses distinct per swarm.
pub(crate) async fn populate(store: &dyn TorrentManager, n: u8, seeders: u8, leechers: u8) {
    for i in 0..seeders + leechers {
        let addr: SocketAddr = format!("10.{n}.0.{i}:6881").parse().unwrap();
        let announce = PeerAnnounce {
            info_hash: hash(n),
            addr,
            peer_id: PeerId([i; 20]),
            event: Event::Started,
            seeder: i < seeders,
            now: UnixTime(1_000),
        };
        store.announce(&announce, 0).await.unwrap();
    }
}

pub(crate) fn memory() -> Arc<dyn TorrentManager> {
    Arc::new(MemoryTorrentManager::new(Default::default()))
}

/// Passkeys kept in a set: what a backend's store does, for the API's own rules.
#[derive(Default)]
pub(crate) struct SetKeys(pub(crate) Mutex<std::collections::BTreeSet<String>>);

#[async_trait]
impl octotracker_core::PasskeyStore for SetKeys {
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.0.lock().await.iter().cloned().collect())
    }
    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.0.lock().await.insert(key.to_owned()))
    }
    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.0.lock().await.remove(key))
    }
}

/// Lists kept in sets, with only an allow list configured.
#[derive(Default)]
pub(crate) struct AllowOnly(pub(crate) Mutex<std::collections::HashSet<InfoHash>>);

#[async_trait]
impl ListStore for AllowOnly {
    fn has(&self, list: HashList) -> bool {
        list == HashList::Allow
    }
    async fn set(&self, _list: HashList, hash: InfoHash, listed: bool) -> Result<bool, String> {
        let mut set = self.0.lock().await;
        Ok(if listed { set.insert(hash) } else { set.remove(&hash) })
    }
}

/// A store that never answers (a partitioned Redis, a PostgreSQL stuck on a lock).
pub(crate) struct Stalled;

#[async_trait]
impl TorrentManager for Stalled {
    async fn announce(&self, _: &PeerAnnounce, _: usize) -> Result<SwarmReply, StorageError> {
        std::future::pending().await
    }
    async fn scrape(&self, _: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        std::future::pending().await
    }
    async fn expire(&self, _: UnixTime) -> Result<ExpiryReport, StorageError> {
        std::future::pending().await
    }
}
