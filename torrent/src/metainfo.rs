//! A parsed `.torrent` file ([`Metainfo`]) and its info hashes.

use octotracker_core::InfoHash;
use octotracker_core::bencode::{self, Value};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::TorrentError;
use crate::file_tree::{self, TreeFile};
use crate::path::unsafe_component;

/// One file of a torrent (BEP 47 pad files of hybrid torrents are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Where the file goes, relative to the download directory: `[name]` for a single-file
    /// torrent, `[name, dir…, file]` for a multi-file one. Names that are not UTF-8 are
    /// decoded lossily.
    pub path: Vec<String>,
    /// Its size in bytes.
    pub length: u64,
}

impl FileEntry {
    /// The path joined with `/`.
    pub fn path_string(&self) -> String {
        self.path.join("/")
    }
}

/// Which BitTorrent protocol versions a torrent supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// BEP 3: `pieces` and `length` or `files`; one SHA-1 info hash.
    V1,
    /// BEP 52: `meta version` 2 and a `file tree`; one SHA-256 info hash.
    V2,
    /// Both at once (BEP 52 "hybrid"): two info hashes for the same `info` dictionary.
    Hybrid,
}

/// A `.torrent` file: what it holds and the hashes that name its swarm.
///
/// ```
/// use octotracker_torrent::{Metainfo, TorrentError};
/// let err = Metainfo::parse(b"d8:announce3:urle").unwrap_err();
/// assert_eq!(err, TorrentError::Missing("info".into()));
/// assert_eq!(err.to_string(), "missing `info`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    name: String,
    length: u64,
    files: Vec<FileEntry>,
    multi_file: bool,
    piece_length: u64,
    private: bool,
    announce: Option<String>,
    announce_list: Vec<Vec<String>>,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
    info_hash_v1: Option<InfoHash>,
    info_hash_v2: Option<[u8; 32]>,
}

impl Metainfo {
    /// Parses a whole `.torrent` file. Strict about what determines the content and the info
    /// hashes (types, lengths, piece counts, path components, `meta version`); lenient about the
    /// informational `comment`, `created by` and `creation date`, which are dropped when they have
    /// the wrong type. The info hashes are computed over the exact bytes of `info` as they appear
    /// in the file, whatever their key order. v2 `piece layers` are not verified.
    pub fn parse(bytes: &[u8]) -> Result<Metainfo, TorrentError> {
        let root = bencode::decode(bytes)?;
        if !matches!(root, Value::Dict(_)) {
            return Err(TorrentError::NotADict);
        }
        let info_entry = root.entry("info").ok_or_else(|| missing("info"))?;
        let info = &info_entry.value;
        if !matches!(info, Value::Dict(_)) {
            return Err(wrong_type("info", "a dictionary"));
        }

        let name = component(info, "name", "info.name")?;
        let piece_length =
            int(info, "piece length", "info.piece length")?.ok_or_else(|| missing("info.piece length"))?;
        if piece_length <= 0 {
            return Err(TorrentError::BadPieceLength { value: piece_length, reason: "not positive" });
        }
        let is_v2 = match info.get("meta version") {
            None => false,
            Some(Value::Int(2)) => true,
            Some(Value::Int(n)) => return Err(TorrentError::BadMetaVersion(*n)),
            Some(_) => return Err(wrong_type("info.meta version", "an integer")),
        };
        let is_v1 = !is_v2 || ["pieces", "length", "files"].iter().any(|k| info.get(k).is_some());

        let v1 = if is_v1 { Some(parse_v1(info, name, piece_length as u64)?) } else { None };
        let v2 = if is_v2 {
            if !piece_length_is_v2(piece_length) {
                return Err(TorrentError::BadPieceLength {
                    value: piece_length,
                    reason: "a v2 piece length must be a power of two of at least 16 KiB",
                });
            }
            let tree = info.get("file tree").ok_or_else(|| missing("info.file tree"))?;
            if let Some(layers) = root.get("piece layers")
                && !matches!(layers, Value::Dict(_))
            {
                return Err(wrong_type("piece layers", "a dictionary"));
            }
            let v1_multi = v1.as_ref().map(|v1| v1.multi_file);
            Some(v2_files(name, file_tree::parse(tree)?, v1_multi))
        } else {
            None
        };

        let (files, multi_file) = match (&v1, v2) {
            (Some(v1), Some(v2)) => {
                check_hybrid(&v1.files, &v2.0)?;
                v2
            }
            (None, Some(v2)) => v2,
            (Some(v1), None) => (v1.files.clone(), v1.multi_file),
            // Cannot happen: without `meta version` 2 the torrent is parsed as v1.
            (None, None) => return Err(missing("info.pieces")),
        };
        let length = total_length(&files, "info")?;

        let private = match info.get("private") {
            None => false,
            Some(Value::Int(n)) => *n != 0,
            Some(_) => return Err(wrong_type("info.private", "an integer")),
        };
        let announce = match root.get("announce") {
            None => None,
            Some(Value::Bytes(b)) => Some(lossy(b)),
            Some(_) => return Err(wrong_type("announce", "a string")),
        };
        let announce_list = parse_announce_list(&root)?;

        let raw = info_entry.raw;
        Ok(Metainfo {
            name: lossy(name),
            length,
            files,
            multi_file,
            piece_length: piece_length as u64,
            private,
            announce,
            announce_list,
            comment: root.get("comment").and_then(Value::as_bytes).map(lossy),
            created_by: root.get("created by").and_then(Value::as_bytes).map(lossy),
            creation_date: root.get("creation date").and_then(Value::as_int),
            info_hash_v1: is_v1.then(|| InfoHash(Sha1::digest(raw).into())),
            info_hash_v2: is_v2.then(|| Sha256::digest(raw).into()),
        })
    }

    /// The suggested name of the file (single-file) or directory (multi-file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The total size of the content in bytes (without pad files).
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The files, in the torrent's order; a single-file torrent has one, whose path is `[name]`.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Whether the content is a directory (`files` in v1; a `file tree` with a directory or
    /// several files in v2).
    pub fn is_multi_file(&self) -> bool {
        self.multi_file
    }

    /// Bytes per piece.
    pub fn piece_length(&self) -> u64 {
        self.piece_length
    }

    /// BEP 27: peers only from the tracker (no DHT, no peer exchange).
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// The `announce` URL, if any.
    pub fn announce(&self) -> Option<&str> {
        self.announce.as_deref()
    }

    /// BEP 12 `announce-list` tiers (empty when absent; empty tiers dropped).
    pub fn announce_list(&self) -> &[Vec<String>] {
        &self.announce_list
    }

    /// The free-text `comment`, if any.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// The program that made the file (`created by`), if named.
    pub fn created_by(&self) -> Option<&str> {
        self.created_by.as_deref()
    }

    /// `creation date`, seconds since the Unix epoch, if present.
    pub fn creation_date(&self) -> Option<i64> {
        self.creation_date
    }

    /// v1, v2 or hybrid.
    pub fn version(&self) -> Version {
        match (self.info_hash_v1, self.info_hash_v2) {
            (Some(_), Some(_)) => Version::Hybrid,
            (None, Some(_)) => Version::V2,
            _ => Version::V1,
        }
    }

    /// SHA-1 of the exact bytes of `info`: present for v1 and hybrid torrents.
    pub fn info_hash_v1(&self) -> Option<InfoHash> {
        self.info_hash_v1
    }

    /// SHA-256 of the exact bytes of `info`: present for v2 and hybrid torrents.
    pub fn info_hash_v2(&self) -> Option<[u8; 32]> {
        self.info_hash_v2
    }

    /// The hashes peers announce this torrent with: the v1 hash and/or the v2 hash truncated to
    /// its first 20 bytes (BEP 52), v1 first. A hybrid torrent's peers may use either, so a
    /// tracker allowing the torrent allows both.
    pub fn info_hashes(&self) -> Vec<InfoHash> {
        let v2 = self.info_hash_v2.map(|h| {
            let mut truncated = [0u8; 20];
            truncated.copy_from_slice(&h[..20]);
            InfoHash(truncated)
        });
        self.info_hash_v1.into_iter().chain(v2).collect()
    }
}

/// The v1 half of `info`.
struct V1Files {
    /// Without pad files.
    files: Vec<FileEntry>,
    multi_file: bool,
}

fn parse_v1(info: &Value<'_>, name: &[u8], piece_length: u64) -> Result<V1Files, TorrentError> {
    let pieces = match info.get("pieces") {
        None => return Err(missing("info.pieces")),
        Some(Value::Bytes(b)) => b.len(),
        Some(_) => return Err(wrong_type("info.pieces", "a string")),
    };
    if pieces % 20 != 0 {
        return Err(TorrentError::PiecesNotMultipleOf20(pieces));
    }
    let name = lossy(name);
    let (files, all_length, multi_file) = match (info.get("length"), info.get("files")) {
        (Some(_), Some(_)) => return Err(TorrentError::BothLengthAndFiles),
        (None, None) => return Err(TorrentError::NeitherLengthNorFiles),
        (Some(_), None) => {
            let length = length(info, "length", "info.length")?;
            (vec![FileEntry { path: vec![name], length }], length, false)
        }
        (None, Some(list)) => {
            let list = list.as_list().ok_or_else(|| wrong_type("info.files", "a list"))?;
            if list.is_empty() {
                return Err(TorrentError::NoFiles("info.files".into()));
            }
            let mut files = Vec::with_capacity(list.len());
            let mut all_length = 0u64;
            for (i, file) in list.iter().enumerate() {
                let field = format!("info.files[{i}]");
                if !matches!(file, Value::Dict(_)) {
                    return Err(wrong_type(&field, "a dictionary"));
                }
                let len = length(file, "length", &format!("{field}.length"))?;
                all_length = add_length(all_length, len, &field)?;
                let path = file_path(file, &field, &name)?;
                let pad = file.get("attr").and_then(Value::as_bytes).is_some_and(|a| a.contains(&b'p'));
                if !pad {
                    files.push(FileEntry { path, length: len });
                }
            }
            (files, all_length, true)
        }
    };
    let found = (pieces / 20) as u64;
    let expected = all_length.div_ceil(piece_length);
    if found != expected {
        return Err(TorrentError::PieceCount { found, expected, length: all_length, piece_length });
    }
    Ok(V1Files { files, multi_file })
}

/// `path` of a v1 `files` entry, prefixed with the torrent's name.
fn file_path(file: &Value<'_>, field: &str, name: &str) -> Result<Vec<String>, TorrentError> {
    let field = format!("{field}.path");
    let components = match file.get("path") {
        None => return Err(missing(&field)),
        Some(Value::List(l)) => l,
        Some(_) => return Err(wrong_type(&field, "a list of strings")),
    };
    if components.is_empty() {
        return Err(TorrentError::BadPathComponent { field, component: String::new(), reason: "the path is empty" });
    }
    let mut path = Vec::with_capacity(components.len() + 1);
    path.push(name.to_owned());
    for (i, c) in components.iter().enumerate() {
        let field = format!("{field}[{i}]");
        let c = c.as_bytes().ok_or_else(|| wrong_type(&field, "a string"))?;
        check_component(c, field)?;
        path.push(lossy(c));
    }
    Ok(path)
}

/// The v2 files as [`FileEntry`]s, and whether the torrent is multi-file. A tree of one file at
/// its root is a single-file torrent, unless the v1 half says it is a directory of one file.
fn v2_files(name: &[u8], tree: Vec<TreeFile>, v1_multi: Option<bool>) -> (Vec<FileEntry>, bool) {
    let single = tree.len() == 1 && tree[0].path.len() == 1 && v1_multi != Some(true);
    let name = lossy(name);
    let files = tree
        .into_iter()
        .map(|f| {
            let path = if single { f.path } else { std::iter::once(name.clone()).chain(f.path).collect() };
            FileEntry { path, length: f.length }
        })
        .collect();
    (files, !single)
}

fn check_hybrid(v1: &[FileEntry], v2: &[FileEntry]) -> Result<(), TorrentError> {
    if v1.len() != v2.len() {
        return Err(TorrentError::HybridMismatch(format!("{} v1 files, {} v2 files", v1.len(), v2.len())));
    }
    for (a, b) in v1.iter().zip(v2) {
        if a != b {
            return Err(TorrentError::HybridMismatch(format!(
                "v1 has {} ({} bytes) where v2 has {} ({} bytes)",
                a.path_string(),
                a.length,
                b.path_string(),
                b.length
            )));
        }
    }
    Ok(())
}

fn total_length(files: &[FileEntry], field: &str) -> Result<u64, TorrentError> {
    files.iter().try_fold(0u64, |sum, f| add_length(sum, f.length, field))
}

fn add_length(sum: u64, length: u64, field: &str) -> Result<u64, TorrentError> {
    sum.checked_add(length)
        .filter(|&s| s <= i64::MAX as u64)
        .ok_or_else(|| TorrentError::BadLength { field: field.to_owned(), value: i64::MAX })
}

fn piece_length_is_v2(piece_length: i64) -> bool {
    piece_length >= 16 * 1024 && (piece_length as u64).is_power_of_two()
}

fn parse_announce_list(root: &Value<'_>) -> Result<Vec<Vec<String>>, TorrentError> {
    let Some(list) = root.get("announce-list") else { return Ok(Vec::new()) };
    let tiers = list.as_list().ok_or_else(|| wrong_type("announce-list", "a list of lists"))?;
    let mut out = Vec::new();
    for (i, tier) in tiers.iter().enumerate() {
        let urls = tier.as_list().ok_or_else(|| wrong_type(&format!("announce-list[{i}]"), "a list of strings"))?;
        let urls = urls
            .iter()
            .enumerate()
            .map(|(j, u)| {
                u.as_bytes().map(lossy).ok_or_else(|| wrong_type(&format!("announce-list[{i}][{j}]"), "a string"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !urls.is_empty() {
            out.push(urls);
        }
    }
    Ok(out)
}

/// A required string field that must be a safe path component.
fn component<'a>(dict: &Value<'a>, key: &str, field: &str) -> Result<&'a [u8], TorrentError> {
    let value = match dict.get(key) {
        None => return Err(missing(field)),
        Some(Value::Bytes(b)) => *b,
        Some(_) => return Err(wrong_type(field, "a string")),
    };
    check_component(value, field.to_owned())?;
    Ok(value)
}

pub(crate) fn check_component(c: &[u8], field: String) -> Result<(), TorrentError> {
    match unsafe_component(c) {
        Some(reason) => Err(TorrentError::BadPathComponent { field, component: lossy(c), reason }),
        None => Ok(()),
    }
}

/// An optional integer field.
pub(crate) fn int(dict: &Value<'_>, key: &str, field: &str) -> Result<Option<i64>, TorrentError> {
    match dict.get(key) {
        None => Ok(None),
        Some(Value::Int(n)) => Ok(Some(*n)),
        Some(_) => Err(wrong_type(field, "an integer")),
    }
}

/// A required non-negative integer field.
pub(crate) fn length(dict: &Value<'_>, key: &str, field: &str) -> Result<u64, TorrentError> {
    let n = int(dict, key, field)?.ok_or_else(|| missing(field))?;
    u64::try_from(n).map_err(|_| TorrentError::BadLength { field: field.to_owned(), value: n })
}

pub(crate) fn missing(field: &str) -> TorrentError {
    TorrentError::Missing(field.to_owned())
}

pub(crate) fn wrong_type(field: &str, expected: &'static str) -> TorrentError {
    TorrentError::WrongType { field: field.to_owned(), expected }
}

pub(crate) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
