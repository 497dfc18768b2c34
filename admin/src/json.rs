//! JSON replies: every answer of the admin API (and the health checks) is one JSON value;
//! errors are `{"error": "…"}` with a message for a person.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

/// `body` as a JSON reply with `status`.
pub(crate) fn reply(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut text = body.to_string();
    text.push('\n');
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}

/// An error reply: `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, &serde_json::json!({ "error": message.into() }))
}
