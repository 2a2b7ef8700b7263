//! The claim of due refreshes
//! ([`TokenStore::claim_due`](socialconnect_core::store::TokenStore::claim_due),
//! [`release_claim`](socialconnect_core::store::TokenStore::release_claim)):
//! skipped for a store that does not implement it (the trait's default answers a `Config`
//! error; such a store cannot run the refresh sweep).

use std::time::Duration;

use chrono::{DateTime, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::clock::Clock;
use socialconnect_core::id::PlatformId;
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::ConnectionStatus;
use socialconnect_core::token::{Expiry, TokenSet};
use uuid::Uuid;

use super::{Stores, key};
use crate::conformance::CaseOutcome;

fn expiring(at: DateTime<Utc>) -> TokenSet {
    TokenSet::new(
        AccessToken::new("a"),
        Expiry::At(at),
        at - chrono::Duration::hours(1),
    )
}

/// Due connections are claimed earliest first, by one claimant at a time, until released
/// (with or without a hold) or lapsed.
pub(super) async fn due_connections_are_claimed_once(s: Stores) -> CaseOutcome {
    let now = s.clock.now();
    let secs = chrono::Duration::seconds;
    let ttl = Duration::from_secs(60);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    match s.tokens.claim_due(now, 1, a, ttl).await {
        Err(e) if e.kind() == ErrorKind::Config => {
            return CaseOutcome::Skipped("the store does not implement claim_due".to_owned());
        }
        other => assert!(other.unwrap().is_empty(), "an empty store has nothing due"),
    }
    let k1 = key("alice", PlatformId::LINKEDIN);
    let k2 = key("bob", PlatformId::TIKTOK);
    let later = key("carol", PlatformId::PINTEREST);
    let marked = key("dave", PlatformId::LINKEDIN);
    let never = key("erin", PlatformId::FACEBOOK);
    let t = &s.tokens;
    t.put(&k2, &expiring(now + secs(200)), None).await.unwrap();
    t.put(&k1, &expiring(now + secs(100)), None).await.unwrap();
    t.put(&later, &expiring(now + secs(7200)), None)
        .await
        .unwrap();
    t.put(&marked, &expiring(now + secs(50)), None)
        .await
        .unwrap();
    t.set_status(&marked, ConnectionStatus::Revoked { since: now })
        .await
        .unwrap();
    let forever = TokenSet::new(AccessToken::new("a"), Expiry::Never, now);
    t.put(&never, &forever, None).await.unwrap();

    let horizon = now + secs(300);
    assert_eq!(
        t.claim_due(horizon, 10, a, ttl).await.unwrap(),
        vec![k1.clone(), k2.clone()],
        "due, active, expiring at a known instant; earliest first"
    );
    assert!(t.claim_due(horizon, 10, b, ttl).await.unwrap().is_empty());
    assert!(!t.release_claim(&k1, b, None).await.unwrap(), "not b's");
    assert!(
        t.release_claim(&k1, a, Some(now + secs(600)))
            .await
            .unwrap()
    );
    assert!(
        t.claim_due(horizon, 10, b, ttl).await.unwrap().is_empty(),
        "held"
    );
    s.clock.advance(secs(61));
    assert_eq!(
        t.claim_due(horizon, 10, b, ttl).await.unwrap(),
        vec![k2.clone()],
        "a's claim lapsed; k1 still held"
    );
    s.clock.advance(secs(600));
    assert_eq!(
        t.claim_due(horizon, 1, a, ttl).await.unwrap(),
        vec![k1.clone()],
        "the hold ended; the limit holds"
    );
    assert!(t.release_claim(&k1, a, None).await.unwrap());
    assert!(t.delete(&k1).await.unwrap());
    assert!(!t.release_claim(&k1, a, None).await.unwrap());
    assert_eq!(
        t.claim_due(horizon, 10, a, Duration::ZERO)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    CaseOutcome::Passed
}
