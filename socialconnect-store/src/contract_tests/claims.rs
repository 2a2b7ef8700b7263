//! The claim of due refreshes (`TokenStore::claim_due` / `release_claim`), on every backend.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionKey, PlatformId};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use uuid::Uuid;

use super::{Kind, fixture, key};

fn expiring(at: chrono::DateTime<Utc>) -> TokenSet {
    TokenSet::new(
        AccessToken::new("a"),
        Expiry::At(at),
        at - chrono::Duration::hours(1),
    )
}

const TTL: Duration = Duration::from_secs(60);

pub(crate) async fn claims_take_due_connections_once(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let secs = chrono::Duration::seconds;
    let k1 = key("alice", PlatformId::LINKEDIN);
    let k2 = key("bob", PlatformId::TIKTOK);
    let k3 = key("carol", PlatformId::PINTEREST);
    let never = key("dave", PlatformId::FACEBOOK);
    let marked = key("erin", PlatformId::LINKEDIN);
    s.put(&k2, &expiring(now + secs(200)), None).await.unwrap();
    s.put(&k1, &expiring(now + secs(100)), None).await.unwrap();
    s.put(&k3, &expiring(now + secs(7200)), None).await.unwrap();
    let t = TokenSet::new(AccessToken::new("a"), Expiry::Never, now);
    s.put(&never, &t, None).await.unwrap();
    s.put(&marked, &expiring(now + secs(50)), None)
        .await
        .unwrap();
    s.set_status(&marked, ConnectionStatus::ReconnectRequired { since: now })
        .await
        .unwrap();

    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    // Due within 300 s: k1 then k2 (earliest first); not k3, not the never-expiring one,
    // not the one marked reconnect-required.
    let claimed = s.claim_due(now + secs(300), 10, a, TTL).await.unwrap();
    assert_eq!(claimed, vec![k1.clone(), k2.clone()]);
    // Claimed rows go to nobody else, nor to the same owner again, while the claim lasts.
    assert!(
        s.claim_due(now + secs(300), 10, b, TTL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.claim_due(now + secs(300), 10, a, TTL)
            .await
            .unwrap()
            .is_empty()
    );

    // Only the claimant releases; a release may hold the row back (a back-off).
    assert!(!s.release_claim(&k1, b, None).await.unwrap());
    assert!(
        s.release_claim(&k1, a, Some(now + secs(600)))
            .await
            .unwrap()
    );
    assert!(
        !s.release_claim(&k1, a, None).await.unwrap(),
        "already released"
    );
    // A key naming another subject is not this caller's connection.
    let wrong = ConnectionKey::new(
        super::subject("mallory"),
        k2.platform.clone(),
        k2.connection,
    );
    assert!(!s.release_claim(&wrong, a, None).await.unwrap());
    assert!(
        s.claim_due(now + secs(300), 10, b, TTL)
            .await
            .unwrap()
            .is_empty()
    );

    // A claim lapses by itself; a hold ends at its instant.
    f.clock.advance(secs(61));
    assert_eq!(
        s.claim_due(now + secs(300), 10, b, TTL).await.unwrap(),
        vec![k2.clone()]
    );
    f.clock.advance(secs(600));
    assert_eq!(
        s.claim_due(now + secs(300), 10, b, TTL).await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );

    // A write to a claimed row keeps the claim and moves its due time.
    assert!(s.release_claim(&k1, b, None).await.unwrap());
    let claimed = s.claim_due(now + secs(300), 1, a, TTL).await.unwrap();
    assert_eq!(claimed, vec![k1.clone()]);
    s.put(&k1, &expiring(now + secs(250)), Some(1))
        .await
        .unwrap();
    assert!(
        s.claim_due(now + secs(300), 10, b, TTL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.release_claim(&k1, a, None).await.unwrap());
    assert!(
        s.claim_due(now + secs(200), 10, b, TTL)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.claim_due(now + secs(300), 10, b, TTL).await.unwrap(),
        vec![k1.clone()]
    );

    // The limit holds; a deleted row is gone from claims.
    assert_eq!(
        s.claim_due(now + secs(9000), 1, a, TTL).await.unwrap(),
        vec![k3.clone()]
    );
    assert!(s.delete(&k3).await.unwrap());
    assert!(!s.release_claim(&k3, a, None).await.unwrap());
    assert_eq!(
        s.claim_due(now + secs(9000), 10, a, Duration::ZERO)
            .await
            .unwrap_err()
            .kind(),
        socialconnect_core::ErrorKind::InvalidInput
    );
}

pub(crate) async fn claims_are_exclusive_under_concurrency(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let mut all = HashSet::new();
    for i in 0..60 {
        let k = key(&format!("user-{i}"), PlatformId::LINKEDIN);
        s.put(&k, &expiring(now + chrono::Duration::seconds(i)), None)
            .await
            .unwrap();
        all.insert(k);
    }
    let store: Arc<dyn TokenStore> = Arc::new(s);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let owner = Uuid::new_v4();
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_due(now + chrono::Duration::seconds(100), 7, owner, TTL)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got);
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for task in tasks {
        for k in task.await.unwrap() {
            total += 1;
            assert!(seen.insert(k), "a connection was claimed twice");
        }
    }
    assert_eq!(total, 60);
    assert_eq!(seen, all);
}

pub(crate) async fn claims_learn_the_due_time_of_older_rows(kind: Kind) {
    let Some(f) = fixture(kind).await else { return };
    let s = f.store().await;
    let now = f.clock.now();
    let k = key("alice", PlatformId::LINKEDIN);
    s.put(&k, &expiring(now + chrono::Duration::hours(1)), None)
        .await
        .unwrap();
    // What schema 5 leaves in a row written before it: due at once.
    let row = f
        .data
        .get_token(&k.connection.to_string())
        .await
        .unwrap()
        .unwrap();
    f.data
        .set_token_due(&row.conn_id, row.version, Some(0))
        .await
        .unwrap();
    let a = Uuid::new_v4();
    // The row is claimed, opened, found not due within 5 minutes, and let go with its due time.
    assert!(
        s.claim_due(now + chrono::Duration::minutes(5), 10, a, TTL)
            .await
            .unwrap()
            .is_empty()
    );
    let row = f.data.get_token(&row.conn_id).await.unwrap().unwrap();
    assert_eq!(
        row.refresh_due_at,
        Some((now + chrono::Duration::hours(1)).timestamp())
    );
    assert_eq!(
        s.claim_due(now + chrono::Duration::hours(2), 10, a, TTL)
            .await
            .unwrap(),
        vec![k]
    );
}
