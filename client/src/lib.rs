//! # octotracker-client
//!
//! The client side of the tracker protocol, usable against any tracker: octotracker's tests,
//! benchmarks and the `octotracker announce` / `octotracker scrape` commands use it.
//!
//! - [`HttpTrackerClient`]: announce and scrape over HTTP with keep-alive connections.
//! - [`parse_announce_reply`], [`parse_scrape_reply`]: every field of a bencoded reply, or the
//!   tracker's `failure reason`.
//! - [`scrape_url`]: the BEP 48 scrape URL of an announce URL.
//! - [`load`]: the swarm simulator and load generator behind `octotracker load` — a Zipf-popular
//!   population of torrents and peers with announce lifecycles, closed-loop (maximum throughput)
//!   and open-loop (fixed rate, no coordinated omission) drivers over hyper's low-level HTTP/1.1
//!   connections, and a report of requests/s, errors by kind, latency percentiles and the
//!   generator's own CPU time.
//!
//! Query strings are written by the same `octotracker_core::http_wire` module the server parses
//! them with.

mod http_client;
pub mod load;
mod reply;
mod udp_client;

pub use http_client::{ClientError, HttpTrackerClient};
pub use reply::{
    AnnounceReply, Reply, ReplyError, ReplyPeer, ScrapeFile, ScrapeReply, parse_announce_reply, parse_scrape_reply,
};
pub use udp_client::UdpTrackerClient;

/// The scrape URL of an announce URL (BEP 48 convention: the last path segment `announce…`
/// becomes `scrape…`); `None` when the URL has no such segment. A URL that already names a
/// scrape endpoint is returned as it is.
///
/// ```
/// use octotracker_client::scrape_url;
/// assert_eq!(scrape_url("http://t.example/announce").as_deref(), Some("http://t.example/scrape"));
/// assert_eq!(scrape_url("http://t.example/key/announce.php?x=1").as_deref(), Some("http://t.example/key/scrape.php?x=1"));
/// assert_eq!(scrape_url("http://t.example/a"), None);
/// ```
pub fn scrape_url(announce_url: &str) -> Option<String> {
    let (base, query) = match announce_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (announce_url, None),
    };
    let slash = base.rfind('/')?;
    let last = &base[slash + 1..];
    let rest = if let Some(rest) = last.strip_prefix("announce") {
        rest
    } else if last.starts_with("scrape") {
        return Some(announce_url.to_owned());
    } else {
        return None;
    };
    let mut out = format!("{}scrape{rest}", &base[..=slash]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}
