//! The WebTorrent tracker messages: JSON text frames, parsed into typed requests and written back.
//!
//! Ids (`info_hash`, `peer_id`, `to_peer_id`) are 20-character strings whose code points are the
//! bytes (latin-1), as `bittorrent-tracker`'s client sends them. Offers, answers and offer ids
//! are relayed as the client sent them (any JSON value), never interpreted.

use octotracker_core::{Event, InfoHash, PeerId};
use serde_json::{Map, Value};

/// A request a peer sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `action: "announce"` without an answer: an announce, possibly with offers.
    Announce(Announce),
    /// `action: "announce"` with `answer` and `to_peer_id`: an answer to relay.
    Answer(Answer),
    /// `action: "scrape"`: the hashes asked about (none: a full scrape).
    Scrape(Vec<InfoHash>),
}

/// An announce of a WebRTC peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Announce {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The peer.
    pub peer_id: PeerId,
    /// What happened.
    pub event: Event,
    /// `left`; `None` (absent or `null`) when the peer does not know yet (a magnet leecher).
    pub left: Option<u64>,
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Bytes downloaded so far.
    pub downloaded: u64,
    /// How many peers the client wants.
    pub numwant: Option<u32>,
    /// The offers, each for a different peer.
    pub offers: Vec<Offer>,
}

/// One WebRTC offer of an announce.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// The session description, relayed as sent.
    pub offer: Value,
    /// The id that the answer will carry back, relayed as sent.
    pub offer_id: Value,
}

/// An answer to an offer, for one peer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The answering peer.
    pub peer_id: PeerId,
    /// The peer that made the offer.
    pub to_peer_id: PeerId,
    /// The session description, relayed as sent.
    pub answer: Value,
    /// The offer's id, relayed as sent.
    pub offer_id: Value,
}

/// Why a message was refused: the `failure reason` the peer is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadMessage {
    /// Not a JSON object.
    #[error("invalid message: expected a JSON object")]
    NotJson,
    /// `action` missing or unknown.
    #[error("invalid action: expected announce or scrape")]
    Action,
    /// A required field is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An id that is not a 20-character string of code points below 256.
    #[error("invalid {0}: expected a 20-character string of code points 0-255")]
    Id(&'static str),
    /// A field of the wrong type or range.
    #[error("invalid {0}")]
    Field(&'static str),
    /// An `event` that is not started, stopped, completed, paused or empty.
    #[error("invalid event: expected started, stopped, completed, paused or empty")]
    Event,
}

impl BadMessage {
    /// A fixed label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            BadMessage::NotJson => "bad_json",
            BadMessage::Action => "unknown_action",
            BadMessage::Missing(_) => "missing_parameter",
            BadMessage::Id(_) => "wrong_length",
            BadMessage::Field(_) => "bad_field",
            BadMessage::Event => "unknown_event",
        }
    }
}

/// What is known of a message that failed, for the reply: its action and info hash when they
/// parsed (the client ignores a reply without its info hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context {
    /// Whether the message was a scrape.
    pub scrape: bool,
    /// The info hash, when it parsed.
    pub info_hash: Option<InfoHash>,
}

/// Parses one text frame. On failure, also returns what is known of the message (for the reply).
pub fn parse(text: &str) -> Result<ClientMessage, (BadMessage, Context)> {
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(text) else {
        return Err((BadMessage::NotJson, Context::default()));
    };
    let scrape = m.get("action").and_then(Value::as_str) == Some("scrape");
    let info_hash = m.get("info_hash").and_then(Value::as_str).and_then(|s| id(s).map(InfoHash));
    let cx = Context { scrape, info_hash };
    parse_object(&mut m).map_err(|e| (e, cx))
}

fn parse_object(m: &mut Map<String, Value>) -> Result<ClientMessage, BadMessage> {
    match m.get("action").and_then(Value::as_str) {
        Some("announce") => {}
        Some("scrape") => return parse_scrape(m).map(ClientMessage::Scrape),
        _ => return Err(BadMessage::Action),
    }
    let info_hash = InfoHash(required_id(m, "info_hash")?);
    let peer_id = PeerId(required_id(m, "peer_id")?);
    if let Some(answer) = m.remove("answer") {
        return Ok(ClientMessage::Answer(Answer {
            info_hash,
            peer_id,
            to_peer_id: PeerId(required_id(m, "to_peer_id")?),
            answer,
            offer_id: m.remove("offer_id").ok_or(BadMessage::Missing("offer_id"))?,
        }));
    }
    let event = match m.get("event") {
        None | Some(Value::Null) => Event::None,
        Some(Value::String(s)) => Event::from_query_value(s.as_bytes()).map_err(|_| BadMessage::Event)?,
        Some(_) => return Err(BadMessage::Event),
    };
    let offers = match m.remove("offers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.into_iter().map(offer).collect::<Result<_, _>>()?,
        Some(_) => return Err(BadMessage::Field("offers")),
    };
    Ok(ClientMessage::Announce(Announce {
        info_hash,
        peer_id,
        event,
        left: number(m, "left")?,
        uploaded: number(m, "uploaded")?.unwrap_or(0),
        downloaded: number(m, "downloaded")?.unwrap_or(0),
        numwant: number(m, "numwant")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        offers,
    }))
}

fn parse_scrape(m: &Map<String, Value>) -> Result<Vec<InfoHash>, BadMessage> {
    let one = |v: &Value| v.as_str().and_then(id).map(InfoHash).ok_or(BadMessage::Id("info_hash"));
    match m.get("info_hash") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list.iter().map(one).collect(),
        Some(v) => Ok(vec![one(v)?]),
    }
}

fn offer(v: Value) -> Result<Offer, BadMessage> {
    let Value::Object(mut o) = v else { return Err(BadMessage::Field("offers")) };
    let offer = o.remove("offer").ok_or(BadMessage::Missing("offer"))?;
    let offer_id = o.remove("offer_id").ok_or(BadMessage::Missing("offer_id"))?;
    Ok(Offer { offer, offer_id })
}

fn required_id(m: &Map<String, Value>, field: &'static str) -> Result<[u8; 20], BadMessage> {
    match m.get(field) {
        None | Some(Value::Null) => Err(BadMessage::Missing(field)),
        Some(Value::String(s)) => id(s).ok_or(BadMessage::Id(field)),
        Some(_) => Err(BadMessage::Id(field)),
    }
}

/// A non-negative integer field: absent or `null` is `None`; a float with no fraction is taken
/// (JavaScript has only doubles).
fn number(m: &Map<String, Value>, field: &'static str) -> Result<Option<u64>, BadMessage> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) => Ok(Some(n)),
            None => match n.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(Some(f as u64)),
                _ => Err(BadMessage::Field(field)),
            },
        },
        Some(_) => Err(BadMessage::Field(field)),
    }
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

/// The latin-1 string of `bytes` (each byte one code point), as ids travel in JSON.
pub fn binary_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The reply to an announce.
pub fn announce_reply(info_hash: &InfoHash, interval: u32, complete: u32, incomplete: u32) -> String {
    let mut m = Map::new();
    m.insert("action".into(), "announce".into());
    m.insert("interval".into(), interval.into());
    m.insert("info_hash".into(), binary_string(&info_hash.0).into());
    m.insert("complete".into(), complete.into());
    m.insert("incomplete".into(), incomplete.into());
    Value::Object(m).to_string()
}

/// An offer, as relayed to the peer chosen for it.
pub fn offer_message(info_hash: &InfoHash, from: &PeerId, offer: &Offer) -> String {
    let mut m = Map::new();
    m.insert("action".into(), "announce".into());
    m.insert("info_hash".into(), binary_string(&info_hash.0).into());
    m.insert("peer_id".into(), binary_string(&from.0).into());
    m.insert("offer".into(), offer.offer.clone());
    m.insert("offer_id".into(), offer.offer_id.clone());
    Value::Object(m).to_string()
}

/// An answer, as relayed to the peer that made the offer.
pub fn answer_message(answer: &Answer) -> String {
    let mut m = Map::new();
    m.insert("action".into(), "announce".into());
    m.insert("info_hash".into(), binary_string(&answer.info_hash.0).into());
    m.insert("peer_id".into(), binary_string(&answer.peer_id.0).into());
    m.insert("answer".into(), answer.answer.clone());
    m.insert("offer_id".into(), answer.offer_id.clone());
    Value::Object(m).to_string()
}

/// The reply to a scrape: `files` keyed by the binary info hash.
pub fn scrape_reply(files: &[(InfoHash, octotracker_core::SwarmStats)]) -> String {
    let mut f = Map::new();
    for (hash, s) in files {
        let mut one = Map::new();
        one.insert("complete".into(), s.complete.into());
        one.insert("incomplete".into(), s.incomplete.into());
        one.insert("downloaded".into(), s.downloaded.into());
        f.insert(binary_string(&hash.0), Value::Object(one));
    }
    let mut m = Map::new();
    m.insert("action".into(), "scrape".into());
    m.insert("files".into(), Value::Object(f));
    Value::Object(m).to_string()
}

/// A failure reply: the action and, when known, the info hash (the client drops an announce
/// reply without its own info hash), and `failure reason`.
pub fn failure_reply(cx: Context, reason: &str) -> String {
    let mut m = Map::new();
    m.insert("action".into(), if cx.scrape { "scrape" } else { "announce" }.into());
    if let Some(h) = cx.info_hash {
        m.insert("info_hash".into(), binary_string(&h.0).into());
    }
    m.insert("failure reason".into(), reason.into());
    Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_announce_with_offers_parses() {
        let text = serde_json::json!({
            "action": "announce", "info_hash": HASH, "peer_id": "-WW0208-abcdefghijkl", "numwant": 5,
            "uploaded": 0, "downloaded": 10, "left": null, "event": "started",
            "offers": [{"offer": {"type": "offer", "sdp": "v=0"}, "offer_id": "x1"}]
        })
        .to_string();
        let ClientMessage::Announce(a) = parse(&text).unwrap() else { panic!("not an announce") };
        assert_eq!(a.event, Event::Started);
        assert_eq!(a.left, None, "left null: unknown");
        assert_eq!(a.downloaded, 10);
        assert_eq!(a.numwant, Some(5));
        assert_eq!(a.offers.len(), 1);
        assert_eq!(a.offers[0].offer_id, "x1");
    }

    #[test]
    fn an_answer_needs_its_target_and_offer_id() {
        let mut v = serde_json::json!({
            "action": "announce", "info_hash": HASH, "peer_id": "-WW0208-abcdefghijkl",
            "to_peer_id": "-WW0208-zzzzzzzzzzzz", "answer": {"type": "answer", "sdp": "v=0"}, "offer_id": "x1"
        });
        let ClientMessage::Answer(a) = parse(&v.to_string()).unwrap() else { panic!("not an answer") };
        assert_eq!(a.to_peer_id.0, *b"-WW0208-zzzzzzzzzzzz");
        v.as_object_mut().unwrap().remove("to_peer_id");
        assert_eq!(parse(&v.to_string()).unwrap_err().0, BadMessage::Missing("to_peer_id"));
    }

    #[test]
    fn bad_messages_name_what_is_wrong() {
        let cases = [
            ("not json", BadMessage::NotJson),
            ("[1,2]", BadMessage::NotJson),
            (r#"{"action":"dance"}"#, BadMessage::Action),
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
                r#"{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":{}}"#,
                BadMessage::Field("offers"),
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
    fn scrapes_take_one_several_or_no_hashes() {
        let one = format!(r#"{{"action":"scrape","info_hash":{}}}"#, serde_json::to_string(HASH).unwrap());
        assert_eq!(parse(&one).unwrap(), ClientMessage::Scrape(vec![InfoHash(id(HASH).unwrap())]));
        assert_eq!(parse(r#"{"action":"scrape"}"#).unwrap(), ClientMessage::Scrape(vec![]));
        let reply = scrape_reply(&[(InfoHash([0xff; 20]), Default::default())]);
        let v: Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(v["files"][binary_string(&[0xff; 20])]["complete"], 0);
    }
}
