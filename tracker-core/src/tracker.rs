//! The [`Tracker`] engine: every tracker rule, whatever the transport and the storage.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crate::events::{AnnounceEvent, EventHub, ExpiryEvent, FRONTEND_UNNAMED, ScrapeEvent, TrackerEvent};
use crate::{
    AccessControl, AddressFamily, AnnounceRequest, AnnounceResponse, Clock, Event, ExpiryReport, InfoHash,
    IntervalAlgorithm, Observer, Outcome, PeerAnnounce, RATE_LIMITED, Refusal, RequestKind, ScrapeRequest,
    ScrapeResponse, StorageError, StorageOp, StoreTotals, TorrentManager, TrackerConfig, TrackerError, UnixTime,
    failure_label, normalize_ip, webrtc_addr,
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
    observer: Option<Arc<dyn Observer>>,
    access: Option<Arc<dyn AccessControl>>,
    events: EventHub,
    /// The key of the hash that places WebRTC peers (see [`Tracker::announce_webrtc`]).
    webrtc_key: RandomState,
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
        Tracker {
            config,
            storage,
            intervals,
            clock,
            observer: None,
            access: None,
            events: EventHub::new(),
            webrtc_key: RandomState::new(),
        }
    }

    /// Reports every request, failure and storage call to `observer` (metrics). Without one
    /// the engine measures nothing.
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Serves only the torrents and clients `access` lets through (see [`AccessControl`]).
    /// Without one every torrent and client is served.
    pub fn with_access(mut self, access: Arc<dyn AccessControl>) -> Self {
        self.access = Some(access);
        self
    }

    /// Where the engine publishes what it does: [`subscribe`](EventHub::subscribe) to receive
    /// every answered announce and scrape and every expiry pass (see [`events`](crate::events)).
    pub fn events(&self) -> &EventHub {
        &self.events
    }

    /// Whether requests must carry a passkey in their URL (`/<passkey>/announce`).
    pub fn private(&self) -> bool {
        self.access.as_ref().is_some_and(|a| a.private())
    }

    /// The attached observer, for frontends to report request latency and requests that
    /// failed before reaching the engine.
    pub fn observer(&self) -> Option<&dyn Observer> {
        self.observer.as_deref()
    }

    /// The engine's clock reading.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Reports a request a frontend refused before it reached the engine (it did not parse,
    /// or the client's address is unknown); `reason` is a fixed label.
    pub fn record_rejected(&self, kind: RequestKind, reason: &'static str) {
        if let Some(obs) = &self.observer {
            match kind {
                RequestKind::Announce => obs.announce(None, Outcome::Refused, self.clock.now()),
                RequestKind::Scrape => obs.scrape(0, Outcome::Refused),
            }
            obs.failure(reason);
        }
    }

    /// Reports a request refused by a frontend's rate limit ([`RateLimiter`](crate::RateLimiter)),
    /// the same way on every frontend: a request of a known `kind` counts as refused, and every
    /// one (a UDP connect, an HTTP request for another path has no `kind`) as the failure
    /// [`RATE_LIMITED`].
    pub fn record_rate_limited(&self, kind: Option<RequestKind>) {
        match kind {
            Some(kind) => self.record_rejected(kind, RATE_LIMITED),
            None => {
                if let Some(obs) = &self.observer {
                    obs.failure(RATE_LIMITED);
                }
            }
        }
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
        self.announce_with_passkey(req, client_ip, None).await
    }

    /// [`announce`](Self::announce) with the passkey the request's URL carried (a private
    /// tracker refuses a missing or unknown one; others ignore it).
    pub async fn announce_with_passkey(
        &self,
        req: &AnnounceRequest,
        client_ip: IpAddr,
        passkey: Option<&str>,
    ) -> Result<AnnounceResponse, TrackerError> {
        self.announce_via(FRONTEND_UNNAMED, req, client_ip, passkey).await
    }

    /// [`announce_with_passkey`](Self::announce_with_passkey) from the frontend labelled
    /// `frontend` (`http`, `udp`, …: what its [events](crate::events) say).
    pub async fn announce_via(
        &self,
        frontend: &'static str,
        req: &AnnounceRequest,
        client_ip: IpAddr,
        passkey: Option<&str>,
    ) -> Result<AnnounceResponse, TrackerError> {
        self.announce_as(frontend, req, client_ip, passkey, None).await
    }

    /// An announce of a WebRTC peer (a WebSocket frontend's): the peer is stored in the swarm's
    /// [`AddressFamily::WebRtc`] family under a synthetic address ([`webrtc_addr`] of a hash of
    /// its peer id keyed by this engine's random key, so strangers cannot aim at another peer's
    /// place), and the reply's `peers6` holds other WebRTC peers only: the frontend reaches them
    /// by their peer ids. `req.port` is ignored. `client_ip` is the WebSocket connection's
    /// address (for `external ip` and transfers).
    pub async fn announce_webrtc(
        &self,
        req: &AnnounceRequest,
        client_ip: IpAddr,
        passkey: Option<&str>,
    ) -> Result<AnnounceResponse, TrackerError> {
        let key = |salt: u8| {
            let mut h = self.webrtc_key.build_hasher();
            h.write_u8(salt);
            h.write(&req.peer_id.0);
            h.finish()
        };
        let addr = webrtc_addr((u128::from(key(0)) << 64) | u128::from(key(1)));
        self.announce_as("ws", req, client_ip, passkey, Some(addr)).await
    }

    async fn announce_as(
        &self,
        frontend: &'static str,
        req: &AnnounceRequest,
        client_ip: IpAddr,
        passkey: Option<&str>,
        webrtc_addr: Option<SocketAddr>,
    ) -> Result<AnnounceResponse, TrackerError> {
        let now = self.clock.now();
        let Some(obs) = self.observer.as_deref() else {
            return self.announce_at(frontend, req, client_ip, passkey, webrtc_addr, now, None).await;
        };
        let result = self.announce_at(frontend, req, client_ip, passkey, webrtc_addr, now, Some(obs)).await;
        obs.announce(Some(req.event), Outcome::of(&result), now);
        if let Err(e) = &result {
            obs.failure(failure_label(e));
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn announce_at(
        &self,
        frontend: &'static str,
        req: &AnnounceRequest,
        client_ip: IpAddr,
        passkey: Option<&str>,
        webrtc_addr: Option<SocketAddr>,
        now: UnixTime,
        obs: Option<&dyn Observer>,
    ) -> Result<AnnounceResponse, TrackerError> {
        if !req.compact && !self.config.allow_non_compact {
            return Err(Refusal::NonCompactDisabled.into());
        }
        if let Some(access) = &self.access {
            access.passkey(passkey)?;
            access.client(&req.peer_id)?;
            access.torrent(&req.info_hash)?;
        }
        let client_ip = normalize_ip(client_ip);
        let peer_addr = match (webrtc_addr, req.ip) {
            (Some(addr), _) => addr,
            (None, Some(claimed)) if self.config.accept_ip_param => SocketAddr::new(normalize_ip(claimed), req.port),
            (None, _) => SocketAddr::new(client_ip, req.port),
        };
        let family = AddressFamily::of(peer_addr.ip());
        if webrtc_addr.is_none() && family == AddressFamily::WebRtc {
            return Err(Refusal::ReservedAddress.into());
        }
        let want = match req.event {
            // A peer that leaves needs no peers.
            Event::Stopped => 0,
            _ => req.numwant.unwrap_or(self.config.numwant_default).min(self.config.numwant_max),
        };
        let announce = PeerAnnounce {
            info_hash: req.info_hash,
            addr: peer_addr,
            peer_id: req.peer_id,
            event: req.event,
            seeder: req.left == 0,
            now,
        };
        let reply = timed(obs, StorageOp::Announce, self.storage.announce(&announce, want as usize)).await?;
        self.events.publish(|| announce_event(frontend, req, announce.addr, passkey, reply.stats, now));
        let intervals = self.intervals.intervals(&reply.stats, now);
        let (peers, peers6) = match family {
            AddressFamily::V4 => (reply.peers, Vec::new()),
            AddressFamily::V6 | AddressFamily::WebRtc => (Vec::new(), reply.peers),
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
        self.scrape_with_passkey(req, None).await
    }

    /// [`scrape`](Self::scrape) with the passkey the request's URL carried.
    pub async fn scrape_with_passkey(
        &self,
        req: &ScrapeRequest,
        passkey: Option<&str>,
    ) -> Result<ScrapeResponse, TrackerError> {
        self.scrape_via(FRONTEND_UNNAMED, req, passkey).await
    }

    /// [`scrape_with_passkey`](Self::scrape_with_passkey) from the frontend labelled `frontend`.
    pub async fn scrape_via(
        &self,
        frontend: &'static str,
        req: &ScrapeRequest,
        passkey: Option<&str>,
    ) -> Result<ScrapeResponse, TrackerError> {
        let result = match self.observer.as_deref() {
            None => self.scrape_with(req, passkey, None).await,
            Some(obs) => {
                let result = self.scrape_with(req, passkey, Some(obs)).await;
                obs.scrape(req.info_hashes.len(), Outcome::of(&result));
                if let Err(e) = &result {
                    obs.failure(failure_label(e));
                }
                result
            }
        };
        if let Ok(reply) = &result {
            // The clock is read only when someone subscribed: a scrape needs no time of its own.
            self.events.publish(|| scrape_event(frontend, req, reply, passkey, self.clock.now()));
        }
        result
    }

    async fn scrape_with(
        &self,
        req: &ScrapeRequest,
        passkey: Option<&str>,
        obs: Option<&dyn Observer>,
    ) -> Result<ScrapeResponse, TrackerError> {
        if !self.config.allow_scrape {
            return Err(Refusal::ScrapeDisabled.into());
        }
        if let Some(access) = &self.access {
            access.passkey(passkey)?;
        }
        if req.info_hashes.is_empty() {
            if !self.config.allow_full_scrape {
                return Err(Refusal::FullScrapeDisabled.into());
            }
            let mut files =
                timed(obs, StorageOp::ScrapeAll, self.storage.scrape_all(self.config.full_scrape_max)).await?;
            if let Some(access) = &self.access {
                files.retain(|(h, _)| access.torrent(h).is_ok());
            }
            return Ok(ScrapeResponse { files });
        }
        if req.info_hashes.len() > self.config.scrape_max_hashes {
            return Err(Refusal::TooManyHashes(self.config.scrape_max_hashes).into());
        }
        let Some(access) = &self.access else {
            let stats = timed(obs, StorageOp::Scrape, self.storage.scrape(&req.info_hashes)).await?;
            return Ok(ScrapeResponse { files: req.info_hashes.iter().copied().zip(stats).collect() });
        };
        // Refused hashes are left out of the reply, as if they were never asked for.
        let served: Vec<InfoHash> = req.info_hashes.iter().copied().filter(|h| access.torrent(h).is_ok()).collect();
        if served.is_empty() {
            return Ok(ScrapeResponse { files: Vec::new() });
        }
        let stats = timed(obs, StorageOp::Scrape, self.storage.scrape(&served)).await?;
        Ok(ScrapeResponse { files: served.into_iter().zip(stats).collect() })
    }

    /// Removes peers that have not announced within the interval algorithm's peer timeout.
    /// The binary (or an embedder) calls this on a timer.
    pub async fn expire(&self) -> Result<ExpiryReport, TrackerError> {
        let now = self.clock.now();
        let cutoff = now.minus(self.intervals.peer_timeout());
        let obs = self.observer.as_deref();
        let report = timed(obs, StorageOp::Expire, self.storage.expire(cutoff)).await?;
        if let Some(obs) = obs {
            obs.expired(&report);
        }
        self.events.publish(|| {
            TrackerEvent::Expiry(ExpiryEvent {
                cutoff,
                peers_removed: report.peers_removed,
                swarms_removed: report.swarms_removed,
                now,
            })
        });
        Ok(report)
    }

    /// How many swarms, seeders and leechers the storage holds (for gauges and summaries; it
    /// may walk the whole store, so call it on a timer, not per request).
    pub async fn totals(&self) -> Result<StoreTotals, StorageError> {
        timed(self.observer.as_deref(), StorageOp::Totals, self.storage.totals()).await
    }
}

/// The event of an answered announce: built out of line, only when someone subscribed.
#[cold]
#[inline(never)]
fn announce_event(
    frontend: &'static str,
    req: &AnnounceRequest,
    peer: SocketAddr,
    passkey: Option<&str>,
    stats: crate::SwarmStats,
    now: UnixTime,
) -> TrackerEvent {
    TrackerEvent::Announce(AnnounceEvent {
        info_hash: req.info_hash,
        peer,
        peer_id: req.peer_id,
        event: req.event,
        uploaded: req.uploaded,
        downloaded: req.downloaded,
        left: req.left,
        passkey: passkey.map(Arc::from),
        frontend,
        stats,
        now,
    })
}

/// The event of an answered scrape: built out of line, only when someone subscribed.
#[cold]
#[inline(never)]
fn scrape_event(
    frontend: &'static str,
    req: &ScrapeRequest,
    reply: &ScrapeResponse,
    passkey: Option<&str>,
    now: UnixTime,
) -> TrackerEvent {
    let full = req.info_hashes.is_empty();
    TrackerEvent::Scrape(ScrapeEvent {
        info_hashes: if full { Arc::from([]) } else { reply.files.iter().map(|(h, _)| *h).collect() },
        full,
        passkey: passkey.map(Arc::from),
        frontend,
        now,
    })
}

/// Runs a storage call, timing it when there is an observer.
async fn timed<T>(
    obs: Option<&dyn Observer>,
    op: StorageOp,
    call: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let Some(obs) = obs else {
        return call.await;
    };
    let start = Instant::now();
    let result = call.await;
    obs.storage(op, start.elapsed(), result.as_ref().map(|_| ()));
    result
}
