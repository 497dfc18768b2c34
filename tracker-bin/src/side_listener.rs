//! The accept loop of the side listeners (metrics, admin): HTTP/1.1 on an address of their own,
//! a header read timeout, every connection aborted at shutdown (nothing there needs draining).

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use octotracker_core::{FrontendError, Shutdown};
use tokio::net::TcpListener;

/// Serves `respond` on `listener` until `shutdown` resolves; `what` names it in the logs.
pub(crate) async fn serve<F, Fut>(
    listener: TcpListener,
    what: &'static str,
    respond: F,
    mut shutdown: Shutdown,
) -> Result<(), FrontendError>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "{what}: accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let respond = respond.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let answer = respond(req);
                async move { Ok::<_, Infallible>(answer.await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "{what}: connection ended");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
    Ok(())
}
