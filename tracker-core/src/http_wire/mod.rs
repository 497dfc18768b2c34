//! The HTTP tracker protocol's wire format, shared by the server frontends and the client:
//! query strings in ([`parse_announce`], [`parse_scrape`], [`QueryEncoder`] for the client),
//! bencoded replies out ([`write_announce`], [`write_scrape`], [`write_failure`]).
//!
//! Query strings are read as raw bytes: `info_hash` and `peer_id` are binary and never valid
//! UTF-8, so they are percent-decoded byte by byte (either case of hex digit; a literal `+` is
//! the byte `+`, not a space).

mod query;
mod query_encode;
mod reply;

pub use query::{parse_announce, parse_scrape};
pub use query_encode::QueryEncoder;
pub use reply::{write_announce, write_failure, write_scrape};
