//! A database written by the previous release (0.1, whose SQLite backend ran on sqlx) opens
//! with this one: same schema, same migration bookkeeping (sqlx's table layout and SHA-384
//! checksums), same sealed records. The fixture holds one connection, one usage entry and one
//! consent grant of `fixture-subject`, written under the key below by that release's
//! `EncryptedStore::open_sqlite`.
#![cfg(feature = "sqlite")]

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::consent::ConsentLedger;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::KeyId;
use socialconnect_core::store::{PutOutcome, TokenStore};
use socialconnect_core::token::Expiry;
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release-0.1");

/// Copies the fixture's database and key vault into `dir` (the test must not change the
/// fixture itself).
fn copy_fixture(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("socialconnect.db");
    for name in ["socialconnect.db", "socialconnect.db.keys"] {
        std::fs::copy(Path::new(FIXTURE).join(name), dir.join(name)).unwrap();
    }
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_written_by_the_previous_release_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_fixture(dir.path());
    let keys = Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [0x11; 32])], KeyId("k1".into()))
            .unwrap(),
    );
    let store = EncryptedStore::open_sqlite(&path, keys).await.unwrap();
    let subject = SubjectId::new("fixture-subject").unwrap();
    let key = ConnectionKey::new(
        subject.clone(),
        PlatformId::LINKEDIN,
        ConnectionId::parse("0195f000-0000-7000-8000-000000000001").unwrap(),
    );

    let stored = store.get(&key).await.unwrap().expect("the old connection");
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.tokens.access_token.expose_secret(),
        "fixture-access-token"
    );
    assert_eq!(
        stored
            .tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        Some("fixture-refresh-token".to_owned())
    );
    assert_eq!(stored.tokens.account_id.as_deref(), Some("fixture-account"));
    assert_eq!(
        stored.tokens.access_expires,
        Expiry::At(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
    );

    let entries = store.entries(&subject).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].operation, "profile.read");
    assert_eq!(entries[0].client.ip, Some("192.0.2.7".parse().unwrap()));

    assert!(
        store
            .permits(
                &subject,
                Purpose::Publishing,
                &PlatformId::LINKEDIN,
                Utc::now()
            )
            .await
            .unwrap()
    );
    let chain = store.verify_chain().await.unwrap();
    assert_eq!((chain.checked, chain.first_broken), (1, None));

    // And it keeps working: a compare-and-swap write on the old row.
    assert_eq!(
        store.put(&key, &stored.tokens, Some(1)).await.unwrap(),
        PutOutcome::Written(2)
    );
    store.close().await;

    // The old release's three migrations were kept as they were (their checksums were checked
    // on open) and only this release's newer ones were added on top.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM sc_schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|v| v.unwrap())
        .collect();
    let expected: Vec<i64> = (1..=EncryptedStore::schema_version()).collect();
    assert_eq!(versions, expected);
    assert!(versions.starts_with(&[1, 2, 3]));
}
