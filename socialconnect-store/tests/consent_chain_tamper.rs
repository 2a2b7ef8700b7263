//! The consent ledger's hash chain catches an edit made behind the store's back: one row's
//! `purpose` column changed directly in the SQLite file makes `verify_chain` report exactly
//! that row as the first broken link.
#![cfg(feature = "sqlite")]

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::KeyId;
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

#[tokio::test]
async fn editing_one_row_in_the_file_breaks_the_chain_at_that_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc.db");
    let keys = Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [3; 32])], KeyId("k1".into())).unwrap(),
    );
    let store = EncryptedStore::open_sqlite(&path, keys.clone())
        .await
        .unwrap();
    let now = Utc::now();
    let mut seqs = Vec::new();
    for (i, who) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        let platform = (i % 2 == 0).then_some(PlatformId::FACEBOOK);
        let receipt = store
            .record(ConsentEvent::grant(
                SubjectId::new(*who).unwrap(),
                Purpose::Publishing,
                platform,
                now,
            ))
            .await
            .unwrap();
        seqs.push(receipt.seq);
    }
    let report = store.verify_chain().await.unwrap();
    assert_eq!((report.checked, report.first_broken), (5, None));
    store.close().await;

    // The tamperer: a plain SQLite client on the same file.
    let target = seqs[2];
    let conn = rusqlite::Connection::open(&path).unwrap();
    let changed = conn
        .execute(
            "UPDATE sc_consent SET purpose = 'analytics' WHERE seq = ?1",
            [i64::try_from(target).unwrap()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let store = EncryptedStore::open_sqlite(&path, keys).await.unwrap();
    let report = store.verify_chain().await.unwrap();
    assert_eq!(report.first_broken, Some(target));
    assert_eq!(report.checked, target);
    // The sealed event is bound to its row's columns, so the edited row no longer opens.
    assert!(
        store
            .history(&SubjectId::new("carol").unwrap())
            .await
            .is_err()
    );
    assert_eq!(
        store
            .history(&SubjectId::new("bob").unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}
