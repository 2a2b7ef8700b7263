//! API keys: issue once, verify in constant time, expire, revoke, rotate with a grace period,
//! alert on repeated failures, and never let the key reach a record, an error or a log line.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::TimeDelta;
use socialconnect_core::alert::{Alert, AlertSink, AlertThresholds, RecordingAlerts};
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRejection, ApiKeyStore, ApiKeys, IssuedApiKey};
use socialconnect_core::clock::Clock;
use socialconnect_core::memory::MemoryApiKeys;
use socialconnect_core::{Error, ErrorKind};
use socialconnect_testkit::ManualClock;

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<MemoryApiKeys>,
    alerts: Arc<RecordingAlerts>,
    keys: ApiKeys,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::default());
    let store = Arc::new(MemoryApiKeys::new());
    let alerts = Arc::new(RecordingAlerts::new());
    let dyn_store: Arc<dyn ApiKeyStore> = store.clone();
    let sink: Arc<dyn AlertSink> = alerts.clone();
    let keys = ApiKeys::new(dyn_store, clock.clone()).with_alerts(
        sink,
        AlertThresholds::default().with_api_key_failures(3, TimeDelta::minutes(10)),
    );
    Fixture {
        clock,
        store,
        alerts,
        keys,
    }
}

fn rejection(result: socialconnect_core::Result<impl std::fmt::Debug>) -> ApiKeyRejection {
    match result {
        Err(Error::ApiKeyRejected { reason, .. }) => reason,
        other => panic!("expected an API key rejection, got {other:?}"),
    }
}

/// The secret part of a key: what must never appear anywhere.
fn secret_part(issued: &IssuedApiKey) -> String {
    issued.key.expose_secret()[36..].to_owned()
}

/// A key with the same id and a different, well-formed secret.
fn wrong_secret(issued: &IssuedApiKey) -> String {
    let key = issued.key.expose_secret();
    let last = if key.ends_with('A') { "Q" } else { "A" };
    format!("{}{last}", &key[..key.len() - 1])
}

#[tokio::test]
async fn issued_keys_have_the_documented_shape_and_verify() {
    let f = fixture();
    let issued = f
        .keys
        .issue(["posts:write", "posts:read", "posts:read"], None, "admin")
        .await
        .unwrap();
    let key = issued.key.expose_secret();
    assert_eq!(key.len(), 79);
    let (prefix, secret) = key.split_at(35);
    assert_eq!(prefix, issued.key_id.prefix());
    assert_eq!(prefix, format!("sc_{}", issued.key_id));
    assert!(
        prefix[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(issued.key_id.as_uuid().get_version_num(), 7);
    assert_eq!(secret.len(), 44);
    assert!(secret.starts_with('_'));
    assert!(
        secret[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(issued.scopes, ["posts:read", "posts:write"]);
    assert_eq!(issued.expires_at, None);

    let verified = f.keys.verify(key).await.unwrap();
    assert_eq!(verified.key_id, issued.key_id);
    assert_eq!(verified.scopes, ["posts:read", "posts:write"]);
    assert!(verified.has_scope("posts:read"));
    assert!(!verified.has_scope("posts"));
    verified.require_scope("posts:write").unwrap();
    let err = verified.require_scope("admin").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(rejection(Err::<(), _>(err)), ApiKeyRejection::MissingScope);

    // Two keys never share an id or a secret.
    let other = f.keys.issue(["posts:read"], None, "admin").await.unwrap();
    assert_ne!(other.key_id, issued.key_id);
    assert_ne!(secret_part(&other), secret_part(&issued));
}

#[tokio::test]
async fn only_a_hash_is_stored() {
    let f = fixture();
    let issued = f
        .keys
        .issue(["a"], Some(TimeDelta::days(30)), "admin")
        .await
        .unwrap();
    let secret = secret_part(&issued);
    let records = f.store.list().await.unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.key_id, issued.key_id);
    assert_eq!(record.created_at, f.clock.now());
    assert_eq!(record.expires_at, Some(f.clock.now() + TimeDelta::days(30)));
    let debug = format!("{records:?} {issued:?} {:#?}", issued.key);
    assert!(!debug.contains(&secret), "{debug}");
    assert!(!debug.contains(&secret[1..12]), "{debug}");
    assert!(debug.contains("ApiKeySecret([REDACTED])"));
    // The stored hash is not the secret's bytes in any obvious encoding.
    let hash_hex: String = record
        .hash
        .as_bytes()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    assert!(!hash_hex.contains(&secret[1..9]));
}

#[tokio::test]
async fn wrong_unknown_and_malformed_keys_are_rejected_without_echo() {
    let f = fixture();
    let issued = f.keys.issue(["a"], None, "admin").await.unwrap();
    let secret = secret_part(&issued);

    let err = f.keys.verify(&wrong_secret(&issued)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(matches!(
        err,
        Error::ApiKeyRejected {
            key_id: Some(id),
            reason: ApiKeyRejection::Invalid
        } if id == issued.key_id
    ));

    // An id nobody issued gets the same answer as a wrong secret.
    let unknown = format!(
        "sc_{}{}",
        ApiKeyId::generate(),
        &issued.key.expose_secret()[35..]
    );
    assert_eq!(
        rejection(f.keys.verify(&unknown).await),
        ApiKeyRejection::Invalid
    );

    let key = issued.key.expose_secret();
    for malformed in [
        String::new(),
        "Bearer x".to_owned(),
        key[..78].to_owned(),
        format!("{key}x"),
        key.replacen("sc_", "sk_", 1),
        key.to_uppercase(),
        key.replace('_', ":"),
        format!("sc_{}_{}", issued.key_id, "!".repeat(43)),
    ] {
        let err = f.keys.verify(&malformed).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{malformed:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains(&secret[1..10]), "{text}");
        assert!(!text.contains(&issued.key_id.to_string()), "{text}");
    }
    // Nothing was touched by the failures.
    let record = f.store.get(&issued.key_id).await.unwrap().unwrap();
    assert_eq!(record.last_used_at, None);
}

#[tokio::test]
async fn keys_expire_exactly_at_their_expiry() {
    let f = fixture();
    let issued = f
        .keys
        .issue(["a"], Some(TimeDelta::hours(1)), "admin")
        .await
        .unwrap();
    let key = issued.key.expose_secret();
    f.clock.advance(TimeDelta::hours(1) - TimeDelta::seconds(1));
    f.keys.verify(key).await.unwrap();
    f.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        rejection(f.keys.verify(key).await),
        ApiKeyRejection::Expired
    );
    // A wrong secret for an expired key learns nothing about its state.
    assert_eq!(
        rejection(f.keys.verify(&wrong_secret(&issued)).await),
        ApiKeyRejection::Invalid
    );
}

#[tokio::test]
async fn lifetimes_must_be_positive_and_scopes_well_formed() {
    let f = fixture();
    for ttl in [TimeDelta::zero(), TimeDelta::seconds(-1)] {
        let err = f.keys.issue(["a"], Some(ttl), "admin").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    for scope in ["", "with space", "comma,separated", "naïve"] {
        let err = f.keys.issue([scope], None, "admin").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{scope:?}");
    }
    assert!(f.store.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn revocation_is_immediate() {
    let f = fixture();
    let issued = f.keys.issue(["a"], None, "admin").await.unwrap();
    let key = issued.key.expose_secret();
    f.keys.verify(key).await.unwrap();
    assert!(f.keys.revoke(&issued.key_id, "admin").await.unwrap());
    assert_eq!(
        rejection(f.keys.verify(key).await),
        ApiKeyRejection::Revoked
    );
    // Idempotent; the first revocation time is kept.
    let revoked_at = f
        .store
        .get(&issued.key_id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at;
    f.clock.advance(TimeDelta::minutes(5));
    assert!(!f.keys.revoke(&issued.key_id, "admin").await.unwrap());
    assert_eq!(
        f.store
            .get(&issued.key_id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        revoked_at
    );
    assert!(!f.keys.revoke(&ApiKeyId::generate(), "admin").await.unwrap());
}

#[tokio::test]
async fn rotation_keeps_both_keys_valid_until_the_grace_deadline() {
    let f = fixture();
    let old = f
        .keys
        .issue(
            ["posts:read", "stats:read"],
            Some(TimeDelta::days(90)),
            "admin",
        )
        .await
        .unwrap();
    f.clock.advance(TimeDelta::days(10));
    let new = f
        .keys
        .rotate(&old.key_id, TimeDelta::hours(24), "admin")
        .await
        .unwrap();
    assert_ne!(new.key_id, old.key_id);
    assert_eq!(new.scopes, old.scopes);
    // The replacement gets the same 90-day lifetime, counted from now.
    assert_eq!(new.expires_at, Some(f.clock.now() + TimeDelta::days(90)));
    let record = f.store.get(&old.key_id).await.unwrap().unwrap();
    assert_eq!(record.replaced_by, Some(new.key_id));
    assert_eq!(
        record.grace_until,
        Some(f.clock.now() + TimeDelta::hours(24))
    );

    f.clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    f.keys.verify(old.key.expose_secret()).await.unwrap();
    f.keys.verify(new.key.expose_secret()).await.unwrap();
    f.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        rejection(f.keys.verify(old.key.expose_secret()).await),
        ApiKeyRejection::Superseded
    );
    f.keys.verify(new.key.expose_secret()).await.unwrap();
}

#[tokio::test]
async fn rotation_edge_cases() {
    let f = fixture();
    // Zero grace: the old key stops at once.
    let a = f.keys.issue(["a"], None, "admin").await.unwrap();
    let a2 = f
        .keys
        .rotate(&a.key_id, TimeDelta::zero(), "admin")
        .await
        .unwrap();
    assert_eq!(
        rejection(f.keys.verify(a.key.expose_secret()).await),
        ApiKeyRejection::Superseded
    );
    assert_eq!(a2.expires_at, None);
    // A key is rotated once; rotate its replacement instead.
    assert_eq!(
        rejection(f.keys.rotate(&a.key_id, TimeDelta::hours(1), "admin").await),
        ApiKeyRejection::Superseded
    );
    let b = f.keys.issue(["b"], None, "admin").await.unwrap();
    f.keys
        .rotate(&b.key_id, TimeDelta::hours(1), "admin")
        .await
        .unwrap();
    assert_eq!(
        rejection(f.keys.rotate(&b.key_id, TimeDelta::hours(1), "admin").await),
        ApiKeyRejection::Superseded
    );
    // Revoked keys cannot be rotated back to life, expired ones neither.
    let c = f.keys.issue(["c"], None, "admin").await.unwrap();
    f.keys.revoke(&c.key_id, "admin").await.unwrap();
    assert_eq!(
        rejection(f.keys.rotate(&c.key_id, TimeDelta::hours(1), "admin").await),
        ApiKeyRejection::Revoked
    );
    let d = f
        .keys
        .issue(["d"], Some(TimeDelta::minutes(1)), "admin")
        .await
        .unwrap();
    f.clock.advance(TimeDelta::minutes(2));
    assert_eq!(
        rejection(f.keys.rotate(&d.key_id, TimeDelta::hours(1), "admin").await),
        ApiKeyRejection::Expired
    );
    // The grace period never outlives the old key's own expiry.
    let e = f
        .keys
        .issue(["e"], Some(TimeDelta::hours(2)), "admin")
        .await
        .unwrap();
    f.keys
        .rotate(&e.key_id, TimeDelta::days(7), "admin")
        .await
        .unwrap();
    let record = f.store.get(&e.key_id).await.unwrap().unwrap();
    assert_eq!(record.grace_until, record.expires_at);
    // Bad input.
    let err = f
        .keys
        .rotate(&ApiKeyId::generate(), TimeDelta::hours(1), "admin")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = f
        .keys
        .rotate(&e.key_id, TimeDelta::seconds(-1), "admin")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn revoking_during_the_grace_period_ends_the_old_key_at_once() {
    let f = fixture();
    let old = f.keys.issue(["a"], None, "admin").await.unwrap();
    let new = f
        .keys
        .rotate(&old.key_id, TimeDelta::days(1), "admin")
        .await
        .unwrap();
    f.keys.verify(old.key.expose_secret()).await.unwrap();
    f.keys.revoke(&old.key_id, "admin").await.unwrap();
    assert_eq!(
        rejection(f.keys.verify(old.key.expose_secret()).await),
        ApiKeyRejection::Revoked
    );
    f.keys.verify(new.key.expose_secret()).await.unwrap();
}

#[tokio::test]
async fn last_used_is_recorded_at_the_configured_resolution() {
    let f = fixture();
    let issued = f.keys.issue(["a"], None, "admin").await.unwrap();
    let key = issued.key.expose_secret();
    let last_used = || async {
        f.store
            .get(&issued.key_id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used().await, None);
    let t0 = f.clock.now();
    f.keys.verify(key).await.unwrap();
    assert_eq!(last_used().await, Some(t0));
    f.clock.advance(TimeDelta::seconds(30));
    f.keys.verify(key).await.unwrap();
    assert_eq!(last_used().await, Some(t0), "within the resolution");
    f.clock.advance(TimeDelta::seconds(30));
    f.keys.verify(key).await.unwrap();
    assert_eq!(last_used().await, Some(t0 + TimeDelta::minutes(1)));

    // Resolution zero: every verification writes.
    let keys =
        ApiKeys::new(f.store.clone(), f.clock.clone()).with_last_used_resolution(TimeDelta::zero());
    f.clock.advance(TimeDelta::seconds(1));
    keys.verify(key).await.unwrap();
    assert_eq!(last_used().await, Some(f.clock.now()));
}

#[tokio::test]
async fn repeated_failures_from_one_prefix_raise_one_alert() {
    let f = fixture();
    let issued = f.keys.issue(["a"], None, "admin").await.unwrap();
    let wrong = wrong_secret(&issued);
    // Malformed keys have no prefix and do not count.
    for _ in 0..5 {
        let _ = f.keys.verify("sc_garbage").await;
    }
    assert!(f.alerts.take().is_empty());

    let _ = f.keys.verify(&wrong).await;
    f.clock.advance(TimeDelta::minutes(1));
    let _ = f.keys.verify(&wrong).await;
    // A success in between neither counts nor resets the count.
    f.keys.verify(issued.key.expose_secret()).await.unwrap();
    assert!(f.alerts.take().is_empty());
    let _ = f.keys.verify(&wrong).await;
    let alerts = f.alerts.take();
    assert_eq!(
        alerts,
        [Alert::RepeatedApiKeyFailures {
            key_prefix: issued.key_id.prefix(),
            count: 3
        }]
    );
    let text = format!("{alerts:?} {}", alerts[0]);
    assert!(!text.contains(&secret_part(&issued)[1..10]));
    // Still in the same burst: quiet.
    let _ = f.keys.verify(&wrong).await;
    assert!(f.alerts.take().is_empty());

    // After the window a new burst alerts again; a revoked key in use counts as a failure.
    f.clock.advance(TimeDelta::hours(1));
    f.keys.revoke(&issued.key_id, "admin").await.unwrap();
    for _ in 0..3 {
        let _ = f.keys.verify(issued.key.expose_secret()).await;
    }
    assert_eq!(f.alerts.take().len(), 1);

    // Events spread wider than the window never alert.
    let other = f.keys.issue(["a"], None, "admin").await.unwrap();
    for _ in 0..6 {
        let _ = f.keys.verify(&wrong_secret(&other)).await;
        f.clock.advance(TimeDelta::minutes(6));
    }
    assert!(f.alerts.take().is_empty());
}

#[tokio::test]
async fn purge_removes_keys_dead_for_longer_than_the_retention() {
    let f = fixture();
    let revoked = f.keys.issue(["a"], None, "admin").await.unwrap();
    let expiring = f
        .keys
        .issue(["a"], Some(TimeDelta::days(1)), "admin")
        .await
        .unwrap();
    let live = f.keys.issue(["a"], None, "admin").await.unwrap();
    f.keys.revoke(&revoked.key_id, "admin").await.unwrap();
    f.clock.advance(TimeDelta::days(20));
    assert_eq!(f.keys.purge(TimeDelta::days(30)).await.unwrap(), 0);
    f.clock.advance(TimeDelta::days(10));
    assert_eq!(f.keys.purge(TimeDelta::days(30)).await.unwrap(), 1);
    f.clock.advance(TimeDelta::days(1));
    assert_eq!(f.keys.purge(TimeDelta::days(30)).await.unwrap(), 1);
    assert_eq!(f.keys.purge(TimeDelta::days(30)).await.unwrap(), 0);
    let left: Vec<_> = f.keys.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key_id, live.key_id);
    assert!(f.keys.get(&expiring.key_id).await.unwrap().is_none());
}
