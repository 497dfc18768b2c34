//! Passkeys in a Redis set, on a standalone server and on the cluster: issued, listed, revoked,
//! shared by two stores on one prefix and kept apart by prefixes.

mod support;

use octotracker_core::TorrentManager;
use octotracker_redis::RedisTarget;

async fn issue_list_revoke(target: RedisTarget) {
    let store = support::store(target.clone(), "passkeys").await;
    let keys = store.passkeys().expect("redis keeps passkeys");
    assert!(keys.list_passkeys().await.unwrap().is_empty(), "a fresh prefix has no keys");
    assert!(keys.add_passkey("alice0001").await.unwrap());
    assert!(!keys.add_passkey("alice0001").await.unwrap(), "issued twice: already valid");
    assert!(keys.add_passkey("bob0002").await.unwrap());
    let mut listed = keys.list_passkeys().await.unwrap();
    listed.sort();
    assert_eq!(listed, ["alice0001", "bob0002"]);

    let other = support::store(target, "passkeys-other").await;
    assert!(other.passkeys().unwrap().list_passkeys().await.unwrap().is_empty(), "prefixes keep keys apart");

    assert!(keys.revoke_passkey("alice0001").await.unwrap());
    assert!(!keys.revoke_passkey("alice0001").await.unwrap(), "revoked twice: was not valid");
    assert_eq!(keys.list_passkeys().await.unwrap(), ["bob0002"]);
    keys.revoke_passkey("bob0002").await.unwrap();
}

#[tokio::test]
async fn standalone_issues_lists_and_revokes() {
    issue_list_revoke(support::standalone()).await;
}

#[tokio::test]
async fn cluster_issues_lists_and_revokes() {
    issue_list_revoke(support::cluster()).await;
}
