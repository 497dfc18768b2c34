//! `octotracker announce` and `octotracker scrape`: one request to any HTTP or UDP tracker, the
//! reply printed as JSON.

use std::time::Duration;

use octotracker_client::{AnnounceReply, HttpTrackerClient, Reply, ScrapeReply, UdpTrackerClient, scrape_url};
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};
use serde_json::{Map, Value, json};

use crate::Failure;
use crate::cli::{AnnounceArgs, ScrapeArgs};

/// Sends the announce and prints the reply. A tracker failure prints `failure_reason` and exits 1.
pub(crate) async fn announce(args: AnnounceArgs) -> Result<(), Failure> {
    let info_hash: InfoHash =
        args.info_hash.parse().map_err(|e| Failure::Usage(format!("invalid --info-hash: {e}")))?;
    let peer_id = match &args.peer_id {
        Some(text) => parse_peer_id(text)?,
        None => random_peer_id(),
    };
    let event =
        Event::from_query_value(if args.event == "none" { b"" } else { args.event.as_bytes() }).map_err(|_| {
            Failure::Usage(format!(
                "invalid --event {:?}: expected started, stopped, completed, paused or none",
                args.event
            ))
        })?;
    let mut req = AnnounceRequest::new(info_hash, peer_id, args.port);
    req.left = args.left;
    req.uploaded = args.uploaded;
    req.downloaded = args.downloaded;
    req.event = event;
    req.numwant = args.numwant;
    req.compact = !args.no_compact;
    let timeout = Duration::from_secs(args.timeout);
    let reply = if args.url.starts_with("udp://") {
        UdpTrackerClient::new().with_timeout(timeout).announce(&args.url, &req).await
    } else {
        HttpTrackerClient::new().with_timeout(timeout).announce(&args.url, &req).await
    };
    print_reply(reply.map_err(|e| Failure::Runtime(e.to_string()))?, announce_json)
}

/// Scrapes and prints the reply. A tracker failure prints `failure_reason` and exits 1.
pub(crate) async fn scrape(args: ScrapeArgs) -> Result<(), Failure> {
    let hashes = args
        .info_hashes
        .iter()
        .map(|h| h.parse::<InfoHash>().map_err(|e| Failure::Usage(format!("invalid info hash {h:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = Duration::from_secs(args.timeout);
    if args.url.starts_with("udp://") {
        let client = UdpTrackerClient::new().with_timeout(timeout);
        let reply = client.scrape(&args.url, &hashes).await.map_err(|e| Failure::Runtime(e.to_string()))?;
        return print_reply(reply, scrape_json);
    }
    let url = scrape_url(&args.url).ok_or_else(|| {
        Failure::Usage(format!(
            "cannot derive a scrape url from {:?}: its path must end in announce or scrape",
            args.url
        ))
    })?;
    let client = HttpTrackerClient::new().with_timeout(timeout);
    let reply = client.scrape(&url, &hashes).await.map_err(|e| Failure::Runtime(e.to_string()))?;
    print_reply(reply, scrape_json)
}

fn print_reply<T>(reply: Reply<T>, to_json: fn(&T) -> Value) -> Result<(), Failure> {
    match reply {
        Reply::Ok(r) => {
            println!("{}", to_json(&r));
            Ok(())
        }
        Reply::Failure { reason, retry_in } => {
            let mut obj = Map::new();
            obj.insert("failure_reason".into(), json!(reason));
            if let Some(m) = retry_in {
                obj.insert("retry_in".into(), json!(m));
            }
            println!("{}", Value::Object(obj));
            Err(Failure::Reported)
        }
    }
}

fn announce_json(r: &AnnounceReply) -> Value {
    let peers: Vec<String> = r.peers.iter().chain(&r.peers6).map(|p| p.addr.to_string()).collect();
    json!({
        "interval": r.interval,
        "min_interval": r.min_interval,
        "complete": r.complete,
        "incomplete": r.incomplete,
        "downloaded": r.downloaded,
        "peers": peers,
        "external_ip": r.external_ip.map(|ip| ip.to_string()),
        "tracker_id": r.tracker_id.as_ref().map(|id| String::from_utf8_lossy(id).into_owned()),
        "warning_message": r.warning,
    })
}

fn scrape_json(r: &ScrapeReply) -> Value {
    let files: Map<String, Value> = r
        .files
        .iter()
        .map(|(h, f)| {
            (h.to_string(), json!({"complete": f.complete, "incomplete": f.incomplete, "downloaded": f.downloaded}))
        })
        .collect();
    json!({ "files": files })
}

fn parse_peer_id(text: &str) -> Result<PeerId, Failure> {
    if let Ok(id) = text.parse::<PeerId>() {
        return Ok(id);
    }
    <[u8; 20]>::try_from(text.as_bytes())
        .map(PeerId)
        .map_err(|_| Failure::Usage(format!("invalid --peer-id {text:?}: expected 40 hex characters or 20 characters")))
}

fn random_peer_id() -> PeerId {
    let mut id = *b"-OT0001-000000000000";
    for b in &mut id[8..] {
        *b = fastrand::alphanumeric() as u8;
    }
    PeerId(id)
}
