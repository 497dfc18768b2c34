//! The WebSocket tracker's message parser: never panics on any text; every message it accepts
//! relays as JSON that names the same swarm and peers and carries the offer or answer verbatim,
//! and every reply is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_ws::message::{self, ClientMessage, binary_string, id};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("the tracker writes JSON ({e}): {text}"))
}

/// A relayed value as serde_json reads it; `None` for valid JSON that serde_json cannot hold
/// (a number beyond f64, which JavaScript reads as Infinity): the tracker copies it anyway.
fn relayed_value(raw: &serde_json::value::RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match message::parse(text) {
        Ok(ClientMessage::Announce(a)) => {
            for offer in &a.offers {
                let written = message::offer_message(&a.info_hash, &a.peer_id, offer);
                let (Some(sdp), Some(offer_id)) = (relayed_value(offer.offer), relayed_value(offer.offer_id)) else {
                    continue;
                };
                let relayed = json(&written);
                assert_eq!(relayed["info_hash"].as_str().and_then(id), Some(a.info_hash.0));
                assert_eq!(relayed["peer_id"].as_str().and_then(id), Some(a.peer_id.0));
                assert_eq!(relayed["offer"], sdp, "relayed verbatim");
                assert_eq!(relayed["offer_id"], offer_id, "relayed verbatim");
            }
            let reply = json(&message::announce_reply(&a.info_hash, 120, 1, 2));
            assert_eq!(reply["info_hash"].as_str().and_then(id), Some(a.info_hash.0));
        }
        Ok(ClientMessage::Answer(a)) => {
            let written = message::answer_message(&a);
            if let (Some(sdp), Some(offer_id)) = (relayed_value(a.answer), relayed_value(a.offer_id)) {
                let relayed = json(&written);
                assert_eq!(relayed["peer_id"].as_str().and_then(id), Some(a.peer_id.0));
                assert_eq!(relayed["answer"], sdp, "relayed verbatim");
                assert_eq!(relayed["offer_id"], offer_id, "relayed verbatim");
            }
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
