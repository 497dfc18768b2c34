//! `--redis-event-stream KEY`: one subscriber of the engine's events appends them to a Redis
//! stream, so a consumer reads every process of a cluster in one place (docs/embedding.md).

use octotracker_core::events::Subscription;
use octotracker_core::{FrontendError, Shutdown, Tracker};
use octotracker_redis::{RedisConfig, RedisEventStream, RedisTarget};

use crate::Failure;
use crate::settings::EventStream;

/// Events waiting to be appended, at most; more are lost and counted
/// (`octotracker_events_lost_total`).
const RING: usize = 16_384;

/// Connects the sink and subscribes it to `tracker`'s events.
pub(crate) async fn connect(
    tracker: &Tracker,
    target: &RedisTarget,
    stream: &EventStream,
) -> Result<(RedisEventStream, Subscription), Failure> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let source = format!("{}/{}", host.trim(), std::process::id());
    let sink = RedisEventStream::connect(target, &RedisConfig::default(), &stream.key, stream.maxlen, &source)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot append events to {target} stream {:?}: {e}", stream.key)))?;
    tracing::info!(key = %stream.key, maxlen = stream.maxlen, source = %source, "appending events to a Redis stream");
    Ok((sink, tracker.events().subscribe(RING)))
}

/// Runs the sink until shutdown.
pub(crate) async fn run(sink: RedisEventStream, events: Subscription, shutdown: Shutdown) -> Result<(), FrontendError> {
    let written = sink.run(events, shutdown).await;
    tracing::info!(written, "event stream closed");
    Ok(())
}
