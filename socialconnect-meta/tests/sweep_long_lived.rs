//! The refresh sweep on Meta: a long-lived user token (no refresh token) is re-exchanged
//! (`fb_exchange_token`) ahead of its end only while the end user is active — a usage-log entry
//! for the connection within the activity window, not counting the SDK's own `oauth.…` upkeep.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use socialconnect_core::access_log::{AccessLog, ClientInfo, Outcome, UsageEntry};
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{SocialConnect, SweepEvent, SweepOptions};
use socialconnect_meta::{FacebookLogin, MetaClient, MetaConfig, MetaProduct};
use socialconnect_testkit::{CatchAll, JsonMock};
use wiremock::MockServer;
use wiremock::matchers::body_string_contains;

struct Env {
    hub: SocialConnect,
    key: ConnectionKey,
    tokens: Arc<MemoryTokenStore>,
    log: Arc<MemoryAccessLog>,
}

async fn setup(server: &MockServer) -> Env {
    let http = HttpClient::builder().build().unwrap();
    let config = MetaConfig::new("1234", ClientSecret::new("app-secret"))
        .with_graph_base(server.uri().parse().unwrap())
        .with_dialog_base(server.uri().parse().unwrap());
    let login =
        FacebookLogin::new(MetaClient::new(config, http.clone()), MetaProduct::Facebook).unwrap();
    let tokens = Arc::new(MemoryTokenStore::new());
    let log = Arc::new(MemoryAccessLog::new());
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(login))
        .token_store(tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(Arc::new(MemoryConsentLedger::new()))
        .access_log(log.clone())
        .build()
        .unwrap();
    let subject = SubjectId::new("page-owner").unwrap();
    hub.record_consent(ConsentEvent::grant(
        subject.clone(),
        Purpose::AccountConnection,
        Some(PlatformId::FACEBOOK),
        Utc::now(),
    ))
    .await
    .unwrap();
    let key = ConnectionKey::new(subject, PlatformId::FACEBOOK, ConnectionId::generate());
    let now = Utc::now();
    // A long-lived token issued about 60 days ago, ending in 10 minutes.
    let set = TokenSet::new(
        AccessToken::new("EAAB-old"),
        Expiry::after(now, 600),
        now - chrono::Duration::days(60),
    );
    tokens.put(&key, &set, None).await.unwrap();
    Env {
        hub,
        key,
        tokens,
        log,
    }
}

async fn used(env: &Env, operation: &str, days_ago: i64) {
    env.log
        .append(UsageEntry::new(
            Utc::now() - chrono::Duration::days(days_ago),
            env.key.subject.clone(),
            env.key.platform.clone(),
            Some(env.key.connection),
            operation,
            Outcome::Success,
            Some(200),
            Duration::from_millis(30),
            ClientInfo::default(),
        ))
        .await
        .unwrap();
}

fn options() -> SweepOptions {
    SweepOptions::default()
        .with_jitter(Duration::ZERO)
        .with_active_within(Some(Duration::from_secs(30 * 86_400)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_users_long_lived_token_is_re_exchanged() {
    let server = MockServer::start().await;
    JsonMock::new(
        "POST",
        "/v26.0/oauth/access_token",
        json!({"access_token": "EAAB-new", "token_type": "bearer", "expires_in": 5183944}),
    )
    .and(body_string_contains("grant_type=fb_exchange_token"))
    .and(body_string_contains("fb_exchange_token=EAAB-old"))
    .expect(1)
    .mount(&server)
    .await;
    let catch_all = CatchAll::mount(&server).await;
    let env = setup(&server).await;
    used(&env, "pages.publish", 3).await;

    let sweep = env.hub.refresh_sweep(options());
    let mut events = sweep.subscribe();
    let report = sweep.run_once().await.unwrap();
    assert_eq!((report.claimed, report.refreshed), (1, 1), "{report:?}");
    let stored = env.tokens.get(&env.key).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "EAAB-new");
    assert!(matches!(
        events.try_recv().unwrap(),
        SweepEvent::Refreshed { key, .. } if key == env.key
    ));
    // The sweep's own exchange is in the usage log, and does not count as use.
    let entries = env.log.entries(&env.key.subject).await.unwrap();
    assert!(entries.iter().any(|e| e.operation == "oauth.sweep_refresh"));
    catch_all.assert_no_unexpected();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_users_long_lived_token_is_left_to_lapse() {
    let server = MockServer::start().await;
    // No exchange mock: any request fails the test through the catch-all.
    let catch_all = CatchAll::mount(&server).await;
    let env = setup(&server).await;
    // Used, but longer ago than the window; and the SDK's own upkeep since.
    used(&env, "pages.publish", 45).await;
    used(&env, "oauth.sweep_refresh", 1).await;

    let sweep = env.hub.refresh_sweep(options());
    let report = sweep.run_once().await.unwrap();
    assert_eq!((report.claimed, report.inactive), (1, 1), "{report:?}");
    let stored = env.tokens.get(&env.key).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "EAAB-old");
    // Held back until the token's end: the next pass does not ask again.
    assert_eq!(sweep.run_once().await.unwrap().claimed, 0);
    assert!(server.received_requests().await.unwrap().is_empty());
    catch_all.assert_no_unexpected();
}
