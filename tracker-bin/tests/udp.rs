//! The UDP frontend of the real binary, driven by its own `announce` and `scrape` commands over
//! `udp://` URLs: `--udp` listeners, IPv4 and IPv6, peers across HTTP and UDP, passkeys as
//! BEP 41 URL data, failures reported as for HTTP.

use std::time::Duration;

use serde_json::Value;

mod common;

use common::{LoggedServer, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);
const HASH: &str = "abababababababababababababababababababab";

fn run(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = octotracker().args(args).output().expect("octotracker runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code(), json, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn announce(url: &str, port: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["announce", url, "--info-hash", HASH, "--port", port, "--timeout", "10"];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn udp_and_http_serve_one_swarm_over_ipv4_and_ipv6() {
    let mut server =
        LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--udp", "[::1]:0"]));
    let http = server.await_after("listening on http://", DEADLINE);
    let udp4 = server.await_after("listening on udp://127.0.0.1", DEADLINE);
    let udp6 = server.await_after("listening on udp://[::1]", DEADLINE);
    let (udp4, udp6) = (format!("udp://127.0.0.1{udp4}"), format!("udp://[::1]{udp6}"));

    let (code, first, err) = announce(&udp4, "7001", &["--left", "0"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!((first["interval"].as_i64(), first["complete"].as_i64()), (Some(2700), Some(1)), "{first}");
    // An HTTP peer of the same swarm sees the UDP one, and the other way round.
    let (_, over_http, _) = announce(&format!("http://{http}/announce"), "7002", &[]);
    assert_eq!(over_http["peers"], serde_json::json!(["127.0.0.1:7001"]), "{over_http}");
    let (_, again, _) = announce(&udp4, "7001", &["--left", "0"]);
    assert_eq!(again["peers"], serde_json::json!(["127.0.0.1:7002"]), "{again}");
    // IPv6 peers are their own family.
    let (code, six, err) = announce(&udp6, "7003", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(six["peers"], serde_json::json!([]), "{six}");
    let (_, six_again, _) = announce(&udp6, "7004", &[]);
    assert_eq!(six_again["peers"], serde_json::json!(["[::1]:7003"]), "{six_again}");

    let (code, scrape, err) = run(&["scrape", &udp4, HASH, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(scrape["files"][HASH]["complete"], 1, "{scrape}");
    assert_eq!(scrape["files"][HASH]["incomplete"], 3, "{scrape}");
    assert_eq!(scrape["files"]["cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"]["complete"], 0);
}

#[test]
fn a_private_udp_tracker_takes_the_passkey_from_the_url_path() {
    let dir = std::env::temp_dir().join(format!("octotracker-udp-passkeys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("passkeys.txt");
    std::fs::write(&keys, "udpkey0000000001\n").unwrap();
    let mut server = LoggedServer::spawn(octotracker().args(["--udp", "127.0.0.1:0", "--passkeys"]).arg(&keys));
    let port = server.await_after("listening on udp://127.0.0.1", DEADLINE);
    let (code, ok, err) = announce(&format!("udp://127.0.0.1{port}/udpkey0000000001/announce"), "7001", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(ok["interval"].is_i64(), "{ok}");
    let (code, refused, _) = announce(&format!("udp://127.0.0.1{port}/wrong/announce"), "7001", &[]);
    assert_eq!(code, Some(1));
    assert_eq!(refused["failure_reason"], "unknown passkey");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_silent_udp_tracker_times_out_with_a_clear_error() {
    // A bound socket nobody reads: every packet is lost.
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("udp://{}", quiet.local_addr().unwrap());
    let out = octotracker().args(["announce", &url, "--info-hash", HASH, "--timeout", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did not answer within 2s"), "{out:?}");
}
