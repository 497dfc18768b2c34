//! [`AdminApi`]: the routes of the admin API, as a tower `Service`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use octotracker_core::{InfoHash, PasskeyStore, StorageError, SwarmRank, TorrentManager, is_passkey};
use serde_json::{Value, json};

use crate::auth::{self, Token};
use crate::json::{error, reply};
use crate::lists::ListStore;
use octotracker_core::HashList;

/// The largest request body read (a passkey request is a few dozen bytes).
pub const MAX_BODY: usize = 4096;
/// The most swarms `GET /v1/torrents` lists.
pub const MAX_LIMIT: usize = 1000;
/// How many swarms `GET /v1/torrents` lists without `limit`.
pub const DEFAULT_LIMIT: usize = 100;

/// The admin API: `/health` and `/ready` for probes (no token), everything under `/v1/` behind
/// a bearer token. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AdminApi {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn TorrentManager>,
    token: Token,
    lists: Option<Arc<dyn ListStore>>,
    keys: Option<Arc<dyn PasskeyStore>>,
    ready_deadline: Duration,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("lists", &self.inner.lists.is_some())
            .field("keys", &self.inner.keys.is_some())
            .finish_non_exhaustive()
    }
}

/// What a handler returns: a reply either way.
type Reply = Response<Full<Bytes>>;

/// A request refused before it reaches a store: the status and a message for a person.
struct Refused(StatusCode, String);

impl From<Refused> for Reply {
    fn from(Refused(status, message): Refused) -> Reply {
        error(status, message)
    }
}

impl AdminApi {
    /// An API over `storage`, let in with `token` (`Authorization: Bearer TOKEN`).
    pub fn new(storage: Arc<dyn TorrentManager>, token: &str) -> AdminApi {
        AdminApi {
            inner: Arc::new(Inner {
                storage,
                token: Token::new(token),
                lists: None,
                keys: None,
                ready_deadline: crate::READY_DEADLINE,
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.inner).expect("AdminApi is configured before it is cloned")
    }

    /// Serves `/v1/allow/…` and `/v1/deny/…` from `lists`.
    ///
    /// # Panics
    /// When called on a clone (configure the API before handing it out).
    pub fn with_lists(mut self, lists: Arc<dyn ListStore>) -> AdminApi {
        self.inner_mut().lists = Some(lists);
        self
    }

    /// Serves `/v1/keys` from `keys`.
    ///
    /// # Panics
    /// When called on a clone.
    pub fn with_keys(mut self, keys: Arc<dyn PasskeyStore>) -> AdminApi {
        self.inner_mut().keys = Some(keys);
        self
    }

    /// How long `/ready` waits for the storage ([`READY_DEADLINE`](crate::READY_DEADLINE) by default).
    ///
    /// # Panics
    /// When called on a clone.
    pub fn with_ready_deadline(mut self, deadline: Duration) -> AdminApi {
        self.inner_mut().ready_deadline = deadline;
        self
    }

    /// Answers one request.
    pub async fn respond<B>(&self, req: Request<B>) -> Reply
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let path = req.uri().path().to_owned();
        if path == "/health" || path == "/ready" {
            if req.method() != Method::GET && req.method() != Method::HEAD {
                return not_allowed("GET");
            }
            if let Some(resp) = crate::health_response(&path, inner.storage.as_ref(), inner.ready_deadline).await {
                return resp;
            }
        }
        if let Err((status, message)) = auth::check(&inner.token, req.headers(), req.uri().query()) {
            let mut resp = error(status, message);
            if status == StatusCode::UNAUTHORIZED {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            }
            return resp;
        }
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        let method = req.method().clone();
        let query = req.uri().query().unwrap_or("").to_owned();
        match segments.as_slice() {
            ["v1", "stats"] => match method {
                Method::GET => self.stats().await,
                _ => not_allowed("GET"),
            },
            ["v1", "torrents"] => match method {
                Method::GET => self.top(&query).await,
                _ => not_allowed("GET"),
            },
            ["v1", "torrents", hash] => match method {
                Method::GET => self.torrent(hash).await,
                _ => not_allowed("GET"),
            },
            ["v1", "keys"] => match method {
                Method::GET => self.list_keys().await,
                Method::POST => match read_json(req.into_body()).await {
                    Ok(body) => self.add_key(body).await,
                    Err(refused) => refused.into(),
                },
                _ => not_allowed("GET, POST"),
            },
            ["v1", "keys", key] => match method {
                Method::DELETE => self.revoke_key(key).await,
                _ => not_allowed("DELETE"),
            },
            ["v1", list @ ("allow" | "deny"), hash] => {
                let list = if *list == "allow" { HashList::Allow } else { HashList::Deny };
                match method {
                    Method::PUT => self.set_listed(list, hash, true).await,
                    Method::DELETE => self.set_listed(list, hash, false).await,
                    _ => not_allowed("PUT, DELETE"),
                }
            }
            _ => error(StatusCode::NOT_FOUND, format!("no such resource: {path}")),
        }
    }

    async fn stats(&self) -> Reply {
        match self.inner.storage.totals().await {
            Ok(t) => reply(
                StatusCode::OK,
                &json!({ "torrents": t.torrents, "seeders": t.seeders, "leechers": t.leechers, "peers": t.peers() }),
            ),
            Err(e) => storage_error(&e),
        }
    }

    async fn top(&self, query: &str) -> Reply {
        let mut rank = SwarmRank::Peers;
        let mut limit = DEFAULT_LIMIT;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "sort" => match SwarmRank::ALL.into_iter().find(|r| r.as_str() == value) {
                    Some(r) => rank = r,
                    None => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("sort must be peers, seeders, leechers or downloaded, not {value:?}"),
                        );
                    }
                },
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                    _ => {
                        return error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("limit must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"),
                        );
                    }
                },
                other => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("unknown parameter {other:?}: use sort and limit"),
                    );
                }
            }
        }
        match self.inner.storage.top_swarms(rank, limit).await {
            Ok(swarms) => {
                let torrents: Vec<Value> = swarms.iter().map(|(hash, stats)| swarm_json(hash, stats)).collect();
                reply(StatusCode::OK, &json!({ "sort": rank.as_str(), "limit": limit, "torrents": torrents }))
            }
            Err(e) => storage_error(&e),
        }
    }

    async fn torrent(&self, hash: &str) -> Reply {
        let hash = match parse_hash(hash) {
            Ok(hash) => hash,
            Err(refused) => return refused.into(),
        };
        let stats = match self.inner.storage.scrape(&[hash]).await {
            Ok(stats) => match stats.first() {
                Some(s) if s.peers() > 0 || s.downloaded > 0 => *s,
                _ => return error(StatusCode::NOT_FOUND, format!("no swarm {hash}")),
            },
            Err(e) => return storage_error(&e),
        };
        let mut swarm = swarm_json(&hash, &stats);
        // Read after the counts: a peer arriving in between shows in the split only.
        match self.inner.storage.family_counts(&hash).await {
            Ok(f) => {
                let counts = |c: octotracker_core::PeerCounts| json!({ "seeders": c.seeders, "leechers": c.leechers });
                swarm["families"] = json!({ "ipv4": counts(f.v4), "ipv6": counts(f.v6), "webrtc": counts(f.webrtc) });
            }
            Err(octotracker_core::StorageError::Unsupported(_)) => {}
            Err(e) => return storage_error(&e),
        }
        reply(StatusCode::OK, &swarm)
    }

    fn keys(&self) -> Result<&dyn PasskeyStore, Refused> {
        self.inner.keys.as_deref().ok_or_else(|| {
            Refused(
                StatusCode::NOT_FOUND,
                "this tracker keeps no passkeys: start it with --passkeys FILE or --passkeys backend".into(),
            )
        })
    }

    async fn list_keys(&self) -> Reply {
        let store = match self.keys() {
            Ok(store) => store,
            Err(refused) => return refused.into(),
        };
        match store.list_passkeys().await {
            Ok(mut keys) => {
                keys.sort();
                reply(StatusCode::OK, &json!({ "keys": keys }))
            }
            Err(e) => storage_error(&e),
        }
    }

    async fn add_key(&self, body: Value) -> Reply {
        let store = match self.keys() {
            Ok(store) => store,
            Err(refused) => return refused.into(),
        };
        let Value::Object(fields) = body else {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "expected a JSON object: {} or {\"key\": \"…\"}");
        };
        if let Some(other) = fields.keys().find(|k| *k != "key") {
            return error(StatusCode::UNPROCESSABLE_ENTITY, format!("unknown field {other:?}: only \"key\""));
        }
        let key = match fields.get("key") {
            None => match random_passkey() {
                Ok(key) => key,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot make a random key: {e}")),
            },
            Some(Value::String(key)) if is_passkey(key) => key.clone(),
            Some(_) => {
                return error(StatusCode::UNPROCESSABLE_ENTITY, "key must be 1 to 64 letters, digits, - or _");
            }
        };
        match store.add_passkey(&key).await {
            Ok(true) => {
                tracing::info!("admin API: passkey issued");
                reply(StatusCode::CREATED, &json!({ "key": key }))
            }
            Ok(false) => reply(StatusCode::OK, &json!({ "key": key, "existed": true })),
            Err(e) => storage_error(&e),
        }
    }

    async fn revoke_key(&self, key: &str) -> Reply {
        let store = match self.keys() {
            Ok(store) => store,
            Err(refused) => return refused.into(),
        };
        if !is_passkey(key) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "a passkey is 1 to 64 letters, digits, - or _");
        }
        match store.revoke_passkey(key).await {
            Ok(true) => {
                tracing::info!("admin API: passkey revoked");
                reply(StatusCode::OK, &json!({ "key": key, "revoked": true }))
            }
            Ok(false) => error(StatusCode::NOT_FOUND, format!("no such passkey: {key}")),
            Err(e) => storage_error(&e),
        }
    }

    async fn set_listed(&self, list: HashList, hash: &str, listed: bool) -> Reply {
        let hash = match parse_hash(hash) {
            Ok(hash) => hash,
            Err(refused) => return refused.into(),
        };
        let store = match self.inner.lists.as_deref().filter(|s| s.has(list)) {
            Some(store) => store,
            None => {
                let name = list.as_str();
                return error(
                    StatusCode::NOT_FOUND,
                    format!("this tracker keeps no {name} list: start it with --{name}-list FILE"),
                );
            }
        };
        match store.set(list, hash, listed).await {
            Ok(changed) => {
                tracing::info!(list = list.as_str(), info_hash = %hash, listed, changed, "admin API: list changed");
                reply(
                    StatusCode::OK,
                    &json!({ "list": list.as_str(), "info_hash": hash.to_string(), "listed": listed, "changed": changed }),
                )
            }
            Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        }
    }
}

fn swarm_json(hash: &InfoHash, s: &octotracker_core::SwarmStats) -> Value {
    json!({
        "info_hash": hash.to_string(),
        "seeders": s.complete,
        "leechers": s.incomplete,
        "peers": s.peers(),
        "downloaded": s.downloaded,
    })
}

fn parse_hash(text: &str) -> Result<InfoHash, Refused> {
    text.parse::<InfoHash>().map_err(|_| {
        Refused(StatusCode::UNPROCESSABLE_ENTITY, format!("{text:?} is not an info hash (40 hex characters)"))
    })
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, format!("method not allowed here: use {allow}"));
    resp.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allow));
    resp
}

fn storage_error(e: &StorageError) -> Reply {
    match e {
        StorageError::Unsupported(what) => {
            error(StatusCode::NOT_IMPLEMENTED, format!("this storage backend does not offer {what}"))
        }
        _ => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes; an empty body counts as `{}`.
async fn read_json<B>(body: B) -> Result<Value, Refused>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(Refused(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {MAX_BODY} bytes")));
        }
        Err(e) => return Err(Refused(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}"))),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| Refused(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))
}

/// 32 hex characters of the system's random bytes (128 bits): a passkey is a secret, so never
/// from a fast non-cryptographic generator.
pub fn random_passkey() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl<B> tower::Service<Request<B>> for AdminApi
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Reply;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let api = self.clone();
        Box::pin(async move { Ok(api.respond(req).await) })
    }
}
