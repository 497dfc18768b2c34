//! [`parse`]: one text frame into a [`ClientMessage`], borrowing from the frame.
//!
//! serde reads the object once, keeping each known field as the slice of JSON text it spans
//! (`&RawValue`; unknown fields are skipped, `offers` is read in the same pass, see
//! [`offers`](super::offers)); the few fields the tracker reads are then decoded from their
//! slices without allocating (ids, numbers, `event`), and offers and answers stay slices, copied
//! verbatim into the relayed messages.

use std::borrow::Cow;

use octotracker_core::{Event, InfoHash, PeerId};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::offers::OffersField;
use super::{Announce, Answer, BadMessage, ClientMessage, Context};

/// The fields of a message the tracker reads, as their JSON text. `null` is the same as absent.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    action: Option<&'a RawValue>,
    #[serde(borrow)]
    info_hash: Option<&'a RawValue>,
    #[serde(borrow)]
    peer_id: Option<&'a RawValue>,
    #[serde(borrow)]
    to_peer_id: Option<&'a RawValue>,
    #[serde(borrow)]
    answer: Option<&'a RawValue>,
    #[serde(borrow)]
    offer_id: Option<&'a RawValue>,
    #[serde(borrow)]
    offers: Option<OffersField<'a>>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    #[serde(borrow)]
    left: Option<&'a RawValue>,
    #[serde(borrow)]
    uploaded: Option<&'a RawValue>,
    #[serde(borrow)]
    downloaded: Option<&'a RawValue>,
    #[serde(borrow)]
    numwant: Option<&'a RawValue>,
}

/// Parses one text frame. On failure, also returns what is known of the message (for the reply).
pub fn parse(text: &str) -> Result<ClientMessage<'_>, (BadMessage, Context)> {
    // serde would also read a struct from an array: only an object is a message.
    let fields = match text.trim_start().starts_with('{') {
        true => serde_json::from_str::<Fields<'_>>(text).ok(),
        false => None,
    };
    let Some(f) = fields else { return Err((BadMessage::NotJson, Context::default())) };
    let action = f.action.and_then(string);
    let scrape = action.as_deref() == Some("scrape");
    let info_hash = f.info_hash.and_then(|raw| json_id(raw.get())).map(InfoHash);
    let cx = Context { scrape, info_hash };
    match action.as_deref() {
        Some("announce") => announce(f, info_hash).map_err(|e| (e, cx)),
        Some("scrape") => scrape_hashes(f.info_hash).map(ClientMessage::Scrape).map_err(|e| (e, cx)),
        _ => Err((BadMessage::Action, cx)),
    }
}

/// An announce or an answer; `info_hash` is `f.info_hash` already decoded (for the context).
fn announce<'a>(f: Fields<'a>, info_hash: Option<InfoHash>) -> Result<ClientMessage<'a>, BadMessage> {
    let info_hash = match (info_hash, f.info_hash) {
        (Some(hash), _) => hash,
        (None, None) => return Err(BadMessage::Missing("info_hash")),
        (None, Some(_)) => return Err(BadMessage::Id("info_hash")),
    };
    let peer_id = PeerId(required_id(f.peer_id, "peer_id")?);
    if let Some(answer) = f.answer {
        return Ok(ClientMessage::Answer(Answer {
            info_hash,
            peer_id,
            to_peer_id: PeerId(required_id(f.to_peer_id, "to_peer_id")?),
            answer,
            offer_id: f.offer_id.ok_or(BadMessage::Missing("offer_id"))?,
        }));
    }
    let event = match f.event {
        None => Event::None,
        Some(raw) => {
            let name = string(raw).ok_or(BadMessage::Event)?;
            Event::from_query_value(name.as_bytes()).map_err(|_| BadMessage::Event)?
        }
    };
    let offers = match f.offers {
        None => Vec::new(),
        Some(field) => field.offers()?,
    };
    Ok(ClientMessage::Announce(Announce {
        info_hash,
        peer_id,
        event,
        left: number(f.left, "left")?,
        uploaded: number(f.uploaded, "uploaded")?.unwrap_or(0),
        downloaded: number(f.downloaded, "downloaded")?.unwrap_or(0),
        numwant: number(f.numwant, "numwant")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        offers,
    }))
}

fn scrape_hashes(raw: Option<&RawValue>) -> Result<Vec<InfoHash>, BadMessage> {
    let one = |text: &str| json_id(text).map(InfoHash).ok_or(BadMessage::Id("info_hash"));
    let Some(raw) = raw else { return Ok(Vec::new()) };
    if !raw.get().starts_with('[') {
        return Ok(vec![one(raw.get())?]);
    }
    let list: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| BadMessage::Id("info_hash"))?;
    list.iter().map(|h| one(h.get())).collect()
}

fn required_id(raw: Option<&RawValue>, field: &'static str) -> Result<[u8; 20], BadMessage> {
    json_id(raw.ok_or(BadMessage::Missing(field))?.get()).ok_or(BadMessage::Id(field))
}

/// A JSON string's value: borrowed when it has no escapes.
fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        return serde_json::from_str::<String>(raw.get()).ok().map(Cow::Owned);
    }
    Some(Cow::Borrowed(inner))
}

/// A non-negative integer field: absent or `null` is `None`; a float with no fraction is taken
/// (JavaScript has only doubles).
fn number(raw: Option<&RawValue>, field: &'static str) -> Result<Option<u64>, BadMessage> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    if let Ok(n) = text.parse::<u64>() {
        return Ok(Some(n));
    }
    // Only JSON numbers: Rust's float parser also takes "inf" and "NaN", which JSON has not.
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Err(BadMessage::Field(field));
    }
    match text.parse::<f64>() {
        Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(Some(f as u64)),
        _ => Err(BadMessage::Field(field)),
    }
}

/// The 20 bytes of an id given as JSON text (a string literal, escapes allowed), or `None` when
/// it is not a string of exactly 20 code points below 256.
fn json_id(text: &str) -> Option<[u8; 20]> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    // The common case: 20 ASCII characters without escapes (peer ids mostly are) are the bytes.
    if inner.len() == 20 && inner.bytes().all(|b| b.is_ascii() && b != b'\\') {
        return inner.as_bytes().try_into().ok();
    }
    let mut out = [0u8; 20];
    let mut chars = inner.chars();
    for b in &mut out {
        let c = match chars.next()? {
            '\\' => unescape(&mut chars)?,
            c => c,
        };
        *b = u8::try_from(u32::from(c)).ok()?;
    }
    chars.next().is_none().then_some(out)
}

/// The character of one JSON escape, after its backslash. A `\u` escape above 255 (a surrogate
/// half included) cannot be an id byte: `None`.
fn unescape(chars: &mut std::str::Chars<'_>) -> Option<char> {
    Some(match chars.next()? {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let mut code = 0u32;
            for _ in 0..4 {
                code = code * 16 + chars.next()?.to_digit(16)?;
            }
            char::from_u32(code)?
        }
        _ => return None,
    })
}

/// The 20 bytes of a latin-1 id string: exactly 20 characters, each below 256.
pub fn id(s: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    let mut chars = s.chars();
    for b in &mut out {
        *b = u8::try_from(u32::from(chars.next()?)).ok()?;
    }
    chars.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::message::binary_string;

    const HASH: &str = "\u{0}\u{1}abcdefghijklmnop\u{ff}\u{80}";

    #[test]
    fn ids_are_latin1_strings_of_twenty_code_points() {
        let bytes = id(HASH).unwrap();
        assert_eq!(bytes[0], 0);
        assert_eq!(bytes[18], 0xff);
        assert_eq!(binary_string(&bytes), HASH);
        assert_eq!(id("short"), None);
        assert_eq!(id(&"a".repeat(21)), None);
        assert_eq!(id(&format!("{}\u{100}", "a".repeat(19))), None, "a code point above 255");
    }

    #[test]
    fn ids_decode_every_json_escape_as_serde_json_does() {
        let every_byte: Vec<u8> = (0..=255).collect();
        for chunk in every_byte.chunks(20).filter(|c| c.len() == 20) {
            let text = serde_json::to_string(&binary_string(chunk)).unwrap();
            assert_eq!(json_id(&text).as_ref().map(|b| &b[..]), Some(chunk), "{text}");
        }
        let escaped = r#""\u0041\"\\\/\b\f\n\r\tabcdefghijk""#;
        let want = serde_json::from_str::<String>(escaped).unwrap();
        assert_eq!(json_id(escaped), id(&want));
        assert_eq!(json_id(r#""\u0100aaaaaaaaaaaaaaaaaaa""#), None, "an escape above 255");
        assert_eq!(json_id(r#""\ud800aaaaaaaaaaaaaaaaaaa""#), None, "a lone surrogate");
        assert_eq!(json_id("12345678901234567890"), None, "a number is not an id");
    }

    #[test]
    fn an_announce_with_offers_parses() {
        let text = serde_json::json!({
            "action": "announce", "info_hash": HASH, "peer_id": "-WW0208-abcdefghijkl", "numwant": 5,
            "uploaded": 0, "downloaded": 10, "left": null, "event": "started",
            "offers": [{"offer": {"type": "offer", "sdp": "v=0"}, "offer_id": "x1"}]
        })
        .to_string();
        let ClientMessage::Announce(a) = parse(&text).unwrap() else { panic!("not an announce") };
        assert_eq!(a.info_hash.0, id(HASH).unwrap());
        assert_eq!(a.event, Event::Started);
        assert_eq!(a.left, None, "left null: unknown");
        assert_eq!(a.downloaded, 10);
        assert_eq!(a.numwant, Some(5));
        assert_eq!(a.offers.len(), 1);
        assert_eq!(a.offers[0].offer_id.get(), r#""x1""#);
        let offer: Value = serde_json::from_str(a.offers[0].offer.get()).unwrap();
        assert_eq!(offer["sdp"], "v=0");
    }

    #[test]
    fn numbers_may_be_whole_floats_never_negative_or_strings() {
        let with = |field: &str| {
            format!(
                r#"{{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","left":{field}}}"#
            )
        };
        let left = |field: &str| match parse(&with(field)) {
            Ok(ClientMessage::Announce(a)) => Ok(a.left),
            Ok(_) => panic!("not an announce"),
            Err((e, _)) => Err(e),
        };
        assert_eq!(left("7"), Ok(Some(7)));
        assert_eq!(left("1e3"), Ok(Some(1000)));
        assert_eq!(left("2.0"), Ok(Some(2)));
        assert_eq!(left("null"), Ok(None));
        for bad in ["2.5", "-1", r#""5""#, "true", "[]", "1e30"] {
            assert_eq!(left(bad), Err(BadMessage::Field("left")), "{bad}");
        }
    }

    #[test]
    fn an_answer_needs_its_target_and_offer_id() {
        let mut v = serde_json::json!({
            "action": "announce", "info_hash": HASH, "peer_id": "-WW0208-abcdefghijkl",
            "to_peer_id": "-WW0208-zzzzzzzzzzzz", "answer": {"type": "answer", "sdp": "v=0"}, "offer_id": "x1"
        });
        let text = v.to_string();
        let ClientMessage::Answer(a) = parse(&text).unwrap() else { panic!("not an answer") };
        assert_eq!(a.to_peer_id.0, *b"-WW0208-zzzzzzzzzzzz");
        v.as_object_mut().unwrap().remove("to_peer_id");
        assert_eq!(parse(&v.to_string()).unwrap_err().0, BadMessage::Missing("to_peer_id"));
    }

    #[test]
    fn bad_messages_name_what_is_wrong() {
        let cases = [
            ("not json", BadMessage::NotJson),
            ("[1,2]", BadMessage::NotJson),
            (r#"{"action":"announce"} trailing"#, BadMessage::NotJson),
            (r#"{"action":"dance"}"#, BadMessage::Action),
            (r#"{"action":5}"#, BadMessage::Action),
            (r#"{"action":"announce","peer_id":"-WW0208-abcdefghijkl"}"#, BadMessage::Missing("info_hash")),
            (r#"{"action":"announce","info_hash":5,"peer_id":"x"}"#, BadMessage::Id("info_hash")),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"short"}"#,
                BadMessage::Id("peer_id"),
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","left":-1}"#,
                BadMessage::Field("left"),
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","event":"x"}"#,
                BadMessage::Event,
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","event":3}"#,
                BadMessage::Event,
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":{}}"#,
                BadMessage::Field("offers"),
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":[1]}"#,
                BadMessage::Field("offers"),
            ),
            (
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":[{"offer_id":1}]}"#,
                BadMessage::Missing("offer"),
            ),
            (r#"{"action":"scrape","info_hash":["aaaaaaaaaaaaaaaaaaaa",3]}"#, BadMessage::Id("info_hash")),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap_err().0, want, "{text}");
        }
        let (_, cx) = parse(r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":1}"#).unwrap_err();
        assert_eq!(cx.info_hash, Some(InfoHash([b'a'; 20])), "the failure reply can carry the info hash");
    }

    #[test]
    fn an_escaped_action_or_event_reads_as_its_value() {
        let text = r#"{"action":"\u0061nnounce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","event":"st\u0061rted"}"#;
        let ClientMessage::Announce(a) = parse(text).unwrap() else { panic!("not an announce") };
        assert_eq!(a.event, Event::Started);
    }

    #[test]
    fn scrapes_take_one_several_or_no_hashes() {
        let one = format!(r#"{{"action":"scrape","info_hash":{}}}"#, serde_json::to_string(HASH).unwrap());
        let ClientMessage::Scrape(hashes) = parse(&one).unwrap() else { panic!("not a scrape") };
        assert_eq!(hashes, vec![InfoHash(id(HASH).unwrap())]);
        let two = r#"{"action":"scrape","info_hash":["aaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbb"]}"#;
        let ClientMessage::Scrape(hashes) = parse(two).unwrap() else { panic!("not a scrape") };
        assert_eq!(hashes, vec![InfoHash([b'a'; 20]), InfoHash([b'b'; 20])]);
        let ClientMessage::Scrape(hashes) = parse(r#"{"action":"scrape"}"#).unwrap() else { panic!("not a scrape") };
        assert!(hashes.is_empty());
    }
}
