//! `TorrentBuilder`: what it writes and what it refuses.

use std::io;

use octotracker_torrent::{CreateError, Metainfo, TorrentBuilder};

fn zeros(n: usize) -> Vec<u8> {
    vec![0; n]
}

#[test]
fn keys_are_sorted_and_optional_fields_are_written() {
    let content = zeros(20_000);
    let bytes = TorrentBuilder::single_file("z.bin", 20_000)
        .announce("http://a/announce")
        .announce("http://b/announce")
        .comment("c")
        .created_by("me")
        .creation_date(1_700_000_000)
        .private(true)
        .build(|_| Ok(&content[..]))
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let keys = ["8:announce", "13:announce-list", "7:comment", "10:created by", "13:creation date", "4:info"];
    let at: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "top-level keys out of order: {text}");
    let info = ["6:length", "4:name", "12:piece length", "6:pieces", "7:privatei1e"];
    let at: Vec<usize> = info.iter().map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "info keys out of order: {text}");

    let t = Metainfo::parse(&bytes).unwrap();
    assert!(t.is_private());
    assert_eq!(t.announce_list(), [vec!["http://a/announce".to_owned()], vec!["http://b/announce".to_owned()]]);
    assert_eq!((t.comment(), t.created_by(), t.creation_date()), (Some("c"), Some("me"), Some(1_700_000_000)));
    // Two pieces of 16 KiB for 20 000 bytes.
    assert_eq!(t.piece_length(), 16 * 1024);
}

#[test]
fn a_file_that_is_shorter_or_longer_than_announced_is_refused() {
    for actual in [9_999, 10_001] {
        let content = zeros(actual);
        let err = TorrentBuilder::single_file("x", 10_000).build(|_| Ok(&content[..])).unwrap_err();
        assert!(
            matches!(err, CreateError::SizeChanged { expected: 10_000, actual: a, .. } if a == actual.min(10_001) as u64),
            "{err}"
        );
    }
}

#[test]
fn read_errors_name_the_file() {
    let err = TorrentBuilder::directory("d")
        .file(vec!["sub".into(), "f".into()], 5)
        .build(|_| Err::<&[u8], _>(io::Error::other("disk on fire")))
        .unwrap_err();
    assert_eq!(err.to_string(), "sub/f: disk on fire");
}

#[test]
fn bad_trees_and_options_are_refused() {
    let open = |_: &[String]| Ok(&b"abc"[..]);
    let cases: Vec<(TorrentBuilder, &str)> = vec![
        (TorrentBuilder::directory("d"), "no files to put in the torrent"),
        (TorrentBuilder::single_file("x", 0), "the content is empty (0 bytes): nothing to hash"),
        (TorrentBuilder::single_file("x", 3).piece_length(1000), "piece length 1000 is not a power of two"),
        (TorrentBuilder::single_file("x", 3).piece_length(1 << 25), "piece length 33554432 is not a power of two"),
        (TorrentBuilder::single_file("..", 3), "\"..\" cannot be a name in a torrent"),
        (TorrentBuilder::directory("d").file(vec!["a/b".into()], 3), "\"a/b\" cannot be a name in a torrent"),
        (TorrentBuilder::directory("d").file(vec![], 3), "\"\" cannot be a name in a torrent: empty path"),
        (TorrentBuilder::directory("d").file(vec!["a".into()], 3).file(vec!["a".into()], 3), "a is listed twice"),
    ];
    for (builder, message) in cases {
        let err = builder.build(open).unwrap_err().to_string();
        assert!(err.starts_with(message), "{err:?} does not start with {message:?}");
    }
}

#[test]
fn pieces_run_across_file_boundaries() {
    // 3 files of 10 000 bytes, 16 KiB pieces: 2 pieces, the first spanning files 0 and 1.
    let contents = [zeros(10_000), vec![1; 10_000], vec![2; 10_000]];
    let mut builder = TorrentBuilder::directory("d").piece_length(16 * 1024);
    for name in ["0", "1", "2"] {
        builder = builder.file(vec![name.into()], 10_000);
    }
    let bytes = builder.build(|p| Ok(&contents[p[0].parse::<usize>().unwrap()][..])).unwrap();
    let whole = contents.concat();
    let t = Metainfo::parse(&bytes).unwrap();
    assert_eq!(t.length(), 30_000);
    // The parser checked there are exactly ceil(30000 / 16384) = 2 hashes; check their values.
    use sha1::{Digest, Sha1};
    let expected: Vec<u8> = whole.chunks(16 * 1024).flat_map(|c| Sha1::digest(c).to_vec()).collect();
    assert!(bytes.windows(expected.len()).any(|w| w == expected), "piece hashes not found");
}
