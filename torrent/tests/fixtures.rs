//! Torrents made by python3-libtorrent 2.0 (`fixtures/make_fixtures.py`), and the info hashes
//! libtorrent computed for them (`lt.torrent_info(path).info_hashes()`).

use octotracker_torrent::{InfoHash, Metainfo, TorrentBuilder, Version};

struct Fixture {
    file: &'static str,
    bytes: &'static [u8],
    v1: Option<&'static str>,
    v2: Option<&'static str>,
}

macro_rules! fixture {
    ($file:literal, $v1:expr, $v2:expr) => {
        Fixture { file: $file, bytes: include_bytes!(concat!("fixtures/", $file)), v1: $v1, v2: $v2 }
    };
}

const FIXTURES: &[Fixture] = &[
    fixture!("v1-single.torrent", Some("0f6f8e584b9b146ae9b7d27eeb36f54a5c6b89c2"), None),
    fixture!("v1-multi.torrent", Some("035a87d3bdc11c0fc65ecadf8b66833296e6f8a6"), None),
    fixture!(
        "hybrid-single.torrent",
        Some("02aa73fe9dc4fc67d5ca836a96626dbe09721239"),
        Some("0d2bdd8867ce1aaccf13a425477893ab30f1651f308e4195be0a833f253fc3fd")
    ),
    fixture!(
        "hybrid-multi.torrent",
        Some("0f40765b7a8e7e505461f26cb091927894021a2c"),
        Some("84398fc70a79a1107dd035fc81c73b82e058cdc373e917f87b506cad05ba299b")
    ),
    fixture!("v2-single.torrent", None, Some("5b4b29276dbb7a7092adb2616ccbc4c012047d6a3b2ac390157d1d08fa42d4fb")),
    fixture!("v2-multi.torrent", None, Some("5faefb29092606f8f415eddad59bf25a8804347121cda96bdf4ef6d344975791")),
];

/// The content `make_fixtures.py` hashed: file number `k` of `n` bytes.
fn content(k: usize, n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + k) % 251) as u8).collect()
}

const MULTI_FILES: [(&str, u64); 3] = [("album/a.bin", 40_000), ("album/sub/b.bin", 30_000), ("album/sub/c.txt", 5)];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse(f: &Fixture) -> Metainfo {
    Metainfo::parse(f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.file))
}

#[test]
fn info_hashes_match_libtorrent() {
    for f in FIXTURES {
        let t = parse(f);
        assert_eq!(t.info_hash_v1().map(|h| h.to_string()).as_deref(), f.v1, "{}", f.file);
        assert_eq!(t.info_hash_v2().map(|h| hex(&h)).as_deref(), f.v2, "{}", f.file);
    }
}

#[test]
fn peers_announce_with_the_v1_hash_and_the_v2_hash_cut_to_20_bytes() {
    // BEP 52: "the truncated SHA-256 hash is used in the tracker protocol".
    for f in FIXTURES {
        let t = parse(f);
        let expected: Vec<InfoHash> =
            f.v1.iter()
                .map(|h| h.to_string())
                .chain(f.v2.map(|h| h[..40].to_owned()))
                .map(|h| h.parse().unwrap())
                .collect();
        assert_eq!(t.info_hashes(), expected, "{}", f.file);
    }
}

#[test]
fn versions_are_told_apart() {
    let versions: Vec<Version> = FIXTURES.iter().map(|f| parse(f).version()).collect();
    use Version::*;
    assert_eq!(versions, [V1, V1, Hybrid, Hybrid, V2, V2]);
}

#[test]
fn single_file_torrents_have_one_file_named_after_the_torrent() {
    for f in FIXTURES.iter().filter(|f| f.file.ends_with("single.torrent")) {
        let t = parse(f);
        assert_eq!(t.name(), "hello.bin", "{}", f.file);
        assert_eq!(t.length(), 100_000, "{}", f.file);
        assert!(!t.is_multi_file(), "{}", f.file);
        assert_eq!(t.files().len(), 1, "{}", f.file);
        assert_eq!(t.files()[0].path, ["hello.bin"], "{}", f.file);
        assert_eq!(t.piece_length(), 16384, "{}", f.file);
        assert_eq!(t.announce(), Some("http://127.0.0.1:6969/announce"), "{}", f.file);
        assert_eq!(t.created_by(), Some("libtorrent fixture"), "{}", f.file);
    }
}

#[test]
fn multi_file_torrents_list_their_files_without_pad_files() {
    for f in FIXTURES.iter().filter(|f| f.file.ends_with("multi.torrent")) {
        let t = parse(f);
        assert_eq!(t.name(), "album", "{}", f.file);
        assert!(t.is_multi_file(), "{}", f.file);
        let files: Vec<(String, u64)> = t.files().iter().map(|e| (e.path_string(), e.length)).collect();
        let expected: Vec<(String, u64)> = MULTI_FILES.iter().map(|(p, l)| (p.to_string(), *l)).collect();
        assert_eq!(files, expected, "{}", f.file);
        assert_eq!(t.length(), 70_005, "{}", f.file);
    }
}

#[test]
fn the_builder_makes_the_same_v1_torrents_as_libtorrent() {
    let single = content(0, 100_000);
    let bytes = TorrentBuilder::single_file("hello.bin", 100_000)
        .announce("http://127.0.0.1:6969/announce")
        .piece_length(16384)
        .build(|_| Ok(&single[..]))
        .unwrap();
    assert_eq!(Metainfo::parse(&bytes).unwrap().info_hash_v1(), parse(&FIXTURES[0]).info_hash_v1());

    let files: Vec<Vec<u8>> = MULTI_FILES.iter().enumerate().map(|(k, (_, n))| content(k, *n as usize)).collect();
    // Added out of order: the builder sorts.
    let mut builder = TorrentBuilder::directory("album").announce("http://127.0.0.1:6969/announce").piece_length(16384);
    for k in [2, 0, 1] {
        let path = MULTI_FILES[k].0.split('/').skip(1).map(str::to_owned).collect();
        builder = builder.file(path, MULTI_FILES[k].1);
    }
    let bytes = builder
        .build(|path| {
            let k = MULTI_FILES.iter().position(|(p, _)| p[6..] == path.join("/")).unwrap();
            Ok(&files[k][..])
        })
        .unwrap();
    assert_eq!(Metainfo::parse(&bytes).unwrap().info_hash_v1(), parse(&FIXTURES[1]).info_hash_v1());
}
