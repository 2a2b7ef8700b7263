//! Retention on the memory backend: `purge(now)` with a manual clock deletes usage entries past
//! the retention (day 89 kept, day 91 gone), expired OAuth states and connections stale past
//! the grace period; it is idempotent and batched.

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::{PLATFORM, privacy_env_with};
use socialconnect_core::access_log::{ClientInfo, Outcome, UsageEntry};
use socialconnect_core::alert::AlertThresholds;
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{ConnectionId, ConnectionKey, Scope, SubjectId};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{PurgeReport, RetentionPolicy};
use socialconnect_testkit::OAuthSimulator;

fn entry(subject: &SubjectId, at: chrono::DateTime<Utc>, op: &str) -> UsageEntry {
    UsageEntry::new(
        at,
        subject.clone(),
        PLATFORM,
        None,
        op,
        Outcome::Success,
        Some(200),
        Duration::from_millis(1),
        ClientInfo::default(),
    )
}

fn tokens(n: usize) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("at-{n}")),
        Expiry::Never,
        Utc::now(),
    )
}

#[tokio::test]
async fn purge_keeps_day_89_deletes_day_91_expired_states_and_stale_connections() {
    let env = privacy_env_with(
        OAuthSimulator::builder(),
        AlertThresholds::default(),
        RetentionPolicy::default().with_batch(2),
    )
    .await;
    assert_eq!(env.hub.retention().usage_log, TimeDelta::days(90));
    let start = env.clock.now();
    let me = env.subject.clone();
    env.log
        .append(entry(&me, start, "day0.call"))
        .await
        .unwrap();
    env.log
        .append(entry(&me, start + TimeDelta::days(2), "day2.call"))
        .await
        .unwrap();

    // An authorization started and abandoned.
    env.grant(socialconnect_core::id::Purpose::AccountConnection)
        .await;
    env.hub
        .connect(
            &me,
            &PLATFORM,
            &Scope::parse_list("w_member_social"),
            &env.redirect,
        )
        .await
        .unwrap();

    // Five connections: three stale long ago, one stale recently, one active.
    let key = |_: usize| ConnectionKey::new(me.clone(), PLATFORM, ConnectionId::generate());
    let keys: Vec<ConnectionKey> = (0..5).map(key).collect();
    for (i, k) in keys.iter().enumerate() {
        env.tokens.put(k, &tokens(i), None).await.unwrap();
    }
    for k in &keys[..3] {
        env.tokens
            .set_status(k, ConnectionStatus::ReconnectRequired { since: start })
            .await
            .unwrap();
    }
    env.tokens
        .set_status(
            &keys[3],
            ConnectionStatus::Revoked {
                since: start + TimeDelta::days(80),
            },
        )
        .await
        .unwrap();

    // Day 91 after the first entry: it is 91 days old, the second 89.
    let now = start + TimeDelta::days(91);
    env.clock.set(now);
    let report = env.hub.purge(now).await.unwrap();
    assert_eq!(report.usage_entries, 1);
    assert_eq!(report.oauth_states, 1);
    assert_eq!(report.stale_connections, 3);
    assert_eq!(report.total(), 5);

    let left: Vec<String> = env
        .log
        .entries(&me)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert!(left.contains(&"day2.call".to_owned()));
    assert!(!left.contains(&"day0.call".to_owned()));
    for k in &keys[..3] {
        assert!(env.tokens.get(k).await.unwrap().is_none());
    }
    // Stale for 11 days only, and active: kept.
    assert!(env.tokens.get(&keys[3]).await.unwrap().is_some());
    assert!(env.tokens.get(&keys[4]).await.unwrap().is_some());

    // Idempotent.
    assert_eq!(env.hub.purge(now).await.unwrap(), PurgeReport::default());

    // Day 89 exactly stays until it crosses 90 days.
    let day89 = start + TimeDelta::days(2) + TimeDelta::days(89);
    assert_eq!(env.hub.purge(day89).await.unwrap().usage_entries, 0);
    let day91 = start + TimeDelta::days(2) + TimeDelta::days(91);
    let later = env.hub.purge(day91).await.unwrap();
    assert_eq!(later.usage_entries, 1);
    // Revoked on day 80: inside its 30-day grace until day 110.
    assert_eq!(later.stale_connections, 0);
    assert!(env.tokens.get(&keys[3]).await.unwrap().is_some());
    let day111 = start + TimeDelta::days(111);
    assert_eq!(env.hub.purge(day111).await.unwrap().stale_connections, 1);
    assert!(env.tokens.get(&keys[3]).await.unwrap().is_none());
    assert!(env.tokens.get(&keys[4]).await.unwrap().is_some());
}

#[tokio::test]
async fn purges_racing_from_two_hubs_delete_each_record_once() {
    let env = privacy_env_with(
        OAuthSimulator::builder(),
        AlertThresholds::default(),
        RetentionPolicy::default()
            .with_usage_log(TimeDelta::days(7))
            .with_stale_connections(TimeDelta::days(1))
            .with_batch(3),
    )
    .await;
    let start = env.clock.now();
    let me = env.subject.clone();
    for i in 0..50 {
        env.log
            .append(entry(&me, start + TimeDelta::hours(i), "call"))
            .await
            .unwrap();
    }
    for i in 0..20 {
        let k = ConnectionKey::new(me.clone(), PLATFORM, ConnectionId::generate());
        env.tokens.put(&k, &tokens(i), None).await.unwrap();
        env.tokens
            .set_status(&k, ConnectionStatus::Revoked { since: start })
            .await
            .unwrap();
    }
    // A second hub over the same stores plays another process.
    let other = env.hub.clone();
    let now = start + TimeDelta::days(30);
    let (a, b) = tokio::join!(env.hub.purge(now), other.purge(now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.usage_entries + b.usage_entries, 50);
    assert_eq!(a.stale_connections + b.stale_connections, 20);
    assert_eq!(env.hub.purge(now).await.unwrap().total(), 0);
    assert!(env.hub.connections(&me).await.unwrap().is_empty());
}
