//! The WebSocket tracker's message parser: never panics on any text; every message it accepts
//! relays as JSON that names the same swarm and peers, and every failure reply is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_ws::message::{self, ClientMessage, binary_string, id};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("the tracker writes JSON")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match message::parse(text) {
        Ok(ClientMessage::Announce(a)) => {
            for offer in &a.offers {
                let relayed = json(&message::offer_message(&a.info_hash, &a.peer_id, offer));
                assert_eq!(relayed["info_hash"].as_str().and_then(id), Some(a.info_hash.0));
                assert_eq!(relayed["peer_id"].as_str().and_then(id), Some(a.peer_id.0));
                assert_eq!(relayed["offer_id"], offer.offer_id);
            }
            let reply = json(&message::announce_reply(&a.info_hash, 120, 1, 2));
            assert_eq!(reply["info_hash"].as_str().and_then(id), Some(a.info_hash.0));
        }
        Ok(ClientMessage::Answer(a)) => {
            let relayed = json(&message::answer_message(&a));
            assert_eq!(relayed["peer_id"].as_str().and_then(id), Some(a.peer_id.0));
            assert_eq!(relayed["answer"], a.answer);
        }
        Ok(ClientMessage::Scrape(hashes)) => {
            let files: Vec<_> = hashes.iter().map(|h| (*h, Default::default())).collect();
            let reply = json(&message::scrape_reply(&files));
            for h in &hashes {
                assert!(reply["files"].get(binary_string(&h.0)).is_some(), "every hash is in the reply");
            }
        }
        Err((bad, cx)) => {
            let reply = json(&message::failure_reply(cx, &bad.to_string()));
            assert!(reply["failure reason"].is_string());
        }
    }
});
