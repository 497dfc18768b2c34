//! The HTTP tracker contract, end to end in process: a real server on a loopback port of its
//! own, driven by `octotracker_client` and, for requests no well-behaved client sends, by raw
//! bytes over TCP. Every HTTP row of `WIRE.md` is pinned here; each module is a part of the
//! protocol, each test a sentence about it, with the BEP beside the rule.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use octotracker_core::{AnnounceRequest, Event};
use support::{DEADLINE, Setup, addrs, announce_query, escape, hash, leecher, peer_id, seeder, server, v4, v6};

/// What every announce reply carries (BEP 3, BEP 24, BEP 48 names for the counts).
mod an_announce_reply {
    use super::*;

    /// BEP 3 `interval` and the common `min interval`: MonoTorrent's 45 and 10 minutes by default.
    #[tokio::test]
    async fn carries_interval_2700_and_min_interval_600_by_default() {
        let server = server().await;
        let reply = server.announce(&leecher(hash(1), 7001)).await;
        assert_eq!(reply.interval, 2700);
        assert_eq!(reply.min_interval, Some(600));
    }

    /// BEP 3: the keys of a bencoded dictionary are sorted; `peers` is always present.
    #[tokio::test]
    async fn lists_exactly_its_keys_in_sorted_order() {
        let server = server().await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.keys(),
            ["complete", "downloaded", "external ip", "incomplete", "interval", "min interval", "peers"]
        );
    }

    /// The counts are the swarm's after this announce has been applied (WIRE.md).
    #[tokio::test]
    async fn counts_the_swarm_after_this_announce() {
        let server = server().await;
        let h = hash(1);
        // (announce, expected complete, expected incomplete)
        let steps = [
            ("first leecher", leecher(h, 7001), 0, 1),
            ("second leecher", leecher(h, 7002), 0, 2),
            ("a seeder", seeder(h, 7003), 1, 2),
            ("the first leecher again: updated, not added", leecher(h, 7001), 1, 2),
            ("the second leecher with nothing left: now a seeder", seeder(h, 7002), 2, 1),
            ("the seeder stops: removed", AnnounceRequest { event: Event::Stopped, ..seeder(h, 7003) }, 1, 1),
        ];
        for (step, req, complete, incomplete) in steps {
            let reply = server.announce(&req).await;
            assert_eq!((reply.complete, reply.incomplete), (Some(complete), Some(incomplete)), "{step}");
            assert_eq!(reply.downloaded, Some(0), "{step}");
        }
    }

    /// `downloaded` counts the leechers that completed, this announce included.
    #[tokio::test]
    async fn reports_downloaded_including_this_completion() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        let reply = server.announce(&AnnounceRequest { event: Event::Completed, ..seeder(hash(1), 7001) }).await;
        assert_eq!((reply.complete, reply.incomplete, reply.downloaded), (Some(1), Some(0), Some(1)));
    }

    /// BEP 24: `external ip` is the address the tracker saw, 4 bytes for an IPv4 client.
    #[tokio::test]
    async fn tells_an_ipv4_client_its_external_ip_in_4_bytes() {
        let server = server().await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await;
        assert_eq!(reply.bytes_of("external ip"), [127, 0, 0, 1]);
    }

    /// BEP 24: 16 bytes for an IPv6 client.
    #[tokio::test]
    async fn tells_an_ipv6_client_its_external_ip_in_16_bytes() {
        let server = Setup::new().listen(&["[::1]:0"]).start().await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await;
        assert_eq!(reply.bytes_of("external ip"), Ipv6Addr::LOCALHOST.octets());
    }

    /// `send_external_ip = false` leaves BEP 24 out.
    #[tokio::test]
    async fn leaves_external_ip_out_when_disabled() {
        let server = Setup::new().tracker(|t| t.send_external_ip = false).start().await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await;
        assert!(!reply.keys().contains(&"external ip".to_owned()), "{:?}", reply.keys());
    }

    /// `tracker id` is sent only when configured.
    #[tokio::test]
    async fn carries_no_tracker_id_by_default() {
        let server = server().await;
        assert_eq!(server.announce(&leecher(hash(1), 7001)).await.tracker_id, None);
    }

    /// `tracker id` (BEP 3) as configured, in every reply.
    #[tokio::test]
    async fn carries_the_configured_tracker_id() {
        let server = Setup::new().tracker(|t| t.tracker_id = Some("octo-1".into())).start().await;
        let reply = server.announce(&leecher(hash(1), 7001)).await;
        assert_eq!(reply.tracker_id.as_deref(), Some(&b"octo-1"[..]));
    }

    /// Clients echo the tracker id back as `trackerid`: accepted (WIRE.md).
    #[tokio::test]
    async fn accepts_an_echoed_trackerid() {
        let server = Setup::new().tracker(|t| t.tracker_id = Some("octo-1".into())).start().await;
        let query = format!("{}&trackerid=octo-1", announce_query(hash(1), 7001));
        let reply = server.get(&format!("/announce?{query}")).await.announce();
        assert_eq!(reply.incomplete, Some(1));
    }
}

/// Compact peer lists (BEP 23 for IPv4, BEP 7 for IPv6).
mod compact_peers {
    use super::*;

    /// BEP 23: 4 address bytes then the port, big-endian: 6 bytes a peer.
    #[tokio::test]
    async fn are_6_bytes_each_address_then_big_endian_port() {
        let server = server().await;
        server.announce(&leecher(hash(1), 0x1AE1)).await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7002))).await;
        assert_eq!(reply.bytes_of("peers"), [127, 0, 0, 1, 0x1A, 0xE1]);
    }

    /// WIRE.md: a missing `compact` means compact (every current client asks for it).
    #[tokio::test]
    async fn are_the_default_when_compact_is_missing() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        server.announce(&leecher(hash(1), 7002)).await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7003))).await;
        assert_eq!(reply.bytes_of("peers").len(), 2 * 6);
    }

    /// BEP 7: an IPv6 announcer gets IPv6 peers in `peers6`, 16 address bytes and the port.
    #[tokio::test]
    async fn come_as_18_byte_entries_in_peers6_for_ipv6_announcers() {
        let server = Setup::new().listen(&["[::1]:0"]).start().await;
        server.announce(&leecher(hash(1), 0x1B59)).await;
        let reply = server.get(&format!("/announce?{}", announce_query(hash(1), 7002))).await;
        let mut expected = Ipv6Addr::LOCALHOST.octets().to_vec();
        expected.extend([0x1B, 0x59]);
        assert_eq!(reply.bytes_of("peers6"), expected);
        assert_eq!(reply.bytes_of("peers"), b"", "no IPv4 peers");
    }

    /// BEP 7: peers are handed only to peers of their own family, yet both families count.
    #[tokio::test]
    async fn never_mix_address_families_but_count_both() {
        let server = Setup::new().listen(&["127.0.0.1:0", "[::1]:0"]).start().await;
        let (over_v4, over_v6) = (0, 1);
        let h = hash(1);
        server.announce_at(over_v4, &leecher(h, 7001)).await;
        server.announce_at(over_v6, &leecher(h, 7002)).await;

        let reply = server.announce_at(over_v4, &leecher(h, 7003)).await;
        assert_eq!(addrs(&reply.peers), [v4(7001)]);
        assert!(reply.peers6.is_empty());
        assert_eq!(reply.incomplete, Some(3));

        let reply = server.announce_at(over_v6, &leecher(h, 7004)).await;
        assert_eq!(addrs(&reply.peers6), [v6(7002)]);
        assert!(reply.peers.is_empty());
        assert_eq!(reply.incomplete, Some(4));
    }
}

/// The dictionary form of `peers` (BEP 3), for `compact=0`.
mod non_compact_peers {
    use super::*;

    /// BEP 3: each peer is a dictionary with `ip` (text), `peer id` and `port`.
    #[tokio::test]
    async fn are_dictionaries_with_ip_peer_id_and_port() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        let reply = server.get(&format!("/announce?{}&compact=0", announce_query(hash(1), 7002))).await;
        let body = reply.bencode();
        let peers = body.get("peers").and_then(|p| p.as_list()).expect("peers is a list");
        assert_eq!(peers.len(), 1);
        let peer = &peers[0];
        let keys: Vec<_> = match peer {
            octotracker_core::bencode::Value::Dict(d) => d.iter().map(|e| e.key).collect(),
            other => panic!("peer is not a dictionary: {other:?}"),
        };
        assert_eq!(keys, [&b"ip"[..], b"peer id", b"port"]);
        assert_eq!(peer.get("ip").and_then(|v| v.as_str()), Some("127.0.0.1"));
        assert_eq!(peer.get("peer id").and_then(|v| v.as_bytes()), Some(&peer_id(7001).0[..]));
        assert_eq!(peer.get("port").and_then(|v| v.as_int()), Some(7001));
    }

    /// BEP 3 `no_peer_id=1`: the dictionaries leave `peer id` out.
    #[tokio::test]
    async fn leave_the_peer_id_out_with_no_peer_id() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        let req = AnnounceRequest { compact: false, no_peer_id: true, ..leecher(hash(1), 7002) };
        let reply = server.announce(&req).await;
        assert!(!reply.compact);
        assert_eq!(addrs(&reply.peers), [v4(7001)]);
        assert_eq!(reply.peers[0].id, None);
        let raw = server.get(&format!("/announce?{}&compact=0&no_peer_id=1", announce_query(hash(1), 7003))).await;
        assert!(!raw.body.windows(7).any(|w| w == b"peer id"), "{:?}", raw.body.escape_ascii());
    }

    /// The client reads the same list: the peer id comes through.
    #[tokio::test]
    async fn carry_the_peer_id_to_the_client() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        let reply = server.announce(&AnnounceRequest { compact: false, ..leecher(hash(1), 7002) }).await;
        assert!(!reply.compact);
        assert_eq!(reply.peers.len(), 1);
        assert_eq!((reply.peers[0].addr, reply.peers[0].id), (v4(7001), Some(peer_id(7001))));
    }

    /// `allow_non_compact = false`: `compact=0` is refused (as opentracker and aquatic do).
    #[tokio::test]
    async fn are_refused_when_non_compact_replies_are_disabled() {
        let server = Setup::new().tracker(|t| t.allow_non_compact = false).start().await;
        let reason = server.announce_refused(&AnnounceRequest { compact: false, ..leecher(hash(1), 7001) }).await;
        assert_eq!(reason, "non-compact replies are disabled on this tracker: use compact=1");
        assert_eq!(server.scrape(&[hash(1)]).await.get(&hash(1)).map(|f| f.incomplete), Some(0));
    }
}

/// Which peers an announce gets, and how many (`numwant`).
mod peer_lists {
    use super::*;

    /// WIRE.md: the announcer never finds itself in its own list.
    #[tokio::test]
    async fn never_include_the_announcer() {
        let server = server().await;
        let h = hash(1);
        assert!(server.announce(&leecher(h, 7001)).await.peers.is_empty(), "alone in the swarm");
        assert_eq!(addrs(&server.announce(&leecher(h, 7002)).await.peers), [v4(7001)]);
        assert_eq!(addrs(&server.announce(&leecher(h, 7001)).await.peers), [v4(7002)]);
    }

    /// WIRE.md: no `numwant` means up to 50 peers.
    #[tokio::test]
    async fn hold_up_to_50_peers_when_numwant_is_missing() {
        let server = server().await;
        for port in 10_001..=10_060 {
            server.announce(&AnnounceRequest { numwant: Some(0), ..leecher(hash(1), port) }).await;
        }
        let reply = server.announce(&leecher(hash(1), 7000)).await;
        let peers = addrs(&reply.peers);
        assert_eq!(peers.len(), 50);
        assert!(peers.windows(2).all(|w| w[0] != w[1]), "no peer twice");
        assert!(!peers.contains(&v4(7000)));
        assert_eq!(reply.incomplete, Some(61));
    }

    /// A `numwant` larger than the swarm gets every other peer.
    #[tokio::test]
    async fn hold_every_other_peer_when_the_swarm_is_smaller_than_numwant() {
        let server = server().await;
        for port in [7001, 7002, 7003] {
            server.announce(&leecher(hash(1), port)).await;
        }
        let reply = server.announce(&AnnounceRequest { numwant: Some(10), ..leecher(hash(1), 7004) }).await;
        assert_eq!(addrs(&reply.peers), [v4(7001), v4(7002), v4(7003)]);
    }

    /// WIRE.md: `numwant` above the configured cap is clamped to it.
    #[tokio::test]
    async fn clamp_numwant_to_the_configured_cap() {
        let server = Setup::new()
            .tracker(|t| {
                t.numwant_default = 5;
                t.numwant_max = 5;
            })
            .start()
            .await;
        for port in 7001..=7008 {
            server.announce(&leecher(hash(1), port)).await;
        }
        let reply = server.announce(&AnnounceRequest { numwant: Some(100), ..leecher(hash(1), 7009) }).await;
        assert_eq!(reply.peers.len(), 5);
        assert_eq!(reply.incomplete, Some(9));
    }

    /// WIRE.md: `numwant=0` asks for no peers, and still gets the counts.
    #[tokio::test]
    async fn are_empty_for_numwant_0_with_the_counts_still_returned() {
        let server = server().await;
        server.announce(&seeder(hash(1), 7001)).await;
        server.announce(&leecher(hash(1), 7002)).await;
        let reply = server.announce(&AnnounceRequest { numwant: Some(0), ..leecher(hash(1), 7003) }).await;
        assert!(reply.peers.is_empty());
        assert_eq!((reply.complete, reply.incomplete), (Some(1), Some(2)));
    }

    /// Storage contract: seeders have nothing to get from each other, so a seeder gets leechers
    /// only; a leecher gets both.
    #[tokio::test]
    async fn give_seeders_leechers_only() {
        let server = server().await;
        let h = hash(1);
        server.announce(&seeder(h, 7001)).await;
        server.announce(&seeder(h, 7002)).await;
        server.announce(&leecher(h, 7003)).await;
        assert_eq!(addrs(&server.announce(&seeder(h, 7004)).await.peers), [v4(7003)]);
        assert_eq!(addrs(&server.announce(&leecher(h, 7005)).await.peers), [v4(7001), v4(7002), v4(7003), v4(7004)]);
    }

    /// A `stopped` announce wants no peers.
    #[tokio::test]
    async fn are_empty_for_a_stopped_announce() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        server.announce(&leecher(hash(1), 7002)).await;
        let reply = server.announce(&AnnounceRequest { event: Event::Stopped, ..leecher(hash(1), 7002) }).await;
        assert!(reply.peers.is_empty());
    }
}

/// The `event` parameter (BEP 3, BEP 21).
mod events {
    use super::*;

    /// WIRE.md: `downloaded` rises only when a known leecher completes, once per leecher.
    #[tokio::test]
    async fn count_completed_once_per_leecher() {
        let server = server().await;
        let h = hash(1);
        let completed = |req: AnnounceRequest| AnnounceRequest { event: Event::Completed, ..req };
        let steps = [
            ("a leecher starts", AnnounceRequest { event: Event::Started, ..leecher(h, 7001) }, 0),
            ("it completes", completed(seeder(h, 7001)), 1),
            ("it sends completed again, as a seeder", completed(seeder(h, 7001)), 1),
            ("an unknown peer sends completed", completed(seeder(h, 7002)), 1),
            ("another leecher joins", leecher(h, 7003), 1),
            ("it completes", completed(seeder(h, 7003)), 2),
        ];
        for (step, req, downloaded) in steps {
            assert_eq!(server.announce(&req).await.downloaded, Some(downloaded), "{step}");
        }
        assert_eq!(server.scrape(&[h]).await.get(&h).map(|f| f.downloaded), Some(2));
    }

    /// BEP 3 `stopped`: the peer leaves the lists and the counts at once.
    #[tokio::test]
    async fn stopped_removes_the_peer() {
        let server = server().await;
        let h = hash(1);
        server.announce(&seeder(h, 7001)).await;
        server.announce(&leecher(h, 7002)).await;
        let reply = server.announce(&AnnounceRequest { event: Event::Stopped, ..seeder(h, 7001) }).await;
        assert_eq!((reply.complete, reply.incomplete), (Some(0), Some(1)));
        assert!(server.announce(&leecher(h, 7002)).await.peers.is_empty());
        let file = *server.scrape(&[h]).await.get(&h).expect("listed");
        assert_eq!((file.complete, file.incomplete), (0, 1));
    }

    /// A `stopped` from a peer the tracker never saw stores nothing.
    #[tokio::test]
    async fn stopped_from_an_unknown_peer_stores_nothing() {
        let server = server().await;
        let reply = server.announce(&AnnounceRequest { event: Event::Stopped, ..leecher(hash(1), 7001) }).await;
        assert_eq!((reply.complete, reply.incomplete), (Some(0), Some(0)));
        assert!(server.announce(&leecher(hash(1), 7002)).await.peers.is_empty());
    }

    /// BEP 21 `paused` and an empty `event` are regular updates (WIRE.md).
    #[tokio::test]
    async fn paused_and_empty_are_regular_updates() {
        let server = server().await;
        let h = hash(1);
        for (port, event) in [(7001, "paused"), (7002, ""), (7003, "empty")] {
            let reply = server.get(&format!("/announce?{}&event={event}", announce_query(h, port))).await;
            assert_eq!(reply.status, 200, "event={event}");
            assert!(reply.bencode().get("failure reason").is_none(), "event={event} refused");
        }
        let reply = server.announce(&leecher(h, 7004)).await;
        assert_eq!(addrs(&reply.peers), [v4(7001), v4(7002), v4(7003)]);
        assert_eq!(reply.downloaded, Some(0));
    }
}

/// Scrapes (BEP 48).
mod scrapes {
    use super::*;

    /// BEP 48: each requested hash with `complete`, `incomplete`, `downloaded`; zeros for
    /// hashes the tracker does not know (WIRE.md).
    #[tokio::test]
    async fn report_each_hash_and_zeros_for_unknown_ones() {
        let server = server().await;
        let (known, unknown) = (hash(1), hash(2));
        server.announce(&leecher(known, 7001)).await;
        server.announce(&AnnounceRequest { event: Event::Completed, ..seeder(known, 7001) }).await;
        server.announce(&leecher(known, 7002)).await;
        let reply = server.scrape(&[known, unknown]).await;
        assert_eq!(reply.files.len(), 2);
        let k = reply.get(&known).expect("known hash listed");
        assert_eq!((k.complete, k.incomplete, k.downloaded), (1, 1, 1));
        let u = reply.get(&unknown).expect("unknown hash listed");
        assert_eq!((u.complete, u.incomplete, u.downloaded), (0, 0, 0));
    }

    /// A hash asked for twice is answered once (`files` is a dictionary).
    #[tokio::test]
    async fn answer_a_repeated_hash_once() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        let reply = server.scrape(&[hash(1), hash(2), hash(1)]).await;
        assert_eq!(reply.files.len(), 2);
        assert_eq!(reply.get(&hash(1)).map(|f| f.incomplete), Some(1));
    }

    /// WIRE.md: a configurable cap on hashes per scrape; beyond it, a failure naming the cap.
    #[tokio::test]
    async fn refuse_more_hashes_than_the_cap_naming_it() {
        let server = Setup::new().tracker(|t| t.scrape_max_hashes = 3).start().await;
        assert_eq!(server.scrape(&[hash(1), hash(2), hash(3)]).await.files.len(), 3);
        let reason = server.scrape_refused(&[hash(1), hash(2), hash(3), hash(4)]).await;
        assert_eq!(reason, "too many info_hash values: at most 3 per scrape");
    }

    /// WIRE.md: a scrape with no `info_hash` is refused unless full scrape is allowed.
    #[tokio::test]
    async fn without_info_hash_are_refused_by_default() {
        let server = server().await;
        server.announce(&leecher(hash(1), 7001)).await;
        assert_eq!(server.scrape_refused(&[]).await, "missing info_hash: full scrape is disabled on this tracker");
    }

    /// `allow_full_scrape = true`: no `info_hash` lists every swarm that has peers.
    #[tokio::test]
    async fn without_info_hash_list_every_swarm_when_full_scrape_is_allowed() {
        let server = Setup::new().tracker(|t| t.allow_full_scrape = true).start().await;
        server.announce(&leecher(hash(1), 7001)).await;
        server.announce(&seeder(hash(2), 7001)).await;
        server.announce(&seeder(hash(2), 7002)).await;
        let mut files = server.scrape(&[]).await.files;
        files.sort_by_key(|(h, _)| *h);
        let counts: Vec<_> = files.iter().map(|(h, f)| (*h, f.complete, f.incomplete)).collect();
        assert_eq!(counts, [(hash(1), 0, 1), (hash(2), 2, 0)]);
    }

    /// `allow_scrape = false`: every scrape is refused.
    #[tokio::test]
    async fn are_refused_when_scrape_is_disabled() {
        let server = Setup::new().tracker(|t| t.allow_scrape = false).start().await;
        assert_eq!(server.scrape_refused(&[hash(1)]).await, "scrape is disabled on this tracker");
    }

    /// Malformed hashes are refused like in an announce (BEP 48 hashes are 20 bytes).
    #[tokio::test]
    async fn refuse_malformed_hashes_naming_info_hash() {
        let server = server().await;
        let good = escape(&[0xAB; 20]);
        let cases = [
            (format!("info_hash={}", escape(&[1; 19])), "invalid info_hash: expected 20 bytes, got 19"),
            (
                format!("info_hash={good}&info_hash={}", escape(&[1; 21])),
                "invalid info_hash: expected 20 bytes, got 21",
            ),
            (format!("info_hash=%ZZ{}", escape(&[1; 19])), "invalid info_hash: bad percent-encoding"),
            (format!("info_hash={good}%"), "invalid info_hash: bad percent-encoding"),
        ];
        for (query, expected) in cases {
            assert_eq!(server.get(&format!("/scrape?{query}")).await.failure_reason(), expected, "{query}");
        }
    }
}

/// Malformed announces: `200 OK` with a bencoded `failure reason` naming the parameter, as
/// clients show it to their users (WIRE.md), and nothing stored.
mod malformed_announces {
    use super::*;

    const PEER: &str = "-OT0001-000000000001";

    /// (case, query, the exact `failure reason`): one malformed parameter in each otherwise valid
    /// announce of a peer of swarm `AB…AB`.
    fn cases() -> Vec<(&'static str, String, &'static str)> {
        let h = escape(&[0xAB; 20]);
        let h19 = escape(&[0xAB; 19]);
        let rest = format!("peer_id={PEER}&port=6881&left=0");
        let ok = format!("info_hash={h}&peer_id={PEER}");
        vec![
            ("info_hash missing", rest.clone(), "missing info_hash"),
            ("info_hash empty", format!("info_hash=&{rest}"), "invalid info_hash: expected 20 bytes, got 0"),
            (
                "info_hash of 19 bytes",
                format!("info_hash={h19}&{rest}"),
                "invalid info_hash: expected 20 bytes, got 19",
            ),
            (
                "info_hash of 21 bytes",
                format!("info_hash={}&{rest}", escape(&[0xAB; 21])),
                "invalid info_hash: expected 20 bytes, got 21",
            ),
            (
                "a BEP 52 hash of 32 bytes, not truncated",
                format!("info_hash={}&{rest}", escape(&[0xAB; 32])),
                "invalid info_hash: expected 20 bytes, got 32",
            ),
            (
                "info_hash repeated",
                format!("info_hash={h}&info_hash={h}&{rest}"),
                "invalid info_hash: given more than once",
            ),
            ("info_hash with %ZZ", format!("info_hash=%ZZ{h19}&{rest}"), "invalid info_hash: bad percent-encoding"),
            ("info_hash with %4", format!("info_hash={h19}%4&{rest}"), "invalid info_hash: bad percent-encoding"),
            (
                "info_hash with a trailing %",
                format!("info_hash={h}%&{rest}"),
                "invalid info_hash: bad percent-encoding",
            ),
            ("peer_id missing", format!("info_hash={h}&port=6881&left=0"), "missing peer_id"),
            (
                "peer_id of 19 bytes",
                format!("info_hash={h}&peer_id=-OT0001-00000000000&port=6881&left=0"),
                "invalid peer_id: expected 20 bytes, got 19",
            ),
            (
                "peer_id repeated",
                format!("{ok}&peer_id={PEER}&port=6881&left=0"),
                "invalid peer_id: given more than once",
            ),
            ("port missing", format!("{ok}&left=0"), "missing port"),
            ("port 0", format!("{ok}&port=0&left=0"), "invalid port: must be between 1 and 65535"),
            ("port 65536", format!("{ok}&port=65536&left=0"), "invalid port: must be between 1 and 65535"),
            ("port abc", format!("{ok}&port=abc&left=0"), "invalid port: not a number"),
            ("port -1", format!("{ok}&port=-1&left=0"), "invalid port: not a number"),
            ("port empty", format!("{ok}&port=&left=0"), "invalid port: not a number"),
            ("left missing", format!("{ok}&port=6881"), "missing left"),
            ("left x", format!("{ok}&port=6881&left=x"), "invalid left: not a number"),
            ("left negative", format!("{ok}&port=6881&left=-5"), "invalid left: not a number"),
            ("uploaded abc", format!("{ok}&port=6881&left=0&uploaded=abc"), "invalid uploaded: not a number"),
            ("downloaded abc", format!("{ok}&port=6881&left=0&downloaded=abc"), "invalid downloaded: not a number"),
            (
                "an unknown event",
                format!("{ok}&port=6881&left=0&event=finished"),
                "invalid event: expected started, stopped, completed, paused or empty",
            ),
            ("numwant abc", format!("{ok}&port=6881&left=0&numwant=abc"), "invalid numwant: not a number"),
            ("numwant -1", format!("{ok}&port=6881&left=0&numwant=-1"), "invalid numwant: must not be negative"),
            ("numwant -50", format!("{ok}&port=6881&left=0&numwant=-50"), "invalid numwant: must not be negative"),
        ]
    }

    /// WIRE.md: 200 + bencoded `failure reason` (clients show it), never a 400 page.
    #[tokio::test]
    async fn get_200_and_a_failure_reason_naming_the_parameter() {
        let server = server().await;
        for (case, query, expected) in cases() {
            let reply = server.get(&format!("/announce?{query}")).await;
            assert_eq!(reply.status, 200, "{case}");
            assert_eq!(reply.header("content-type"), Some("text/plain"), "{case}");
            assert_eq!(reply.failure_reason(), expected, "{case}: {query}");
        }
    }

    /// A refused announce leaves the swarm as it was.
    #[tokio::test]
    async fn store_nothing() {
        let server = server().await;
        for (_, query, _) in cases() {
            server.get(&format!("/announce?{query}")).await;
        }
        let file = server.scrape(&[octotracker_core::InfoHash([0xAB; 20])]).await.files[0].1;
        assert_eq!((file.complete, file.incomplete), (0, 0));
    }

    /// WIRE.md: `uploaded` and `downloaded` may be left out (they default to 0); parameters that
    /// real clients add (`key`, `supportcrypto`, `corrupt`, `redundant`) are accepted and ignored.
    #[tokio::test]
    async fn a_minimal_announce_with_extra_parameters_is_accepted() {
        let server = server().await;
        let query = format!(
            "{}&key=1A2B3C4D&supportcrypto=1&corrupt=0&redundant=0&requirecrypto=0",
            announce_query(hash(1), 7001)
        );
        let reply = server.get(&format!("/announce?{query}")).await.announce();
        assert_eq!(reply.incomplete, Some(1));
    }
}

/// How `info_hash` bytes are read from the query (WIRE.md): raw bytes, percent-decoded.
mod info_hash_encoding {
    use super::*;
    use octotracker_core::InfoHash;

    /// Mixed-case escapes and unescaped unreserved bytes all decode to the same 20 bytes.
    #[tokio::test]
    async fn mixed_case_escapes_and_unescaped_safe_bytes_reach_one_swarm() {
        let server = server().await;
        let bytes: [u8; 20] = *b"\xab\xcd\xef\x3a\x3b-._~AZaz09\x00\x01\x7f\x80\xff";
        let upper = escape(&bytes);
        let lower = upper.to_ascii_lowercase();
        let mut mixed = String::new();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => mixed.push(char::from(b)),
                _ if i % 2 == 0 => mixed.push_str(&format!("%{b:02x}")),
                _ => mixed.push_str(&format!("%{b:02X}")),
            }
        }
        for (port, encoded, swarm_size) in [(7001, &upper, 1), (7002, &lower, 2), (7003, &mixed, 3)] {
            let query = format!("info_hash={encoded}&peer_id={}&port={port}&left=1", escape(&peer_id(port).0));
            let reply = server.get(&format!("/announce?{query}")).await.announce();
            assert_eq!(reply.incomplete, Some(swarm_size), "{encoded}");
        }
        let file = server.scrape(&[InfoHash(bytes)]).await.files[0].1;
        assert_eq!(file.incomplete, 3);
    }

    /// A literal `+` is the byte `+` (0x2B), not a space: RFC 3986 queries have no `+`-as-space.
    #[tokio::test]
    async fn a_literal_plus_is_the_byte_plus() {
        let server = server().await;
        let query =
            format!("info_hash={}&peer_id={PEER}&port=7001&left=1", "+".repeat(20), PEER = "-OT0001-000000007001");
        server.get(&format!("/announce?{query}")).await.announce();
        let escaped = format!("info_hash={}&peer_id=-OT0001-000000007002&port=7002&left=1", "%2B".repeat(20));
        let reply = server.get(&format!("/announce?{escaped}")).await.announce();
        assert_eq!(addrs(&reply.peers), [v4(7001)], "`+` and `%2B` are one swarm");
        let scrape = server.scrape(&[InfoHash([b'+'; 20]), InfoHash([b' '; 20])]).await;
        assert_eq!(scrape.get(&InfoHash([b'+'; 20])).map(|f| f.incomplete), Some(2));
        assert_eq!(scrape.get(&InfoHash([b' '; 20])).map(|f| f.incomplete), Some(0));
    }
}

/// HTTP itself: paths, methods, connections, shutdown.
mod http_transport {
    use super::*;

    /// WIRE.md: unknown paths are 404.
    #[tokio::test]
    async fn unknown_paths_are_404() {
        let server = server().await;
        for path in ["/", "/favicon.ico", "/stats", "/announcer", "/Announce", "/scrape/extra", "/x/announce"] {
            assert_eq!(server.get(path).await.status, 404, "{path}");
        }
    }

    /// Announce and scrape are GET requests: other methods are 405, naming the allowed ones.
    #[tokio::test]
    async fn post_is_405_method_not_allowed() {
        let server = server().await;
        for path in ["/announce", "/scrape"] {
            let query = announce_query(hash(1), 7001);
            let request = format!(
                "POST {path}?{query} HTTP/1.1\r\nHost: tracker\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let reply = server.connect().await.send(&request).await;
            assert_eq!(reply.status, 405, "{path}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{path}");
        }
        assert_eq!(server.scrape(&[hash(1)]).await.files[0].1.incomplete, 0, "the POST stored nothing");
    }

    /// WIRE.md: keep-alive; one connection serves request after request, whatever their outcome.
    #[tokio::test]
    async fn keep_alive_answers_every_request_on_one_connection() {
        let server = server().await;
        let mut conn = server.connect().await;
        let first = conn.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await;
        assert_eq!(first.announce().incomplete, Some(1));
        let second = conn.get(&format!("/announce?{}", announce_query(hash(1), 7002))).await;
        assert_eq!(addrs(&second.announce().peers), [v4(7001)]);
        let refused = conn.get("/announce?port=0").await;
        assert_eq!(refused.failure_reason(), "invalid port: must be between 1 and 65535");
        assert_eq!(conn.get("/nowhere").await.status, 404);
        let scrape = conn.get(&format!("/scrape?info_hash={}", escape(&hash(1).0))).await;
        assert_eq!(scrape.status, 200);
        for reply in [&first, &second, &refused, &scrape] {
            assert_ne!(reply.header("connection"), Some("close"));
        }
    }

    /// Pipelined requests (all written before any reply is read) are answered in order.
    #[tokio::test]
    async fn pipelined_requests_are_answered_in_order() {
        let server = server().await;
        let mut conn = server.connect().await;
        let mut requests = String::new();
        for port in [7001, 7002, 7003] {
            requests.push_str(&format!(
                "GET /announce?{} HTTP/1.1\r\nHost: tracker\r\n\r\n",
                announce_query(hash(1), port)
            ));
        }
        conn.write(requests.as_bytes()).await;
        for incomplete in 1..=3 {
            assert_eq!(conn.read_response().await.announce().incomplete, Some(incomplete));
        }
    }

    /// An idle keep-alive connection is closed once the idle timeout passes.
    #[tokio::test]
    async fn an_idle_connection_is_closed_after_the_idle_timeout() {
        let server = Setup::new().http(|h| h.idle_timeout = Duration::from_millis(300)).start().await;
        let mut conn = server.connect().await;
        assert_eq!(conn.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await.status, 200);
        let started = tokio::time::Instant::now();
        assert!(conn.closed_by_server(DEADLINE).await.is_empty());
        assert!(started.elapsed() >= Duration::from_millis(250), "closed after {:?}", started.elapsed());
    }

    /// A request head that never ends is cut off after the header read timeout.
    #[tokio::test]
    async fn a_request_head_that_never_ends_is_cut_off() {
        let server = Setup::new().http(|h| h.header_read_timeout = Duration::from_millis(300)).start().await;
        let mut conn = server.connect().await;
        conn.write(b"GET /announce?port=1 HTTP/1.1\r\nHost: tracker\r\n").await;
        let sent = conn.closed_by_server(DEADLINE).await;
        assert!(!sent.starts_with(b"HTTP/1.1 200"), "{:?}", sent.escape_ascii());
    }

    /// `Frontend::serve` returns once its shutdown future resolves, and stops listening.
    #[tokio::test]
    async fn shutdown_stops_listening_and_serve_returns() {
        let server = server().await;
        let addr = server.addr();
        server.announce(&leecher(hash(1), 7001)).await;
        for result in server.stop().await {
            result.expect("serve ends without error");
        }
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still listening on {addr}");
    }

    /// Open keep-alive connections, idle between requests or before their first, do not hold
    /// shutdown up until the drain timeout.
    #[tokio::test]
    async fn shutdown_does_not_wait_for_idle_connections() {
        let server = Setup::new().http(|h| h.drain_timeout = Duration::from_secs(60)).start().await;
        let mut used = server.connect().await;
        assert_eq!(used.get(&format!("/announce?{}", announce_query(hash(1), 7001))).await.status, 200);
        let mut fresh = server.connect().await;
        let stopped = tokio::time::timeout(Duration::from_secs(5), server.stop()).await;
        stopped.expect("shutdown finished before the drain timeout");
        used.closed_by_server(DEADLINE).await;
        // `fresh` sent nothing, so with TCP_DEFER_ACCEPT the server never accepted it, and the
        // kernel dropped it with the listener: what it sends now is refused (reset), unanswered.
        fresh.write(b"GET / HTTP/1.1\r\n\r\n").await;
        assert!(fresh.closed_by_server(DEADLINE).await.is_empty(), "answered after shutdown");
    }
}

/// The client's address: the connection's, or a trusted proxy's word for it (WIRE.md).
mod client_address {
    use super::*;

    const PROXY: &str = "127.0.0.1";

    fn behind_proxy() -> Setup {
        Setup::new().http(|h| h.trusted_proxies = vec![PROXY.parse().unwrap()])
    }

    /// Announce as the peer on `port`, with `headers`; returns the raw reply.
    async fn announce_via(server: &support::Server, port: u16, headers: &[(&str, &str)]) -> support::Response {
        server.get_with(&format!("/announce?{}", announce_query(hash(1), port)), headers).await
    }

    /// Without trusted proxies, `X-Forwarded-For` and `X-Real-IP` are the client's word: ignored.
    #[tokio::test]
    async fn forwarding_headers_are_ignored_without_trusted_proxies() {
        let server = server().await;
        let spoofed = [("X-Forwarded-For", "203.0.113.7"), ("X-Real-IP", "203.0.113.8")];
        let reply = announce_via(&server, 7001, &spoofed).await;
        assert_eq!(reply.bytes_of("external ip"), [127, 0, 0, 1]);
        assert_eq!(addrs(&server.announce(&leecher(hash(1), 7002)).await.peers), [v4(7001)]);
    }

    /// From a trusted proxy, `X-Forwarded-For` names the client: its external ip, and the
    /// address other peers are given.
    #[tokio::test]
    async fn x_forwarded_for_from_a_trusted_proxy_names_the_client() {
        let server = behind_proxy().start().await;
        let first = announce_via(&server, 7001, &[("X-Forwarded-For", "203.0.113.7")]).await;
        assert_eq!(first.bytes_of("external ip"), [203, 0, 113, 7]);
        let second = announce_via(&server, 7002, &[("X-Forwarded-For", "198.51.100.2")]).await;
        assert_eq!(second.bytes_of("external ip"), [198, 51, 100, 2]);
        assert_eq!(second.bytes_of("peers"), [203, 0, 113, 7, 0x1B, 0x59]);
    }

    /// Entries further left can be forged by the client: the rightmost hop that is not itself a
    /// trusted proxy is the client.
    #[tokio::test]
    async fn the_rightmost_hop_that_is_not_a_trusted_proxy_is_the_client() {
        let server = Setup::new()
            .http(|h| h.trusted_proxies = vec![PROXY.parse().unwrap(), "10.0.0.0/8".parse().unwrap()])
            .start()
            .await;
        let chain = [("X-Forwarded-For", "6.6.6.6, 203.0.113.7"), ("X-Forwarded-For", "10.1.2.3")];
        let reply = announce_via(&server, 7001, &chain).await;
        assert_eq!(reply.bytes_of("external ip"), [203, 0, 113, 7]);
    }

    /// Without `X-Forwarded-For`, a trusted proxy's `X-Real-IP` names the client.
    #[tokio::test]
    async fn x_real_ip_from_a_trusted_proxy_names_the_client() {
        let server = behind_proxy().start().await;
        let reply = announce_via(&server, 7001, &[("X-Real-IP", "203.0.113.9")]).await;
        assert_eq!(reply.bytes_of("external ip"), [203, 0, 113, 9]);
    }

    /// A trusted proxy that names no client (or garbage) gets a failure, not the proxy's address.
    #[tokio::test]
    async fn a_trusted_proxy_that_names_no_valid_client_is_refused() {
        let server = behind_proxy().start().await;
        let expected = "client address unknown: the proxy sent no valid X-Forwarded-For or X-Real-IP";
        assert_eq!(announce_via(&server, 7001, &[]).await.failure_reason(), expected);
        assert_eq!(announce_via(&server, 7001, &[("X-Forwarded-For", "not-an-ip")]).await.failure_reason(), expected);
        assert_eq!(server.scrape(&[hash(1)]).await.files[0].1.incomplete, 0);
    }

    /// WIRE.md: IPv4-mapped IPv6 addresses become IPv4 (4-byte external ip, listed in `peers`).
    #[tokio::test]
    async fn an_ipv4_mapped_address_is_an_ipv4_client() {
        let server = behind_proxy().start().await;
        let mapped = announce_via(&server, 7001, &[("X-Forwarded-For", "::ffff:203.0.113.7")]).await;
        assert_eq!(mapped.bytes_of("external ip"), [203, 0, 113, 7]);
        let other = announce_via(&server, 7002, &[("X-Forwarded-For", "203.0.113.8")]).await;
        assert_eq!(other.bytes_of("peers"), [203, 0, 113, 7, 0x1B, 0x59]);
    }

    /// A forwarded IPv6 client is an IPv6 peer (BEP 7), even over an IPv4 connection.
    #[tokio::test]
    async fn a_forwarded_ipv6_client_is_an_ipv6_peer() {
        let server = behind_proxy().start().await;
        let first = announce_via(&server, 7001, &[("X-Forwarded-For", "2001:db8::7")]).await;
        let ip: Ipv6Addr = "2001:db8::7".parse().unwrap();
        assert_eq!(first.bytes_of("external ip"), ip.octets());
        let second = announce_via(&server, 7002, &[("X-Forwarded-For", "2001:db8::8")]).await.announce();
        assert!(second.peers.is_empty());
        assert_eq!(addrs(&second.peers6), [(ip, 7001).into()]);
        let v4_peer = announce_via(&server, 7003, &[("X-Forwarded-For", "203.0.113.1")]).await.announce();
        assert!(v4_peer.peers.is_empty() && v4_peer.peers6.is_empty());
        assert_eq!(v4_peer.incomplete, Some(3));
    }

    /// WIRE.md: the `ip`, `ipv4` and `ipv6` parameters are ignored unless configured (they let
    /// anyone announce on behalf of any address).
    #[tokio::test]
    async fn the_ip_parameters_are_ignored_by_default() {
        let server = server().await;
        let query = format!("{}&ip=10.9.8.7&ipv4=10.9.8.6&ipv6=2001:db8::1", announce_query(hash(1), 7001));
        server.get(&format!("/announce?{query}")).await.announce();
        let reply = server.announce(&leecher(hash(1), 7002)).await;
        assert_eq!(addrs(&reply.peers), [v4(7001)]);
        assert!(reply.peers6.is_empty());
    }

    /// WIRE.md: a dual-stack socket sees IPv4 clients as IPv4-mapped IPv6 addresses; they are
    /// IPv4 peers all the same (4-byte external ip, 6-byte entries in `peers`).
    #[tokio::test]
    async fn an_ipv4_client_of_a_dual_stack_socket_is_an_ipv4_peer() {
        let server = Setup::new().listen(&["[::ffff:127.0.0.1]:0"]).start().await;
        let over_ipv4 = v4(server.addr().port());
        let target = |port| format!("/announce?{}", announce_query(hash(1), port));
        let request = |port| format!("GET {} HTTP/1.1\r\nHost: tracker\r\n\r\n", target(port));
        let first = support::Connection::open(over_ipv4).await.send(&request(7001)).await;
        assert_eq!(first.bytes_of("external ip"), [127, 0, 0, 1]);
        let second = support::Connection::open(over_ipv4).await.send(&request(7002)).await;
        assert_eq!(second.bytes_of("peers"), [127, 0, 0, 1, 0x1B, 0x59]);
        assert!(!second.keys().contains(&"peers6".to_owned()));
    }

    /// `accept_ip_param = true`: the peer is listed at the address it claims; `external ip`
    /// still tells the address the tracker saw.
    #[tokio::test]
    async fn the_ip_parameter_is_honoured_when_configured() {
        let server = Setup::new().tracker(|t| t.accept_ip_param = true).start().await;
        let query = format!("{}&ip=10.9.8.7", announce_query(hash(1), 7001));
        let reply = server.get(&format!("/announce?{query}")).await;
        assert_eq!(reply.announce().external_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let claimed = (Ipv4Addr::new(10, 9, 8, 7), 7001).into();
        assert_eq!(addrs(&server.announce(&leecher(hash(1), 7002)).await.peers), [claimed]);
    }
}

/// Peers that stop announcing are dropped after the peer timeout (50 minutes by default).
mod expiry {
    use super::*;

    const PEER_TIMEOUT: Duration = Duration::from_secs(3000);

    #[tokio::test]
    async fn drops_peers_silent_longer_than_the_peer_timeout() {
        let server = server().await;
        let h = hash(1);
        server.announce(&leecher(h, 7001)).await;
        server.announce(&AnnounceRequest { event: Event::Completed, ..seeder(h, 7001) }).await;
        server.announce(&leecher(h, 7002)).await;

        server.clock.advance(PEER_TIMEOUT);
        let report = server.tracker.expire().await.unwrap();
        assert_eq!(report.peers_removed, 0, "silent for exactly the timeout: kept");

        server.clock.advance(Duration::from_secs(1));
        let report = server.tracker.expire().await.unwrap();
        assert_eq!((report.peers_removed, report.swarms_removed), (2, 1));
        let file = server.scrape(&[h]).await.files[0].1;
        assert_eq!((file.complete, file.incomplete, file.downloaded), (0, 0, 0));
        let reply = server.announce(&leecher(h, 7003)).await;
        assert!(reply.peers.is_empty());
        assert_eq!((reply.complete, reply.incomplete), (Some(0), Some(1)));
    }

    #[tokio::test]
    async fn keeps_peers_that_announced_again() {
        let server = server().await;
        let h = hash(1);
        server.announce(&leecher(h, 7001)).await;
        server.announce(&leecher(h, 7002)).await;
        server.clock.advance(Duration::from_secs(2000));
        server.announce(&leecher(h, 7001)).await;
        server.clock.advance(Duration::from_secs(1001));
        assert_eq!(server.tracker.expire().await.unwrap().peers_removed, 1);
        assert_eq!(addrs(&server.announce(&leecher(h, 7003)).await.peers), [v4(7001)]);
    }
}
