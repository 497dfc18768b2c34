//! The metrics endpoint (`--metrics ADDR`), on an address of its own (never the tracker's port):
//! `GET /metrics` in the Prometheus text format, `GET /stats` as a small JSON object, and the
//! status page: `GET /` (HTML) polling `GET /status.json`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use octotracker_core::{FrontendError, Shutdown, StorageError, Tracker};
use octotracker_metrics::prometheus_client::encoding::text::encode;
use octotracker_metrics::prometheus_client::registry::Registry;
use octotracker_metrics::{STATUS_PAGE, StatusSource, TrackerMetrics};
use tokio::net::TcpListener;

/// What the endpoint reads from.
pub(crate) struct MetricsEndpoint {
    pub registry: Registry,
    pub metrics: Arc<TrackerMetrics>,
    pub tracker: Arc<Tracker>,
    pub status: StatusSource,
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl MetricsEndpoint {
    async fn respond(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n".into());
        }
        match req.uri().path() {
            "/metrics" => self.metrics().await,
            "/stats" => self.stats().await,
            "/" => reply(StatusCode::OK, "text/html; charset=utf-8", STATUS_PAGE.into()),
            "/status.json" => match serde_json::to_string(&self.status.report().await) {
                Ok(json) => reply(StatusCode::OK, "application/json", json + "\n"),
                Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", format!("{e}\n")),
            },
            _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found: try /, /metrics or /stats\n".into()),
        }
    }

    async fn metrics(&self) -> Response<Full<Bytes>> {
        match self.metrics.refresh(&self.tracker).await {
            Ok(_) | Err(StorageError::Unsupported(_)) => {}
            // The counters are still worth serving; the gauges keep their last values.
            Err(e) => tracing::warn!(error = %e, "cannot refresh the storage totals"),
        }
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "cannot encode metrics\n".into());
        }
        reply(StatusCode::OK, OPENMETRICS, text)
    }

    async fn stats(&self) -> Response<Full<Bytes>> {
        match self.metrics.summary(&self.tracker).await {
            Ok(summary) => match serde_json::to_string(&summary) {
                Ok(json) => reply(StatusCode::OK, "application/json", json + "\n"),
                Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", format!("{e}\n")),
            },
            Err(e) => {
                let body = serde_json::json!({ "error": e.to_string() }).to_string();
                reply(StatusCode::SERVICE_UNAVAILABLE, "application/json", body + "\n")
            }
        }
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    resp
}

/// Serves the endpoint on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    endpoint: Arc<MetricsEndpoint>,
    mut shutdown: Shutdown,
) -> Result<(), FrontendError> {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let endpoint = endpoint.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let endpoint = endpoint.clone();
                async move { Ok::<_, Infallible>(endpoint.respond(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics endpoint: connection ended");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
    Ok(())
}
