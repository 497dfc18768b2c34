//! The module engine on servers this test starts itself: engine choice at connect, refusal of
//! the other engine's data, durability (SAVE + restart, AOF rewrite + restart, a replica),
//! `MEMORY USAGE`, and bad input from `redis-cli`.

mod support;

use std::time::Duration;

use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, SwarmStats, TorrentManager, UnixTime};
use octotracker_redis::{RedisConfig, RedisEngine, RedisTarget, RedisTorrentManager};
use support::server::{Listen, Server, TempDir, free_port};

fn config(prefix: &str, engine: RedisEngine) -> RedisConfig {
    RedisConfig { prefix: prefix.into(), peer_timeout: Duration::from_secs(3600), engine, ..RedisConfig::default() }
}

async fn connect(target: &RedisTarget, prefix: &str, engine: RedisEngine) -> Result<RedisTorrentManager, String> {
    RedisTorrentManager::connect(target, config(prefix, engine)).await.map_err(|e| e.to_string())
}

fn announce(hash: u8, peer: u32, seeder: bool, event: Event) -> PeerAnnounce {
    let ip = std::net::Ipv4Addr::from(0x0a00_0000 + peer);
    let mut id = [b'-'; 20];
    id[..4].copy_from_slice(&peer.to_be_bytes());
    PeerAnnounce {
        info_hash: InfoHash([hash; 20]),
        addr: std::net::SocketAddr::new(ip.into(), 6881),
        peer_id: PeerId(id),
        event,
        seeder,
        now: UnixTime(1_700_000_000 + u64::from(peer)),
    }
}

/// Fills `hashes` swarms with peers (some seeders, one download each), returning their stats.
async fn fill(store: &RedisTorrentManager, hashes: u8, peers: u32) -> Vec<SwarmStats> {
    for h in 0..hashes {
        for p in 0..peers {
            store.announce(&announce(h, p, p % 3 == 0, Event::Started), 10).await.expect("announce");
        }
        store.announce(&announce(h, 1, true, Event::Completed), 10).await.expect("completed");
    }
    scrape_all(store, hashes).await
}

async fn scrape_all(store: &RedisTorrentManager, hashes: u8) -> Vec<SwarmStats> {
    let hashes: Vec<InfoHash> = (0..hashes).map(|h| InfoHash([h; 20])).collect();
    store.scrape(&hashes).await.expect("scrape")
}

#[tokio::test]
async fn auto_picks_the_module_only_where_every_node_has_it() {
    let (a, b) = (TempDir::new("plain"), TempDir::new("module"));
    let plain = Server::start(&a.0, Listen::Socket, false, &[]);
    let module = Server::start(&b.0, Listen::Socket, true, &[]);
    assert_eq!(connect(&plain.target(), "p", RedisEngine::Auto).await.unwrap().engine(), RedisEngine::Lua);
    assert_eq!(connect(&module.target(), "p", RedisEngine::Auto).await.unwrap().engine(), RedisEngine::Module);
    assert_eq!(connect(&module.target(), "q", RedisEngine::Lua).await.unwrap().engine(), RedisEngine::Lua);
    let refused = connect(&plain.target(), "p", RedisEngine::Module).await.unwrap_err();
    assert!(refused.contains("the server without the octotracker module"), "{refused}");
    assert!(refused.contains("loadmodule") && refused.contains("--redis-engine lua"), "{refused}");
    // A managed service may forbid MODULE: `auto` then means Lua, not a start-up error.
    let c = TempDir::new("managed");
    let managed = Server::start(&c.0, Listen::Socket, false, &["--rename-command", "MODULE", ""]);
    assert!(String::from_utf8_lossy(&managed.cli(&["MODULE", "LIST"]).stdout).contains("unknown command"));
    assert_eq!(connect(&managed.target(), "p", RedisEngine::Auto).await.unwrap().engine(), RedisEngine::Lua);
    assert!(
        connect(&managed.target(), "p", RedisEngine::Module).await.unwrap_err().contains("without the octotracker")
    );
}

#[tokio::test]
async fn a_prefix_holding_the_other_engines_swarms_is_refused() {
    let dir = TempDir::new("refuse");
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let target = server.target();
    let lua = connect(&target, "shared", RedisEngine::Lua).await.unwrap();
    lua.announce(&announce(1, 1, true, Event::Started), 10).await.unwrap();
    let refused = connect(&target, "shared", RedisEngine::Module).await.unwrap_err();
    assert!(refused.contains("holds swarms of the lua engine") && refused.contains("--redis-engine lua"), "{refused}");
    // `auto` with the module loaded means the module: refused the same way.
    assert!(connect(&target, "shared", RedisEngine::Auto).await.unwrap_err().contains("lua engine"));
    // The other direction, on another prefix.
    let module = connect(&target, "native", RedisEngine::Module).await.unwrap();
    module.announce(&announce(1, 1, true, Event::Started), 10).await.unwrap();
    let refused = connect(&target, "native", RedisEngine::Lua).await.unwrap_err();
    assert!(refused.contains("holds swarms of the module engine"), "{refused}");
    // Nothing was lost or changed by the refusals.
    assert_eq!(lua.scrape(&[InfoHash([1; 20])]).await.unwrap()[0].complete, 1);
    assert_eq!(module.scrape(&[InfoHash([1; 20])]).await.unwrap()[0].complete, 1);
    lua.purge().await.unwrap();
    assert_eq!(connect(&target, "shared", RedisEngine::Module).await.unwrap().engine(), RedisEngine::Module);
    // A prefix holding only WebRTC peers' swarms counts too (they are swarms like any other).
    let rtc = connect(&target, "webrtc", RedisEngine::Lua).await.unwrap();
    let webrtc_peer =
        PeerAnnounce { addr: octotracker_core::webrtc_addr(7 << 16 | 1), ..announce(2, 1, true, Event::Started) };
    assert_eq!(rtc.announce(&webrtc_peer, 10).await.unwrap().stats.complete, 1);
    let refused = connect(&target, "webrtc", RedisEngine::Module).await.unwrap_err();
    assert!(refused.contains("holds swarms of the lua engine") && refused.contains("webrtc:{"), "{refused}");
    rtc.purge().await.unwrap();
    assert_eq!(connect(&target, "webrtc", RedisEngine::Module).await.unwrap().engine(), RedisEngine::Module);
}

/// Keys of an older layout (Lua layout 2, its WebRTC sibling groups, the module's WebRTC sibling
/// keys) are refused by either engine with a message saying what to do, and left as they are.
#[tokio::test]
async fn a_prefix_holding_an_older_layout_is_refused() {
    let dir = TempDir::new("old-layout");
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let target = server.target();
    let h = InfoHash([3; 20]);
    for (prefix, key) in [("old2", format!("old2:{{{h}}}:v2:i")), ("oldrtc", format!("oldrtc:rtc:{{{h}}}:v2:i"))] {
        server.cli(&["HSET", &key, "m", "x"]);
        for engine in [RedisEngine::Lua, RedisEngine::Module] {
            let refused = connect(&target, prefix, engine).await.unwrap_err();
            assert!(refused.contains("written by an older octotracker") && refused.contains(&key), "{refused}");
            let all = if prefix == "old2" { "old2:{*}:v2:*" } else { "oldrtc:rtc:{*}" };
            assert!(refused.contains(&format!("--scan --pattern '{all}'")), "says what to do: {refused}");
        }
        assert_eq!(String::from_utf8_lossy(&server.cli(&["EXISTS", &key]).stdout).trim(), "1", "left as it was");
        server.cli(&["DEL", &key]);
        assert_eq!(connect(&target, prefix, RedisEngine::Lua).await.unwrap().engine(), RedisEngine::Lua);
    }
}

#[tokio::test]
async fn swarms_survive_save_and_restart() {
    let dir = TempDir::new("save");
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let store = connect(&server.target(), "durable", RedisEngine::Module).await.unwrap();
    let before = fill(&store, 5, 40).await;
    assert!(String::from_utf8_lossy(&server.cli(&["SAVE"]).stdout).starts_with("OK"));
    let ttl_before = server.cli(&["TTL", &format!("durable:{{{}}}:swarm", InfoHash([0; 20]))]);
    server.stop();
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let store = connect(&server.target(), "durable", RedisEngine::Module).await.unwrap();
    assert_eq!(scrape_all(&store, 5).await, before);
    let ttl_after = server.cli(&["TTL", &format!("durable:{{{}}}:swarm", InfoHash([0; 20]))]);
    assert!(String::from_utf8_lossy(&ttl_before.stdout).trim().parse::<i64>().unwrap() > 0);
    assert!(String::from_utf8_lossy(&ttl_after.stdout).trim().parse::<i64>().unwrap() > 0, "the TTL survives too");
    // The peers themselves came back: a re-announce of a stored peer adds nobody.
    let reply = store.announce(&announce(0, 5, false, Event::None), 100).await.unwrap();
    assert_eq!(reply.stats, before[0]);
    assert_eq!(reply.peers.len(), 39);
}

#[tokio::test]
async fn swarms_survive_an_aof_rewrite_and_restart() {
    let dir = TempDir::new("aof");
    // No RDB preamble: the rewritten AOF holds the module's OCTO.RESTORE commands.
    let aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let server = Server::start(&dir.0, Listen::Socket, true, &aof);
    let store = connect(&server.target(), "aof", RedisEngine::Module).await.unwrap();
    let before = fill(&store, 4, 30).await;
    assert!(String::from_utf8_lossy(&server.cli(&["BGREWRITEAOF"]).stdout).contains("rewriting"));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&server.cli(&["INFO", "persistence"]).stdout).contains("aof_rewrite_in_progress:0")
        || String::from_utf8_lossy(&server.cli(&["INFO", "persistence"]).stdout).contains("aof_rewrite_scheduled:1")
    {
        assert!(std::time::Instant::now() < deadline, "the AOF rewrite did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let base = std::fs::read_dir(dir.0.join("appendonlydir"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().contains(".base.aof"))
        .expect("a base AOF file");
    let base = std::fs::read(base.path()).unwrap();
    assert!(base.windows(12).any(|w| w == b"OCTO.RESTORE"), "the rewrite used the module's callback");
    // Written after the rewrite: replayed from the incremental file.
    store.announce(&announce(0, 1000, true, Event::Started), 10).await.unwrap();
    let mut expected = before.clone();
    expected[0].complete += 1;
    server.stop();
    let server = Server::start(&dir.0, Listen::Socket, true, &aof);
    let store = connect(&server.target(), "aof", RedisEngine::Module).await.unwrap();
    assert_eq!(scrape_all(&store, 4).await, expected);
}

#[tokio::test]
async fn a_replica_with_the_module_serves_identical_scrapes() {
    let (a, b) = (TempDir::new("master"), TempDir::new("replica"));
    let master_port = free_port();
    let master = Server::start(&a.0, Listen::Tcp(master_port), true, &[]);
    let store = connect(&master.target(), "repl", RedisEngine::Module).await.unwrap();
    // Written before the replica attaches: reaches it by the full sync (RDB).
    let mut expected = fill(&store, 3, 25).await;
    let replica =
        Server::start(&b.0, Listen::Tcp(free_port()), true, &["--replicaof", "127.0.0.1", &master_port.to_string()]);
    // Written after: reaches it as the commands themselves.
    for p in 100..120 {
        store.announce(&announce(2, p, false, Event::Started), 10).await.unwrap();
    }
    store.announce(&announce(2, 3, false, Event::Stopped), 10).await.unwrap();
    expected[2] = scrape_all(&store, 3).await[2];
    assert_eq!(String::from_utf8_lossy(&master.cli(&["WAIT", "1", "10000"]).stdout).trim(), "1");
    for h in 0..3_u8 {
        let key = format!("repl:{{{}}}:swarm", InfoHash([h; 20]));
        let on_master = master.cli(&["OCTO.SCRAPE", &key]).stdout;
        let on_replica = replica.cli(&["OCTO.SCRAPE", &key]).stdout;
        assert_eq!(on_replica, on_master, "swarm {h}");
        let lines: Vec<u64> = String::from_utf8_lossy(&on_replica).lines().map(|l| l.trim().parse().unwrap()).collect();
        let s = expected[h as usize];
        assert_eq!(lines, [u64::from(s.complete), u64::from(s.incomplete), s.downloaded]);
    }
}

#[tokio::test]
async fn memory_usage_grows_with_the_peers() {
    let dir = TempDir::new("memory");
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let store = connect(&server.target(), "mem", RedisEngine::Module).await.unwrap();
    let usage = |server: &Server| {
        let key = format!("mem:{{{}}}:swarm", InfoHash([0; 20]));
        String::from_utf8_lossy(&server.cli(&["MEMORY", "USAGE", &key]).stdout).trim().parse::<u64>().unwrap()
    };
    fill(&store, 1, 10).await;
    let small = usage(&server);
    for p in 10..1000 {
        store.announce(&announce(0, p, false, Event::Started), 0).await.unwrap();
    }
    let large = usage(&server);
    // 990 more IPv4 peers at 30 bytes each, plus their index.
    assert!(large - small >= 990 * 30, "{small} → {large}");
    assert!(large - small <= 990 * 64, "{small} → {large}");
}

#[tokio::test]
async fn bad_input_from_redis_cli_is_an_error_reply_and_changes_nothing() {
    let dir = TempDir::new("bad");
    let server = Server::start(&dir.0, Listen::Socket, true, &[]);
    let store = connect(&server.target(), "bad", RedisEngine::Module).await.unwrap();
    let before = fill(&store, 1, 20).await;
    let key = format!("bad:{{{}}}:swarm", InfoHash([0; 20]));
    server.cli(&["SET", "bad:plain", "x"]);
    let zeros = "\\x00".repeat(38);
    let bad_event = format!("\\x09{}", "\\x00".repeat(37));
    let numbers = "\\x01\\x00\\x00\\x00\\x00\\x00\\x65\\x53\\xf1\\x00"; // too short
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["OCTO.ANNOUNCE", &key], "wrong number of arguments"),
        (vec!["OCTO.SCRAPE"], "wrong number of arguments"),
        (vec!["OCTO.EXPIRE", &key], "wrong number of arguments"),
        (vec!["OCTO.RESTORE", &key], "wrong number of arguments"),
        (vec!["OCTO.EXPIRE", &key, "soon"], "not a whole number"),
        (vec!["OCTO.EXPIRE", &key, "-5"], "not a whole number"),
        (vec!["OCTO.ANNOUNCE", &key, "abcd", "aaaaaaaaaaaaaaaaaaaa", "x"], "an address is 6 (IPv4) or 18 (IPv6) bytes"),
        (vec!["OCTO.ANNOUNCE", &key, "abcdef", "short", "x"], "a peer id is 20 bytes"),
        (vec!["OCTO.ANNOUNCE", &key, "abcdef", "aaaaaaaaaaaaaaaaaaaa", numbers], "the numbers argument is"),
        (vec!["OCTO.ANNOUNCE", "bad:plain", "abcdef", "aaaaaaaaaaaaaaaaaaaa", &zeros], "WRONGTYPE"),
        (vec!["OCTO.ANNOUNCE", &key, "abcdef", "aaaaaaaaaaaaaaaaaaaa", &bad_event], "unknown event code 9"),
        (vec!["OCTO.SCRAPE", "bad:plain"], "WRONGTYPE"),
        (vec!["OCTO.EXPIRE", "bad:plain", "1"], "WRONGTYPE"),
        (vec!["OCTO.RESTORE", &key, "\\x01"], "truncated swarm"),
        (vec!["OCTO.RESTORE", &key, "\\x07"], "unknown swarm encoding version 7"),
        // A blob claiming 4 billion peers with none behind the claim.
        (
            vec![
                "OCTO.RESTORE",
                &key,
                "\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xff\\xff\\xff\\xff",
            ],
            "peers is more than",
        ),
        (vec!["OCTO.RESTORE", "bad:plain", "\\x01"], "truncated swarm"),
    ];
    for (args, expected) in &cases {
        // Lines on redis-cli's standard input are split like its prompt's: quoted arguments
        // take \xNN escapes, so binary arguments pass as they are.
        let quoted: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
        let mut child = std::process::Command::new("redis-cli")
            .arg("-s")
            .arg(server.dir.join("redis.sock"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{}", quoted.join(" ")).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let reply = String::from_utf8_lossy(&out.stdout);
        assert!(reply.contains(expected), "{args:?}: {reply}");
        assert!(reply.starts_with("ERR") || reply.starts_with("WRONGTYPE"), "{args:?}: an error reply, not {reply}");
    }
    assert!(server.cli(&["PING"]).stdout.starts_with(b"PONG"), "redis-server is still up");
    assert_eq!(scrape_all(&store, 1).await, before, "the swarm is untouched");
    assert_eq!(String::from_utf8_lossy(&server.cli(&["GET", "bad:plain"]).stdout).trim(), "x");
}
