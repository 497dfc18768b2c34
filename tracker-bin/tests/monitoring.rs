//! docs/monitoring/ matches the binary: every series and label the Grafana dashboard and the
//! Prometheus alert rules use is one a live `/metrics` exports, `promtool check rules` accepts
//! the rules, and a real Prometheus (Debian's `prometheus` package) scrapes a running octotracker,
//! loads the rules, runs every dashboard query and fires the failure-ratio alert on refused
//! announces.
//!
//! Needs Debian's `prometheus` (which brings `promtool`): `scripts/test.sh` installs it. A missing
//! tool fails the test, it never skips.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use octotracker_client::HttpTrackerClient;
use serde_json::Value;

mod common;
mod monitoring_support;

use common::{LoggedServer, octotracker};
use monitoring_support::{
    alert_rules, as_grafana_sends, dashboard_queries, exported_series, monitoring_file, problems,
};

const DEADLINE: Duration = Duration::from_secs(60);
const INSTALL_HINT: &str = "run scripts/test.sh, which installs Debian's prometheus package (prometheus, promtool)";

struct Running {
    _server: LoggedServer,
    announce: String,
    metrics_addr: String,
    client: HttpTrackerClient,
}

fn start_tracker() -> Running {
    let mut server = LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]));
    let http = server.await_after("listening on http://", DEADLINE);
    let status = server.await_after("status page on http://", DEADLINE);
    Running {
        _server: server,
        announce: format!("http://{http}/announce"),
        metrics_addr: status.trim_end_matches('/').to_owned(),
        client: HttpTrackerClient::new().with_timeout(Duration::from_secs(10)),
    }
}

impl Running {
    async fn get(&self, url: &str) -> String {
        let body = self.client.get(url, "").await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        String::from_utf8(body.to_vec()).expect("utf-8")
    }

    /// `ok` good announces (two swarms) and `bad` ones refused for a missing peer_id.
    async fn traffic(&self, ok: u8, bad: u8) {
        for n in 0..ok {
            let query = format!(
                "info_hash={}&peer_id={}&port=6881&left={}&event=started",
                "%AB".repeat(19) + &format!("%{:02X}", n % 2),
                "%CD".repeat(19) + &format!("%{n:02X}"),
                u8::from(n % 3 == 0)
            );
            let body = self.client.get(&self.announce, &query).await.expect("announce");
            assert!(!body.windows(14).any(|w| w == b"failure reason"), "a good announce was refused");
        }
        for _ in 0..bad {
            let body = self.client.get(&self.announce, "info_hash=x").await.expect("announce");
            assert!(body.windows(14).any(|w| w == b"failure reason"), "a bad announce was accepted");
        }
    }
}

/// Every query of both files, named.
fn all_queries() -> Vec<(String, String)> {
    let rules = std::fs::read_to_string(monitoring_file("alerts.yml")).expect("docs/monitoring/alerts.yml");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(monitoring_file("grafana-dashboard.json")).expect("grafana-dashboard.json"),
    )
    .expect("the dashboard is JSON");
    let mut queries: Vec<_> = alert_rules(&rules).into_iter().map(|(n, e)| (format!("alert {n}"), e)).collect();
    assert_eq!(queries.len(), 7, "alerts.yml holds seven alerts: {queries:?}");
    queries.extend(dashboard_queries(&dashboard).into_iter().map(|(n, e)| (format!("dashboard {n}"), e)));
    queries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_alerts_use_only_series_and_labels_the_binary_exports() {
    let t = start_tracker();
    t.traffic(4, 2).await;
    let text = t.get(&format!("http://{}/metrics", t.metrics_addr)).await;
    let exported: BTreeMap<String, BTreeSet<String>> = exported_series(&text);
    assert!(exported["octotracker_failures_total"].contains("reason"), "the refused announces show their reason");

    let mut used = BTreeSet::new();
    let mut wrong = Vec::new();
    for (name, expr) in all_queries() {
        for problem in problems(&expr, &exported) {
            wrong.push(format!("{name}: {problem}\n    {expr}"));
        }
        used.extend(monitoring_support::references(&expr).metrics.into_iter().map(|(m, _)| m));
    }
    assert!(wrong.is_empty(), "queries that do not match /metrics:\n{}", wrong.join("\n"));

    // The scanner itself must see a wrong name and a wrong label.
    assert_eq!(problems("sum by (instance) (rate(octotracker_annouces_total[5m]))", &exported).len(), 1);
    assert_eq!(problems("octotracker_announces_total{outcom=\"ok\"}", &exported).len(), 1);
    assert_eq!(problems("sum by (reason) (octotracker_torrents)", &exported).len(), 1);

    // And the dashboard shows every family the binary exports.
    let families: BTreeSet<_> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next()).collect();
    for family in families {
        assert!(
            used.iter().any(|u| u.starts_with(family)),
            "{family} is exported but neither the dashboard nor the alerts use it"
        );
    }
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(monitoring_file("alerts.yml"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool ({e}): {INSTALL_HINT}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool check rules failed:\n{text}");
    assert!(text.contains("SUCCESS: 7 rules found"), "{text}");
}

/// A Prometheus process in a temp dir, stopped and removed on drop.
struct Prometheus {
    server: LoggedServer,
    dir: std::path::PathBuf,
    addr: String,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("octotracker-prometheus-{}-{}", std::process::id(), fastrand()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  \
             - job_name: octotracker\n    static_configs:\n      - targets: [\"{target}\"]\n",
            monitoring_file("alerts.yml").display()
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("prometheus.yml");
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg("--web.listen-address=127.0.0.1:0")
            .stdin(Stdio::null());
        assert!(Path::new("/usr/bin/prometheus").exists(), "no /usr/bin/prometheus: {INSTALL_HINT}");
        let mut server = LoggedServer::spawn(&mut cmd);
        let addr = server.await_after("msg=\"Listening on\" address=", DEADLINE);
        Prometheus { server, dir, addr }
    }

    /// Waits until Prometheus says it is ready (it answers 503 while its storage opens).
    async fn ready(&self, client: &HttpTrackerClient) {
        let deadline = Instant::now() + DEADLINE;
        while let Err(e) = client.get(&format!("http://{}/-/ready", self.addr), "").await {
            assert!(Instant::now() < deadline, "Prometheus not ready within {DEADLINE:?}: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await; // polling an external process
        }
    }

    /// `GET /api/v1/PATH?query=EXPR` (when given), its `data`; a query error fails the test.
    async fn api(&self, client: &HttpTrackerClient, path: &str, expr: Option<&str>) -> Value {
        let query = expr.map(|e| format!("query={}", url_encode(e))).unwrap_or_default();
        let body = client
            .get(&format!("http://{}/api/v1/{path}", self.addr), &query)
            .await
            .unwrap_or_else(|e| panic!("Prometheus {path} {expr:?}: {e}"));
        let reply: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(reply["status"], "success", "{path} {expr:?}: {reply}");
        reply["data"].clone()
    }

    /// Polls `check` on `path`'s data until it holds or the deadline passes.
    async fn wait_for(
        &self,
        client: &HttpTrackerClient,
        path: &str,
        expr: Option<&str>,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let data = self.api(client, path, expr).await;
            if check(&data) {
                return data;
            }
            assert!(Instant::now() < deadline, "{what}: not within {DEADLINE:?}; last answer {data}");
            tokio::time::sleep(Duration::from_millis(200)).await; // polling an external process
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fastrand() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos().into())
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_octotracker_evaluates_the_queries_and_fires_an_alert() {
    let t = start_tracker();
    let prometheus = Prometheus::start(&t.metrics_addr);
    let client = &t.client;
    prometheus.ready(client).await;

    let up = "up{job=\"octotracker\"} == 1";
    prometheus
        .wait_for(client, "query", Some(up), "the target is scraped", |d| !d["result"].as_array().unwrap().is_empty())
        .await;
    let rules = prometheus.api(client, "rules", None).await;
    let loaded: Vec<&Value> = rules["groups"][0]["rules"].as_array().expect("rules").iter().collect();
    assert_eq!(loaded.len(), 7, "Prometheus loaded the seven alerts: {rules}");

    // A third of the announces refused: the failure ratio alert's expression holds and the alert
    // goes pending (its `for:` is ten minutes). A `failures_total{reason}` series is born at its
    // first failure, and rate() cannot see the increase that created a series: let Prometheus
    // scrape it once before the failures it must count.
    t.traffic(1, 1).await;
    prometheus
        .wait_for(client, "query", Some("octotracker_failures_total"), "the failures series is scraped", |d| {
            !d["result"].as_array().unwrap().is_empty()
        })
        .await;
    t.traffic(10, 5).await;
    let (_, failure_ratio) = all_queries().into_iter().find(|(n, _)| n == "alert OctotrackerFailureRatioHigh").unwrap();
    let data = prometheus
        .wait_for(client, "query", Some(&failure_ratio), "the failure ratio expression holds", |d| {
            !d["result"].as_array().unwrap().is_empty()
        })
        .await;
    let ratio: f64 = data["result"][0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(ratio > 0.05 && ratio <= 1.0, "failure ratio {ratio}");
    prometheus
        .wait_for(client, "alerts", None, "OctotrackerFailureRatioHigh is pending", |d| {
            d["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["labels"]["alertname"] == "OctotrackerFailureRatioHigh" && a["state"] == "pending")
        })
        .await;

    // Every dashboard and alert query runs (as Grafana sends it) without an error, and every
    // rule evaluates without one.
    for (name, expr) in all_queries() {
        let data = prometheus.api(client, "query", Some(&as_grafana_sends(&expr))).await;
        assert!(data["result"].is_array(), "{name}: {data}");
    }
    let rules = prometheus.api(client, "rules", None).await;
    for rule in rules["groups"][0]["rules"].as_array().unwrap() {
        assert_eq!(rule["health"], "ok", "rule {} evaluates: {rule}", rule["name"]);
    }
    // Series the alerts need are there: the backend is up, nothing down.
    let backend = prometheus.api(client, "query", Some("octotracker_backend_up")).await;
    assert_eq!(backend["result"][0]["value"][1], "1", "{backend}");
}
