//! Reading the monitoring files and a live `/metrics`: which series and labels an expression
//! references, which the binary exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// docs/monitoring/FILE.
pub(crate) fn monitoring_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/monitoring").join(name)
}

/// Every alert of a Prometheus rules file as (name, expression). The file writes each `expr:`
/// on one line or as a `|` block (promtool checks it is valid YAML; this only reads it back).
pub(crate) fn alert_rules(text: &str) -> Vec<(String, String)> {
    let mut rules = Vec::new();
    let mut alert = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("- alert: ") {
            alert = Some(name.trim().to_owned());
        } else if let Some(expr) = trimmed.strip_prefix("expr: ") {
            let indent = line.len() - trimmed.len();
            let expr = if expr.trim() == "|" {
                let mut block = Vec::new();
                while let Some(next) = lines.next_if(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
                {
                    block.push(next.trim());
                }
                block.join("\n")
            } else {
                expr.trim().to_owned()
            };
            rules.push((alert.take().expect("an expr follows its `- alert:` line"), expr));
        }
    }
    rules
}

/// Every query of a Grafana dashboard: each panel target's `expr`, and the template variables'
/// `label_values(METRIC, LABEL)` written as the selector `METRIC{LABEL!=""}`.
pub(crate) fn dashboard_queries(json: &serde_json::Value) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    for panel in json["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let title = format!("{} / {}", panel["title"].as_str().unwrap_or("?"), target["refId"]);
            queries.push((title, target["expr"].as_str().expect("expr").to_owned()));
        }
    }
    for var in json["templating"]["list"].as_array().expect("templating") {
        let query = var["query"]["query"].as_str().or(var["query"].as_str()).expect("variable query");
        let inner = query.strip_prefix("label_values(").and_then(|q| q.strip_suffix(')')).expect("label_values");
        let (metric, label) = inner.split_once(',').expect("label_values(METRIC, LABEL)");
        queries.push((format!("variable {}", var["name"]), format!("{}{{{}!=\"\"}}", metric.trim(), label.trim())));
    }
    queries
}

/// A dashboard query as Prometheus runs it once Grafana filled in its variables.
pub(crate) fn as_grafana_sends(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
}

/// What an expression references: each metric with the label names of its matchers, and the
/// label names of its `by`, `without`, `on`, `ignoring`, `group_left` and `group_right` lists.
#[derive(Debug, Default)]
pub(crate) struct References {
    pub(crate) metrics: Vec<(String, Vec<String>)>,
    pub(crate) grouping: Vec<String>,
}

const GROUPING: [&str; 6] = ["by", "without", "on", "ignoring", "group_left", "group_right"];
/// Words that are never metric names: binary operators, modifiers, and the aggregation operators
/// (which may be followed by `by (...)` before their parenthesis).
const KEYWORDS: [&str; 20] = [
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
    "atan2",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// Scans PromQL: strings and `[range]`s are skipped; an identifier followed by `(` is a function
/// or a grouping list; any other identifier outside braces is a metric name.
pub(crate) fn references(expr: &str) -> References {
    let chars: Vec<char> = expr.chars().collect();
    let mut refs = References::default();
    let mut i = 0;
    let skip_space = |mut j: usize| {
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        j
    };
    let ident_at = |j: usize| {
        let mut k = j;
        while k < chars.len() && (chars[k].is_ascii_alphanumeric() || chars[k] == '_' || chars[k] == ':') {
            k += 1;
        }
        (chars[j..k].iter().collect::<String>(), k)
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let (word, end) = ident_at(i);
            let next = skip_space(end);
            let opens = chars.get(next).copied();
            if GROUPING.contains(&word.as_str()) && opens == Some('(') {
                let close = next + chars[next..].iter().position(|&c| c == ')').expect("closing )");
                let list: String = chars[next + 1..close].iter().collect();
                refs.grouping.extend(list.split(',').map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()));
                i = close + 1;
            } else if opens == Some('(') || KEYWORDS.contains(&word.as_str()) || GROUPING.contains(&word.as_str()) {
                i = end;
            } else {
                let mut labels = Vec::new();
                i = end;
                if opens == Some('{') {
                    i = next + 1;
                    loop {
                        i = skip_space(i);
                        match chars.get(i) {
                            Some('}') | None => break,
                            Some(',') => i += 1,
                            Some('"') => {
                                i += 1;
                                while i < chars.len() && chars[i] != '"' {
                                    i += if chars[i] == '\\' { 2 } else { 1 };
                                }
                                i += 1;
                            }
                            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                                let (label, end) = ident_at(i);
                                labels.push(label);
                                i = end;
                            }
                            Some(_) => i += 1, // the operator
                        }
                    }
                    i += 1;
                }
                refs.metrics.push((word, labels));
            }
        } else if c.is_ascii_digit() {
            // A number (or a duration such as 1h after `offset`).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    refs
}

/// The series a Prometheus text exposition holds, each with every label name seen on it. A
/// family's `# TYPE` line names its series even before it has a sample (`_total` for a counter,
/// `_bucket`, `_sum`, `_count` for a histogram).
pub(crate) fn exported_series(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut series: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE NAME KIND");
            let names = match kind {
                "counter" => vec![format!("{name}_total")],
                "histogram" => ["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")).to_vec(),
                _ => vec![name.to_owned()],
            };
            for n in names {
                series.entry(n).or_default();
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let head = line.rsplit_once(' ').expect("NAME VALUE").0;
            let (name, labels) = match head.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (head, ""),
            };
            let entry = series.entry(name.to_owned()).or_default();
            // Label values here are our own identifiers and numbers: no commas or quotes inside.
            entry.extend(labels.split(',').filter_map(|pair| pair.split_once('=')).map(|(l, _)| l.to_owned()));
        }
    }
    series
}

/// Problems with `expr` against `exported`: unknown series, unknown labels. `up` is Prometheus's
/// own series; `instance` and `job` are the labels Prometheus adds to every scraped series.
pub(crate) fn problems(expr: &str, exported: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let target_labels: BTreeSet<String> = ["instance", "job"].map(String::from).into();
    let refs = references(expr);
    let mut problems = Vec::new();
    let mut labels_in_scope = target_labels.clone();
    if refs.metrics.is_empty() {
        problems.push("references no series".to_owned());
    }
    for (metric, matchers) in &refs.metrics {
        let known = if metric == "up" { Some(&target_labels) } else { exported.get(metric) };
        let Some(known) = known else {
            problems.push(format!("series {metric} is not exported"));
            continue;
        };
        for label in matchers {
            if !known.contains(label) && !target_labels.contains(label) {
                problems.push(format!("{metric} has no label {label}"));
            }
        }
        labels_in_scope.extend(known.iter().cloned());
    }
    for label in &refs.grouping {
        if !labels_in_scope.contains(label) {
            problems.push(format!("grouping by {label}, which none of its series has"));
        }
    }
    problems
}
