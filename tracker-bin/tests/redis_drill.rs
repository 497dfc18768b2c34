//! Outage drills on Redis, through the real binary: eight clients announce distinct peers (and
//! stop some) in a loop; mid-way redis-server is killed (SIGKILL), left down for three seconds
//! and started again on the same port with the same data directory; the load goes on until
//! announces succeed again. Then every swarm is audited against what the tracker acknowledged
//! (see `drill_support`), and the figures are printed for docs/reliability.md.
//!
//! Whether acknowledged announces survive is Redis's persistence, not the tracker's:
//! - with `appendonly yes` and `appendfsync always` (Redis writes and fsyncs the append-only
//!   file before it replies, so before the tracker acknowledges), none is lost, even to SIGKILL;
//! - without persistence, a restarted Redis is empty: every peer acknowledged before the kill is
//!   gone, the ones acknowledged after the restart are there, and counts stay consistent.
//!
//! Each drill runs a redis-server of its own on a free port (`redis-server` must be on PATH:
//! `scripts/test.sh` installs it); the suite's shared Redis has no persistence and is not touched.

mod common;
mod drill_support;
mod redis_support;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drill_support::{Drill, Phase, Store};
use redis_support::server::{DataDir, Persistence, RedisServer};
use redis_support::{Tracker, prefix};

/// A redis-server the drill kills and starts again on the same port with the same persistence.
struct RestartableRedis {
    port: u16,
    persistence: Persistence,
    module: bool,
    running: Mutex<Option<RedisServer>>,
}

impl Store for RestartableRedis {
    fn stop(&self) {
        drop(self.running.lock().expect("lock").take()); // SIGKILL, reaped
    }

    fn start(&self) {
        *self.running.lock().expect("lock") = Some(RedisServer::start(self.port, &self.persistence, self.module));
    }
}

/// A drill on Redis engine `engine` (`lua`, or `module`: the server loads the module).
async fn drill(persistence: Persistence, engine: &str) -> Drill {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let module = engine == "module";
    let redis = Arc::new(RestartableRedis { port, persistence, module, running: Mutex::new(None) });
    redis.start();
    let mut tracker = Tracker::start(&format!("redis://127.0.0.1:{port}/0"), &prefix("drill"), engine);
    let drill = drill_support::run(&tracker.announce_url(), &tracker.scrape_url(), redis, Duration::from_secs(3)).await;
    assert!(tracker.child.try_wait().expect("pollable").is_none(), "octotracker stayed up");
    tracker.kill();
    drill
}

/// What both drills must show: the outage was seen, answered with the failure reason, and
/// recovered from; nothing invented; scrape counts equal full listings.
fn assert_outage_seen_and_counts_consistent(drill: &Drill) {
    let (tally, audit) = (&drill.tally, &drill.audit);
    assert!(tally.refused_total() > 0, "the load saw the outage: {tally:?}");
    let unexpected: Vec<_> = tally.refused.keys().filter(|r| *r != "storage unavailable, retry later").collect();
    assert!(unexpected.is_empty(), "refused only as unavailable: {:?}", tally.refused);
    assert!(tally.no_answer.is_empty(), "every announce was answered: {:?}", tally.no_answer);
    assert!(tally.acknowledged_after_restart > 0);
    assert!(audit.invented.is_empty(), "peers nobody announced: {:?}", audit.invented);
    assert!(audit.count_mismatches.is_empty(), "(swarm, counted, listed): {:?}", audit.count_mismatches);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_appendfsync_always_killed_under_load_loses_no_acknowledged_announce_lua() {
    durable_drill("lua").await;
}

/// The module's commands reach the append-only file as they are (replicated verbatim): the same
/// guarantee.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_appendfsync_always_killed_under_load_loses_no_acknowledged_announce_module() {
    durable_drill("module").await;
}

async fn durable_drill(engine: &str) {
    let dir = DataDir::new("drill");
    let drill = drill(Persistence::AppendFsyncAlways(dir.path().to_owned()), engine).await;
    drill_support::report(
        &format!("redis drill ({engine} engine, appendfsync always, SIGKILL)"),
        &drill.tally,
        &drill.audit,
    );
    assert_outage_seen_and_counts_consistent(&drill);
    let audit = &drill.audit;
    assert!(audit.lost.is_empty(), "acknowledged announces lost: {:?}", audit.lost);
    assert!(audit.gone_unlisted > 0, "some acknowledged stops were checked");
    assert!(audit.undone_stops.is_empty(), "acknowledged stops undone: {:?}", audit.undone_stops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_without_persistence_killed_under_load_forgets_what_came_before_the_kill() {
    let drill = drill(Persistence::None, "lua").await;
    drill_support::report("redis drill (no persistence, SIGKILL)", &drill.tally, &drill.audit);
    assert_outage_seen_and_counts_consistent(&drill);
    let audit = &drill.audit;
    assert!(!audit.lost.is_empty(), "a Redis without persistence restarts empty: {audit:?}");
    let lost_after_restart: Vec<_> = audit.lost.iter().filter(|(_, phase)| *phase == Phase::StoreRestarted).collect();
    assert!(lost_after_restart.is_empty(), "only what came before the kill is lost: {lost_after_restart:?}");
    assert!(audit.present_listed > 0, "what was acknowledged after the restart is there");
    assert!(audit.undone_stops.is_empty(), "acknowledged stops undone: {:?}", audit.undone_stops);
}
