//! Outage drill on PostgreSQL, through the real binary: eight clients announce distinct peers
//! (and stop some) in a loop; mid-way PostgreSQL is stopped (`pg_ctl stop -m fast`), left down
//! for three seconds and started again; the load goes on until announces succeed again. Then
//! every swarm is audited: each announce answered with success is visible (the peer is listed
//! to a fresh observer, and the scrape counts exactly the listed peers), and each acknowledged
//! `stopped` stays applied. The figures are printed for docs/reliability.md.
//!
//! A clean (fast) shutdown keeps the `UNLOGGED` peers table; a crash of PostgreSQL empties it
//! by design (docs/backends.md), which this drill does not cover.
//!
//! Runs a PostgreSQL cluster of its own (the suite's shared server must not be stopped): needs
//! PostgreSQL's binaries, which `scripts/test.sh` installs.

mod common;
mod drill_support;
mod postgres_support;

use std::sync::Arc;
use std::time::Duration;

use postgres_support::Server;
use postgres_support::cluster::Cluster;

impl drill_support::Store for Cluster {
    fn stop(&self) {
        Cluster::stop(self);
    }

    fn start(&self) {
        Cluster::start(self);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fast_stop_under_load_loses_no_acknowledged_announce() {
    let cluster = Arc::new(Cluster::start_new());
    let mut server = Server::serve(&cluster.url(), &["--postgres-pool-size", "4"]);
    let drill =
        drill_support::run(&server.announce_url(), &server.scrape_url(), cluster.clone(), Duration::from_secs(3)).await;
    let (tally, audit) = (&drill.tally, &drill.audit);
    drill_support::report("postgres drill", tally, audit);

    assert!(tally.refused_total() > 0, "the load saw the outage: {tally:?}");
    let unexpected: Vec<_> = tally.refused.keys().filter(|r| *r != "storage unavailable, retry later").collect();
    assert!(unexpected.is_empty(), "refused only as unavailable: {:?}", tally.refused);
    assert!(tally.no_answer.is_empty(), "every announce was answered: {:?}", tally.no_answer);
    assert!(tally.acknowledged_after_restart > 0);
    assert!(audit.lost.is_empty(), "acknowledged announces lost: {:?}", audit.lost);
    assert!(audit.gone_unlisted > 0, "some acknowledged stops were checked");
    assert!(audit.undone_stops.is_empty(), "acknowledged stops undone: {:?}", audit.undone_stops);
    assert!(audit.invented.is_empty(), "peers nobody announced: {:?}", audit.invented);
    assert!(audit.count_mismatches.is_empty(), "(swarm, counted, listed): {:?}", audit.count_mismatches);
    assert!(server.is_running(), "octotracker stayed up");
    server.stop();
}
