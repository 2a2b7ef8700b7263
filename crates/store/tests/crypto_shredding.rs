//! After an erasure, nothing of the subject opens even from a copy of the records database
//! taken before it: the subject's data key is gone from the key vault.
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::ErrorKind;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [9; 32])], KeyId("k1".into())).unwrap(),
    )
}

async fn fill(store: &EncryptedStore, subject: &SubjectId) -> ConnectionKey {
    let now = Utc::now();
    let key = ConnectionKey::new(
        subject.clone(),
        PlatformId::INSTAGRAM,
        ConnectionId::generate(),
    );
    let tokens = TokenSet::new(
        AccessToken::new(format!("token-of-{subject}")),
        Expiry::Never,
        now,
    );
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
            "media.publish",
            Outcome::Success,
            Some(200),
            std::time::Duration::from_millis(1),
            ClientInfo::new(Some("192.0.2.10".parse().unwrap()), Some("UA")),
        ))
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn an_old_copy_of_the_records_cannot_be_opened_for_an_erased_subject() {
    let live = tempfile::tempdir().unwrap();
    let path = live.path().join("sc.db");
    let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
    let alice = SubjectId::new("alice").unwrap();
    let bob = SubjectId::new("bob").unwrap();
    let alice_key = fill(&store, &alice).await;
    let bob_key = fill(&store, &bob).await;

    // A backup of the records database, taken before the erasure (checkpointed by closing).
    store.close().await;
    let backup = tempfile::tempdir().unwrap();
    std::fs::copy(&path, backup.path().join("sc.db")).unwrap();

    let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
    let report = store.erase(&alice).await.unwrap();
    assert_eq!(report.counts["data_keys"], 1);
    assert!(store.get(&alice_key).await.unwrap().is_none());
    store.close().await;

    // Restore the old records next to the current key vault, with the same keyring.
    std::fs::copy(
        live.path().join("sc.db.keys"),
        backup.path().join("sc.db.keys"),
    )
    .unwrap();
    let restored = EncryptedStore::open_sqlite(backup.path().join("sc.db"), keys())
        .await
        .unwrap();
    // Bob's data is all there.
    let bob_tokens = restored.get(&bob_key).await.unwrap().unwrap();
    assert_eq!(
        bob_tokens.tokens.access_token.expose_secret(),
        "token-of-bob"
    );
    assert_eq!(restored.history(&bob).await.unwrap().len(), 1);
    assert_eq!(restored.entries(&bob).await.unwrap().len(), 1);
    // Alice's rows are in the old file, and none of them opens.
    assert_eq!(
        restored.connections(&alice).await.unwrap(),
        vec![alice_key.clone()]
    );
    for err in [
        restored.get(&alice_key).await.unwrap_err(),
        restored.history(&alice).await.unwrap_err(),
        restored.entries(&alice).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Crypto, "{err}");
    }
}
