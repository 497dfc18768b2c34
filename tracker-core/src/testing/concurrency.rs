//! Many tasks announcing at once lose no update: each announce is one atomic step (contract
//! rules 1, 2 and 4). These checks spawn tasks, so they take an `Arc<dyn TorrentManager>`; run
//! them on a multi-thread runtime (as [`run`](super::run) does) so the tasks truly overlap.

use std::future::Future;
use std::sync::Arc;

use super::peers::{AnnounceExt, announce, info_hash, leecher, scrape_one, seeder, stats, v4};
use crate::{InfoHash, PeerAnnounce, TorrentManager};

/// Tasks that announce at once.
const TASKS: u32 = 64;
/// Peers each task announces.
const PEERS_PER_TASK: u32 = 50;
/// Swarms the tasks share.
const SWARMS: u32 = 4;

/// The swarm task `t` announces to.
fn swarm_of(t: u32) -> InfoHash {
    info_hash(t % SWARMS)
}

/// Peer `k` of task `t`: a seeder when `k % 3 == 0`.
fn peer_of(t: u32, k: u32) -> PeerAnnounce {
    let addr = v4(t * PEERS_PER_TASK + k);
    if k.is_multiple_of(3) { seeder(swarm_of(t), addr) } else { leecher(swarm_of(t), addr) }
}

/// Runs `work(t)` for each task `t` in `0..TASKS` at once, and waits for all of them; a panic
/// in a task fails the check with the task's message.
async fn in_parallel<F, W>(store: &Arc<dyn TorrentManager>, work: W)
where
    W: Fn(Arc<dyn TorrentManager>, u32) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..TASKS).map(|t| tokio::spawn(work(Arc::clone(store), t))).collect();
    for handle in handles {
        if let Err(e) = handle.await {
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("a task of the check was cancelled: {e}"),
            }
        }
    }
}

/// 64 tasks announcing 50 peers each on 4 swarms at once, then re-announcing them at once: every
/// peer is counted exactly once, and every reply is sane while the others run.
pub async fn concurrent_announces_are_all_counted(store: Arc<dyn TorrentManager>) {
    for round in ["first announces", "re-announces"] {
        in_parallel(&store, |store, t| async move {
            for k in 0..PEERS_PER_TASK {
                let a = peer_of(t, k);
                let reply = announce(&*store, a, 50).await;
                assert!(reply.peers.len() <= 50, "more peers than numwant");
                assert!(reply.peers.iter().all(|p| p.addr != a.addr), "a peer was handed itself");
                let total = TASKS / SWARMS * PEERS_PER_TASK;
                assert!(reply.stats.peers() >= 1 && reply.stats.peers() <= u64::from(total), "{:?}", reply.stats);
            }
        })
        .await;
        // Per task: k = 0, 3, …, 48 are seeders (17), the other 33 leechers.
        let per_swarm = TASKS / SWARMS;
        for s in 0..SWARMS {
            assert_eq!(scrape_one(&*store, info_hash(s)).await, stats(per_swarm * 17, per_swarm * 33, 0), "{round}");
        }
    }
}

/// Every leecher sends `completed` from two tasks at once (a retried request): each counts one
/// download, never two.
pub async fn concurrent_completed_are_each_counted_once(store: Arc<dyn TorrentManager>) {
    in_parallel(&store, |store, t| async move {
        for k in 0..PEERS_PER_TASK {
            announce(&*store, peer_of(t, k).leeching(), 0).await;
        }
    })
    .await;
    // Task t and task t + 32 complete the same peers, the ones of task t % 32.
    in_parallel(&store, |store, t| async move {
        let owner = t % (TASKS / 2);
        for k in 0..PEERS_PER_TASK {
            let reply = announce(&*store, peer_of(owner, k).completed().seeding(), 10).await;
            assert!(reply.stats.downloaded <= u64::from(TASKS / SWARMS * PEERS_PER_TASK));
        }
    })
    .await;
    // Swarm s holds 16 tasks' peers (800), of which the 8 tasks below 32 completed theirs.
    let per_swarm = TASKS / SWARMS * PEERS_PER_TASK;
    let completed = TASKS / 2 / SWARMS * PEERS_PER_TASK;
    for s in 0..SWARMS {
        assert_eq!(
            scrape_one(&*store, info_hash(s)).await,
            stats(completed, per_swarm - completed, u64::from(completed)),
            "each leecher's completed counted once, in swarm {s}"
        );
    }
}

/// While some tasks stop their peers (each stop sent by two tasks at once) and scrape, others
/// re-announce theirs: the counts end exact.
pub async fn concurrent_stops_leave_exact_counts(store: Arc<dyn TorrentManager>) {
    in_parallel(&store, |store, t| async move {
        for k in 0..PEERS_PER_TASK {
            announce(&*store, peer_of(t, k), 0).await;
        }
    })
    .await;
    // Tasks t and t + 32 act on the same owner, task t % 32, at once: both stop its peers when
    // (owner / 4) is odd (half of the owners below 32 in each swarm), both re-announce them
    // otherwise. Owners 32 and above are left alone.
    in_parallel(&store, |store, t| async move {
        let owner = t % (TASKS / 2);
        let stop = (owner / SWARMS) % 2 == 1;
        for k in 0..PEERS_PER_TASK {
            let a = peer_of(owner, k);
            let a = if stop { a.stopped() } else { a };
            announce(&*store, a, 5).await;
            scrape_one(&*store, a.info_hash).await;
        }
    })
    .await;
    // Kept per swarm: the 8 owners from 32 up and 4 of the 8 below; stopped: the other 4.
    let kept_tasks = TASKS / 2 / SWARMS + TASKS / 4 / SWARMS;
    for s in 0..SWARMS {
        assert_eq!(
            scrape_one(&*store, info_hash(s)).await,
            stats(kept_tasks * 17, kept_tasks * 33, 0),
            "swarm {s} after concurrent stops"
        );
    }
}
