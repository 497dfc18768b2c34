//! Why bytes are not a usable `.torrent` file.

use octotracker_core::bencode::DecodeError;

/// Why [`Metainfo::parse`](crate::Metainfo::parse) refused a file. Each variant names the
/// offending field by its path, e.g. `info.files[2].path[0]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TorrentError {
    /// The input ends inside a value (a truncated download, an empty file).
    #[error("truncated: the bencode ends early at byte {0}")]
    Truncated(usize),
    /// A complete value is followed by more bytes.
    #[error("trailing garbage after the top-level dictionary at byte {0}")]
    TrailingBytes(usize),
    /// Not bencode at all (or non-canonical bencode).
    #[error("not bencode: {0}")]
    NotBencode(DecodeError),
    /// The top-level value is a string, an integer or a list.
    #[error("the top level is not a dictionary")]
    NotADict,
    /// A required field is absent.
    #[error("missing `{0}`")]
    Missing(String),
    /// A field has the wrong bencode type.
    #[error("`{field}` is not {expected}")]
    WrongType {
        /// The field's path.
        field: String,
        /// What it should be, e.g. "a dictionary".
        expected: &'static str,
    },
    /// A length (or the sum of lengths) is negative or too large.
    #[error("`{field}` is an invalid length: {value}")]
    BadLength {
        /// The field's path.
        field: String,
        /// Its value.
        value: i64,
    },
    /// `piece length` is not positive (or, for v2, not a power of two of at least 16 KiB).
    #[error("`info.piece length` {value} is invalid: {reason}")]
    BadPieceLength {
        /// The value.
        value: i64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `pieces` is not a whole number of 20-byte SHA-1 hashes.
    #[error("`info.pieces` is {0} bytes long, not a multiple of 20")]
    PiecesNotMultipleOf20(usize),
    /// `pieces` holds a number of hashes that does not match the total length.
    #[error("`info.pieces` holds {found} hashes but {length} bytes in pieces of {piece_length} need {expected}")]
    PieceCount {
        /// Hashes present.
        found: u64,
        /// Hashes needed.
        expected: u64,
        /// The total length (pad files included).
        length: u64,
        /// The piece length.
        piece_length: u64,
    },
    /// A v1 `info` has both `length` (single file) and `files` (multi-file).
    #[error("`info` has both `length` and `files`")]
    BothLengthAndFiles,
    /// A v1 `info` has neither `length` nor `files`.
    #[error("`info` has neither `length` nor `files`")]
    NeitherLengthNorFiles,
    /// A torrent without any file.
    #[error("`{0}` lists no files")]
    NoFiles(String),
    /// A file name or path component that is empty, `.`, `..`, or contains `/` or NUL.
    #[error("`{field}` is an unsafe path component {component:?}: {reason}")]
    BadPathComponent {
        /// The field's path.
        field: String,
        /// The component, lossily decoded.
        component: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `meta version` is not 2, the only version BEP 52 defines.
    #[error("`info.meta version` {0} is not supported (only 2 is)")]
    BadMetaVersion(i64),
    /// A v2 `file tree` node that is neither a file (`"": {length, pieces root}`) nor a
    /// non-empty directory.
    #[error("`{field}` is not a valid file tree node: {reason}")]
    BadFileTree {
        /// The node's path.
        field: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A v2 `pieces root` that is not 32 bytes, or absent for a non-empty file.
    #[error("`{field}` must be a 32-byte SHA-256 hash, got {len} bytes")]
    BadPiecesRoot {
        /// The field's path.
        field: String,
        /// Its length (0 when absent).
        len: usize,
    },
    /// A hybrid torrent whose v1 `files` and v2 `file tree` describe different files.
    #[error("hybrid torrent: the v1 and v2 file lists differ ({0})")]
    HybridMismatch(String),
}

impl From<DecodeError> for TorrentError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Eof(at) => TorrentError::Truncated(at),
            DecodeError::Trailing(at) => TorrentError::TrailingBytes(at),
            other => TorrentError::NotBencode(other),
        }
    }
}
