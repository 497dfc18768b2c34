//! Health checks for load balancers and Kubernetes probes: `GET /health` answers as long as the
//! process serves requests; `GET /ready` answers 200 only when the storage answered a one-hash
//! scrape within a deadline. Both the metrics listener and the admin listener serve them, from
//! [`health_response`], so the two answer alike.

use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use octotracker_core::{InfoHash, TorrentManager};

/// How long `/ready` waits for the storage by default: shorter than the usual probe timeout
/// (Kubernetes: 1 s), so the probe gets a "not ready" rather than a timeout of its own.
pub const READY_DEADLINE: Duration = Duration::from_millis(800);

/// Whether `storage` answers within `deadline`: a scrape of one hash costs one round trip on
/// every backend and changes nothing.
pub async fn storage_ready(storage: &dyn TorrentManager, deadline: Duration) -> Result<(), String> {
    match tokio::time::timeout(deadline, storage.scrape(&[InfoHash([0; 20])])).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("storage did not answer within {} ms", deadline.as_millis())),
    }
}

/// The answer to `path` when it is `/health` or `/ready`; `None` for any other path.
pub async fn health_response(
    path: &str,
    storage: &dyn TorrentManager,
    deadline: Duration,
) -> Option<Response<Full<Bytes>>> {
    let (status, body) = match path {
        "/health" => (StatusCode::OK, serde_json::json!({ "status": "up" })),
        "/ready" => match storage_ready(storage, deadline).await {
            Ok(()) => (StatusCode::OK, serde_json::json!({ "status": "ready" })),
            Err(reason) => {
                (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "status": "unavailable", "error": reason }))
            }
        },
        _ => return None,
    };
    Some(crate::json::reply(status, &body))
}
