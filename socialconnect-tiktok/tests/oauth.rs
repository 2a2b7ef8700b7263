//! Login Kit against wiremock: the authorize URL's dialect, the code exchange and its partial
//! grant, flat OAuth errors inside a 200, a rotating refresh raced by 100 callers, and
//! revocation with the access token.

mod common;

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::ErrorKind;
use socialconnect_core::clock::Clock;
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::platform::Revocation;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::token::Expiry;
use socialconnect_testkit::{Harness, JsonMock, ManualClock, fixture};
use socialconnect_tiktok::{AppKind, TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;
use wiremock::MockServer;
use wiremock::matchers::{body_string_contains, header};

use common::{CLIENT_KEY, CLIENT_SECRET, http};

const ACCESS: &str = "act.1d1021d2aee3d41fee2d2add43456badMFZnrhFhfWotu3Ecuiuka27L56lr";
const REFRESH: &str = "rft.713f3d8ebd0ef6b61b2c8a2fc1a1b4c7b9ed9c3b5nBRUbBvCYMN8bsB1fAm";

struct Login {
    server: MockServer,
    harness: Harness,
    clock: Arc<ManualClock>,
}

async fn login(kind: AppKind) -> Login {
    let server = MockServer::start().await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let config = TikTokConfig::new(CLIENT_KEY, ClientSecret::new(CLIENT_SECRET))
        .with_api_base(base.clone())
        .with_auth_base(base)
        .with_app_kind(kind);
    let http = http();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let client = TikTokClient::new(config, http.clone());
    let platform = TikTokLogin::new(client, http.clone(), clock.clone()).unwrap();
    let harness = Harness::builder()
        .http(http)
        .clock(clock.clone())
        .platform(Arc::new(platform))
        .build();
    Login {
        server,
        harness,
        clock,
    }
}

fn scopes() -> Vec<Scope> {
    Scope::parse_list("user.info.basic,video.list,user.info.stats")
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The browser step: the user consents and TikTok redirects back with a code.
fn consent(url: &Url) -> (String, String) {
    ("code-from-tiktok".to_owned(), query(url, "state").unwrap())
}

async fn mount_exchange(server: &MockServer) {
    JsonMock::new("POST", "/v2/oauth/token/", fixture!("oauth/token"))
        .and(body_string_contains(format!("client_key={CLIENT_KEY}")))
        .and(body_string_contains(format!(
            "client_secret={CLIENT_SECRET}"
        )))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=code-from-tiktok"))
        .expect(1)
        .mount(server)
        .await;
    JsonMock::new("GET", "/v2/user/info/", fixture!("oauth/user_info"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_web_app_authorizes_with_client_key_comma_scopes_and_no_pkce() {
    let l = login(AppKind::Web).await;
    l.harness
        .grant(Purpose::AccountConnection, Some(&PlatformId::TIKTOK))
        .await;
    let auth = l
        .harness
        .hub
        .connect(
            &l.harness.subject,
            &PlatformId::TIKTOK,
            &scopes(),
            &l.harness.redirect,
        )
        .await
        .unwrap();
    assert_eq!(auth.url.path(), "/v2/auth/authorize/");
    assert_eq!(query(&auth.url, "client_key").as_deref(), Some(CLIENT_KEY));
    assert_eq!(query(&auth.url, "client_id"), None);
    assert_eq!(
        query(&auth.url, "scope").as_deref(),
        Some("user.info.basic,video.list,user.info.stats")
    );
    assert_eq!(query(&auth.url, "response_type").as_deref(), Some("code"));
    assert!(query(&auth.url, "state").is_some_and(|s| s.len() >= 32));
    assert_eq!(query(&auth.url, "code_challenge"), None);
}

#[tokio::test]
async fn a_desktop_app_sends_pkce_and_its_verifier() {
    let l = login(AppKind::Desktop).await;
    JsonMock::new("POST", "/v2/oauth/token/", fixture!("oauth/token"))
        .and(body_string_contains("code_verifier="))
        .expect(1)
        .mount(&l.server)
        .await;
    JsonMock::new("GET", "/v2/user/info/", fixture!("oauth/user_info"))
        .mount(&l.server)
        .await;
    let mut challenge = None;
    l.harness
        .connect(&PlatformId::TIKTOK, &scopes(), |url| {
            challenge = query(url, "code_challenge");
            assert_eq!(query(url, "code_challenge_method").as_deref(), Some("S256"));
            consent(url)
        })
        .await;
    assert!(challenge.is_some());
}

#[tokio::test]
async fn the_code_exchange_keeps_the_partial_grant_the_lifetimes_and_the_open_id() {
    let l = login(AppKind::Web).await;
    mount_exchange(&l.server).await;
    let connected = l
        .harness
        .connect(&PlatformId::TIKTOK, &scopes(), consent)
        .await;
    assert_eq!(
        connected.account.account_id,
        "723f24d7-e717-40f8-a2b6-cb8464cd23b4"
    );
    assert_eq!(connected.account.display_name.as_deref(), Some("Tik Toker"));
    // Asked for three scopes, granted two: the grant is what TikTok said.
    let granted: Vec<&str> = connected.scopes.iter().map(Scope::as_str).collect();
    assert_eq!(granted, ["user.info.basic", "video.list"]);
    let stored = l
        .harness
        .hub
        .token_store()
        .get(&connected.key)
        .await
        .unwrap()
        .unwrap();
    let now = l.clock.now();
    let Expiry::At(access) = stored.tokens.access_expires else {
        panic!("{:?}", stored.tokens.access_expires);
    };
    assert_eq!(
        (access - now).num_seconds(),
        7200,
        "expires_in read, not assumed"
    );
    let Expiry::At(refresh) = stored.tokens.refresh_expires else {
        panic!("{:?}", stored.tokens.refresh_expires);
    };
    assert_eq!((refresh - now).num_seconds(), 15_552_000);
    assert_eq!(
        stored.tokens.refresh_token.unwrap().expose_secret(),
        REFRESH
    );
}

#[tokio::test]
async fn a_flat_oauth_error_inside_a_200_is_a_rejected_code() {
    let l = login(AppKind::Web).await;
    JsonMock::new(
        "POST",
        "/v2/oauth/token/",
        fixture!("oauth/error_invalid_grant"),
    )
    .expect(1)
    .mount(&l.server)
    .await;
    let err = l
        .harness
        .try_connect(&PlatformId::TIKTOK, &scopes(), consent)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired, "{err:?}");
    assert!(err.to_string().contains("code"), "{err}");
    let detail = err.platform_error().unwrap();
    assert_eq!(
        detail.trace_id.as_deref(),
        Some("202206221854370101130062072500FFA2")
    );
}

#[tokio::test]
async fn an_empty_code_at_the_callback_is_refused_without_a_request() {
    let l = login(AppKind::Web).await;
    let err = l
        .harness
        .try_connect(&PlatformId::TIKTOK, &scopes(), |url| {
            (String::new(), query(url, "state").unwrap())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
    assert!(l.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_denial_at_the_callback_is_authorization_denied_with_its_description() {
    let l = login(AppKind::Web).await;
    l.harness
        .grant(Purpose::AccountConnection, Some(&PlatformId::TIKTOK))
        .await;
    let h = &l.harness;
    let auth = h
        .hub
        .connect(&h.subject, &PlatformId::TIKTOK, &scopes(), &h.redirect)
        .await
        .unwrap();
    let mut callback = h.redirect.clone();
    callback
        .query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("error_description", "The user denied the request")
        .append_pair("state", &query(&auth.url, "state").unwrap());
    let err = h
        .hub
        .complete_callback(&h.subject, &h.redirect, callback.as_str())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthorizationDenied, "{err:?}");
    assert!(err.to_string().contains("denied"), "{err}");
    assert!(l.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotating_refresh_raced_by_100_callers_is_one_grant_and_keeps_the_new_token() {
    let l = login(AppKind::Web).await;
    mount_exchange(&l.server).await;
    let connected = l
        .harness
        .connect(&PlatformId::TIKTOK, &scopes(), consent)
        .await;
    l.harness
        .grant(Purpose::ReadingContent, Some(&PlatformId::TIKTOK))
        .await;
    JsonMock::new("POST", "/v2/oauth/token/", fixture!("oauth/refreshed"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(format!("refresh_token={REFRESH}")))
        .expect(1)
        .mount(&l.server)
        .await;
    // Two hours later the access token has expired.
    l.clock.advance(chrono::TimeDelta::seconds(7201));
    let mut callers = Vec::new();
    for _ in 0..100 {
        let hub = l.harness.hub.clone();
        let key = connected.key.clone();
        callers.push(tokio::spawn(async move {
            hub.session(&key, Purpose::ReadingContent).await
        }));
    }
    for c in callers {
        let session = c.await.unwrap().unwrap();
        assert_eq!(
            session.access_token().expose_secret(),
            "act.refreshed-access-token-0002"
        );
    }
    let stored = l
        .harness
        .hub
        .token_store()
        .get(&connected.key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.tokens.refresh_token.unwrap().expose_secret(),
        "rft.rotated-refresh-token-0002"
    );
}

#[tokio::test]
async fn disconnecting_revokes_the_access_token_and_an_error_inside_a_200_is_a_failure() {
    let l = login(AppKind::Web).await;
    mount_exchange(&l.server).await;
    let connected = l
        .harness
        .connect(&PlatformId::TIKTOK, &scopes(), consent)
        .await;
    JsonMock::new("POST", "/v2/oauth/revoke/", serde_json::json!({}))
        .and(body_string_contains(format!("client_key={CLIENT_KEY}")))
        .and(body_string_contains(format!("token={ACCESS}")))
        .expect(1)
        .mount(&l.server)
        .await;
    let out = l.harness.hub.disconnect(&connected.key).await.unwrap();
    assert_eq!(out.revocation, Some(Revocation::Revoked));
    assert!(out.deleted);

    // A second connection whose revocation TikTok refuses inside a 200.
    l.server.reset().await;
    mount_exchange(&l.server).await;
    let again = l
        .harness
        .connect(&PlatformId::TIKTOK, &scopes(), consent)
        .await;
    JsonMock::new(
        "POST",
        "/v2/oauth/revoke/",
        serde_json::json!({"error": "invalid_request", "error_description": "token is invalid", "log_id": "L9"}),
    )
    .mount(&l.server)
    .await;
    let out = l.harness.hub.disconnect(&again.key).await.unwrap();
    assert!(
        matches!(out.revocation, Some(Revocation::Failed { .. })),
        "{:?}",
        out.revocation
    );
    // Tokens are deleted locally whatever TikTok said.
    assert!(out.deleted);
}
