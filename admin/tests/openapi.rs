//! docs/admin-openapi.json against the real API: every response of a scripted session (memory
//! backend) must be documented for its path, method and status, and match the documented
//! schema; every documented operation must have been answered at least once.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::Method;
use octotracker_admin::AdminApi;
use serde_json::Value;

mod support;

use support::{AllowOnly, SetKeys, Stalled, TOKEN, call, hash, memory, populate};

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/admin-openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/admin-openapi.json")).expect("valid JSON")
}

/// Follows a local `$ref` (`#/components/…`).
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = spec.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(spec, target)
        }
        None => node,
    }
}

/// Checks `value` against the subset of JSON Schema the description uses; returns what is wrong.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "boolean" => value.is_boolean(),
            other => panic!("the checker does not know type {other}"),
        };
        if !ok {
            problems.push(format!("{at}: expected {t}, got {value}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(fields) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !fields.contains_key(required.as_str().unwrap()) {
                problems.push(format!("{at}: missing {required}"));
            }
        }
        for (name, field) in fields {
            match props.and_then(|p| p.get(name)) {
                Some(sub) => check(spec, sub, field, &format!("{at}.{name}"), problems),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    problems.push(format!("{at}: undocumented field {name}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check(spec, items, v, &format!("{at}[{i}]"), problems);
        }
    }
}

/// The documented path template `path` matches (`{name}` matches one segment).
fn template_for<'a>(spec: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('?').next().unwrap().split('/').collect();
    spec["paths"].as_object().unwrap().keys().map(String::as_str).find(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(p, s)| (p.starts_with('{') && p.ends_with('}')) || p == s)
    })
}

struct Session {
    spec: Value,
    answered: BTreeSet<(String, String)>,
    problems: Vec<String>,
}

impl Session {
    async fn run(&mut self, api: &AdminApi, method: Method, path: &str, token: Option<&str>, body: &str) -> Value {
        let (status, value) = call(api, method.clone(), path, token, body).await;
        let what = format!("{method} {path} → {status}");
        let Some(template) = template_for(&self.spec, path) else {
            self.problems.push(format!("{what}: undocumented path"));
            return value;
        };
        let op_name = method.as_str().to_ascii_lowercase();
        let Some(op) = self.spec["paths"][template].get(&op_name) else {
            self.problems.push(format!("{what}: undocumented method"));
            return value;
        };
        let Some(response) = op["responses"].get(status.as_str()) else {
            self.problems.push(format!("{what}: undocumented status"));
            return value;
        };
        let response = resolve(&self.spec, response);
        let schema = &response["content"]["application/json"]["schema"];
        let spec = self.spec.clone();
        check(&spec, schema, &value, &what, &mut self.problems);
        self.answered.insert((template.to_owned(), op_name));
        value
    }
}

#[tokio::test(start_paused = true)]
async fn every_response_matches_the_openapi_description() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let store = memory();
    populate(store.as_ref(), 1, 2, 3).await;
    let api =
        AdminApi::new(store, TOKEN).with_keys(Arc::new(SetKeys::default())).with_lists(Arc::new(AllowOnly::default()));
    let mut s = Session { spec, answered: BTreeSet::new(), problems: Vec::new() };
    let t = Some(TOKEN);
    let h1 = hash(1).to_string();

    s.run(&api, Method::GET, "/health", None, "").await;
    s.run(&api, Method::GET, "/ready", None, "").await;
    let stalled = AdminApi::new(Arc::new(Stalled), TOKEN);
    s.run(&stalled, Method::GET, "/ready", None, "").await;
    s.run(&api, Method::GET, "/v1/stats", None, "").await;
    s.run(&api, Method::GET, "/v1/stats", Some("wrong"), "").await;
    s.run(&api, Method::GET, "/v1/stats", t, "").await;
    for query in ["", "?sort=downloaded&limit=1", "?sort=nope"] {
        s.run(&api, Method::GET, &format!("/v1/torrents{query}"), t, "").await;
    }
    for hash in [h1.as_str(), "0000000000000000000000000000000000000009", "zz"] {
        s.run(&api, Method::GET, &format!("/v1/torrents/{hash}"), t, "").await;
    }
    let made = s.run(&api, Method::POST, "/v1/keys", t, "{}").await;
    s.run(&api, Method::POST, "/v1/keys", t, r#"{"key": "bob"}"#).await;
    s.run(&api, Method::POST, "/v1/keys", t, r#"{"key": "bob"}"#).await;
    s.run(&api, Method::POST, "/v1/keys", t, "{").await;
    s.run(&api, Method::POST, "/v1/keys", t, r#"{"key": "b o b"}"#).await;
    s.run(&api, Method::POST, "/v1/keys", t, &"x".repeat(5000)).await;
    s.run(&api, Method::GET, "/v1/keys", t, "").await;
    s.run(&api, Method::DELETE, &format!("/v1/keys/{}", made["key"].as_str().unwrap()), t, "").await;
    s.run(&api, Method::DELETE, "/v1/keys/nobody", t, "").await;
    for method in [Method::PUT, Method::DELETE] {
        s.run(&api, method.clone(), &format!("/v1/allow/{h1}"), t, "").await;
        s.run(&api, method.clone(), &format!("/v1/deny/{h1}"), t, "").await; // no deny list: 404
        s.run(&api, method, "/v1/allow/123", t, "").await;
    }

    assert!(s.problems.is_empty(), "responses that do not match docs/admin-openapi.json:\n{}", s.problems.join("\n"));
    let documented: BTreeSet<(String, String)> = s.spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (path.clone(), m.clone())))
        .collect();
    let missed: Vec<_> = documented.difference(&s.answered).collect();
    assert!(missed.is_empty(), "documented operations never answered: {missed:?}");
}

#[test]
fn the_checker_catches_a_wrong_response() {
    let spec = spec();
    let schema = serde_json::json!({ "$ref": "#/components/schemas/Stats" });
    let mut problems = Vec::new();
    check(
        &spec,
        &schema,
        &serde_json::json!({ "torrents": 1, "seeders": "2", "leechers": 0, "extra": 1 }),
        "x",
        &mut problems,
    );
    assert_eq!(problems.len(), 3, "{problems:?}"); // seeders a string, peers missing, extra undocumented
}
