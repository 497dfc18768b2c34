//! # octotracker-torrent
//!
//! `.torrent` files for octotracker: reading them ([`Metainfo::parse`]: BEP 3 v1, BEP 52 v2
//! and hybrid torrents, with the info hashes peers announce with) and writing v1 ones
//! ([`TorrentBuilder`]).
//!
//! ```text
//!  bytes ──► Metainfo::parse ──► Metainfo { name, files, … } ──► info_hashes() ──► access control
//!                  │                                                  (v1 SHA-1, v2 SHA-256 cut to 20 bytes)
//!                  └─ octotracker_core::bencode::decode keeps the exact bytes of `info`, which are hashed
//!
//!  files ──► disk::scan ──► TorrentBuilder ──► build(open) / disk::build ──► bytes (v1)
//! ```
//!
//! Parsing is pure: callers read the file and pass its bytes. Creating a torrent must read the
//! content it hashes: [`TorrentBuilder::build`] takes a callback that opens each file as an
//! [`std::io::Read`], so it too does no I/O of its own. The one module that touches the file
//! system is [`disk`], a convenience for the `octotracker torrent create` command; library users
//! such as a torrent registry need only [`Metainfo`].
//!
//! ```
//! use octotracker_torrent::{Metainfo, TorrentBuilder};
//!
//! let content = b"hello, swarm".to_vec();
//! let bytes = TorrentBuilder::single_file("hello.txt", content.len() as u64)
//!     .announce("http://tracker.example/announce")
//!     .build(|_path| Ok(&content[..]))
//!     .unwrap();
//! let torrent = Metainfo::parse(&bytes).unwrap();
//! assert_eq!(torrent.name(), "hello.txt");
//! assert_eq!(torrent.length(), 12);
//! assert_eq!(torrent.info_hashes(), vec![torrent.info_hash_v1().unwrap()]);
//! ```

mod create;
pub mod disk;
mod error;
mod file_tree;
mod metainfo;
mod path;

pub use create::{CreateError, FileSpec, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH, TorrentBuilder, default_piece_length};
pub use error::TorrentError;
pub use metainfo::{FileEntry, Metainfo, Version};
pub use octotracker_core::InfoHash;
