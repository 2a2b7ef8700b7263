//! Export (portability) and erasure on the hub.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::env;
use socialconnect_core::access_log::ClientInfo;
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::Purpose;
use socialconnect_core::store::TokenStore;
use socialconnect_core::{EXPORT_FORMAT, EXPORT_VERSION, Revocation};

#[tokio::test]
async fn export_holds_connections_consent_and_usage_but_no_token() {
    let env = env().await;
    let connected = env.connected().await;
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap()
        .with_client_info(ClientInfo::new(
            Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 4))),
            Some("Agent/2"),
        ));
    session
        .send(ApiRequest::get(env.sim.userinfo_url()).operation("profile.read"))
        .await
        .unwrap();
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();

    let mut out = Vec::new();
    env.hub
        .export(&env.subject, "ops-1", &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(stored.tokens.access_token.expose_secret()));
    assert!(!text.contains(stored.tokens.refresh_token.unwrap().expose_secret()));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], EXPORT_FORMAT);
    assert_eq!(doc["version"], EXPORT_VERSION);
    assert_eq!(doc["subject"], "user-42");
    assert_eq!(doc["connections"][0]["account_id"], env.sim.account_id());
    assert_eq!(doc["consent"].as_array().unwrap().len(), 2);
    assert_eq!(doc["consent"][0]["purpose"], "account_connection");
    let usage = doc["usage_log"].as_array().unwrap();
    let call = usage
        .iter()
        .find(|u| u["operation"] == "profile.read")
        .unwrap();
    assert_eq!(call["ip"], "198.51.100.4");
    assert_eq!(call["user_agent"], "Agent/2");
}

#[tokio::test]
async fn erase_revokes_upstream_removes_everything_and_is_idempotent() {
    let env = env().await;
    env.connected().await;
    let outcome = env.hub.erase(&env.subject, "ops-1").await.unwrap();
    assert_eq!(outcome.upstream.len(), 1);
    assert_eq!(outcome.upstream[0].1, Revocation::Revoked);
    assert_eq!(env.sim.revocations(), 1);
    assert_eq!(outcome.report.counts["tokens"], 1);
    assert!(outcome.report.counts["usage_entries"] >= 1);
    assert!(env.hub.connections(&env.subject).await.unwrap().is_empty());
    assert!(env.log.entries(&env.subject).await.unwrap().is_empty());

    let again = env.hub.erase(&env.subject, "ops-1").await.unwrap();
    assert!(again.upstream.is_empty());
    assert_eq!(again.report.total(), 0);
    assert_eq!(env.sim.revocations(), 1);
}
