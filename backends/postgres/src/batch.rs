//! Grouping concurrent announces: each announce goes to a *lane* chosen by its info hash; a lane
//! sends what has queued up (at most [`MAX_BATCH`], each peer at most once) as one
//! `octotracker_announce_set` call, one round trip and one transaction, and hands each caller its
//! own reply.
//!
//! A swarm always maps to the same lane and a lane has one call in flight, so two batches of one
//! process never touch the same swarm and cannot wait on each other. Batches of two processes
//! can (each locks peer rows, then its swarms' count and download rows): such a rare deadlock is
//! detected by PostgreSQL, which rolls one batch back; it is retried (a
//! [`StorageError::Conflict`], told by its SQLSTATE).

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

use octotracker_core::{Event, Peer, PeerAnnounce, PeerId, StorageError, SwarmReply};
use sqlx::postgres::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::storage_error;
use crate::manager::{stats, unix};

/// Announces one call carries at most.
pub(crate) const MAX_BATCH: usize = 64;

/// Announces a lane may queue before callers wait.
const QUEUE: usize = 1024;

/// Times a batch rolled back by a deadlock or serialization failure is tried again.
const RETRIES: usize = 3;

/// One queued announce and where its reply goes.
pub(crate) struct Job {
    pub(crate) announce: PeerAnnounce,
    pub(crate) want: usize,
    pub(crate) reply: oneshot::Sender<Result<SwarmReply, StorageError>>,
}

/// The lanes' queues. Dropping it ends the lanes once they have answered what was queued.
#[derive(Debug)]
pub(crate) struct Lanes {
    senders: Vec<mpsc::Sender<Job>>,
}

impl Lanes {
    /// Starts `count` lanes on `pool` (on the current tokio runtime).
    pub(crate) fn start(pool: &PgPool, count: usize) -> Lanes {
        let senders = (0..count.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(run_lane(pool.clone(), rx));
                tx
            })
            .collect();
        Lanes { senders }
    }

    /// Queues `job` on its swarm's lane.
    pub(crate) async fn submit(&self, job: Job) -> Result<(), StorageError> {
        let h = &job.announce.info_hash.0;
        let lane = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize % self.senders.len();
        self.senders[lane].send(job).await.map_err(|_| StorageError::Internal("announce lane stopped".into()))
    }
}

async fn run_lane(pool: PgPool, mut rx: mpsc::Receiver<Job>) {
    // Announces received and not yet sent, in arrival order.
    let mut pending: VecDeque<Job> = VecDeque::with_capacity(MAX_BATCH);
    let mut received = Vec::with_capacity(MAX_BATCH);
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        if pending.is_empty() {
            if rx.recv_many(&mut received, MAX_BATCH).await == 0 {
                break;
            }
            pending.extend(received.drain(..));
        }
        while pending.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => break,
            }
        }
        take_batch(&mut pending, &mut jobs);
        let mut result = run_batch(&pool, &jobs).await;
        for _ in 0..RETRIES {
            match &result {
                Err(e) if e.retry_at_once() => {
                    tracing::debug!(error = %e, announces = jobs.len(), "announce batch rolled back; retrying");
                    result = run_batch(&pool, &jobs).await;
                }
                _ => break,
            }
        }
        match result {
            Ok(replies) => {
                for (job, reply) in jobs.drain(..).zip(replies) {
                    let _ = job.reply.send(reply);
                }
            }
            Err(e) => {
                // While the database is away, fail what queued behind this call too, rather
                // than making each batch wait its own acquire timeout.
                if matches!(e, StorageError::Unavailable(_)) {
                    jobs.extend(pending.drain(..));
                    while let Ok(job) = rx.try_recv() {
                        jobs.push(job);
                    }
                }
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Moves the next batch from `pending` to `jobs`: at most [`MAX_BATCH`] announces in arrival
/// order, each peer (info hash, address and port) at most once. A second announce of a peer
/// already in the batch stays queued, ahead of what arrives later, for the next batch: the
/// set-based call applies a batch as one step and needs each peer once.
fn take_batch(pending: &mut VecDeque<Job>, jobs: &mut Vec<Job>) {
    let mut peers = HashSet::with_capacity(pending.len().min(MAX_BATCH));
    let mut kept = VecDeque::new();
    while let Some(job) = pending.pop_front() {
        if jobs.len() == MAX_BATCH {
            pending.push_front(job);
            break;
        }
        if peers.insert((job.announce.info_hash, job.announce.addr)) {
            jobs.push(job);
        } else {
            kept.push_back(job);
        }
    }
    // What was set aside goes first, in its order.
    while let Some(job) = kept.pop_back() {
        pending.push_front(job);
    }
}

/// One row of `octotracker_announce_set`: the reply to the announce at position `ord` (from 1),
/// its peers packed (see [`unpack_peers`]).
#[derive(sqlx::FromRow)]
struct BatchRow {
    ord: i32,
    peers: Vec<u8>,
    complete: i64,
    incomplete: i64,
    downloaded: i64,
}

/// The peers of a reply, packed by `octotracker_announce_set` (migration 0004) as, for each:
/// `inet_send(ip)` (family, bits, is_cidr, address length, then 4 or 16 address bytes),
/// `int4send(port)` (big-endian), the peer id (20 bytes).
fn unpack_peers(mut packed: &[u8]) -> Result<Vec<Peer>, StorageError> {
    let malformed = |what: &str| StorageError::Internal(format!("malformed packed peers: {what}"));
    let mut peers = Vec::with_capacity(packed.len() / 26);
    while !packed.is_empty() {
        let (header, rest) = packed.split_first_chunk::<4>().ok_or_else(|| malformed("header"))?;
        let len = header[3];
        let ip = match len {
            4 => rest.first_chunk::<4>().map(|a| IpAddr::from(*a)),
            16 => rest.first_chunk::<16>().map(|a| IpAddr::from(*a)),
            _ => None,
        }
        .ok_or_else(|| malformed("address"))?;
        let rest = &rest[usize::from(len)..];
        let (port, rest) = rest.split_first_chunk::<4>().ok_or_else(|| malformed("port"))?;
        let port = u16::try_from(i32::from_be_bytes(*port)).map_err(|_| malformed("port out of range"))?;
        let (id, rest) = rest.split_first_chunk::<20>().ok_or_else(|| malformed("peer id"))?;
        peers.push(Peer { addr: SocketAddr::new(ip, port), id: PeerId(*id) });
        packed = rest;
    }
    Ok(peers)
}

/// One call for `jobs`: the reply of each, in order.
async fn run_batch(pool: &PgPool, jobs: &[Job]) -> Result<Vec<Result<SwarmReply, StorageError>>, StorageError> {
    let n = jobs.len();
    let (mut hashes, mut ips, mut ports, mut ids) = (Vec::with_capacity(n), Vec::with_capacity(n), vec![], vec![]);
    let (mut seeders, mut stopped, mut completed, mut nows, mut wants) = (vec![], vec![], vec![], vec![], vec![]);
    for job in jobs {
        let a = &job.announce;
        hashes.push(&a.info_hash.0[..]);
        ips.push(a.addr.ip());
        ports.push(i32::from(a.addr.port()));
        ids.push(&a.peer_id.0[..]);
        seeders.push(a.seeder);
        stopped.push(a.event == Event::Stopped);
        completed.push(a.event == Event::Completed);
        nows.push(unix(a.now));
        wants.push(i32::try_from(job.want).unwrap_or(i32::MAX));
    }
    let rows: Vec<BatchRow> = sqlx::query_as(
        "SELECT ord, peers, complete, incomplete, downloaded \
         FROM octotracker_announce_set($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(hashes)
    .bind(ips)
    .bind(ports)
    .bind(ids)
    .bind(seeders)
    .bind(stopped)
    .bind(completed)
    .bind(nows)
    .bind(wants)
    .fetch_all(pool)
    .await
    .map_err(storage_error)?;
    let mut replies: Vec<Option<Result<SwarmReply, StorageError>>> = (0..n).map(|_| None).collect();
    for BatchRow { ord, peers, complete, incomplete, downloaded } in rows {
        let slot = usize::try_from(ord).ok().and_then(|o| o.checked_sub(1)).and_then(|o| replies.get_mut(o));
        let slot = slot.ok_or_else(|| StorageError::Internal(format!("batch reply for position {ord} of {n}")))?;
        *slot = Some(
            unpack_peers(&peers).map(|peers| SwarmReply { peers, stats: stats(complete, incomplete, downloaded) }),
        );
    }
    Ok(replies
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StorageError::Internal("an announce of a batch got no reply".into()))))
        .collect())
}
