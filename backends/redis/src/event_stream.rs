//! [`RedisEventStream`]: the engine's events appended to a Redis stream, so one consumer (a web
//! app's ledger, an audit job) reads every tracker process of a cluster in one place.
//!
//! ```text
//!  Tracker ─► Subscription (bounded ring) ─► RedisEventStream::run ─► pipelined
//!                                              XADD <key> MAXLEN ~ <maxlen> * type announce …
//!  consumer: XREAD BLOCK 0 STREAMS <key> $  (or a consumer group: XREADGROUP)
//! ```
//!
//! One entry per event, flat string fields ([`entry_fields`]); [`StreamEvent::parse`] reads
//! one back. The stream is trimmed approximately (`MAXLEN ~`) so it holds at least `maxlen`
//! entries and never grows without bound; a consumer that falls further behind than that loses
//! the oldest. While Redis is unreachable batches are dropped (logged) and the ring in front
//! counts what it could not hold: the announce path never waits for Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use octotracker_core::events::{AnnounceEvent, ExpiryEvent, FRONTEND_UNNAMED, ScrapeEvent, Subscription, TrackerEvent};
use octotracker_core::{Event, InfoHash, PeerId, Shutdown, StorageError, SwarmStats, UnixTime};

use crate::conn::Conn;
use crate::error::{storage_error, timed_out};
use crate::{RedisConfig, RedisTarget};

/// Events written per pipeline, at most.
const BATCH: usize = 512;

/// Appends the events of a [`Subscription`] to one Redis stream.
#[derive(Debug)]
pub struct RedisEventStream {
    conn: Conn,
    key: String,
    maxlen: u64,
    source: String,
    bound: Duration,
}

impl RedisEventStream {
    /// Connects to `target` to append to the stream `key`, trimmed to about `maxlen` entries;
    /// every entry says it came from `source` (e.g. `host/pid`).
    ///
    /// # Errors
    ///
    /// [`StorageError::Unavailable`] when Redis cannot be reached; [`StorageError::Internal`] for
    /// an empty key or a `maxlen` of 0.
    pub async fn connect(
        target: &RedisTarget,
        config: &RedisConfig,
        key: &str,
        maxlen: u64,
        source: &str,
    ) -> Result<Self, StorageError> {
        if key.is_empty() || maxlen == 0 {
            return Err(StorageError::Internal("an event stream needs a key and a maxlen of at least 1".into()));
        }
        let bound = config.connect_timeout * 3 + config.response_timeout;
        let conn = match tokio::time::timeout(bound, Conn::open(target, config)).await {
            Ok(conn) => conn.map_err(storage_error)?,
            Err(_) => return Err(timed_out("connecting")),
        };
        Ok(RedisEventStream {
            conn,
            key: key.to_owned(),
            maxlen,
            source: source.to_owned(),
            bound: config.response_timeout + config.connect_timeout,
        })
    }

    /// Writes `events` until it ends (the engine is gone) or `shutdown` resolves, then writes
    /// what is waiting. Returns how many entries were appended.
    pub async fn run(self, mut events: Subscription, mut shutdown: Shutdown) -> u64 {
        let mut batch = Vec::with_capacity(BATCH);
        let mut written = 0;
        let mut lost = 0;
        loop {
            tokio::select! {
                n = events.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return written;
                    }
                }
                () = &mut shutdown => {
                    while let Some(event) = events.try_recv() {
                        batch.push(event);
                        if batch.len() == BATCH {
                            written += self.write(&mut batch).await;
                        }
                    }
                    return written + self.write(&mut batch).await;
                }
            }
            written += self.write(&mut batch).await;
            if events.lost() > lost {
                tracing::warn!(lost = events.lost() - lost, key = %self.key, "the event stream fell behind; events lost");
                lost = events.lost();
            }
        }
    }

    /// Appends `batch` in one pipeline (emptying it); how many were appended.
    async fn write(&self, batch: &mut Vec<TrackerEvent>) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        let mut pipe = redis::pipe();
        for event in batch.iter() {
            let cmd = pipe.cmd("XADD").arg(&self.key).arg("MAXLEN").arg("~").arg(self.maxlen).arg("*");
            cmd.arg("source").arg(&self.source);
            for (field, value) in entry_fields(event) {
                cmd.arg(field).arg(value);
            }
            cmd.ignore();
        }
        let n = batch.len() as u64;
        batch.clear();
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.bound, pipe.query_async::<()>(&mut conn)).await {
            Ok(Ok(())) => n,
            Ok(Err(e)) => {
                tracing::warn!(error = %storage_error(e), events = n, key = %self.key, "cannot append to the event stream; dropped");
                tokio::time::sleep(Duration::from_millis(200)).await;
                0
            }
            Err(_) => {
                tracing::warn!(events = n, key = %self.key, "appending to the event stream timed out; dropped");
                0
            }
        }
    }
}

/// The fields of an event's stream entry (after `source`), in order:
///
/// | `type` | fields |
/// |---|---|
/// | `announce` | `info_hash` (hex), `peer` (`IP:PORT`), `peer_id` (hex), `event` (`none`, `started`, `stopped`, `completed`), `uploaded`, `downloaded`, `left` (as reported), `passkey` (only when the URL had one), `frontend`, `complete`, `incomplete`, `downloads` (the swarm's counts after it), `time` (Unix seconds) |
/// | `scrape` | `info_hashes` (hex, comma-separated; empty for a full scrape), `full` (`0`/`1`), `passkey` (when present), `frontend`, `time` |
/// | `expiry` | `cutoff`, `peers_removed`, `swarms_removed`, `time` |
pub fn entry_fields(event: &TrackerEvent) -> Vec<(&'static str, String)> {
    match event {
        TrackerEvent::Announce(a) => {
            let mut f = vec![
                ("type", "announce".to_owned()),
                ("info_hash", a.info_hash.to_string()),
                ("peer", a.peer.to_string()),
                ("peer_id", a.peer_id.to_string()),
                ("event", a.event.as_str().to_owned()),
                ("uploaded", a.uploaded.to_string()),
                ("downloaded", a.downloaded.to_string()),
                ("left", a.left.to_string()),
            ];
            if let Some(key) = &a.passkey {
                f.push(("passkey", key.to_string()));
            }
            f.extend([
                ("frontend", a.frontend.to_owned()),
                ("complete", a.stats.complete.to_string()),
                ("incomplete", a.stats.incomplete.to_string()),
                ("downloads", a.stats.downloaded.to_string()),
                ("time", a.now.0.to_string()),
            ]);
            f
        }
        TrackerEvent::Scrape(s) => {
            let hashes: Vec<String> = s.info_hashes.iter().map(InfoHash::to_string).collect();
            let mut f = vec![
                ("type", "scrape".to_owned()),
                ("info_hashes", hashes.join(",")),
                ("full", u8::from(s.full).to_string()),
            ];
            if let Some(key) = &s.passkey {
                f.push(("passkey", key.to_string()));
            }
            f.extend([("frontend", s.frontend.to_owned()), ("time", s.now.0.to_string())]);
            f
        }
        TrackerEvent::Expiry(e) => vec![
            ("type", "expiry".to_owned()),
            ("cutoff", e.cutoff.0.to_string()),
            ("peers_removed", e.peers_removed.to_string()),
            ("swarms_removed", e.swarms_removed.to_string()),
            ("time", e.now.0.to_string()),
        ],
    }
}

/// One stream entry read back: which process wrote it and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// The `source` of the process that wrote it.
    pub source: String,
    /// The event (a frontend label other than `http`, `https`, `udp` and `ws` reads as `embedded`).
    pub event: TrackerEvent,
}

impl StreamEvent {
    /// Reads an entry's fields (as `XRANGE`/`XREAD` return them); `None` when they do not form
    /// an event this version writes.
    pub fn parse(fields: &HashMap<String, String>) -> Option<StreamEvent> {
        let get = |name: &str| fields.get(name).map(String::as_str);
        let num = |name: &str| get(name)?.parse::<u64>().ok();
        let time = |name: &str| num(name).map(UnixTime);
        let passkey = get("passkey").map(Arc::from);
        let frontend = || match get("frontend")? {
            "http" => Some("http"),
            "https" => Some("https"),
            "udp" => Some("udp"),
            "ws" => Some("ws"),
            _ => Some(FRONTEND_UNNAMED),
        };
        let event = match get("type")? {
            "announce" => TrackerEvent::Announce(AnnounceEvent {
                info_hash: get("info_hash")?.parse().ok()?,
                peer: get("peer")?.parse().ok()?,
                peer_id: get("peer_id")?.parse::<PeerId>().ok()?,
                event: Event::from_query_value(get("event")?.replace("none", "").as_bytes()).ok()?,
                uploaded: num("uploaded")?,
                downloaded: num("downloaded")?,
                left: num("left")?,
                passkey,
                frontend: frontend()?,
                stats: SwarmStats {
                    complete: u32::try_from(num("complete")?).ok()?,
                    incomplete: u32::try_from(num("incomplete")?).ok()?,
                    downloaded: num("downloads")?,
                },
                now: time("time")?,
            }),
            "scrape" => TrackerEvent::Scrape(ScrapeEvent {
                info_hashes: match get("info_hashes")? {
                    "" => Arc::from([]),
                    list => list.split(',').map(str::parse).collect::<Result<Vec<InfoHash>, _>>().ok()?.into(),
                },
                full: get("full")? == "1",
                passkey,
                frontend: frontend()?,
                now: time("time")?,
            }),
            "expiry" => TrackerEvent::Expiry(ExpiryEvent {
                cutoff: time("cutoff")?,
                peers_removed: num("peers_removed")?,
                swarms_removed: num("swarms_removed")?,
                now: time("time")?,
            }),
            _ => return None,
        };
        Some(StreamEvent { source: get("source")?.to_owned(), event })
    }
}

/// Reads a stream [`RedisEventStream`] writes, in order, from where it left off: the
/// consumer side, for tests and for Rust consumers (others use `XREAD` or `XREADGROUP`).
#[derive(Debug)]
pub struct StreamReader {
    conn: Conn,
    key: String,
    last_id: String,
    block: Duration,
}

impl StreamReader {
    /// Connects to read `key` after the entry id `after` (`0`: from the oldest kept; `$`: only
    /// what is appended from now on).
    ///
    /// # Errors
    ///
    /// [`StorageError::Unavailable`] when Redis cannot be reached.
    pub async fn connect(
        target: &RedisTarget,
        config: &RedisConfig,
        key: &str,
        after: &str,
    ) -> Result<Self, StorageError> {
        let bound = config.connect_timeout * 3 + config.response_timeout;
        let mut conn = match tokio::time::timeout(bound, Conn::open(target, config)).await {
            Ok(conn) => conn.map_err(storage_error)?,
            Err(_) => return Err(timed_out("connecting")),
        };
        let mut last_id = after.to_owned();
        if after == "$" {
            // The id of the newest entry now, so nothing appended from here on is missed.
            let newest: redis::Value = redis::cmd("XREVRANGE")
                .arg(key)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
                .map_err(storage_error)?;
            last_id = entries(&newest).first().map_or_else(|| "0".to_owned(), |(id, _)| id.clone());
        }
        Ok(StreamReader { conn, key: key.to_owned(), last_id, block: config.response_timeout / 2 })
    }

    /// Up to `count` entries after the last one read, waiting a little (half the response
    /// timeout) when there is none; an empty batch when none came. Entries that are not events
    /// of this version are skipped.
    ///
    /// # Errors
    ///
    /// [`StorageError::Unavailable`] when Redis cannot be reached.
    pub async fn next_batch(&mut self, count: usize) -> Result<Vec<StreamEvent>, StorageError> {
        let reply: redis::Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(self.block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.last_id)
            .query_async(&mut self.conn)
            .await
            .map_err(storage_error)?;
        // [[key, [[id, [field, value, …]], …]]], or nil when nothing came.
        let streams = array(&reply);
        let Some(stream) = streams.first() else { return Ok(Vec::new()) };
        let read = entries(array(stream).get(1).unwrap_or(&redis::Value::Nil));
        if let Some((id, _)) = read.last() {
            self.last_id = id.clone();
        }
        Ok(read.iter().filter_map(|(_, fields)| StreamEvent::parse(fields)).collect())
    }
}

impl StreamReader {
    /// Deletes the stream (a test's cleanup; a consumer trims with `XTRIM` instead).
    ///
    /// # Errors
    ///
    /// [`StorageError::Unavailable`] when Redis cannot be reached.
    pub async fn delete(mut self) -> Result<(), StorageError> {
        redis::cmd("DEL").arg(&self.key).query_async::<()>(&mut self.conn).await.map_err(storage_error)
    }
}

fn array(v: &redis::Value) -> &[redis::Value] {
    match v {
        redis::Value::Array(items) => items,
        _ => &[],
    }
}

fn text(v: &redis::Value) -> Option<String> {
    match v {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// `[[id, [field, value, …]], …]` as (id, fields).
fn entries(v: &redis::Value) -> Vec<(String, HashMap<String, String>)> {
    array(v)
        .iter()
        .filter_map(|entry| {
            let [id, fields] = array(entry) else { return None };
            let fields = array(fields).chunks_exact(2).filter_map(|kv| Some((text(&kv[0])?, text(&kv[1])?))).collect();
            Some((text(id)?, fields))
        })
        .collect()
}
