//! The HTTP announce and scrape query parsers: never panic; a parsed announce, encoded again by
//! the client's encoder, parses to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_core::http_wire::{QueryEncoder, parse_announce, parse_scrape};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = parse_announce(data) {
        let mut query = QueryEncoder::new();
        query.announce(&req);
        let again = parse_announce(query.as_str().as_bytes()).expect("an encoded announce parses");
        assert_eq!(again.info_hash, req.info_hash);
        assert_eq!(again.peer_id, req.peer_id);
        assert_eq!(
            (again.port, again.uploaded, again.downloaded, again.left),
            (req.port, req.uploaded, req.downloaded, req.left)
        );
        assert_eq!((again.event, again.numwant, again.compact), (req.event, req.numwant, req.compact));
    }
    if let Ok(scrape) = parse_scrape(data, 100) {
        assert!(scrape.info_hashes.len() <= 100, "the cap holds");
        let mut query = QueryEncoder::new();
        query.scrape(&scrape.info_hashes);
        let again = parse_scrape(query.as_str().as_bytes(), 100).expect("an encoded scrape parses");
        assert_eq!(again.info_hashes, scrape.info_hashes);
    }
});
