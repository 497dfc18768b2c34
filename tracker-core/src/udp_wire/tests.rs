use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::*;
use crate::{AnnounceRequest, AnnounceResponse, Event, InfoHash, Peer, PeerId, ScrapeResponse, SwarmStats};

/// splitmix64: deterministic pseudo-random values for the round-trip checks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes20(&mut self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out.iter_mut().for_each(|b| *b = self.next() as u8);
        out
    }
}

fn random_announce(rng: &mut Rng) -> (AnnounceRequest, Vec<u8>) {
    let mut req =
        AnnounceRequest::new(InfoHash(rng.bytes20()), PeerId(rng.bytes20()), 1 + (rng.next() % 65_535) as u16);
    req.uploaded = rng.next();
    req.downloaded = rng.next();
    req.left = rng.next();
    req.event = [Event::None, Event::Started, Event::Stopped, Event::Completed][(rng.next() % 4) as usize];
    req.numwant = (!rng.next().is_multiple_of(3)).then(|| (rng.next() % 1_000) as u32);
    req.key = Some(rng.next() as u32);
    req.ip = rng.next().is_multiple_of(4).then(|| IpAddr::V4(Ipv4Addr::from((rng.next() as u32) | 1)));
    let url: Vec<u8> = match rng.next() % 3 {
        0 => Vec::new(),
        1 => format!("/{:016x}/announce", rng.next()).into_bytes(),
        _ => (0..(rng.next() % 600)).map(|_| b'a' + (rng.next() % 26) as u8).collect(),
    };
    (req, url)
}

#[test]
fn announce_requests_round_trip() {
    let mut rng = Rng(1);
    for _ in 0..5_000 {
        let (req, url) = random_announce(&mut rng);
        let (cid, tid) = (rng.next(), rng.next() as u32);
        let mut packet = Vec::new();
        write_announce_request(&mut packet, cid, tid, &req, &url);
        let parsed = parse_request(&packet).expect("a packet we wrote parses");
        assert_eq!(
            parsed,
            UdpRequest::Announce(UdpAnnounce { connection_id: cid, transaction_id: tid, request: req, url_data: url })
        );
    }
}

#[test]
fn connect_and_scrape_requests_round_trip() {
    let mut rng = Rng(2);
    for n in 1..=MAX_SCRAPE_HASHES {
        let hashes: Vec<InfoHash> = (0..n).map(|_| InfoHash(rng.bytes20())).collect();
        let (cid, tid) = (rng.next(), rng.next() as u32);
        let mut packet = Vec::new();
        write_scrape_request(&mut packet, cid, tid, &hashes);
        assert_eq!(
            parse_request(&packet),
            Ok(UdpRequest::Scrape { connection_id: cid, transaction_id: tid, info_hashes: hashes })
        );
        packet.clear();
        write_connect_request(&mut packet, tid);
        assert_eq!(parse_request(&packet), Ok(UdpRequest::Connect { transaction_id: tid }));
    }
}

#[test]
fn replies_round_trip() {
    let mut rng = Rng(3);
    for n in [0usize, 1, 7, 50, 200] {
        let v4: Vec<Peer> = (0..n)
            .map(|_| Peer {
                addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::from(rng.next() as u32)), rng.next() as u16),
                id: PeerId([0; 20]),
            })
            .collect();
        let v6: Vec<Peer> = (0..n.min(max_peers(true)))
            .map(|_| Peer {
                addr: SocketAddr::new(IpAddr::V6(Ipv6Addr::from(u128::from(rng.next()) << 64)), rng.next() as u16),
                id: PeerId([0; 20]),
            })
            .collect();
        let stats = SwarmStats { complete: rng.next() as u32, incomplete: rng.next() as u32, downloaded: 0 };
        for (peers, peers6, is_v6) in [(v4.clone(), Vec::new(), false), (Vec::new(), v6.clone(), true)] {
            let response = AnnounceResponse {
                interval: 1800,
                min_interval: 900,
                stats,
                peers: peers.clone(),
                peers6: peers6.clone(),
                tracker_id: None,
                warning: None,
                external_ip: None,
                compact: true,
                no_peer_id: false,
            };
            let mut packet = Vec::new();
            write_announce(&mut packet, 9, &response);
            assert!(packet.len() <= 1452, "{} bytes", packet.len());
            let expected = if is_v6 { peers6 } else { peers };
            assert_eq!(
                parse_reply(&packet, is_v6),
                Ok(UdpReply::Announce { transaction_id: 9, interval: 1800, stats, peers: expected })
            );
        }
    }
    let files: Vec<(InfoHash, SwarmStats)> = (0..74)
        .map(|_| {
            let s = SwarmStats {
                complete: rng.next() as u32,
                incomplete: rng.next() as u32,
                downloaded: u64::from(rng.next() as u32),
            };
            (InfoHash(rng.bytes20()), s)
        })
        .collect();
    let mut packet = Vec::new();
    write_scrape(&mut packet, 5, &ScrapeResponse { files: files.clone() });
    let stats = files.iter().map(|(_, s)| *s).collect();
    assert_eq!(parse_reply(&packet, false), Ok(UdpReply::Scrape { transaction_id: 5, stats }));
    packet.clear();
    write_error(&mut packet, 6, "unknown passkey");
    assert_eq!(
        parse_reply(&packet, false),
        Ok(UdpReply::Error { transaction_id: 6, message: "unknown passkey".into() })
    );
    assert_eq!(parse_reply(&packet, false).map(|r| r.transaction_id()), Ok(6));
    packet.clear();
    write_connect(&mut packet, 7, 99);
    assert_eq!(parse_reply(&packet, false).map(|r| r.transaction_id()), Ok(7));
}

#[test]
fn malformed_requests_are_errors_with_the_transaction_id_when_known() {
    let err = |packet: &[u8]| parse_request(packet).unwrap_err();
    assert_eq!(err(&[0; 15]), UdpParseError { transaction_id: None, reason: "packet too short" });
    let mut connect = Vec::new();
    write_connect_request(&mut connect, 77);
    connect[0] ^= 1;
    assert_eq!(err(&connect), UdpParseError { transaction_id: Some(77), reason: "invalid protocol id" });
    let mut unknown = connect.clone();
    unknown[11] = 9;
    assert_eq!(err(&unknown).reason, "unknown action");

    let mut announce = Vec::new();
    write_announce_request(&mut announce, 1, 2, &AnnounceRequest::new(InfoHash([1; 20]), PeerId([2; 20]), 6881), &[]);
    assert_eq!(err(&announce[..97]).reason, "announce packet too short");
    let mut bad = announce.clone();
    bad[83] = 4;
    assert_eq!(err(&bad).reason, "invalid event");
    let mut bad = announce.clone();
    bad[96..98].copy_from_slice(&[0, 0]);
    assert_eq!(err(&bad).reason, "invalid port: must be between 1 and 65535");
    let mut bad = announce.clone();
    bad[92..96].copy_from_slice(&(-2i32).to_be_bytes());
    assert_eq!(err(&bad).reason, "invalid numwant: must not be negative");
    let mut bad = announce.clone();
    bad.extend_from_slice(&[2, 10, b'/']);
    assert_eq!(err(&bad).reason, "truncated URL data option");

    let mut scrape = Vec::new();
    write_scrape_request(&mut scrape, 1, 3, &[]);
    assert_eq!(err(&scrape).reason, "missing info_hash");
    let mut too_many = Vec::new();
    write_scrape_request(&mut too_many, 1, 3, &vec![InfoHash([0; 20]); 75]);
    assert_eq!(err(&too_many).reason, "too many info_hash values: at most 74 per scrape");
    too_many.truncate(16 + 30);
    assert_eq!(err(&too_many).reason, "invalid scrape: info hashes must be 20 bytes each");
}

#[test]
fn any_prefix_or_mutation_of_a_packet_parses_or_fails_without_panicking() {
    let mut rng = Rng(4);
    for _ in 0..200 {
        let (req, url) = random_announce(&mut rng);
        let mut packet = Vec::new();
        write_announce_request(&mut packet, rng.next(), rng.next() as u32, &req, &url);
        for end in 0..=packet.len() {
            let _ = parse_request(&packet[..end]);
        }
        for _ in 0..50 {
            let mut mutated = packet.clone();
            let at = (rng.next() as usize) % mutated.len();
            mutated[at] = rng.next() as u8;
            let _ = parse_request(&mutated);
            let _ = parse_reply(&mutated, rng.next().is_multiple_of(2));
        }
    }
}

#[test]
fn the_passkey_comes_from_the_url_data_path() {
    let announce = |url: &[u8]| UdpAnnounce {
        connection_id: 0,
        transaction_id: 0,
        request: AnnounceRequest::new(InfoHash([1; 20]), PeerId([2; 20]), 1),
        url_data: url.to_vec(),
    };
    assert_eq!(announce(b"/abc123/announce").passkey(), Some("abc123"));
    assert_eq!(announce(b"/abc123/announce?foo=bar").passkey(), Some("abc123"));
    assert_eq!(announce(b"/announce").passkey(), None);
    assert_eq!(announce(b"").passkey(), None);
    assert_eq!(announce(b"/a/b/announce").passkey(), None);
}
