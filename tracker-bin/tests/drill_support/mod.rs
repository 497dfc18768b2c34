//! Outage drills: several clients announce distinct peers in a loop while a test stops and
//! restarts the storage; every announce's outcome goes into a [`Ledger`]; afterwards
//! [`verify`] checks, swarm by swarm, that what the tracker acknowledged is what it serves.
//!
//! The peers: client `c`'s `i`-th peer is global peer `g = c * PEERS_PER_CLIENT + i`, on
//! 127.0.0.1 port `FIRST_PORT + g`, in swarm `g / SWARM_SIZE` (small swarms, so one announce
//! with a large numwant lists every peer of one). A client announces its next peer `started`
//! and retries the same peer after a refusal (as a real client would); every fourth
//! acknowledged peer is then announced `stopped` once. A peer is *acknowledged present* when
//! its `started` was answered with success and no `stopped` of it was sent; *acknowledged gone*
//! when its `stopped` was answered with success. Peers whose `stopped` was refused are in an
//! unknown state and checked only for not being invented.

#![allow(dead_code)] // each drill uses a part

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use octotracker_client::{ClientError, HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};

/// Concurrent clients of a drill.
pub(crate) const CLIENTS: u32 = 8;
/// Peers in one swarm (below the default numwant maximum of 200, so one reply lists them all).
pub(crate) const SWARM_SIZE: u32 = 40;
/// Peers one client may use: bounds the run by count.
pub(crate) const PEERS_PER_CLIENT: u32 = 2_400;
/// Port of global peer 0.
pub(crate) const FIRST_PORT: u32 = 20_000;
/// Port of the observer of swarm 0 (observers sit above every load peer's port).
const FIRST_OBSERVER_PORT: u32 = 50_000;
/// How long a client waits before retrying a refused announce.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// When an announce was sent, relative to the outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Phase {
    BeforeOutage = 0,
    StoreDown = 1,
    StoreRestarted = 2,
}

/// The drill's phase, shared by the test and the clients.
#[derive(Default)]
pub(crate) struct PhaseClock(AtomicU8);

impl PhaseClock {
    pub(crate) fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::SeqCst);
    }

    pub(crate) fn now(&self) -> Phase {
        match self.0.load(Ordering::SeqCst) {
            0 => Phase::BeforeOutage,
            1 => Phase::StoreDown,
            _ => Phase::StoreRestarted,
        }
    }
}

/// How one announce ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Acknowledged,
    /// Answered with a failure reason.
    Refused(String),
    /// No answer: connection error, timeout, a non-200 status or an unreadable body.
    NoAnswer(String),
}

/// Every announce of the drill and its outcome.
#[derive(Default)]
pub(crate) struct Ledger {
    entries: Mutex<Vec<Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    peer: u32,
    event: Event,
    phase: Phase,
    outcome: Outcome,
}

impl Ledger {
    fn record(&self, peer: u32, event: Event, phase: Phase, outcome: Outcome) {
        self.entries.lock().expect("ledger lock").push(Entry { peer, event, phase, outcome });
    }

    /// Acknowledged announces sent in `phase`.
    pub(crate) fn acknowledged_in(&self, phase: Phase) -> usize {
        let entries = self.entries.lock().expect("ledger lock");
        entries.iter().filter(|e| e.phase == phase && e.outcome == Outcome::Acknowledged).count()
    }

    /// Acknowledged announces so far.
    pub(crate) fn acknowledged(&self) -> usize {
        let entries = self.entries.lock().expect("ledger lock");
        entries.iter().filter(|e| e.outcome == Outcome::Acknowledged).count()
    }

    /// The counts of the whole drill.
    pub(crate) fn tally(&self) -> Tally {
        let entries = self.entries.lock().expect("ledger lock");
        let mut tally = Tally::default();
        for e in entries.iter() {
            match &e.outcome {
                Outcome::Acknowledged => {
                    tally.acknowledged += 1;
                    if e.phase == Phase::StoreRestarted {
                        tally.acknowledged_after_restart += 1;
                    }
                }
                Outcome::Refused(reason) => *tally.refused.entry(reason.clone()).or_default() += 1,
                Outcome::NoAnswer(why) => tally.no_answer.push(why.clone()),
            }
        }
        tally
    }

    /// What the ledger says each peer's state must be (see the module docs).
    fn expectations(&self) -> Expectations {
        let entries = self.entries.lock().expect("ledger lock");
        let mut expected = Expectations::default();
        for e in entries.iter() {
            expected.attempted.insert(e.peer);
            match (e.event, &e.outcome) {
                (Event::Started, Outcome::Acknowledged) => {
                    expected.present.insert(e.peer);
                    expected.present_since.insert(e.peer, e.phase);
                }
                (Event::Stopped, Outcome::Acknowledged) => {
                    expected.present.remove(&e.peer);
                    expected.gone.insert(e.peer);
                }
                (Event::Stopped, _) => {
                    expected.present.remove(&e.peer);
                    expected.unknown.insert(e.peer);
                }
                _ => {}
            }
        }
        expected
    }
}

#[derive(Default)]
struct Expectations {
    attempted: BTreeSet<u32>,
    present: BTreeSet<u32>,
    /// Phase in which each present peer's `started` was sent.
    present_since: BTreeMap<u32, Phase>,
    gone: BTreeSet<u32>,
    /// Peers whose `stopped` was refused or unanswered: either state is right.
    unknown: BTreeSet<u32>,
}

/// The counts of a drill.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub acknowledged: usize,
    pub acknowledged_after_restart: usize,
    /// Failure reason → how many announces got it.
    pub refused: BTreeMap<String, usize>,
    /// Why each unanswered announce got no answer.
    pub no_answer: Vec<String>,
}

impl Tally {
    pub(crate) fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }
}

/// The swarm of global peer `g`.
pub(crate) fn swarm_of(peer: u32) -> u32 {
    peer / SWARM_SIZE
}

/// The info hash of swarm `s`.
pub(crate) fn swarm_hash(swarm: u32) -> InfoHash {
    let mut hash = [0xd1; 20];
    hash[..4].copy_from_slice(&swarm.to_be_bytes());
    InfoHash(hash)
}

fn peer_port(peer: u32) -> u16 {
    u16::try_from(FIRST_PORT + peer).expect("load peers' ports fit in u16")
}

fn peer_of_port(port: u16) -> Option<u32> {
    u32::from(port).checked_sub(FIRST_PORT)
}

fn announce_of(peer: u32, event: Event) -> AnnounceRequest {
    let mut id = *b"-OT0001-drill-000000";
    id[16..].copy_from_slice(&peer.to_be_bytes());
    let mut req = AnnounceRequest::new(swarm_hash(swarm_of(peer)), PeerId(id), peer_port(peer));
    req.left = if peer.is_multiple_of(3) { 0 } else { 1000 };
    req.event = event;
    req.numwant = Some(5);
    req
}

fn outcome_of(result: Result<Reply<octotracker_client::AnnounceReply>, ClientError>) -> Outcome {
    match result {
        Ok(Reply::Ok(_)) => Outcome::Acknowledged,
        Ok(Reply::Failure { reason, .. }) => Outcome::Refused(reason),
        Err(e) => Outcome::NoAnswer(e.to_string()),
    }
}

/// Starts `clients` looping clients against `announce_url`; they stop when `stop` is set or
/// their peers run out. Each has its own keep-alive connection pool.
pub(crate) fn start_load(
    announce_url: &str,
    clients: u32,
    ledger: &Arc<Ledger>,
    phase: &Arc<PhaseClock>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let (url, ledger, phase, stop) = (announce_url.to_owned(), ledger.clone(), phase.clone(), stop.clone());
            tokio::spawn(async move {
                let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
                let first = c * PEERS_PER_CLIENT;
                let mut next = first;
                while !stop.load(Ordering::SeqCst) && next < first + PEERS_PER_CLIENT {
                    let sent_in = phase.now();
                    let outcome = outcome_of(client.announce(&url, &announce_of(next, Event::Started)).await);
                    let acknowledged = outcome == Outcome::Acknowledged;
                    ledger.record(next, Event::Started, sent_in, outcome);
                    if !acknowledged {
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    if next % 4 == 3 {
                        let sent_in = phase.now();
                        let outcome = outcome_of(client.announce(&url, &announce_of(next, Event::Stopped)).await);
                        ledger.record(next, Event::Stopped, sent_in, outcome);
                    }
                    next += 1;
                }
            })
        })
        .collect()
}

/// Polls `check` every 50 ms until it holds, for at most `within`.
pub(crate) async fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the tracker serves after the drill, checked against the ledger.
#[derive(Debug, Default)]
pub(crate) struct Audit {
    pub swarms: usize,
    /// Acknowledged present, listed.
    pub present_listed: usize,
    /// Acknowledged present, not listed: lost announces, with the phase they were sent in.
    pub lost: Vec<(u32, Phase)>,
    /// Acknowledged gone and not listed.
    pub gone_unlisted: usize,
    /// Acknowledged gone, listed again: undone `stopped` announces.
    pub undone_stops: Vec<u32>,
    /// Listed though never announced by the drill (or not a drill port at all).
    pub invented: Vec<String>,
    /// Listed, announced, but never acknowledged present (refused or unanswered, yet applied).
    pub applied_though_unacknowledged: usize,
    /// Swarms whose scrape count differs from their full listing: (swarm, scrape, listed).
    pub count_mismatches: Vec<(u32, i64, usize)>,
}

/// For every swarm the drill touched: a scrape (its count), then an announce from a fresh
/// observer with numwant 200 (its full peer list), compared with the ledger.
pub(crate) async fn verify(announce_url: &str, scrape_url: &str, ledger: &Ledger) -> Audit {
    let expected = ledger.expectations();
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    let swarms: BTreeSet<u32> = expected.attempted.iter().map(|p| swarm_of(*p)).collect();
    let mut audit = Audit { swarms: swarms.len(), ..Audit::default() };
    for swarm in swarms {
        let hash = swarm_hash(swarm);
        let scrape = client.scrape(scrape_url, &[hash]).await.expect("the tracker answers a scrape");
        let Reply::Ok(scrape) = scrape else { panic!("scrape of swarm {swarm} refused: {scrape:?}") };
        let file = scrape.files.iter().find(|(h, _)| *h == hash).map(|(_, f)| *f).unwrap_or_default();
        let scraped = file.complete + file.incomplete;

        let observer_port = u16::try_from(FIRST_OBSERVER_PORT + swarm).expect("observer ports fit in u16");
        let mut observe = AnnounceRequest::new(hash, PeerId(*b"-OT0001-observer0000"), observer_port);
        observe.left = 1000;
        observe.event = Event::Started;
        observe.numwant = Some(200);
        let reply = client.announce(announce_url, &observe).await.expect("the tracker answers the observer");
        let Reply::Ok(reply) = reply else { panic!("observer of swarm {swarm} refused: {reply:?}") };
        let listed: BTreeSet<u32> = reply
            .peers
            .iter()
            .filter_map(|p| match peer_of_port(p.addr.port()) {
                Some(peer) if p.addr.ip().is_loopback() && expected.attempted.contains(&peer) => Some(peer),
                _ => {
                    audit.invented.push(p.addr.to_string());
                    None
                }
            })
            .collect();
        let listing = reply.peers.len();
        if scraped != listing as i64 {
            audit.count_mismatches.push((swarm, scraped, listing));
        }
        // The observer's own reply counts it too.
        let counted = reply.complete.unwrap_or(-1) + reply.incomplete.unwrap_or(-1);
        if counted != listing as i64 + 1 {
            audit.count_mismatches.push((swarm, counted - 1, listing));
        }
        for peer in expected.present.iter().filter(|p| swarm_of(**p) == swarm) {
            if listed.contains(peer) {
                audit.present_listed += 1;
            } else {
                audit.lost.push((*peer, expected.present_since[peer]));
            }
        }
        for peer in expected.gone.iter().filter(|p| swarm_of(**p) == swarm) {
            if listed.contains(peer) {
                audit.undone_stops.push(*peer);
            } else {
                audit.gone_unlisted += 1;
            }
        }
        audit.applied_though_unacknowledged += listed
            .iter()
            .filter(|p| !expected.present.contains(p) && !expected.gone.contains(p) && !expected.unknown.contains(p))
            .count();
    }
    audit
}

/// Prints the drill's figures (the test log records them).
pub(crate) fn report(name: &str, tally: &Tally, audit: &Audit) {
    eprintln!(
        "{name}: {} announces acknowledged ({} of them after the restart), {} refused {:?}, {} unanswered; \
         {} swarms audited: {} acknowledged peers listed, {} lost, {} acknowledged stops kept, {} undone, \
         {} applied though unacknowledged, {} invented, {} count mismatches",
        tally.acknowledged,
        tally.acknowledged_after_restart,
        tally.refused_total(),
        tally.refused,
        tally.no_answer.len(),
        audit.swarms,
        audit.present_listed,
        audit.lost.len(),
        audit.gone_unlisted,
        audit.undone_stops.len(),
        audit.applied_though_unacknowledged,
        audit.invented.len(),
        audit.count_mismatches.len(),
    );
}

/// A store a drill can stop and start again (blocking calls).
pub(crate) trait Store: Send + Sync + 'static {
    fn stop(&self);
    fn start(&self);
}

/// What a drill measured.
pub(crate) struct Drill {
    pub tally: Tally,
    pub audit: Audit,
}

/// Load from [`CLIENTS`] clients; once 300 announces are acknowledged the store is stopped for
/// `outage`, then started again; the load goes on until 300 announces sent after the restart
/// are acknowledged, then stops, and the tracker's state is audited against the ledger.
pub(crate) async fn run(announce_url: &str, scrape_url: &str, store: Arc<dyn Store>, outage: Duration) -> Drill {
    let (ledger, phase, stop) =
        (Arc::new(Ledger::default()), Arc::new(PhaseClock::default()), Arc::new(AtomicBool::new(false)));
    let clients = start_load(announce_url, CLIENTS, &ledger, &phase, &stop);
    eventually(Duration::from_secs(15), "300 announces acknowledged before the outage", || {
        ledger.acknowledged() >= 300
    })
    .await;

    phase.set(Phase::StoreDown);
    let down = store.clone();
    tokio::task::spawn_blocking(move || down.stop()).await.expect("store stops");
    tokio::time::sleep(outage).await;
    let up = store.clone();
    tokio::task::spawn_blocking(move || up.start()).await.expect("store starts");
    phase.set(Phase::StoreRestarted);
    eventually(Duration::from_secs(20), "300 announces sent after the restart acknowledged", || {
        ledger.acknowledged_in(Phase::StoreRestarted) >= 300
    })
    .await;

    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("load client");
    }
    let tally = ledger.tally();
    let audit = verify(announce_url, scrape_url, &ledger).await;
    Drill { tally, audit }
}
