//! Single-flight refresh for tokens of any lifetime: a caller that waited takes the token the
//! holder stored, and a freshly issued token is never due, so 100 concurrent callers make one
//! refresh grant whether the token lives 2 s, 60 s or an hour. Also `refresh_now`.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use common::{Env, env, env_with};
use socialconnect_core::access_log::Outcome;
use socialconnect_core::clock::Clock;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::platform::{AccountInfo, OAuthSpec, Platform, Revocation};
use socialconnect_core::secret::{AccessToken, AuthCode, PkceVerifier, RefreshToken};
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{ErrorKind, RefreshPolicy, Result, SocialConnect};
use socialconnect_testkit::{ManualClock, OAuthSimulator, TokenFault};
use url::Url;

async fn concurrent_sessions(hub: &SocialConnect, key: &ConnectionKey, n: usize) -> Vec<String> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let hub = hub.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let s = hub.session(&key, Purpose::Publishing).await.unwrap();
                s.access_token().expose_secret().to_owned()
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(n);
    for t in tasks {
        tokens.push(t.await.unwrap());
    }
    tokens
}

async fn sequential_sessions(env: &Env, key: &ConnectionKey, n: usize) {
    for _ in 0..n {
        env.hub.session(key, Purpose::Publishing).await.unwrap();
    }
}

async fn one_refresh_for_a_lifetime_of(seconds: u64) {
    let env = env_with(
        OAuthSimulator::builder()
            .access_token_lifetime(Duration::from_secs(seconds))
            .rotate_refresh_tokens(true),
    )
    .await;
    let connected = env.connected().await;

    // Right after `complete`, the token is fresh: three sessions refresh nothing.
    sequential_sessions(&env, &connected.key, 3).await;
    assert_eq!(env.sim.refresh_requests(), 0, "lifetime {seconds}s");

    // Expired: a hundred callers at once make one refresh grant and share its token.
    env.clock
        .advance(chrono::Duration::seconds(i64::try_from(seconds).unwrap()));
    let tokens = concurrent_sessions(&env.hub, &connected.key, 100).await;
    assert_eq!(env.sim.refresh_requests(), 1, "lifetime {seconds}s");
    let distinct: HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 1, "lifetime {seconds}s");
    assert!(env.sim.is_valid(&tokens[0]));

    // The new token is fresh too: more sessions, sequential or concurrent, refresh nothing.
    sequential_sessions(&env, &connected.key, 3).await;
    concurrent_sessions(&env.hub, &connected.key, 100).await;
    assert_eq!(env.sim.refresh_requests(), 1, "lifetime {seconds}s");
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert!(
        env.sim
            .is_refresh_token_valid(stored.tokens.refresh_token.unwrap().expose_secret())
    );
    env.sim.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_two_second_token_is_refreshed_once_by_a_hundred_callers() {
    one_refresh_for_a_lifetime_of(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sixty_second_token_is_refreshed_once_by_a_hundred_callers() {
    one_refresh_for_a_lifetime_of(60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_hour_token_is_refreshed_once_by_a_hundred_callers() {
    one_refresh_for_a_lifetime_of(3600).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sixty_second_token_inside_its_capped_margin_is_refreshed_once() {
    let env =
        env_with(OAuthSimulator::builder().access_token_lifetime(Duration::from_secs(60))).await;
    let connected = env.connected().await;
    // 29 s left: inside half the lifetime (the capped margin), not yet expired.
    env.clock.advance(chrono::Duration::seconds(31));
    let before = env.tokens.get(&connected.key).await.unwrap().unwrap();
    let tokens = concurrent_sessions(&env.hub, &connected.key, 100).await;
    assert_eq!(env.sim.refresh_requests(), 1);
    assert!(!tokens[0].eq(before.tokens.access_token.expose_secret()));
    // 20 s left is outside the cap: not refreshed.
    let env =
        env_with(OAuthSimulator::builder().access_token_lifetime(Duration::from_secs(60))).await;
    let connected = env.connected().await;
    env.clock.advance(chrono::Duration::seconds(25));
    sequential_sessions(&env, &connected.key, 3).await;
    assert_eq!(env.sim.refresh_requests(), 0);
}

/// A platform whose refresh answers, after a pause, a token that is itself already inside the
/// margin (issued an hour ago, ten seconds left): only the version check stops each waiting
/// caller from refreshing again.
struct SlowPlatform {
    spec: OAuthSpec,
    clock: Arc<ManualClock>,
    refreshes: AtomicUsize,
}

#[async_trait]
impl Platform for SlowPlatform {
    fn id(&self) -> PlatformId {
        self.spec.platform.clone()
    }

    fn oauth(&self) -> &OAuthSpec {
        &self.spec
    }

    async fn exchange_code(
        &self,
        _code: &AuthCode,
        _redirect_uri: &Url,
        _verifier: Option<&PkceVerifier>,
    ) -> Result<TokenSet> {
        unreachable!("the test stores its connection directly")
    }

    async fn refresh(&self, _tokens: &TokenSet) -> Result<TokenSet> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst);
        // Long enough that every caller has read the old row before this answers.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = self.clock.now();
        Ok(TokenSet::new(
            AccessToken::new(format!("access-{n}")),
            Expiry::At(now + chrono::Duration::seconds(10)),
            now - chrono::Duration::hours(1),
        )
        .with_refresh(RefreshToken::new(format!("refresh-{n}")), Expiry::Unknown))
    }

    async fn revoke(&self, _tokens: &TokenSet) -> Result<Revocation> {
        Ok(Revocation::NotOffered)
    }

    async fn account(&self, _tokens: &TokenSet) -> Result<AccountInfo> {
        Ok(AccountInfo::new("acct", None))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_that_waited_take_the_holders_token_even_when_it_is_due() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let platform = Arc::new(SlowPlatform {
        spec: OAuthSpec::new(
            PlatformId::LINKEDIN,
            "client",
            Url::parse("https://auth.example/authorize").unwrap(),
            Url::parse("https://auth.example/token").unwrap(),
        ),
        clock: clock.clone(),
        refreshes: AtomicUsize::new(0),
    });
    let tokens = Arc::new(MemoryTokenStore::with_clock(clock.clone()));
    let ledger = Arc::new(MemoryConsentLedger::with_clock(clock.clone()));
    let hub = SocialConnect::builder()
        .http(common::http())
        .platform(platform.clone())
        .token_store(tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger)
        .access_log(Arc::new(MemoryAccessLog::new()))
        .clock(clock.clone())
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(30), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let subject = SubjectId::new("user-1").unwrap();
    for purpose in [Purpose::AccountConnection, Purpose::Publishing] {
        hub.record_consent(ConsentEvent::grant(
            subject.clone(),
            purpose,
            Some(PlatformId::LINKEDIN),
            clock.now(),
        ))
        .await
        .unwrap();
    }
    let key = ConnectionKey::new(subject, PlatformId::LINKEDIN, ConnectionId::generate());
    let now = clock.now();
    let expired = TokenSet::new(
        AccessToken::new("old"),
        Expiry::At(now - chrono::Duration::seconds(1)),
        now - chrono::Duration::hours(1),
    )
    .with_refresh(RefreshToken::new("old-refresh"), Expiry::Unknown);
    tokens.put(&key, &expired, None).await.unwrap();

    let seen = concurrent_sessions(&hub, &key, 100).await;
    assert_eq!(platform.refreshes.load(Ordering::SeqCst), 1);
    assert!(seen.iter().all(|t| t == "access-0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_now_is_single_flight_and_refreshes_a_fresh_token() {
    let env = env().await;
    let connected = env.connected().await;
    let before = env.tokens.get(&connected.key).await.unwrap().unwrap();

    // The refresh grant takes a second to answer, so every caller arrives while it is in
    // flight (a caller arriving after it finished would rightly refresh again).
    env.sim
        .fail_token_requests(TokenFault::Stall(Duration::from_secs(1)), 1);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let hub = env.hub.clone();
            let key = connected.key.clone();
            tokio::spawn(async move { hub.refresh_now(&key).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(env.sim.refresh_requests(), 1);
    let after = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert!(!after.tokens.access_token.ct_eq(&before.tokens.access_token));
    assert!(env.sim.is_valid(after.tokens.access_token.expose_secret()));

    // Each later call refreshes again, and sessions use the new token at once.
    let refreshed = env.hub.refresh_now(&connected.key).await.unwrap();
    assert_eq!(env.sim.refresh_requests(), 2);
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert_eq!(refreshed.access_expires, stored.tokens.access_expires);
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert!(session.access_token().ct_eq(&stored.tokens.access_token));
    assert_eq!(env.sim.refresh_requests(), 2);

    let entries = env.log.entries(&env.subject).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.operation == "oauth.refresh_now" && e.outcome == Outcome::Success)
            .count(),
        101
    );
}

#[tokio::test]
async fn refresh_now_marks_a_refused_grant_and_then_sends_nothing() {
    let env = env().await;
    let connected = env.connected().await;
    env.sim.fail_token_requests(TokenFault::InvalidGrant, 1);
    let err = env.hub.refresh_now(&connected.key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert!(matches!(
        stored.status,
        ConnectionStatus::ReconnectRequired { .. }
    ));
    let requests = env.sim.token_requests();
    for _ in 0..3 {
        let err = env.hub.refresh_now(&connected.key).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
        let err = env
            .hub
            .session(&connected.key, Purpose::Publishing)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    }
    assert_eq!(env.sim.token_requests(), requests, "no refresh loop");
}

#[tokio::test]
async fn refresh_now_leaves_a_valid_connection_without_refresh_token_alone() {
    let env = env_with(OAuthSimulator::builder().refresh_tokens(false)).await;
    let connected = env.connected().await;
    let err = env.hub.refresh_now(&connected.key).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(env.sim.token_requests(), 1, "only the code exchange");
}

#[tokio::test]
async fn refresh_now_of_an_unknown_connection_sends_nothing() {
    let env = env().await;
    let connected = env.connected().await;
    let other = ConnectionKey::new(
        connected.key.subject.clone(),
        connected.key.platform.clone(),
        ConnectionId::generate(),
    );
    let err = env.hub.refresh_now(&other).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(env.sim.refresh_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_queued_behind_a_failed_refresh_share_its_answer() {
    // Token requests take half a second, so all hundred callers queue behind the first.
    let env = env_with(OAuthSimulator::builder().token_latency(Duration::from_millis(500))).await;
    let connected = env.connected().await;
    env.clock.advance(chrono::Duration::seconds(3600));
    env.sim.fail_token_requests(TokenFault::ServerError, 1);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let hub = env.hub.clone();
            let key = connected.key.clone();
            tokio::spawn(async move { hub.session(&key, Purpose::Publishing).await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transient | ErrorKind::MaybeSent),
            "{err}"
        );
    }
    assert_eq!(env.sim.refresh_requests(), 1, "one grant into the outage");
    let stored = env.tokens.get(&connected.key).await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Active);

    // The next caller, arriving after the failure, tries again and succeeds.
    env.hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    assert_eq!(env.sim.refresh_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_queued_behind_a_throttled_refresh_are_throttled_too() {
    let env = env_with(OAuthSimulator::builder().token_latency(Duration::from_millis(500))).await;
    let connected = env.connected().await;
    env.clock.advance(chrono::Duration::seconds(3600));
    env.sim.fail_token_requests(
        TokenFault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
        1,
    );
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let hub = env.hub.clone();
            let key = connected.key.clone();
            tokio::spawn(async move { hub.session(&key, Purpose::Publishing).await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Throttled { .. }), "{err}");
    }
    assert_eq!(env.sim.refresh_requests(), 1);
}
