//! No input makes the parser panic: every prefix and many single-byte mutations of real torrents
//! (a small deterministic fuzzer, no extra dependency).

use octotracker_torrent::Metainfo;

const FIXTURES: &[&[u8]] = &[
    include_bytes!("fixtures/v1-single.torrent"),
    include_bytes!("fixtures/v1-multi.torrent"),
    include_bytes!("fixtures/hybrid-single.torrent"),
    include_bytes!("fixtures/hybrid-multi.torrent"),
    include_bytes!("fixtures/v2-single.torrent"),
    include_bytes!("fixtures/v2-multi.torrent"),
];

#[test]
fn every_proper_prefix_is_refused() {
    for fixture in FIXTURES {
        assert!(Metainfo::parse(fixture).is_ok());
        for end in 0..fixture.len() {
            assert!(Metainfo::parse(&fixture[..end]).is_err(), "a {end}-byte prefix was accepted");
        }
    }
}

/// Bytes that matter to bencode, plus a few arbitrary ones.
const INTERESTING: &[u8] = b"deil0123456789:-/.\0\xff ";

#[test]
fn single_byte_mutations_return_ok_or_err() {
    let mut tried = 0usize;
    for fixture in FIXTURES {
        let mut copy = fixture.to_vec();
        for at in 0..fixture.len() {
            for &b in INTERESTING {
                copy[at] = b;
                let _ = Metainfo::parse(&copy);
                tried += 1;
            }
            copy[at] = fixture[at];
            // Deletion and insertion shift everything after `at`.
            let _ = Metainfo::parse(&[&fixture[..at], &fixture[at + 1..]].concat());
            let _ = Metainfo::parse(&[&fixture[..at], b"0", &fixture[at..]].concat());
        }
    }
    assert!(tried > 50_000, "{tried}");
}

#[test]
fn random_mutations_return_ok_or_err() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for fixture in FIXTURES {
        for _ in 0..2000 {
            let mut copy = fixture.to_vec();
            for _ in 0..1 + next() % 8 {
                let at = (next() % copy.len() as u64) as usize;
                copy[at] = next() as u8;
            }
            let _ = Metainfo::parse(&copy);
        }
    }
}
