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

/// The bytes of `path` and of its `-wal` file, if any.
fn file_and_wal(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(std::path::Path::new(&wal)) {
        bytes.extend_from_slice(&more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Erasure leaves no copy of the subject's wrapped data key, nor of its sealed token, in the
/// live files: not in a free page (`secure_delete`) and not in the write-ahead log (a
/// checkpoint follows the erasure). With the key-encryption key, which stays on the host, such a
/// leftover would undo the shredding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_bytes_of_the_key_or_records_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc.db");
    let vault = dir.path().join("sc.db.keys");
    let store = EncryptedStore::open_sqlite(&path, keys()).await.unwrap();
    let gone = SubjectId::new("leaves-no-trace").unwrap();
    let kept = SubjectId::new("stays").unwrap();
    fill(&store, &gone).await;
    fill(&store, &kept).await;

    let read_blobs = |file: &std::path::Path, sql: &str| -> Vec<Vec<u8>> {
        let conn = rusqlite::Connection::open(file).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let wrapped_keys = read_blobs(&vault, "SELECT wrapped FROM sc_subject_keys");
    let sealed_tokens = read_blobs(&path, "SELECT sealed FROM sc_tokens");
    assert_eq!((wrapped_keys.len(), sealed_tokens.len()), (2, 2));
    for blob in wrapped_keys.iter().chain(&sealed_tokens) {
        assert!(contains(&file_and_wal(&vault), blob) || contains(&file_and_wal(&path), blob));
    }

    store.erase(&gone).await.unwrap();

    let left_keys = read_blobs(&vault, "SELECT wrapped FROM sc_subject_keys");
    let left_tokens = read_blobs(&path, "SELECT sealed FROM sc_tokens");
    assert_eq!((left_keys.len(), left_tokens.len()), (1, 1));
    let (vault_bytes, data_bytes) = (file_and_wal(&vault), file_and_wal(&path));
    for blob in wrapped_keys.iter().filter(|b| !left_keys.contains(b)) {
        assert!(
            !contains(&vault_bytes, blob),
            "the erased wrapped key lingers in the vault"
        );
    }
    for blob in sealed_tokens.iter().filter(|b| !left_tokens.contains(b)) {
        assert!(
            !contains(&data_bytes, blob),
            "the erased token lingers in the database"
        );
    }
    // The subject that stays is intact.
    assert!(contains(&vault_bytes, &left_keys[0]));
    store.close().await;
}
