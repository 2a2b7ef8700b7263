//! Transfers: every record the encrypted store writes carries the region configured for the
//! deployment, the export shows it, and records keep the region they were written in when the
//! store is reopened with another one.
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::SocialConnect;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::platform_deletion::{DeletionRequest, DeletionRequestStore};
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::PendingAuth;
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::keys::LocalKeyring;
use socialconnect_store::{EncryptedStore, StoreOptions};

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [7; 32])], KeyId("k1".into())).unwrap(),
    )
}

/// Writes a connection, a consent grant and a usage entry named `op`.
async fn fill(store: &EncryptedStore, subject: &SubjectId, op: &str) -> ConnectionKey {
    let now = Utc::now();
    let key = ConnectionKey::new(
        subject.clone(),
        PlatformId::INSTAGRAM,
        ConnectionId::generate(),
    );
    let tokens = TokenSet::new(AccessToken::new("token"), Expiry::Never, now);
    store.put(&key, &tokens, None).await.unwrap();
    store
        .record(ConsentEvent::grant(
            subject.clone(),
            Purpose::Publishing,
            None,
            now,
        ))
        .await
        .unwrap();
    store
        .append(UsageEntry::new(
            now,
            subject.clone(),
            PlatformId::INSTAGRAM,
            Some(key.connection),
            op,
            Outcome::Success,
            Some(200),
            std::time::Duration::from_millis(1),
            ClientInfo::default(),
        ))
        .await
        .unwrap();
    key
}

async fn export(store: &EncryptedStore, subject: &SubjectId) -> serde_json::Value {
    let hub = SocialConnect::builder()
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .region("hub-region")
        .build()
        .unwrap();
    let mut out = Vec::new();
    hub.export(subject, "dpo@example.com", &mut out)
        .await
        .unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn region(v: &serde_json::Value) -> &str {
    v["region"].as_str().unwrap()
}

#[tokio::test]
async fn records_keep_the_region_they_were_written_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc.db");
    let subject = SubjectId::new("alice").unwrap();

    let store = EncryptedStore::open_sqlite_with(
        &path,
        keys(),
        StoreOptions::default().with_region("eu-central-1"),
    )
    .await
    .unwrap();
    let first = fill(&store, &subject, "first.call").await;
    let stored = store.get(&first).await.unwrap().unwrap();
    assert_eq!(stored.region.as_deref(), Some("eu-central-1"));
    let history = store.history(&subject).await.unwrap();
    assert_eq!(history[0].region.as_deref(), Some("eu-central-1"));
    let entries = store.entries(&subject).await.unwrap();
    assert_eq!(entries[0].region.as_deref(), Some("eu-central-1"));

    let doc = export(&store, &subject).await;
    assert_eq!(
        region(&doc),
        "hub-region",
        "the document names the hub's region"
    );
    let connections = doc["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(region(&connections[0]), "eu-central-1");
    let consent = doc["consent"].as_array().unwrap();
    assert_eq!(consent.len(), 1);
    assert_eq!(region(&consent[0]), "eu-central-1");
    let usage = doc["usage_log"].as_array().unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(region(&usage[0]), "eu-central-1");
    store.close().await;

    // The deployment moves: reopened with another region, old records keep theirs.
    let store = EncryptedStore::open_sqlite_with(
        &path,
        keys(),
        StoreOptions::default().with_region("eu-west-1"),
    )
    .await
    .unwrap();
    let second = fill(&store, &subject, "second.call").await;
    assert_eq!(
        store.get(&first).await.unwrap().unwrap().region.as_deref(),
        Some("eu-central-1")
    );
    assert_eq!(
        store.get(&second).await.unwrap().unwrap().region.as_deref(),
        Some("eu-west-1")
    );

    let doc = export(&store, &subject).await;
    for c in doc["connections"].as_array().unwrap() {
        let expected = if c["connection_id"] == first.connection.to_string() {
            "eu-central-1"
        } else {
            "eu-west-1"
        };
        assert_eq!(region(c), expected);
    }
    let consent = doc["consent"].as_array().unwrap();
    assert_eq!(consent.len(), 2);
    assert_eq!(region(&consent[0]), "eu-central-1");
    assert_eq!(region(&consent[1]), "eu-west-1");
    let usage = doc["usage_log"].as_array().unwrap();
    let by_op = |op: &str| {
        usage
            .iter()
            .find(|e| e["operation"] == op)
            .map(region)
            .unwrap()
    };
    assert_eq!(by_op("first.call"), "eu-central-1");
    // The first export's own log entry was written before the move.
    assert_eq!(by_op("privileged.export"), "eu-central-1");
    assert_eq!(by_op("second.call"), "eu-west-1");
    store.close().await;

    // A store without a region writes none; the export falls back to the hub's.
    let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
    let third = fill(&store, &subject, "third.call").await;
    assert_eq!(store.get(&third).await.unwrap().unwrap().region, None);
    let doc = export(&store, &subject).await;
    let usage = doc["usage_log"].as_array().unwrap();
    let third_entry = usage
        .iter()
        .find(|e| e["operation"] == "third.call")
        .unwrap();
    assert_eq!(region(third_entry), "hub-region");
    store.close().await;
}

/// Records whose core types have no region field still store one and read back whole.
#[tokio::test]
async fn records_without_a_region_field_still_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = EncryptedStore::open_sqlite_with(
        dir.path().join("sc.db"),
        keys(),
        StoreOptions::default().with_region("eu-central-1"),
    )
    .await
    .unwrap();
    let subject = SubjectId::new("bob").unwrap();
    let now = Utc::now();

    let profile = SubjectProfile::new(Some("bob@example.com".into()), Some("bob".into()));
    store.put_profile(&subject, &profile).await.unwrap();
    let got = store.profile(&subject).await.unwrap().unwrap();
    assert_eq!(got.email.as_deref(), Some("bob@example.com"));
    assert_eq!(got.username.as_deref(), Some("bob"));

    store
        .record_request(DeletionRequest::new(
            "code-1".to_owned(),
            PlatformId::INSTAGRAM,
            Some(subject.clone()),
            now,
        ))
        .await
        .unwrap();
    let request = store.request("code-1").await.unwrap().unwrap();
    assert_eq!(request.subject.as_ref(), Some(&subject));

    let pending = PendingAuth::new(
        subject.clone(),
        PlatformId::INSTAGRAM,
        "https://app.example/cb".parse().unwrap(),
        vec![],
        None,
        now,
        now + chrono::Duration::minutes(10),
    );
    store.insert([3; 32], pending).await.unwrap();
    let taken = store.take([3; 32]).await.unwrap().unwrap();
    assert_eq!(taken.subject, subject);
    store.close().await;
}
