//! Meta has no refresh token: "refresh" is the long-lived exchange, made once however many
//! callers need the token at the same time, and impossible once the token has expired.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use socialconnect_core::consent::ConsentEvent;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::{ConnectionStatus, TokenStore};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{ErrorKind, SocialConnect};
use socialconnect_meta::{FacebookLogin, MetaClient, MetaConfig, MetaProduct};
use socialconnect_testkit::{CatchAll, JsonMock};
use wiremock::MockServer;
use wiremock::matchers::body_string_contains;

async fn setup(
    server: &MockServer,
    expires_in_secs: i64,
) -> (SocialConnect, ConnectionKey, Arc<MemoryTokenStore>) {
    let http = HttpClient::builder()
        .retry(
            RetryPolicy::default().with_delays(Duration::from_millis(5), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let config = MetaConfig::new("1234", ClientSecret::new("app-secret"))
        .with_graph_base(server.uri().parse().unwrap())
        .with_dialog_base(server.uri().parse().unwrap());
    let client = MetaClient::new(config, http.clone());
    let login = FacebookLogin::new(client, MetaProduct::Facebook).unwrap();
    let tokens = Arc::new(MemoryTokenStore::new());
    let hub = SocialConnect::builder()
        .http(http)
        .platform(Arc::new(login))
        .token_store(tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(Arc::new(MemoryConsentLedger::new()))
        .access_log(Arc::new(MemoryAccessLog::new()))
        .build()
        .unwrap();
    let subject = SubjectId::new("page-owner").unwrap();
    for purpose in [Purpose::AccountConnection, Purpose::Publishing] {
        hub.record_consent(ConsentEvent::grant(
            subject.clone(),
            purpose,
            Some(PlatformId::FACEBOOK),
            Utc::now(),
        ))
        .await
        .unwrap();
    }
    let key = ConnectionKey::new(subject, PlatformId::FACEBOOK, ConnectionId::generate());
    let now = Utc::now();
    // A long-lived token issued about 60 days ago, `expires_in_secs` from its end (the refresh
    // margin is capped at half a token's lifetime, so the issue date matters).
    let set = TokenSet::new(
        AccessToken::new("EAAB-old"),
        Expiry::after(now, expires_in_secs),
        now - chrono::Duration::days(60),
    )
    .with_account_id("10158000000000001");
    tokens.put(&key, &set, None).await.unwrap();
    (hub, key, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_callers_cause_one_long_lived_exchange() {
    let server = MockServer::start().await;
    JsonMock::new(
        "POST",
        "/v26.0/oauth/access_token",
        json!({"access_token": "EAAB-new", "token_type": "bearer", "expires_in": 5183944}),
    )
    .and(body_string_contains("grant_type=fb_exchange_token"))
    .and(body_string_contains("fb_exchange_token=EAAB-old"))
    .and(body_string_contains("client_secret=app-secret"))
    .delay(Duration::from_millis(100))
    .expect(1)
    .mount(&server)
    .await;
    let catch_all = CatchAll::mount(&server).await;
    // Inside the refresh margin (5 minutes), still valid.
    let (hub, key, tokens) = setup(&server, 120).await;

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (hub, key) = (hub.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            hub.session(&key, Purpose::Publishing)
                .await
                .unwrap()
                .access_token()
                .expose_secret()
                .to_owned()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "EAAB-new");
    }
    let stored = tokens.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.tokens.access_token.expose_secret(), "EAAB-new");
    assert!(
        stored.tokens.refresh_token.is_none(),
        "Meta issues no refresh token"
    );
    assert_eq!(
        stored.tokens.account_id.as_deref(),
        Some("10158000000000001")
    );
    catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn an_expired_token_requires_reconnecting() {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    let (hub, key, tokens) = setup(&server, -10).await;
    // `Expiry::after` with a negative lifetime is Unknown; store an already past expiry.
    let now = Utc::now();
    let past = TokenSet::new(
        AccessToken::new("EAAB-old"),
        Expiry::At(now - chrono::Duration::minutes(1)),
        now,
    );
    let v = tokens.get(&key).await.unwrap().unwrap().version;
    tokens.put(&key, &past, Some(v)).await.unwrap();

    let err = hub.session(&key, Purpose::Publishing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    assert!(matches!(
        tokens.get(&key).await.unwrap().unwrap().status,
        ConnectionStatus::ReconnectRequired { .. }
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
    catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn a_rejected_exchange_maps_the_graph_error() {
    let server = MockServer::start().await;
    JsonMock::new(
        "POST",
        "/v26.0/oauth/access_token",
        json!({"error": {
            "message": "Error validating access token: The user has not authorized application 1234.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 458,
            "fbtrace_id": "A1b2C3",
        }}),
    )
    .status(400)
    .mount(&server)
        .await;
    let (hub, key, _tokens) = setup(&server, 120).await;
    let err = hub.session(&key, Purpose::Publishing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    let detail = err.platform_error().unwrap();
    assert_eq!((detail.code, detail.subcode), (Some(190), Some(458)));
    assert_eq!(detail.trace_id.as_deref(), Some("A1b2C3"));
    assert!(!err.to_string().contains("app-secret"));
}
