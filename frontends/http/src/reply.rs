//! The heads of the responses this crate writes, in one place: a bencoded reply (`200 OK`,
//! `content-type: text/plain`), a plain-text error, `connection: close` while the standalone
//! server drains, and the whole head of a one-shot reply, byte for byte what hyper writes for
//! the same response (`tests/one_shot.rs` compares them).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use octotracker_core::Decimal;

/// The content type of every response: bencode is sent as `text/plain`, as other trackers do.
const TEXT_PLAIN: &str = "text/plain";

/// `200 OK` with a bencoded body (a reply or a `failure reason`).
pub(crate) fn bencoded(body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
    resp
}

/// `status` with a short text (404, 405).
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = bencoded(Bytes::from_static(text.as_bytes()));
    *resp.status_mut() = status;
    resp
}

/// Marks `response` as the last on its connection (the standalone server while it drains).
pub(crate) fn close_after<B>(response: &mut Response<B>) {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// Room for the longest head [`write_head`] writes (a 20-digit length: 153 bytes).
pub(crate) const HEAD_CAPACITY: usize = 160;

/// The head hyper writes for [`bencoded`] with `body_len` bytes, answering a request that asked
/// to close the connection (HTTP/1.0 without keep-alive when `http10`, else HTTP/1.1 with
/// `Connection: close`), into `out`; returns its length. `close` adds `connection: close` to an
/// HTTP/1.0 reply, as [`close_after`] makes hyper do (an HTTP/1.1 reply to a closing request
/// always has it).
pub(crate) fn write_head(out: &mut [u8; HEAD_CAPACITY], http10: bool, close: bool, body_len: usize) -> usize {
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    put(if http10 { b"HTTP/1.0 200 OK\r\n" } else { b"HTTP/1.1 200 OK\r\n" });
    put(b"content-type: text/plain\r\n");
    if !http10 || close {
        put(b"connection: close\r\n");
    }
    put(b"content-length: ");
    put(Decimal::new(body_len as u64).as_bytes());
    put(b"\r\ndate: ");
    put(&http_date());
    put(b"\r\n\r\n");
    len
}

thread_local! {
    /// The `date` value of the current second, formatted once per second per thread.
    static DATE: RefCell<(u64, [u8; 29])> = const { RefCell::new((u64::MAX, [0; 29])) };
}

/// Now, as an HTTP date (`Sun, 06 Dec 2026 07:38:08 GMT`).
fn http_date() -> [u8; 29] {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != second {
            let text = httpdate::fmt_http_date(now);
            if text.len() == 29 {
                cached.1.copy_from_slice(text.as_bytes());
                cached.0 = second;
            }
        }
        cached.1
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// What hyper writes for [`bencoded`] `body`, marked with [`close_after`] (the server
    /// draining), in answer to `request`: the bytes up to the `date` value.
    async fn hyper_head_when_draining(request: &[u8], body: &'static [u8]) -> String {
        let (mut client, server) = tokio::io::duplex(4096);
        let service = hyper::service::service_fn(move |_req| async move {
            let mut response = bencoded(Bytes::from_static(body));
            close_after(&mut response);
            Ok::<_, Infallible>(response)
        });
        let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), service);
        let served = tokio::spawn(conn);
        client.write_all(request).await.unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        served.await.unwrap().unwrap();
        let reply = String::from_utf8(reply).unwrap();
        reply.split_once("date: ").unwrap().0.to_owned()
    }

    fn our_head(http10: bool, body_len: usize) -> String {
        let mut out = [0u8; HEAD_CAPACITY];
        let len = write_head(&mut out, http10, true, body_len);
        String::from_utf8(out[..len].to_vec()).unwrap().split_once("date: ").unwrap().0.to_owned()
    }

    /// While the server drains, the one-shot path still answers: its head is hyper's for the
    /// same response, `connection: close` included, for HTTP/1.0 and HTTP/1.1.
    #[tokio::test]
    async fn a_draining_head_is_what_hyper_writes_for_close_after() {
        let body = b"d8:intervali1800ee";
        let http10 = hyper_head_when_draining(b"GET /announce HTTP/1.0\r\n\r\n", body).await;
        assert_eq!(our_head(true, body.len()), http10);
        assert!(http10.contains("connection: close"), "{http10:?}");
        let request = b"GET /announce HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        assert_eq!(our_head(false, body.len()), hyper_head_when_draining(request, body).await);
    }

    #[test]
    fn the_head_is_what_hyper_writes_and_fits() {
        let mut out = [0u8; HEAD_CAPACITY];
        let len = write_head(&mut out, false, false, 112);
        let head = std::str::from_utf8(&out[..len]).unwrap();
        let (before_date, date) = head.split_once("date: ").unwrap();
        assert_eq!(
            before_date,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 112\r\n"
        );
        assert!(date.ends_with(" GMT\r\n\r\n") && date.len() == 29 + 4, "{date:?}");
        let len = write_head(&mut out, true, false, 0);
        assert!(
            std::str::from_utf8(&out[..len])
                .unwrap()
                .starts_with("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 0\r\ndate: ")
        );
        let len = write_head(&mut out, true, true, 7);
        assert!(
            std::str::from_utf8(&out[..len]).unwrap().starts_with(
                "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: 7\r\n"
            )
        );
        assert!(write_head(&mut out, false, true, usize::MAX) <= HEAD_CAPACITY);
    }
}
