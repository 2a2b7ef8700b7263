//! `EncryptedStore::connection_page` / `all_connections`: every connection across subjects,
//! with status and scopes, paged, erased subjects gone; and `schema_version`.
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Scope, SubjectId};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::MemoryKeyProvider;

fn key(subject: &str, platform: PlatformId) -> ConnectionKey {
    ConnectionKey::new(
        SubjectId::new(subject).unwrap(),
        platform,
        ConnectionId::generate(),
    )
}

async fn put(store: &EncryptedStore, key: &ConnectionKey, scopes: &str) {
    let tokens = TokenSet::new(
        AccessToken::new("tok-never-listed"),
        Expiry::Never,
        Utc::now(),
    )
    .with_scopes(Scope::parse_list(scopes));
    store.put(key, &tokens, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_every_connection_paged_without_erased_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        EncryptedStore::open_sqlite(dir.path().join("s.db"), Arc::new(MemoryKeyProvider::new()))
            .await
            .unwrap();
    let a1 = key("alice", PlatformId::LINKEDIN);
    let a2 = key("alice", PlatformId::TIKTOK);
    let b1 = key("bob", PlatformId::LINKEDIN);
    put(&store, &a1, "openid profile").await;
    put(&store, &a2, "video.list").await;
    put(&store, &b1, "w_member_social").await;
    let since = Utc::now();
    store
        .set_status(&a2, ConnectionStatus::Revoked { since })
        .await
        .unwrap();

    let all = store.all_connections().await.unwrap();
    assert_eq!(all.len(), 3);
    let a2_row = all.iter().find(|c| c.key == a2).unwrap();
    assert_eq!(a2_row.status.as_str(), "revoked");
    let b1_row = all.iter().find(|c| c.key == b1).unwrap();
    assert_eq!(b1_row.scopes, Scope::parse_list("w_member_social"));
    assert!(!format!("{all:?}").contains("tok-never-listed"));

    // One at a time, in connection-id order, ending with a short page.
    let mut seen = Vec::new();
    let mut after: Option<ConnectionId> = None;
    loop {
        let page = store.connection_page(after.as_ref(), 1).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page[0].key.connection);
        seen.push(page[0].key.clone());
    }
    assert_eq!(seen, all.iter().map(|c| c.key.clone()).collect::<Vec<_>>());

    store
        .erase(&SubjectId::new("alice").unwrap())
        .await
        .unwrap();
    let left = store.all_connections().await.unwrap();
    assert_eq!(left.iter().map(|c| &c.key).collect::<Vec<_>>(), vec![&b1]);
}

#[test]
fn schema_version_is_the_latest_migration() {
    // Three migrations exist as of this release; a new one raises the number.
    assert!(EncryptedStore::schema_version() >= 3);
}
