//! The [`Tracker`] engine: every tracker rule, whatever the transport and the storage.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::{
    AddressFamily, AnnounceRequest, AnnounceResponse, Clock, Event, ExpiryReport, IntervalAlgorithm, PeerAnnounce,
    Refusal, ScrapeRequest, ScrapeResponse, TorrentManager, TrackerConfig, TrackerError, normalize_ip,
};

/// The engine the frontends call: validates against policy, asks the storage, builds replies.
///
/// ```
/// # use std::sync::Arc;
/// # use octotracker_core::*;
/// # async fn demo(storage: Arc<dyn TorrentManager>, intervals: Arc<dyn IntervalAlgorithm>) {
/// let tracker = Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock));
/// let req = AnnounceRequest::new(InfoHash([1; 20]), PeerId([2; 20]), 6881);
/// let reply = tracker.announce(&req, "127.0.0.1".parse().unwrap()).await.unwrap();
/// assert_eq!(reply.stats.complete, 1);
/// # }
/// ```
pub struct Tracker {
    config: TrackerConfig,
    storage: Arc<dyn TorrentManager>,
    intervals: Arc<dyn IntervalAlgorithm>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Tracker {
    /// An engine over `storage`, handing out `intervals`, reading time from `clock`.
    pub fn new(
        config: TrackerConfig,
        storage: Arc<dyn TorrentManager>,
        intervals: Arc<dyn IntervalAlgorithm>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Tracker { config, storage, intervals, clock }
    }

    /// The policy in force.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// The storage backend.
    pub fn storage(&self) -> &Arc<dyn TorrentManager> {
        &self.storage
    }

    /// Answers an announce from a client seen at `client_ip` (the connection's address, or the
    /// one a trusted proxy vouched for).
    pub async fn announce(&self, req: &AnnounceRequest, client_ip: IpAddr) -> Result<AnnounceResponse, TrackerError> {
        if !req.compact && !self.config.allow_non_compact {
            return Err(Refusal::NonCompactDisabled.into());
        }
        let client_ip = normalize_ip(client_ip);
        let peer_ip = match req.ip {
            Some(claimed) if self.config.accept_ip_param => normalize_ip(claimed),
            _ => client_ip,
        };
        let want = match req.event {
            // A peer that leaves needs no peers.
            Event::Stopped => 0,
            _ => req.numwant.unwrap_or(self.config.numwant_default).min(self.config.numwant_max),
        };
        let now = self.clock.now();
        let announce = PeerAnnounce {
            info_hash: req.info_hash,
            addr: SocketAddr::new(peer_ip, req.port),
            peer_id: req.peer_id,
            event: req.event,
            seeder: req.left == 0,
            now,
        };
        let reply = self.storage.announce(&announce, want as usize).await?;
        let intervals = self.intervals.intervals(&reply.stats, now);
        let (peers, peers6) = match AddressFamily::of(peer_ip) {
            AddressFamily::V4 => (reply.peers, Vec::new()),
            AddressFamily::V6 => (Vec::new(), reply.peers),
        };
        Ok(AnnounceResponse {
            interval: intervals.interval,
            min_interval: intervals.min_interval,
            stats: reply.stats,
            peers,
            peers6,
            tracker_id: self.config.tracker_id.clone(),
            warning: None,
            external_ip: self.config.send_external_ip.then_some(client_ip),
            compact: req.compact,
            no_peer_id: req.no_peer_id,
        })
    }

    /// Answers a scrape: each requested hash with its counts (zeros for unknown swarms), or
    /// every swarm when no hash is given and full scrape is allowed.
    pub async fn scrape(&self, req: &ScrapeRequest) -> Result<ScrapeResponse, TrackerError> {
        if !self.config.allow_scrape {
            return Err(Refusal::ScrapeDisabled.into());
        }
        if req.info_hashes.is_empty() {
            if !self.config.allow_full_scrape {
                return Err(Refusal::FullScrapeDisabled.into());
            }
            let files = self.storage.scrape_all(self.config.full_scrape_max).await?;
            return Ok(ScrapeResponse { files });
        }
        if req.info_hashes.len() > self.config.scrape_max_hashes {
            return Err(Refusal::TooManyHashes(self.config.scrape_max_hashes).into());
        }
        let stats = self.storage.scrape(&req.info_hashes).await?;
        Ok(ScrapeResponse { files: req.info_hashes.iter().copied().zip(stats).collect() })
    }

    /// Removes peers that have not announced within the interval algorithm's peer timeout.
    /// The binary (or an embedder) calls this on a timer.
    pub async fn expire(&self) -> Result<ExpiryReport, TrackerError> {
        let cutoff = self.clock.now().minus(self.intervals.peer_timeout());
        Ok(self.storage.expire(cutoff).await?)
    }
}
