//! The file-system side of creating a torrent: the only module of this crate that does I/O,
//! used by `octotracker torrent create`.
//!
//! ```no_run
//! use std::path::Path;
//! use octotracker_torrent::disk;
//! let dir = Path::new("album");
//! let builder = disk::scan(dir)?.announce("http://tracker.example/announce");
//! let bytes = disk::build(&builder, dir)?;
//! std::fs::write("album.torrent", bytes).unwrap();
//! # Ok::<(), octotracker_torrent::CreateError>(())
//! ```

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::{CreateError, TorrentBuilder};

/// A builder for the file or directory at `path`, named after it, listing every regular file
/// below a directory (hidden ones included; symbolic links to files are followed, links to
/// directories are an error, so a walk cannot loop). Fails on an empty directory.
pub fn scan(path: &Path) -> Result<TorrentBuilder, CreateError> {
    let meta = fs::metadata(path).map_err(|source| io_error(path, source))?;
    let absolute = fs::canonicalize(path).map_err(|source| io_error(path, source))?;
    let name = absolute.file_name().ok_or_else(|| CreateError::NotAFile(shown(path)))?;
    let name = name.to_str().ok_or_else(|| CreateError::NotUtf8(shown(path)))?;
    if meta.is_file() {
        return Ok(TorrentBuilder::single_file(name, meta.len()));
    }
    if !meta.is_dir() {
        return Err(CreateError::NotAFile(shown(path)));
    }
    let mut builder = TorrentBuilder::directory(name);
    let mut found = Vec::new();
    walk(path, &mut Vec::new(), &mut found)?;
    if found.is_empty() {
        return Err(CreateError::EmptyDirectory(shown(path)));
    }
    for (rel, length) in found {
        builder = builder.file(rel, length);
    }
    Ok(builder)
}

/// Hashes the files of `builder` (from [`scan`] of the same `path`), reading them below `path`.
pub fn build(builder: &TorrentBuilder, path: &Path) -> Result<Vec<u8>, CreateError> {
    builder.build(|rel| open_below(path, rel))
}

/// Opens the file at `rel` (a path as [`TorrentBuilder::build`] gives it) below `path`, for
/// callers of `build` that wrap each file's reader (to count progress, for example).
pub fn open_below(path: &Path, rel: &[String]) -> io::Result<File> {
    let mut full = PathBuf::from(path);
    full.extend(rel);
    File::open(full)
}

fn walk(dir: &Path, rel: &mut Vec<String>, found: &mut Vec<(Vec<String>, u64)>) -> Result<(), CreateError> {
    let entries = fs::read_dir(dir).map_err(|source| io_error(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| io_error(dir, source))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().ok_or_else(|| CreateError::NotUtf8(shown(&path)))?;
        let kind = entry.file_type().map_err(|source| io_error(&path, source))?;
        rel.push(name.to_owned());
        if kind.is_dir() {
            walk(&path, rel, found)?;
        } else {
            // Follows a symbolic link; a link to a directory is refused below.
            let meta = fs::metadata(&path).map_err(|source| io_error(&path, source))?;
            if !meta.is_file() {
                return Err(CreateError::NotAFile(shown(&path)));
            }
            found.push((rel.clone(), meta.len()));
        }
        rel.pop();
    }
    Ok(())
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn io_error(path: &Path, source: std::io::Error) -> CreateError {
    CreateError::Io { path: shown(path), source }
}
