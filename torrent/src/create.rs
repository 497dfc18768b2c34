//! Writing v1 (BEP 3) torrents: [`TorrentBuilder`].

use std::io::{self, Read};

use octotracker_core::bencode::Encoder;
use sha1::{Digest, Sha1};

use crate::path::unsafe_component;

/// The smallest piece length [`TorrentBuilder`] writes (and the default's lower bound): 16 KiB.
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;
/// The largest piece length [`TorrentBuilder`] writes (and the default's upper bound): 16 MiB.
pub const MAX_PIECE_LENGTH: u64 = 16 * 1024 * 1024;
/// The default piece length aims at no more than this many pieces.
const TARGET_MAX_PIECES: u64 = 2000;

/// The piece length for `total` bytes when none is given: the smallest power of two from
/// 16 KiB to 16 MiB that keeps the torrent at 2000 pieces or fewer (so between 1000 and 2000
/// pieces from 32 MiB up to 31 GiB; beyond that, 16 MiB pieces).
///
/// ```
/// use octotracker_torrent::default_piece_length;
/// assert_eq!(default_piece_length(1), 16 * 1024);
/// assert_eq!(default_piece_length(1 << 30), 1 << 20); // 1 GiB: 1024 pieces of 1 MiB
/// assert_eq!(default_piece_length(1 << 50), 16 << 20);
/// ```
pub fn default_piece_length(total: u64) -> u64 {
    let mut piece = MIN_PIECE_LENGTH;
    while piece < MAX_PIECE_LENGTH && total.div_ceil(piece) > TARGET_MAX_PIECES {
        piece *= 2;
    }
    piece
}

/// Why a torrent could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// A piece length that is not a power of two from 16 KiB to 16 MiB.
    #[error("piece length {0} is not a power of two between 16384 (16 KiB) and 16777216 (16 MiB)")]
    BadPieceLength(u64),
    /// A name or path component a torrent may not carry.
    #[error("{path:?} cannot be a name in a torrent: {reason}")]
    BadName {
        /// The offending name.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A directory torrent without files.
    #[error("no files to put in the torrent")]
    NoFiles,
    /// Files that add up to zero bytes: there is nothing to hash.
    #[error("the content is empty (0 bytes): nothing to hash")]
    EmptyContent,
    /// The same path twice.
    #[error("{0} is listed twice")]
    Duplicate(String),
    /// Files whose lengths add up to more than a torrent can describe.
    #[error("the content is too large")]
    TooLarge,
    /// A file could not be read (or listed, by [`disk`](crate::disk)).
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// A file's size is not the one announced to the builder (it changed while being hashed).
    #[error("{path} changed while being hashed: expected {expected} bytes, read {actual}")]
    SizeChanged {
        /// The file.
        path: String,
        /// The length given to the builder.
        expected: u64,
        /// What was read (at most one byte more than expected).
        actual: u64,
    },
    /// The input of [`disk::scan`](crate::disk::scan) is an empty directory (or holds only
    /// empty directories).
    #[error("{0} is an empty directory")]
    EmptyDirectory(String),
    /// The input of [`disk::scan`](crate::disk::scan) (or something inside it) is neither a
    /// regular file nor a directory, or is a symbolic link to a directory (not followed).
    #[error("{0}: not a regular file or directory")]
    NotAFile(String),
    /// A file name that is not UTF-8.
    #[error("{0}: the name is not valid UTF-8")]
    NotUtf8(String),
}

/// One file of a directory torrent, its path relative to the directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileSpec {
    /// The path components below the torrent's directory (empty for a single-file torrent).
    pub path: Vec<String>,
    /// Its size in bytes.
    pub length: u64,
}

/// Makes a v1 torrent. Files are sorted by path (component by component) and hashed in that
/// order; the output's dictionary keys are in the sorted order bencode requires.
///
/// The builder knows the names and sizes; [`build`](Self::build) asks the caller to open each
/// file and reads it through [`std::io::Read`]. [`disk::scan`](crate::disk::scan) fills a builder
/// from the file system and [`disk::build`](crate::disk::build) opens the files.
#[derive(Debug, Clone)]
pub struct TorrentBuilder {
    name: String,
    single_file: bool,
    files: Vec<FileSpec>,
    announce: Vec<String>,
    piece_length: Option<u64>,
    private: bool,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
}

impl TorrentBuilder {
    /// A torrent of one file named `name`, `length` bytes long.
    pub fn single_file(name: impl Into<String>, length: u64) -> Self {
        let mut builder = Self::directory(name);
        builder.single_file = true;
        builder.files.push(FileSpec { path: Vec::new(), length });
        builder
    }

    /// A torrent of a directory named `name`; add its files with [`file`](Self::file).
    pub fn directory(name: impl Into<String>) -> Self {
        TorrentBuilder {
            name: name.into(),
            single_file: false,
            files: Vec::new(),
            announce: Vec::new(),
            piece_length: None,
            private: false,
            comment: None,
            created_by: None,
            creation_date: None,
        }
    }

    /// Adds a file to a directory torrent: its path below the directory and its size.
    /// (On a single-file torrent, this turns it into a directory torrent.)
    pub fn file(mut self, path: Vec<String>, length: u64) -> Self {
        if self.single_file {
            self.single_file = false;
            self.files.clear();
        }
        self.files.push(FileSpec { path, length });
        self
    }

    /// Renames the torrent (the suggested file or directory name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds a tracker. The first one is `announce`; with several, `announce-list` (BEP 12) also
    /// lists each in a tier of its own, tried in the order given.
    pub fn announce(mut self, url: impl Into<String>) -> Self {
        self.announce.push(url.into());
        self
    }

    /// Sets the piece length (a power of two from 16 KiB to 16 MiB); by default
    /// [`default_piece_length`] of the total size.
    pub fn piece_length(mut self, bytes: u64) -> Self {
        self.piece_length = Some(bytes);
        self
    }

    /// Marks the torrent private (BEP 27): clients then find peers only through the tracker.
    pub fn private(mut self, private: bool) -> Self {
        self.private = private;
        self
    }

    /// Sets the free-text `comment`.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.comment = Some(text.into());
        self
    }

    /// Sets `created by`.
    pub fn created_by(mut self, program: impl Into<String>) -> Self {
        self.created_by = Some(program.into());
        self
    }

    /// Sets `creation date`, seconds since the Unix epoch (absent by default, which keeps the
    /// output reproducible).
    pub fn creation_date(mut self, unix_seconds: i64) -> Self {
        self.creation_date = Some(unix_seconds);
        self
    }

    /// The files, as given so far (a single-file torrent has one with an empty path).
    pub fn files(&self) -> &[FileSpec] {
        &self.files
    }

    /// Hashes the content and returns the `.torrent` bytes. `open` is called once per file, in
    /// the sorted order, with its path below the torrent's directory (an empty path for a
    /// single-file torrent); each file must yield exactly the length given for it.
    pub fn build<R: Read>(&self, mut open: impl FnMut(&[String]) -> io::Result<R>) -> Result<Vec<u8>, CreateError> {
        check_name(&self.name)?;
        let mut files = self.files.clone();
        files.sort();
        if files.is_empty() {
            return Err(CreateError::NoFiles);
        }
        for pair in files.windows(2) {
            if pair[0].path == pair[1].path {
                return Err(CreateError::Duplicate(pair[0].path.join("/")));
            }
        }
        for file in &files {
            if !self.single_file && file.path.is_empty() {
                return Err(CreateError::BadName { path: String::new(), reason: "empty path" });
            }
            for c in &file.path {
                check_name(c)?;
            }
        }
        let total = files
            .iter()
            .try_fold(0u64, |sum, f| sum.checked_add(f.length))
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or(CreateError::TooLarge)?;
        if total == 0 {
            return Err(CreateError::EmptyContent);
        }
        let piece_length = self.piece_length.unwrap_or_else(|| default_piece_length(total));
        if !(MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&piece_length) || !piece_length.is_power_of_two() {
            return Err(CreateError::BadPieceLength(piece_length));
        }

        let mut hasher = PieceHasher::new(piece_length);
        let mut buf = vec![0u8; 64 * 1024];
        for file in &files {
            let shown = if file.path.is_empty() { self.name.clone() } else { file.path.join("/") };
            let io_error = |source| CreateError::Io { path: shown.clone(), source };
            // One byte more than expected is enough to notice a file that grew.
            let mut reader = open(&file.path).map_err(io_error)?.take(file.length.saturating_add(1));
            let mut read = 0u64;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_error(e)),
                };
                read += n as u64;
                hasher.update(&buf[..n]);
            }
            if read != file.length {
                return Err(CreateError::SizeChanged { path: shown, expected: file.length, actual: read });
            }
        }
        let pieces = hasher.finish();
        Ok(self.encode(&files, total, piece_length, &pieces))
    }

    fn encode(&self, files: &[FileSpec], total: u64, piece_length: u64, pieces: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(pieces.len() + 256 + files.len() * 64);
        let mut e = Encoder::new(&mut out);
        e.dict();
        if let Some(first) = self.announce.first() {
            e.key("announce").bytes(first.as_bytes());
        }
        if self.announce.len() > 1 {
            e.key("announce-list").list();
            for url in &self.announce {
                e.list().bytes(url.as_bytes()).end();
            }
            e.end();
        }
        if let Some(comment) = &self.comment {
            e.key("comment").bytes(comment.as_bytes());
        }
        if let Some(program) = &self.created_by {
            e.key("created by").bytes(program.as_bytes());
        }
        if let Some(date) = self.creation_date {
            e.key("creation date").int(date);
        }
        e.key("info").dict();
        if self.single_file {
            e.key("length").uint(total);
        } else {
            e.key("files").list();
            for file in files {
                e.dict().key("length").uint(file.length).key("path").list();
                for c in &file.path {
                    e.bytes(c.as_bytes());
                }
                e.end().end();
            }
            e.end();
        }
        e.key("name").bytes(self.name.as_bytes());
        e.key("piece length").uint(piece_length);
        e.key("pieces").bytes(pieces);
        if self.private {
            e.key("private").int(1);
        }
        e.end().end();
        out
    }
}

fn check_name(name: &str) -> Result<(), CreateError> {
    match unsafe_component(name.as_bytes()) {
        Some(reason) => Err(CreateError::BadName { path: name.to_owned(), reason }),
        None => Ok(()),
    }
}

/// SHA-1 of each `piece_length` bytes of a stream that runs across file boundaries.
struct PieceHasher {
    piece_length: u64,
    in_piece: u64,
    current: Sha1,
    pieces: Vec<u8>,
}

impl PieceHasher {
    fn new(piece_length: u64) -> Self {
        PieceHasher { piece_length, in_piece: 0, current: Sha1::new(), pieces: Vec::new() }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = self.piece_length - self.in_piece;
            let take = usize::try_from(room).map_or(data.len(), |room| room.min(data.len()));
            self.current.update(&data[..take]);
            self.in_piece += take as u64;
            data = &data[take..];
            if self.in_piece == self.piece_length {
                let digest = std::mem::replace(&mut self.current, Sha1::new()).finalize();
                self.pieces.extend_from_slice(&digest);
                self.in_piece = 0;
            }
        }
    }

    /// The concatenated hashes, the last (short) piece included.
    fn finish(mut self) -> Vec<u8> {
        if self.in_piece > 0 {
            self.pieces.extend_from_slice(&self.current.finalize());
        }
        self.pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_span_file_boundaries() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut split = PieceHasher::new(MIN_PIECE_LENGTH);
        for chunk in data.chunks(7_777) {
            split.update(chunk);
        }
        let expected: Vec<u8> = data.chunks(MIN_PIECE_LENGTH as usize).flat_map(|p| Sha1::digest(p).to_vec()).collect();
        assert_eq!(split.finish(), expected);
    }

    #[test]
    fn default_piece_length_keeps_between_1000_and_2000_pieces() {
        for shift in 25..=34 {
            let total = (1u64 << shift) + 12_345;
            let pieces = total.div_ceil(default_piece_length(total));
            assert!((1000..=2000).contains(&pieces), "{total} bytes: {pieces} pieces");
        }
        assert_eq!(default_piece_length(0), MIN_PIECE_LENGTH);
        assert_eq!(default_piece_length(u64::MAX), MAX_PIECE_LENGTH);
    }
}
