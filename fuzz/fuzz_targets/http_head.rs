//! The standalone HTTP server's one-shot request head parser (frontends/http/src/one_shot.rs):
//! never panics, and what it takes is what hyper would take the same way: one complete `GET`
//! head (httparse, with room for many headers, agrees on its length), and a request target that
//! the `http` crate's URI parser accepts as it is, with the same path and query.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_http::fuzzing::parse_head;

fuzz_target!(|data: &[u8]| {
    let Some(head) = parse_head(data) else { return };
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut request = httparse::Request::new(&mut headers);
    assert_eq!(request.parse(data), Ok(httparse::Status::Complete(data.len())), "one whole head");
    assert_eq!(request.method, Some("GET"));
    let target = request.path.expect("a target");
    let uri: http::Uri = target.parse().expect("the http crate accepts the target");
    assert_eq!(uri.path(), head.path, "the same path as hyper's");
    assert_eq!(uri.query().unwrap_or("").as_bytes(), head.query, "the same query as hyper's");
    assert_eq!(head.http10, request.version == Some(0));
});
