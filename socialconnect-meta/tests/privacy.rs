//! Meta's Deauthorize and Data Deletion callbacks against a hub with stored connections.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::consent::{ConsentEvent, ConsentLedger};
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, Purpose, SubjectId};
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryDeletionRequests, MemoryPendingAuthStore,
    MemoryTokenStore,
};
use socialconnect_core::platform_deletion::DeletionStatus;
use socialconnect_core::secret::{AccessToken, ClientSecret};
use socialconnect_core::store::TokenStore;
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{ErrorKind, SocialConnect};
use socialconnect_meta::privacy::{DeletionMode, MetaPrivacy};
use socialconnect_meta::signed_request::sign_signed_request;
use socialconnect_meta::{FacebookLogin, MetaClient, MetaConfig, MetaProduct};

const APP_SECRET: &str = "meta-app-secret";
const META_USER: &str = "10158000000000042";

struct Env {
    hub: SocialConnect,
    tokens: Arc<MemoryTokenStore>,
    ledger: Arc<MemoryConsentLedger>,
    config: MetaConfig,
    keys: Vec<ConnectionKey>,
    other: ConnectionKey,
}

async fn env() -> Env {
    let http = HttpClient::builder().build().unwrap();
    let config = MetaConfig::new("1234", ClientSecret::new(APP_SECRET));
    let client = MetaClient::new(config.clone(), http.clone());
    let tokens = Arc::new(MemoryTokenStore::new());
    let ledger = Arc::new(MemoryConsentLedger::new());
    let mut builder = SocialConnect::builder()
        .http(http)
        .token_store(tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(ledger.clone())
        .access_log(Arc::new(MemoryAccessLog::new()))
        .deletion_requests(Arc::new(MemoryDeletionRequests::new()));
    for product in [
        MetaProduct::Facebook,
        MetaProduct::Instagram,
        MetaProduct::WhatsApp,
    ] {
        builder = builder.platform(Arc::new(
            FacebookLogin::new(client.clone(), product).unwrap(),
        ));
    }
    let hub = builder.build().unwrap();
    let subject = SubjectId::new("host-user-7").unwrap();
    let now = Utc::now();
    let mut keys = Vec::new();
    for platform in [PlatformId::FACEBOOK, PlatformId::INSTAGRAM] {
        let key = ConnectionKey::new(subject.clone(), platform.clone(), ConnectionId::generate());
        let set =
            TokenSet::new(AccessToken::new("EAAB"), Expiry::Never, now).with_account_id(META_USER);
        tokens.put(&key, &set, None).await.unwrap();
        ledger
            .record(ConsentEvent::grant(
                subject.clone(),
                Purpose::AccountConnection,
                Some(platform),
                now,
            ))
            .await
            .unwrap();
        keys.push(key);
    }
    let other = ConnectionKey::new(
        SubjectId::new("someone-else").unwrap(),
        PlatformId::FACEBOOK,
        ConnectionId::generate(),
    );
    let set = TokenSet::new(AccessToken::new("EAAC"), Expiry::Never, now).with_account_id("999");
    tokens.put(&other, &set, None).await.unwrap();
    Env {
        hub,
        tokens,
        ledger,
        config,
        keys,
        other,
    }
}

fn form(user_id: &str, issued_at: i64, secret: &str) -> Vec<u8> {
    let payload =
        format!(r#"{{"algorithm":"HMAC-SHA256","issued_at":{issued_at},"user_id":"{user_id}"}}"#);
    let signed = sign_signed_request(&payload, &ClientSecret::new(secret));
    format!("signed_request={signed}").into_bytes()
}

fn privacy(env: &Env) -> MetaPrivacy {
    MetaPrivacy::new(
        env.hub.clone(),
        &env.config,
        "https://host.example/privacy/deletion".parse().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn deauthorize_removes_the_users_meta_connections() {
    let env = env().await;
    let done = privacy(&env)
        .deauthorize(&form(META_USER, Utc::now().timestamp(), APP_SECRET))
        .await
        .unwrap();
    assert_eq!(done.connections_removed, 2);
    for k in &env.keys {
        assert!(env.tokens.get(k).await.unwrap().is_none());
        assert!(
            !env.ledger
                .permits(
                    &k.subject,
                    Purpose::AccountConnection,
                    &k.platform,
                    Utc::now()
                )
                .await
                .unwrap()
        );
    }
    assert!(env.tokens.get(&env.other).await.unwrap().is_some());
}

#[tokio::test]
async fn forged_stale_or_malformed_callbacks_change_nothing() {
    let env = env().await;
    let p = privacy(&env);
    let now = Utc::now().timestamp();
    for (body, kind) in [
        (form(META_USER, now, "wrong-secret"), ErrorKind::Crypto),
        (form(META_USER, now - 7200, APP_SECRET), ErrorKind::Crypto),
        (
            b"signed_request=not.valid!".to_vec(),
            ErrorKind::InvalidInput,
        ),
        (b"nothing=here".to_vec(), ErrorKind::InvalidInput),
    ] {
        assert_eq!(p.deauthorize(&body).await.unwrap_err().kind(), kind);
        assert_eq!(p.data_deletion(&body).await.unwrap_err().kind(), kind);
    }
    for k in &env.keys {
        assert!(env.tokens.get(k).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn data_deletion_erases_and_reports_completion() {
    let env = env().await;
    let p = privacy(&env);
    let resp = p
        .data_deletion(&form(META_USER, Utc::now().timestamp(), APP_SECRET))
        .await
        .unwrap();
    assert_eq!(resp.confirmation_code.len(), 20);
    assert_eq!(
        resp.url,
        format!(
            "https://host.example/privacy/deletion?code={}",
            resp.confirmation_code
        )
    );
    let json: serde_json::Value = serde_json::from_str(&resp.to_json()).unwrap();
    assert_eq!(json["confirmation_code"], resp.confirmation_code);
    assert_eq!(json["url"], resp.url);
    for k in &env.keys {
        assert!(env.tokens.get(k).await.unwrap().is_none());
    }
    assert!(matches!(
        p.status(&resp.confirmation_code).await.unwrap(),
        Some(DeletionStatus::Completed { .. })
    ));
    assert_eq!(p.status("unknown-code").await.unwrap(), None);
}

#[tokio::test]
async fn a_review_queue_waits_for_the_host() {
    let env = env().await;
    let p = privacy(&env).with_mode(DeletionMode::ReviewQueue);
    let body = form(META_USER, Utc::now().timestamp(), APP_SECRET);
    let first = p.data_deletion(&body).await.unwrap();
    assert_eq!(
        p.status(&first.confirmation_code).await.unwrap(),
        Some(DeletionStatus::Pending)
    );
    assert!(env.tokens.get(&env.keys[0]).await.unwrap().is_some());
    assert_eq!(
        env.hub
            .deletion_requests()
            .unwrap()
            .pending_requests()
            .await
            .unwrap()
            .len(),
        1
    );

    p.approve(&first.confirmation_code).await.unwrap();
    assert!(matches!(
        p.status(&first.confirmation_code).await.unwrap(),
        Some(DeletionStatus::Completed { .. })
    ));
    for k in &env.keys {
        assert!(env.tokens.get(k).await.unwrap().is_none());
    }
    assert_eq!(
        p.approve(&first.confirmation_code)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );

    let second = p
        .data_deletion(&form("999", Utc::now().timestamp(), APP_SECRET))
        .await
        .unwrap();
    p.reject(
        &second.confirmation_code,
        "the account is under a legal hold",
    )
    .await
    .unwrap();
    assert_eq!(
        p.status(&second.confirmation_code).await.unwrap(),
        Some(DeletionStatus::Rejected {
            reason: "the account is under a legal hold".into()
        })
    );
    assert!(env.tokens.get(&env.other).await.unwrap().is_some());
}

#[tokio::test]
async fn a_request_for_an_unknown_user_completes_with_nothing_to_erase() {
    let env = env().await;
    let p = privacy(&env);
    let resp = p
        .data_deletion(&form("424242", Utc::now().timestamp(), APP_SECRET))
        .await
        .unwrap();
    assert!(matches!(
        p.status(&resp.confirmation_code).await.unwrap(),
        Some(DeletionStatus::Completed { .. })
    ));
}
