//! The messages the tracker writes, each straight into one `String` sized for it: ids as
//! latin-1 JSON strings, numbers with [`Decimal`], offers and answers copied verbatim.

use octotracker_core::{Decimal, InfoHash, PeerId, SwarmStats};

use super::{Answer, Context, Offer};

/// The longest a 20-byte id can be as a JSON string: quotes and `\u00XX` for each byte.
const ID_MAX: usize = 2 + 20 * 6;
/// The longest a `u64` is in decimal.
const NUMBER_MAX: usize = 20;

/// A JSON object being written into a buffer.
struct Object<'s> {
    out: &'s mut String,
    empty: bool,
}

impl<'s> Object<'s> {
    fn open(out: &'s mut String) -> Self {
        out.push('{');
        Object { out, empty: true }
    }

    /// Starts a member named `key` (latin-1 code points), returning the buffer for its value.
    fn key(&mut self, key: impl Iterator<Item = char>) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_string(self.out, key);
        self.out.push(':');
        self.out
    }

    fn string(&mut self, key: &str, value: &str) -> &mut Self {
        push_string(self.key(key.chars()), value.chars());
        self
    }

    fn id(&mut self, key: &str, bytes: &[u8; 20]) -> &mut Self {
        push_id(self.key(key.chars()), bytes);
        self
    }

    fn number(&mut self, key: &str, n: u64) -> &mut Self {
        let digits = Decimal::new(n);
        // Digits are ASCII.
        self.key(key.chars()).extend(latin1(digits.as_bytes()));
        self
    }

    /// A member whose value is JSON text already (an offer or answer as the client sent it).
    fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key.chars()).push_str(json);
        self
    }

    /// A member whose value is an object, written before this one goes on.
    fn object(&mut self, key: impl Iterator<Item = char>) -> Object<'_> {
        Object::open(self.key(key))
    }

    fn close(&mut self) {
        self.out.push('}');
    }
}

/// Writes a 20-byte id as a JSON string of latin-1 code points: encoded on the stack, byte by
/// byte, then appended at once (ids are in every message; most have bytes to escape or encode).
fn push_id(out: &mut String, bytes: &[u8; 20]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; ID_MAX];
    let mut n = 0;
    let mut put = |part: &[u8]| {
        buf[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    };
    put(b"\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => put(&[b'\\', b]),
            0..=0x1f => put(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
            0x20..=0x7f => put(&[b]),
            // Two bytes of UTF-8 for the code points 0x80..=0xff.
            _ => put(&[0xc0 | (b >> 6), 0x80 | (b & 0x3f)]),
        }
    }
    put(b"\"");
    // Valid by construction; checked rather than assumed (no unsafe here).
    if let Ok(text) = std::str::from_utf8(&buf[..n]) {
        out.push_str(text);
    }
}

/// The code points of latin-1 bytes.
fn latin1(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    bytes.iter().map(|&b| char::from(b))
}

/// Writes one object into a buffer of `capacity` bytes and returns it.
fn object(capacity: usize, write: impl FnOnce(&mut Object<'_>)) -> String {
    let mut out = String::with_capacity(capacity);
    let mut o = Object::open(&mut out);
    write(&mut o);
    o.close();
    out
}

/// Writes `chars` as a JSON string literal.
fn push_string(out: &mut String, chars: impl Iterator<Item = char>) {
    out.push('"');
    for c in chars {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The latin-1 string of `bytes` (each byte one code point), as ids travel in JSON.
pub fn binary_string(bytes: &[u8]) -> String {
    latin1(bytes).collect()
}

/// The reply to an announce.
pub fn announce_reply(info_hash: &InfoHash, interval: u32, complete: u32, incomplete: u32) -> String {
    object(64 + ID_MAX + 3 * NUMBER_MAX, |o| {
        o.string("action", "announce")
            .number("interval", interval.into())
            .id("info_hash", &info_hash.0)
            .number("complete", complete.into())
            .number("incomplete", incomplete.into());
    })
}

/// An offer, as relayed to the peer chosen for it.
pub fn offer_message(info_hash: &InfoHash, from: &PeerId, offer: &Offer<'_>) -> String {
    let (sdp, id) = (offer.offer.get(), offer.offer_id.get());
    object(64 + 2 * ID_MAX + sdp.len() + id.len(), |o| {
        o.string("action", "announce")
            .id("info_hash", &info_hash.0)
            .id("peer_id", &from.0)
            .raw("offer", sdp)
            .raw("offer_id", id);
    })
}

/// An answer, as relayed to the peer that made the offer.
pub fn answer_message(answer: &Answer<'_>) -> String {
    let (sdp, id) = (answer.answer.get(), answer.offer_id.get());
    object(64 + 2 * ID_MAX + sdp.len() + id.len(), |o| {
        o.string("action", "announce")
            .id("info_hash", &answer.info_hash.0)
            .id("peer_id", &answer.peer_id.0)
            .raw("answer", sdp)
            .raw("offer_id", id);
    })
}

/// The reply to a scrape: `files` keyed by the binary info hash.
pub fn scrape_reply(files: &[(InfoHash, SwarmStats)]) -> String {
    object(48 + files.len() * (ID_MAX + 48 + 3 * NUMBER_MAX), |o| {
        o.string("action", "scrape");
        let mut all = o.object("files".chars());
        for (hash, s) in files {
            let mut one = all.object(latin1(&hash.0));
            one.number("complete", s.complete.into())
                .number("incomplete", s.incomplete.into())
                .number("downloaded", s.downloaded)
                .close();
        }
        all.close();
    })
}

/// A failure reply: the action and, when known, the info hash (the client drops an announce
/// reply without its own info hash), and `failure reason`.
pub fn failure_reply(cx: Context, reason: &str) -> String {
    object(64 + ID_MAX + reason.len() * 2, |o| {
        o.string("action", if cx.scrape { "scrape" } else { "announce" });
        if let Some(h) = cx.info_hash {
            o.id("info_hash", &h.0);
        }
        o.string("failure reason", reason);
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use serde_json::value::RawValue;

    use super::*;
    use crate::message::id;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[test]
    fn every_byte_of_an_id_round_trips_through_json() {
        let every_byte: Vec<u8> = (0..=255).collect();
        for chunk in every_byte.chunks(20).filter(|c| c.len() == 20) {
            let hash = InfoHash(chunk.try_into().unwrap());
            let reply = json(&announce_reply(&hash, 120, 3, 4));
            assert_eq!(reply["info_hash"].as_str().and_then(id), Some(hash.0));
            assert_eq!((reply["interval"].as_u64(), reply["complete"].as_u64()), (Some(120), Some(3)));
            assert_eq!((reply["incomplete"].as_u64(), reply["action"].as_str()), (Some(4), Some("announce")));
        }
    }

    #[test]
    fn offers_and_answers_are_copied_verbatim() {
        let sdp = RawValue::from_string(r#"{"type":"offer","sdp":"v=0\r\n\u00e9"}"#.into()).unwrap();
        let offer_id = RawValue::from_string(r#""o\"1""#.into()).unwrap();
        let offer = Offer { offer: &sdp, offer_id: &offer_id };
        let text = offer_message(&InfoHash([b'"'; 20]), &PeerId([b'\\'; 20]), &offer);
        let v = json(&text);
        assert_eq!(v["offer"]["sdp"], "v=0\r\n\u{e9}");
        assert_eq!(v["offer_id"], "o\"1");
        assert_eq!(v["info_hash"].as_str().and_then(id), Some([b'"'; 20]));
        assert_eq!(v["peer_id"].as_str().and_then(id), Some([b'\\'; 20]));
        let answer = Answer {
            info_hash: InfoHash([1; 20]),
            peer_id: PeerId([2; 20]),
            to_peer_id: PeerId([3; 20]),
            answer: &sdp,
            offer_id: &offer_id,
        };
        let v = json(&answer_message(&answer));
        assert_eq!((v["answer"]["sdp"].as_str(), v["offer_id"].as_str()), (Some("v=0\r\n\u{e9}"), Some("o\"1")));
        assert!(v.get("to_peer_id").is_none(), "the target is not told its own id");
    }

    #[test]
    fn scrape_and_failure_replies_are_json() {
        let stats = SwarmStats { complete: 1, incomplete: 2, downloaded: 3 };
        let v = json(&scrape_reply(&[(InfoHash([0xff; 20]), stats), (InfoHash([0; 20]), Default::default())]));
        assert_eq!(v["action"], "scrape");
        assert_eq!(v["files"][binary_string(&[0xff; 20])]["downloaded"], 3);
        assert_eq!(v["files"][binary_string(&[0; 20])]["complete"], 0);
        assert_eq!(json(&scrape_reply(&[]))["files"], serde_json::json!({}));
        let cx = Context { scrape: false, info_hash: Some(InfoHash([b'a'; 20])) };
        let v = json(&failure_reply(cx, "bad \"thing\"\n"));
        assert_eq!(v["failure reason"], "bad \"thing\"\n");
        assert_eq!(v["info_hash"], "a".repeat(20));
    }
}
