//! # octotracker-redis-module
//!
//! A Redis module (a `cdylib`: `redis-server --loadmodule liboctotracker_redis_module.so`) with a
//! native data type for one swarm and the commands the Redis backend's module engine sends: an
//! announce, a scrape or an expiry is one command on one key (every family of the swarm, WebRTC
//! peers included), where the Lua engine runs a script over eight keys. Replies are byte for byte
//! the Lua script's. Module version 2 (the one-key swarm with WebRTC sets, encoding 2) is what
//! the backend requires.
//!
//! ```text
//!  commands.rs   OCTO.ANNOUNCE / SCRAPE / EXPIRE / RESTORE: arguments, the key, replies
//!     │
//!  swarm.rs      Swarm: the Lua script's rules on native sets (sets.rs: one vector while small,
//!     │          then one per set, peer_set.rs), with an address
//!     │          index for large swarms (index.rs) and one family classifier (family.rs)
//!  encoding.rs   the versioned serialized form (RDB, AOF rewrite, full sync)
//!  ffi.rs        registration and the type's callbacks (RDB load/save, AOF rewrite, MEMORY
//!                USAGE, free): the crate's only `unsafe`
//! ```
//!
//! Loads on Redis 7.0 and later: built with the crate's `min-redis-compatibility-version-6-2` level (its 7-0 level
//! needs an API that only Redis 7.2 has).

// Unit tests build without the registration (see `ffi.rs`), so the commands go unused there.
#[cfg_attr(test, allow(dead_code))]
mod commands;
mod encoding;
mod family;
#[cfg_attr(test, allow(dead_code))]
mod ffi;
mod index;
mod peer_set;
mod sets;
mod swarm;

#[cfg(test)]
mod swarm_tests;
