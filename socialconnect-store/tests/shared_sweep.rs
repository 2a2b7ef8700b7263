//! Four refresh sweeps, each with its own hub, store connection pool and claim owner — four
//! instances — over one PostgreSQL database of due connections: every connection is refreshed
//! exactly once (the simulator counts the refresh grants), none twice. Needs `SC_TEST_PG_URL`
//! (`scripts/pg.sh`); skipped without it. The same over one SQLite file, whose claims are
//! serialized by its write lock.
#![cfg(all(feature = "postgres", feature = "sqlite"))]

#[path = "common/pg.rs"]
mod pg;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::access_log::AccessLog;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::keys::{KeyId, KeyProvider};
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AccessToken, ClientSecret, RefreshToken};
use socialconnect_core::store::{PendingAuthStore, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{SocialConnect, SweepEvent, SweepOptions, SweepReport};
use socialconnect_store::EncryptedStore;
use socialconnect_store::keys::LocalKeyring;
use socialconnect_testkit::OAuthSimulator;

const CONNECTIONS: usize = 400;
const SWEEPERS: usize = 4;

fn keys() -> Arc<dyn KeyProvider> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [5; 32])], KeyId("k1".into())).unwrap(),
    )
}

fn platform_id() -> PlatformId {
    PlatformId::new("simulated").unwrap()
}

/// One instance: its own store (pool) over the database, its own hub.
async fn instance(db: &str, sim: &OAuthSimulator) -> (SocialConnect, EncryptedStore) {
    let store = match db.strip_prefix("sqlite:") {
        Some(path) => EncryptedStore::open_sqlite(path, keys()).await.unwrap(),
        None => EncryptedStore::open_postgres(db, keys()).await.unwrap(),
    };
    let http = socialconnect_testkit::test_http_client();
    let spec = OAuthSpec::new(
        platform_id(),
        sim.client_id(),
        sim.authorize_url(),
        sim.token_url(),
    );
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(sim.client_secret()),
        http.clone(),
        Arc::new(SystemClock),
    );
    let platform = StandardPlatform::new(oauth, sim.userinfo_url());
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(platform))
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .pending_store(Arc::new(store.clone()) as Arc<dyn PendingAuthStore>)
        .consent_ledger(Arc::new(store.clone()) as Arc<dyn ConsentLedger>)
        .access_log(Arc::new(store.clone()) as Arc<dyn AccessLog>)
        .build()
        .unwrap();
    (hub, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_sweepers_on_postgres_refresh_every_due_connection_exactly_once() {
    let Some(db) = pg::fresh_database("sweep").await else {
        return;
    };
    four_sweepers(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_sweepers_on_one_sqlite_file_refresh_every_due_connection_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("sc.db").display());
    four_sweepers(&db).await;
}

async fn four_sweepers(db: &str) {
    let db = db.to_owned();
    // Ten-minute tokens: every connection is inside the sweep's 15-minute window at once.
    let sim = OAuthSimulator::builder()
        .access_token_lifetime(Duration::from_secs(600))
        .rotate_refresh_tokens(true)
        .start()
        .await;
    let (seed_hub, seed_store) = instance(&db, &sim).await;
    let subjects: Vec<SubjectId> = (0..20)
        .map(|i| SubjectId::new(format!("user-{i}")).unwrap())
        .collect();
    for s in &subjects {
        seed_hub
            .record_consent(ConsentEvent::grant(
                s.clone(),
                Purpose::AccountConnection,
                Some(platform_id()),
                Utc::now(),
            ))
            .await
            .unwrap();
    }
    let mut due = HashSet::new();
    let mut originals = Vec::new();
    for i in 0..CONNECTIONS {
        let issued = sim.issue_tokens(["publish"]);
        let now = Utc::now();
        let tokens = TokenSet::new(
            AccessToken::new(&issued.access_token),
            Expiry::after(now, 600),
            now,
        )
        .with_refresh(
            RefreshToken::new(issued.refresh_token.unwrap()),
            Expiry::Never,
        );
        let key = ConnectionKey::new(
            subjects[i % subjects.len()].clone(),
            platform_id(),
            ConnectionId::generate(),
        );
        seed_store.put(&key, &tokens, None).await.unwrap();
        originals.push((key.clone(), issued.access_token));
        due.insert(key);
    }
    seed_store.close().await;

    // Every instance is open before any starts, and they start together.
    let mut instances = Vec::new();
    for _ in 0..SWEEPERS {
        instances.push(instance(&db, &sim).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(SWEEPERS));
    let mut tasks = Vec::new();
    for (hub, store) in instances {
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let sweep = hub.refresh_sweep(
                SweepOptions::default()
                    .with_batch(25, 8)
                    .with_jitter(Duration::from_millis(2)),
            );
            let mut events = sweep.subscribe();
            let mut total = SweepReport::default();
            let mut refreshed = Vec::new();
            loop {
                let report = sweep.run_once().await.unwrap();
                while let Ok(e) = events.try_recv() {
                    match e {
                        SweepEvent::Refreshed { key, .. } => refreshed.push(key),
                        other => panic!("unexpected event {other:?}"),
                    }
                }
                if report.claimed == 0 {
                    break;
                }
                total.claimed += report.claimed;
                total.refreshed += report.refreshed;
            }
            store.close().await;
            (total, refreshed)
        }));
    }
    let mut seen = HashSet::new();
    let mut claimed = 0;
    let mut busy_sweepers = 0;
    for t in tasks {
        let (total, refreshed) = t.await.unwrap();
        claimed += total.claimed;
        assert_eq!(total.refreshed, refreshed.len());
        if total.refreshed > 0 {
            busy_sweepers += 1;
        }
        for key in refreshed {
            assert!(seen.insert(key), "a connection was refreshed twice");
        }
    }
    assert_eq!(
        sim.refresh_requests(),
        CONNECTIONS,
        "one refresh grant per connection"
    );
    assert_eq!(claimed, CONNECTIONS, "each connection claimed once");
    assert_eq!(seen, due);
    assert!(busy_sweepers > 1, "the sweepers shared the work");

    let (_, store) = instance(&db, &sim).await;
    for (key, old) in &originals {
        let stored = store.get(key).await.unwrap().unwrap();
        let now = stored.tokens.access_token.expose_secret();
        assert_ne!(now, old);
        assert!(sim.is_valid(now));
        let rt = stored.tokens.refresh_token.unwrap();
        assert!(sim.is_refresh_token_valid(rt.expose_secret()));
    }
    store.close().await;
    sim.assert_no_unexpected();
}
