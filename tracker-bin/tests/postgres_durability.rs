//! The PostgreSQL backend through the real binary: state survives a restart of octotracker, two
//! processes on one database see one state, and a server octotracker cannot use at startup is a
//! clear error with exit code 1. Each test runs on a database of its own, dropped afterwards.
//!
//! Needs `OCTOTRACKER_TEST_POSTGRES_URL` (run `scripts/test.sh`, which provides a server).

mod common;
mod postgres_support;

use octotracker_core::Event;
use postgres_support::{
    DEADLINE, FreshDatabase, Server, announce_ok, announce_to, hash, octotracker, ports, postgres_url, request,
    scrape_ok, with_database,
};

mod restart {
    use super::*;

    /// Peers (not expired) and download counts are in PostgreSQL, not in the process.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopping_and_starting_octotracker_keeps_swarms_and_download_counts() {
        let db = FreshDatabase::create(&postgres_url()).await;
        let h = hash(1);
        let first = Server::serve(&db.url, &[]);
        announce_ok(&first, &request(h, 40001, false, Event::Started)).await;
        announce_ok(&first, &request(h, 40002, false, Event::Started)).await;
        announce_ok(&first, &request(h, 40003, true, Event::Started)).await;
        let reply = announce_ok(&first, &request(h, 40002, true, Event::Completed)).await;
        assert_eq!((reply.complete, reply.incomplete, reply.downloaded), (Some(2), Some(1), Some(1)));
        first.stop();

        let second = Server::serve(&db.url, &[]);
        let stats = scrape_ok(&second, h).await;
        assert_eq!((stats.complete, stats.incomplete, stats.downloaded), (2, 1, 1), "the counts survived");
        let reply = announce_ok(&second, &request(h, 40004, false, Event::Started)).await;
        assert_eq!(ports(&reply), [40001, 40002, 40003], "the peers survived");
        assert_eq!((reply.complete, reply.incomplete, reply.downloaded), (Some(2), Some(2), Some(1)));
        second.stop();
    }
}

mod two_processes {
    use super::*;

    /// Announces to one process are seen by the other, and concurrent announces to both are all
    /// counted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_octotrackers_on_one_database_see_one_state() {
        let db = FreshDatabase::create(&postgres_url()).await;
        let (a, b) = (Server::serve(&db.url, &[]), Server::serve(&db.url, &[]));
        let h = hash(2);
        announce_ok(&a, &request(h, 41001, false, Event::Started)).await;
        let reply = announce_ok(&b, &request(h, 41002, false, Event::Started)).await;
        assert_eq!(ports(&reply), [41001], "b hands out the peer that announced to a");
        announce_ok(&b, &request(h, 41001, true, Event::Completed)).await;
        let stats = scrape_ok(&a, h).await;
        assert_eq!((stats.complete, stats.incomplete, stats.downloaded), (1, 1, 1), "a sees b's completed");

        // 2 × 40 leechers at once, half through each process.
        let tasks: Vec<_> = (0..80u16)
            .map(|i| {
                let url = if i % 2 == 0 { a.announce_url() } else { b.announce_url() };
                tokio::spawn(async move {
                    announce_to(&url, &request(h, 42000 + i, false, Event::Started)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("announce task");
        }
        for server in [&a, &b] {
            let stats = scrape_ok(server, h).await;
            assert_eq!((stats.complete, stats.incomplete, stats.downloaded), (1, 81, 1));
        }
    }
}

mod startup_errors {
    use super::*;

    use std::process::Stdio;
    use std::time::Instant;

    /// Runs `octotracker --http 127.0.0.1:0 --backend URL` to its end (bounded): exit code and stderr.
    fn serve_to_the_end(url: &str) -> (Option<i32>, String) {
        let started = Instant::now();
        let out = octotracker()
            .args(["--http", "127.0.0.1:0", "--backend", url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("octotracker runs");
        assert!(started.elapsed() < DEADLINE, "octotracker took {:?} to give up", started.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("listening on"), "it listened: {stderr}");
        (out.status.code(), stderr)
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
    }

    #[test]
    fn an_unreachable_server_exits_1_saying_so() {
        let (code, stderr) = serve_to_the_end(&format!("postgres://postgres@127.0.0.1:{}/postgres", free_port()));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("cannot connect to postgres") && stderr.contains("refused"), "{stderr}");
    }

    #[test]
    fn an_unknown_user_exits_1_naming_it() {
        let url = postgres_url();
        let (_, rest) = url.split_once("://").expect("a URL");
        let (_, host_and_db) = rest.split_once('@').expect("a user in OCTOTRACKER_TEST_POSTGRES_URL");
        let (code, stderr) = serve_to_the_end(&format!("postgres://no_such_user_octotracker@{host_and_db}"));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("no_such_user_octotracker"), "{stderr}");
    }

    #[test]
    fn a_missing_database_exits_1_naming_it() {
        let (code, stderr) = serve_to_the_end(&with_database(&postgres_url(), "no_such_database_octotracker"));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("\"no_such_database_octotracker\" does not exist"), "{stderr}");
    }

    #[test]
    fn a_malformed_url_exits_1_naming_it() {
        let (code, stderr) = serve_to_the_end("postgres://postgres@127.0.0.1:notaport/postgres");
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("invalid postgres url") && stderr.contains("notaport"), "{stderr}");
    }

    #[test]
    fn a_password_is_not_printed() {
        let (code, stderr) = serve_to_the_end(&format!("postgres://u:hunter2@127.0.0.1:{}/postgres", free_port()));
        assert_eq!(code, Some(1), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}
