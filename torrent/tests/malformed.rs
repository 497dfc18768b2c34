//! Malformed `.torrent` files are refused with a reason naming what is wrong (BEP 3, BEP 52).

use octotracker_torrent::{Metainfo, TorrentError};

const PIECE: &str = "12:piece lengthi16384e";

/// `pieces` holding `n` hashes.
fn pieces(n: usize) -> String {
    format!("6:pieces{}:{}", n * 20, "h".repeat(n * 20))
}

/// A whole torrent around an `info` dictionary body (the text between `d` and `e`).
fn with_info(body: &str) -> Vec<u8> {
    format!("d8:announce3:url4:infod{body}ee").into_bytes()
}

fn single(length: &str) -> Vec<u8> {
    with_info(&format!("6:length{length}4:name1:x{PIECE}{}", pieces(1)))
}

fn err(bytes: &[u8]) -> TorrentError {
    match Metainfo::parse(bytes) {
        Ok(t) => panic!("accepted {:?}: {t:?}", bytes.escape_ascii().to_string()),
        Err(e) => e,
    }
}

fn wrong(field: &str, expected: &'static str) -> TorrentError {
    TorrentError::WrongType { field: field.into(), expected }
}

#[test]
fn the_reference_single_file_torrent_parses() {
    let t = Metainfo::parse(&single("i5e")).unwrap();
    assert_eq!((t.name(), t.length(), t.announce()), ("x", 5, Some("url")));
}

#[test]
fn bencode_errors_say_truncated_or_trailing_or_not_bencode() {
    let good = single("i5e");
    assert_eq!(err(&good[..good.len() - 1]), TorrentError::Truncated(good.len() - 1));
    assert!(matches!(err(b""), TorrentError::Truncated(0)));
    assert_eq!(err(&[&good[..], b"junk"].concat()), TorrentError::TrailingBytes(good.len()));
    assert!(matches!(err(b"<html>"), TorrentError::NotBencode(_)));
    assert!(err(b"<html>").to_string().starts_with("not bencode"));
    assert!(err(&good[..10]).to_string().starts_with("truncated"));
}

#[test]
fn the_top_level_and_info_must_be_dictionaries() {
    assert_eq!(err(b"l4:infoe"), TorrentError::NotADict);
    assert_eq!(err(b"i1e"), TorrentError::NotADict);
    assert_eq!(err(b"d8:announce3:urle"), TorrentError::Missing("info".into()));
    assert_eq!(err(b"d4:info3:abce"), wrong("info", "a dictionary"));
}

#[test]
fn v1_fields_are_checked() {
    let table: Vec<(Vec<u8>, TorrentError)> = vec![
        (with_info(&format!("6:lengthi5e{PIECE}{}", pieces(1))), TorrentError::Missing("info.name".into())),
        (with_info(&format!("6:lengthi5e4:namei1e{PIECE}{}", pieces(1))), wrong("info.name", "a string")),
        (with_info(&format!("6:lengthi5e4:name1:x{}", pieces(1))), TorrentError::Missing("info.piece length".into())),
        (
            with_info(&format!("6:lengthi5e4:name1:x12:piece length5:16384{}", pieces(1))),
            wrong("info.piece length", "an integer"),
        ),
        (
            with_info(&format!("6:lengthi5e4:name1:x12:piece lengthi0e{}", pieces(1))),
            TorrentError::BadPieceLength { value: 0, reason: "not positive" },
        ),
        (with_info(&format!("6:lengthi5e4:name1:x{PIECE}")), TorrentError::Missing("info.pieces".into())),
        (with_info(&format!("6:lengthi5e4:name1:x{PIECE}6:piecesi1e")), wrong("info.pieces", "a string")),
        (
            with_info(&format!("6:lengthi5e4:name1:x{PIECE}6:pieces19:{}", "h".repeat(19))),
            TorrentError::PiecesNotMultipleOf20(19),
        ),
        (
            with_info(&format!("6:lengthi5e4:name1:x{PIECE}{}", pieces(2))),
            TorrentError::PieceCount { found: 2, expected: 1, length: 5, piece_length: 16384 },
        ),
        (single("i-5e"), TorrentError::BadLength { field: "info.length".into(), value: -5 }),
        (single("1:5"), wrong("info.length", "an integer")),
        (with_info(&format!("4:name1:x{PIECE}{}", pieces(1))), TorrentError::NeitherLengthNorFiles),
        (with_info(&format!("5:filesle6:lengthi5e4:name1:x{PIECE}{}", pieces(1))), TorrentError::BothLengthAndFiles),
        (with_info(&format!("5:filesle4:name1:x{PIECE}{}", pieces(0))), TorrentError::NoFiles("info.files".into())),
        (with_info(&format!("5:files3:abc4:name1:x{PIECE}{}", pieces(0))), wrong("info.files", "a list")),
        (with_info(&format!("5:filesli1ee4:name1:x{PIECE}{}", pieces(0))), wrong("info.files[0]", "a dictionary")),
        (
            with_info(&format!("5:filesld4:pathl1:aeee4:name1:x{PIECE}{}", pieces(0))),
            TorrentError::Missing("info.files[0].length".into()),
        ),
        (
            with_info(&format!("5:filesld6:lengthi-1e4:pathl1:aeee4:name1:x{PIECE}{}", pieces(0))),
            TorrentError::BadLength { field: "info.files[0].length".into(), value: -1 },
        ),
        (
            with_info(&format!("5:filesld6:lengthi1eee4:name1:x{PIECE}{}", pieces(1))),
            TorrentError::Missing("info.files[0].path".into()),
        ),
        (
            with_info(&format!("5:filesld6:lengthi1e4:path1:aee4:name1:x{PIECE}{}", pieces(1))),
            wrong("info.files[0].path", "a list of strings"),
        ),
        (
            with_info(&format!("5:filesld6:lengthi1e4:pathli1eeee4:name1:x{PIECE}{}", pieces(1))),
            wrong("info.files[0].path[0]", "a string"),
        ),
        (wrong_announce(b"i1e"), wrong("announce", "a string")),
        (wrong_announce_list(b"l3:urle"), wrong("announce-list[0]", "a list of strings")),
        (
            with_info(&format!("6:lengthi5e4:name1:x{PIECE}{}7:private3:yes", pieces(1))),
            wrong("info.private", "an integer"),
        ),
    ];
    for (bytes, expected) in table {
        assert_eq!(err(&bytes), expected, "{}", bytes.escape_ascii());
    }
}

fn wrong_announce(value: &[u8]) -> Vec<u8> {
    let info = format!("4:infod6:lengthi5e4:name1:x{PIECE}{}e", pieces(1));
    [&b"d8:announce"[..], value, info.as_bytes(), b"e"].concat()
}

fn wrong_announce_list(value: &[u8]) -> Vec<u8> {
    let info = format!("4:infod6:lengthi5e4:name1:x{PIECE}{}e", pieces(1));
    [&b"d13:announce-list"[..], value, info.as_bytes(), b"e"].concat()
}

#[test]
fn path_components_cannot_escape_the_download_directory() {
    let cases: [(&str, &str, &str); 6] = [
        ("0:", "", "empty"),
        ("2:..", "..", "a relative directory reference"),
        ("1:.", ".", "a relative directory reference"),
        ("5:a/b/c", "a/b/c", "contains '/'"),
        ("9:../../etc", "../../etc", "contains '/'"),
        ("3:a\0b", "a\0b", "contains NUL"),
    ];
    for (encoded, component, reason) in cases {
        let in_path = with_info(&format!("5:filesld6:lengthi1e4:pathl1:d{encoded}eee4:name1:x{PIECE}{}", pieces(1)));
        assert_eq!(
            err(&in_path),
            TorrentError::BadPathComponent {
                field: "info.files[0].path[1]".into(),
                component: component.into(),
                reason
            }
        );
        let as_name = with_info(&format!("6:lengthi5e4:name{encoded}{PIECE}{}", pieces(1)));
        assert_eq!(
            err(&as_name),
            TorrentError::BadPathComponent { field: "info.name".into(), component: component.into(), reason }
        );
    }
    let empty_path = with_info(&format!("5:filesld6:lengthi1e4:pathleee4:name1:x{PIECE}{}", pieces(1)));
    assert!(matches!(err(&empty_path), TorrentError::BadPathComponent { reason: "the path is empty", .. }));
}

/// A v2 `info` body: `meta version` 2 and the given `file tree` value.
fn v2(tree: &str, piece_length: &str) -> Vec<u8> {
    with_info(&format!("9:file tree{tree}12:meta versioni2e4:name1:x12:piece length{piece_length}"))
}

const ROOT: &str = "32:rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";

#[test]
fn v2_file_trees_are_checked() {
    let ok = v2(&format!("d1:xd0:d6:lengthi5e11:pieces root{ROOT}eee"), "i16384e");
    let t = Metainfo::parse(&ok).unwrap();
    assert_eq!((t.files()[0].path_string(), t.length(), t.info_hash_v1()), ("x".into(), 5, None));

    let tree = "info.file tree";
    let table: Vec<(Vec<u8>, TorrentError)> = vec![
        (
            with_info("12:meta versioni2e4:name1:x12:piece lengthi16384e"),
            TorrentError::Missing("info.file tree".into()),
        ),
        (v2("le", "i16384e"), wrong(tree, "a dictionary")),
        (v2("de", "i16384e"), TorrentError::NoFiles(tree.into())),
        (
            v2("d1:xdee", "i16384e"),
            TorrentError::BadFileTree { field: format!("{tree}/x"), reason: "an empty directory" },
        ),
        (
            v2("d1:xi1ee", "i16384e"),
            TorrentError::BadFileTree { field: format!("{tree}/x"), reason: "not a dictionary" },
        ),
        (
            v2("d1:xd0:d6:lengthi5eeee", "i16384e"),
            TorrentError::BadPiecesRoot { field: format!("{tree}/x.pieces root"), len: 0 },
        ),
        (
            v2("d1:xd0:d6:lengthi5e11:pieces root3:abceee", "i16384e"),
            TorrentError::BadPiecesRoot { field: format!("{tree}/x.pieces root"), len: 3 },
        ),
        (
            v2(&format!("d1:xd0:d6:lengthi-5e11:pieces root{ROOT}eee"), "i16384e"),
            TorrentError::BadLength { field: format!("{tree}/x.length"), value: -5 },
        ),
        (
            v2(&format!("d2:..d0:d6:lengthi5e11:pieces root{ROOT}eee"), "i16384e"),
            TorrentError::BadPathComponent {
                field: format!("{tree}/.."),
                component: "..".into(),
                reason: "a relative directory reference",
            },
        ),
        (
            v2("d1:xd0:d6:lengthi0ee1:yi1eee", "i16384e"),
            TorrentError::BadFileTree {
                field: format!("{tree}/x"),
                reason: "a file node (key \"\") must be the only key of its dictionary",
            },
        ),
        (
            v2("d1:xd0:d6:lengthi0eeee", "i1000e"),
            TorrentError::BadPieceLength {
                value: 1000,
                reason: "a v2 piece length must be a power of two of at least 16 KiB",
            },
        ),
        (with_info("9:file treede12:meta versioni3e4:name1:x12:piece lengthi16384e"), TorrentError::BadMetaVersion(3)),
        (
            with_info("9:file treede12:meta version1:24:name1:x12:piece lengthi16384e"),
            wrong("info.meta version", "an integer"),
        ),
    ];
    for (bytes, expected) in table {
        assert_eq!(err(&bytes), expected, "{}", bytes.escape_ascii());
    }
}

#[test]
fn a_hybrid_whose_v1_and_v2_halves_disagree_is_refused() {
    let bytes = with_info(&format!(
        "9:file treed1:xd0:d6:lengthi6e11:pieces root{ROOT}eee6:lengthi5e12:meta versioni2e4:name1:x{PIECE}{}",
        pieces(1)
    ));
    assert_eq!(err(&bytes), TorrentError::HybridMismatch("v1 has x (5 bytes) where v2 has x (6 bytes)".into()));
}

#[test]
fn messages_name_the_field() {
    let e = err(&with_info(&format!("5:filesld6:lengthi1e4:pathl2:..eee4:name1:x{PIECE}{}", pieces(1))));
    assert_eq!(
        e.to_string(),
        "`info.files[0].path[0]` is an unsafe path component \"..\": a relative directory reference"
    );
    assert_eq!(err(b"d4:info3:abce").to_string(), "`info` is not a dictionary");
}
