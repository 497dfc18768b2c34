//! [`HttpTrackerClient`]: announce and scrape against any HTTP tracker, over keep-alive
//! connections.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use octotracker_core::http_wire::QueryEncoder;
use octotracker_core::{AnnounceRequest, InfoHash};

use crate::reply::{AnnounceReply, Reply, ReplyError, ScrapeReply, parse_announce_reply, parse_scrape_reply};

/// Largest reply body read (a hostile or broken tracker cannot exhaust memory).
const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// Why a request did not produce a reply.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not an `http://` URL the client can use.
    #[error("invalid tracker url {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Connecting or the HTTP exchange failed.
    #[error("http request failed: {0}")]
    Transport(String),
    /// The tracker did not answer within the timeout.
    #[error("tracker did not answer within {0:?}")]
    Timeout(Duration),
    /// The tracker answered with a non-200 status.
    #[error("tracker answered http {status}: {body}")]
    Status {
        /// The status.
        status: u16,
        /// The start of the body, as text.
        body: String,
    },
    /// The body is not a valid tracker reply.
    #[error(transparent)]
    Reply(#[from] ReplyError),
}

/// An HTTP tracker client. Cheap to clone; clones share the connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), octotracker_client::ClientError> {
/// use octotracker_client::HttpTrackerClient;
/// use octotracker_core::{AnnounceRequest, InfoHash, PeerId};
/// let client = HttpTrackerClient::new();
/// let req = AnnounceRequest::new(InfoHash([1; 20]), PeerId(*b"-OT0001-000000000001"), 6881);
/// let reply = client.announce("http://127.0.0.1:6969/announce", &req).await?;
/// println!("{reply:?}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HttpTrackerClient {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl Default for HttpTrackerClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpTrackerClient {
    /// A client with a 15-second timeout per request.
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        HttpTrackerClient { client, timeout: Duration::from_secs(15) }
    }

    /// The same client with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends an announce to `announce_url` (which may carry a query of its own, such as a key).
    pub async fn announce(
        &self,
        announce_url: &str,
        req: &AnnounceRequest,
    ) -> Result<Reply<AnnounceReply>, ClientError> {
        let mut query = QueryEncoder::new();
        query.announce(req);
        let body = self.get(announce_url, query.as_str()).await?;
        Ok(parse_announce_reply(&body)?)
    }

    /// Scrapes `hashes` at `scrape_url` (see [`scrape_url`](crate::scrape_url) to derive it from
    /// an announce URL).
    pub async fn scrape(&self, scrape_url: &str, hashes: &[InfoHash]) -> Result<Reply<ScrapeReply>, ClientError> {
        let mut query = QueryEncoder::new();
        query.scrape(hashes);
        let body = self.get(scrape_url, query.as_str()).await?;
        Ok(parse_scrape_reply(&body)?)
    }

    /// GETs `url` with `query` appended and returns the body of a 200 reply.
    pub async fn get(&self, url: &str, query: &str) -> Result<Bytes, ClientError> {
        let uri = with_query(url, query)?;
        let fut = async {
            let resp = self.client.get(uri).await.map_err(|e| ClientError::Transport(error_chain(&e)))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_REPLY_BYTES)
                .collect()
                .await
                .map_err(|e| ClientError::Transport(e.to_string()))?
                .to_bytes();
            if status != http::StatusCode::OK {
                let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                return Err(ClientError::Status { status: status.as_u16(), body: text });
            }
            Ok(body)
        };
        tokio::time::timeout(self.timeout, fut).await.map_err(|_| ClientError::Timeout(self.timeout))?
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn with_query(url: &str, query: &str) -> Result<Uri, ClientError> {
    let bad = |why| ClientError::Url { url: url.to_owned(), why };
    if !url.starts_with("http://") {
        return Err(bad(if url.starts_with("https://") {
            "https is not supported by this client"
        } else {
            "expected an http:// url"
        }));
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = if query.is_empty() { url.to_owned() } else { format!("{url}{sep}{query}") };
    full.parse::<Uri>().map_err(|_| bad("not a valid url"))
}
