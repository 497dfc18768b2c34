//! The status page (`GET /` on the metrics listener) in a real browser: Debian's `chromium`,
//! driven by `puppeteer-core` from npm (tests/browser/status_page.mjs, which says what it checks:
//! no console errors, the numbers match `/stats`, the charts grow under load, the top torrents
//! list the announced hashes, the page fits a phone).
//!
//! Needs `chromium`, `node` and `npm ci` in tests/browser: `scripts/test.sh` installs them. A
//! missing piece fails the test, it never skips.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;

use common::{LoggedServer, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);
const INSTALL_HINT: &str =
    "run scripts/test.sh, which installs Debian's chromium and nodejs and runs `npm ci` in tracker-bin/tests/browser";

#[test]
fn the_status_page_works_in_a_real_browser() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(Path::new("/usr/bin/chromium").exists(), "no /usr/bin/chromium: {INSTALL_HINT}");
    assert!(browser_dir.join("node_modules/puppeteer-core").is_dir(), "no puppeteer-core: {INSTALL_HINT}");

    let mut server = LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]));
    let http = server.await_after("listening on http://", DEADLINE);
    let metrics = server.await_after("status page on ", DEADLINE);
    let metrics = metrics.trim_end_matches('/');

    let out = Command::new("node")
        .arg("status_page.mjs")
        .current_dir(&browser_dir)
        .env("OCTOTRACKER_METRICS", metrics)
        .env("OCTOTRACKER_ANNOUNCE", format!("http://{http}/announce"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): {INSTALL_HINT}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "the browser checks failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("ok: top torrents list the announced hashes"), "the script ended early:\n{stdout}");
}
