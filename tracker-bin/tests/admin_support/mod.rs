//! Talking to the admin API (and the health checks) of a running `octotracker`.

#![allow(dead_code)] // each test file uses a part

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The token the admin tests serve with.
pub(crate) const TOKEN: &str = "admin-test-token-0123456789";

/// One HTTP/1.1 request (`Connection: close`) to `addr`: its status and JSON body.
pub(crate) async fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the listener accepts");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole response");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {body:?}"));
    (status, json)
}

/// A file of its own under the temp dir holding [`TOKEN`]; removed when dropped, on every path.
pub(crate) struct TokenFile(pub String);

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes the token to a file of its own.
pub(crate) fn token_file(what: &str) -> TokenFile {
    let path = std::env::temp_dir().join(format!("octotracker-admin-token-{what}-{:016x}", fastrand::u64(..)));
    std::fs::write(&path, TOKEN).unwrap();
    TokenFile(path.to_string_lossy().into_owned())
}
