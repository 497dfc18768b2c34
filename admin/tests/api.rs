//! The admin API against the memory backend: auth, routes, errors, health checks.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use octotracker_admin::AdminApi;

mod support;

use support::{AllowOnly, SetKeys, Stalled, TOKEN, call, get, hash, memory, populate};

#[tokio::test]
async fn no_token_wrong_token_and_token_in_query_are_refused() {
    let api = AdminApi::new(memory(), TOKEN);
    let (status, body) = call(&api, Method::GET, "/v1/stats", None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
    let (status, _) = call(&api, Method::GET, "/v1/stats", Some("wrong"), "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(&api, Method::GET, &format!("/v1/stats?token={TOKEN}"), Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a token in the URL is refused even when right");
    assert!(body["error"].as_str().unwrap().contains("query string"), "{body}");
    let (status, _) = call(&api, Method::GET, "/v1/stats", Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn stats_top_n_and_one_torrent() {
    let store = memory();
    populate(store.as_ref(), 1, 1, 4).await;
    populate(store.as_ref(), 2, 3, 0).await;
    populate(store.as_ref(), 3, 0, 2).await;
    let api = AdminApi::new(store, TOKEN);

    let (status, stats) = get(&api, "/v1/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats, serde_json::json!({ "torrents": 3, "seeders": 4, "leechers": 6, "peers": 10 }));

    let (status, top) = get(&api, "/v1/torrents?sort=seeders&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let hashes: Vec<&str> =
        top["torrents"].as_array().unwrap().iter().map(|t| t["info_hash"].as_str().unwrap()).collect();
    assert_eq!(hashes, [hash(2).to_string(), hash(1).to_string()]);
    let (_, top) = get(&api, "/v1/torrents").await;
    assert_eq!(top["sort"], "peers");
    assert_eq!(top["torrents"][0]["info_hash"], hash(1).to_string());
    assert_eq!(top["torrents"].as_array().unwrap().len(), 3);

    let (status, one) = get(&api, &format!("/v1/torrents/{}", hash(1))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["seeders"], 1);
    assert_eq!(one["leechers"], 4);
    assert_eq!(one["peers"], 5);
    assert_eq!(one["families"]["ipv4"], serde_json::json!({ "seeders": 1, "leechers": 4 }), "{one}");
    assert_eq!(one["families"]["ipv6"], serde_json::json!({ "seeders": 0, "leechers": 0 }), "{one}");
    let (status, body) = get(&api, &format!("/v1/torrents/{}", hash(9))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    for bad in ["/v1/torrents?sort=size", "/v1/torrents?limit=0", "/v1/torrents?limit=1001", "/v1/torrents?x=1"] {
        let (status, body) = get(&api, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let (status, _) = get(&api, "/v1/torrents/xyz").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get(&api, "/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&api, Method::DELETE, "/v1/stats", Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn keys_added_listed_revoked_and_bad_bodies_change_nothing() {
    let keys = Arc::new(SetKeys::default());
    let api = AdminApi::new(memory(), TOKEN).with_keys(keys.clone());
    let (status, made) = call(&api, Method::POST, "/v1/keys", Some(TOKEN), "{}").await;
    assert_eq!(status, StatusCode::CREATED);
    let random = made["key"].as_str().unwrap().to_owned();
    assert_eq!(random.len(), 32);
    let (status, made) = call(&api, Method::POST, "/v1/keys", Some(TOKEN), r#"{"key": "alice_1"}"#).await;
    assert_eq!((status, made["key"].as_str()), (StatusCode::CREATED, Some("alice_1")));
    let (status, again) = call(&api, Method::POST, "/v1/keys", Some(TOKEN), r#"{"key": "alice_1"}"#).await;
    assert_eq!((status, again["existed"].as_bool()), (StatusCode::OK, Some(true)));

    let before = keys.0.lock().await.clone();
    let oversized = format!(r#"{{"key": "{}"}}"#, "a".repeat(5000));
    for (body, expected) in [
        ("{", StatusCode::BAD_REQUEST),
        (r#"{"key": "no spaces"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"key": 7}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"name": "x"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        ("[]", StatusCode::UNPROCESSABLE_ENTITY),
        (oversized.as_str(), StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let (status, reply) = call(&api, Method::POST, "/v1/keys", Some(TOKEN), body).await;
        assert_eq!(status, expected, "{body:.40}: {reply}");
        assert!(reply["error"].as_str().is_some_and(|m| !m.is_empty()), "{reply}");
    }
    assert_eq!(*keys.0.lock().await, before, "a refused request changes nothing");

    let (_, listed) = get(&api, "/v1/keys").await;
    let mut expected = vec!["alice_1".to_owned(), random.clone()];
    expected.sort();
    assert_eq!(listed["keys"], serde_json::json!(expected));
    let (status, _) = call(&api, Method::DELETE, "/v1/keys/alice_1", Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&api, Method::DELETE, "/v1/keys/alice_1", Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(keys.0.lock().await.iter().collect::<Vec<_>>(), [&random]);
}

#[tokio::test]
async fn without_a_store_keys_and_lists_are_404_with_the_flag_to_use() {
    let api = AdminApi::new(memory(), TOKEN);
    let (status, body) = get(&api, "/v1/keys").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("--passkeys"), "{body}");
    let (status, body) = call(&api, Method::PUT, &format!("/v1/deny/{}", hash(1)), Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("--deny-list"), "{body}");
}

#[tokio::test]
async fn lists_put_and_delete() {
    let lists = Arc::new(AllowOnly::default());
    let api = AdminApi::new(memory(), TOKEN).with_lists(lists.clone());
    let uri = format!("/v1/allow/{}", hash(4));
    let (status, body) = call(&api, Method::PUT, &uri, Some(TOKEN), "").await;
    assert_eq!((status, body["changed"].as_bool()), (StatusCode::OK, Some(true)));
    let (_, body) = call(&api, Method::PUT, &uri, Some(TOKEN), "").await;
    assert_eq!(body["changed"], false);
    assert!(lists.0.lock().await.contains(&hash(4)));
    let (_, body) = call(&api, Method::DELETE, &uri, Some(TOKEN), "").await;
    assert_eq!((body["listed"].as_bool(), body["changed"].as_bool()), (Some(false), Some(true)));
    assert!(lists.0.lock().await.is_empty());
    let (status, _) = call(&api, Method::PUT, &format!("/v1/deny/{}", hash(4)), Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no deny list configured");
    let (status, _) = call(&api, Method::PUT, "/v1/allow/1234", Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(&api, Method::POST, &uri, Some(TOKEN), "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(start_paused = true)]
async fn health_needs_no_token_and_ready_follows_the_storage() {
    let api = AdminApi::new(memory(), TOKEN);
    assert_eq!(
        call(&api, Method::GET, "/health", None, "").await,
        (StatusCode::OK, serde_json::json!({"status": "up"}))
    );
    assert_eq!(call(&api, Method::GET, "/ready", None, "").await.0, StatusCode::OK);
    assert_eq!(call(&api, Method::POST, "/ready", None, "").await.0, StatusCode::METHOD_NOT_ALLOWED);

    // Paused time: the deadline passes as soon as every task waits, without sleeping.
    let stalled = AdminApi::new(Arc::new(Stalled), TOKEN).with_ready_deadline(Duration::from_millis(250));
    assert_eq!(call(&stalled, Method::GET, "/health", None, "").await.0, StatusCode::OK, "the process is up");
    let (status, body) = call(&stalled, Method::GET, "/ready", None, "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].as_str().unwrap().contains("250 ms"), "{body}");
}
