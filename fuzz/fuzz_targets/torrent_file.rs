//! The .torrent parser: never panics; a parsed torrent has at least one info hash, v1 first,
//! its files add up to its length, and every path component is safe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_torrent::Metainfo;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = Metainfo::parse(data) else { return };
    let hashes = t.info_hashes();
    assert!(!hashes.is_empty(), "a torrent registers at least one swarm");
    if let Some(v1) = t.info_hash_v1() {
        assert_eq!(hashes[0], v1, "the v1 hash first");
    }
    let total: u64 = t.files().iter().map(|f| f.length).sum();
    assert_eq!(total, t.length(), "files add up to the length");
    for f in t.files() {
        for part in &f.path {
            assert!(!part.is_empty() && part != ".." && !part.contains('/'), "unsafe path {:?}", f.path);
        }
    }
});
