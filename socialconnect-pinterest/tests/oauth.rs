//! Pinterest's token endpoint over wiremock, with bodies written from the fact sheet's
//! `OauthAccessTokenResponse*` shapes: HTTP Basic client auth, comma scopes, the lowercase
//! `bearer`, continuous refresh (a new refresh token each time, `continuous_refresh=true` for
//! older apps), Pinterest's `{code, message}` at the token endpoint, an HTML answer, and no
//! revoke request for a user token.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::clock::Clock;
use socialconnect_core::platform::{Platform, Revocation};
use socialconnect_core::secret::{AccessToken, AuthCode, ClientSecret, RefreshToken};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_pinterest::{PinterestClient, PinterestConfig};
use socialconnect_testkit::{CatchAll, ManualClock};
use url::Url;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "1234567";
const SECRET: &str = "pinterest-secret";
// base64("1234567:pinterest-secret")
const BASIC: &str = "Basic MTIzNDU2NzpwaW50ZXJlc3Qtc2VjcmV0";

fn fixture(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/oauth/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

struct Env {
    server: MockServer,
    _catch_all: CatchAll,
    platform: Arc<dyn Platform>,
    clock: Arc<ManualClock>,
}

async fn env(legacy: bool) -> Env {
    let server = MockServer::start().await;
    let catch_all = CatchAll::mount(&server).await;
    let base = Url::parse(&format!("{}/", server.uri())).unwrap();
    let config = PinterestConfig::new(CLIENT_ID, ClientSecret::new(SECRET))
        .with_api_base(base.clone())
        .with_auth_base(base)
        .with_legacy_refresh(legacy);
    let client = PinterestClient::new(config, socialconnect_testkit::test_http_client());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let platform = Arc::new(client.login(clock.clone()).unwrap());
    Env {
        server,
        _catch_all: catch_all,
        platform,
        clock,
    }
}

fn stored() -> TokenSet {
    TokenSet::new(
        AccessToken::new("pina_OLD"),
        Expiry::At(Utc::now() + TimeDelta::days(1)),
        Utc::now(),
    )
    .with_refresh(
        RefreshToken::new("pinr_OLD"),
        Expiry::At(Utc::now() + TimeDelta::days(59)),
    )
}

#[tokio::test]
async fn the_code_exchange_uses_http_basic_and_reads_the_continuous_refresh_token() {
    let env = env(false).await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .and(header("authorization", BASIC))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token_code.json")))
        .expect(1)
        .mount(&env.server)
        .await;
    let redirect = Url::parse("https://host.example/cb").unwrap();
    let set = env
        .platform
        .exchange_code(&AuthCode::new("the-code"), &redirect, None)
        .await
        .unwrap();
    assert_eq!(set.token_type, "bearer");
    assert_eq!(set.scopes.len(), 5, "comma-separated scopes");
    let now = env.clock.now();
    assert_eq!(
        set.access_expires,
        Expiry::At(now + TimeDelta::seconds(2_592_000))
    );
    assert_eq!(
        set.refresh_expires,
        Expiry::At(now + TimeDelta::seconds(5_184_000))
    );
    assert_eq!(
        env.platform.grant_ends(&set),
        Expiry::Unknown,
        "continuous refresh: no end to warn about"
    );
    let requests = env.server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests[0].body);
    assert!(
        !body.contains(SECRET) && !body.contains("client_id"),
        "credentials only in Basic"
    );
    assert!(
        !format!("{set:?}").contains("pina_"),
        "tokens never in Debug"
    );
}

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_older_apps_ask_for_continuous_refresh() {
    let env = env(true).await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .and(header("authorization", BASIC))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=pinr_OLD"))
        .and(body_string_contains("continuous_refresh=true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token_refresh.json")))
        .expect(1)
        .mount(&env.server)
        .await;
    let set = env.platform.refresh(&stored()).await.unwrap();
    assert_eq!(
        set.access_token.expose_secret(),
        "pina_REFRESHEDACCESSTOKEN"
    );
    assert_eq!(
        set.refresh_token.as_ref().unwrap().expose_secret(),
        "pinr_ROTATEDREFRESHTOKEN"
    );
}

#[tokio::test]
async fn newer_apps_refresh_without_the_flag() {
    let env = env(false).await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("token_refresh.json")))
        .expect(1)
        .mount(&env.server)
        .await;
    env.platform.refresh(&stored()).await.unwrap();
    let requests = env.server.received_requests().await.unwrap();
    assert!(!String::from_utf8_lossy(&requests[0].body).contains("continuous_refresh"));
}

#[tokio::test]
async fn token_endpoint_errors_in_pinterests_shape_have_their_kinds() {
    let env = env(false).await;
    let redirect = Url::parse("https://host.example/cb").unwrap();
    let cases = [
        (
            "code",
            401,
            r#"{"code":2,"message":"Authentication failed."}"#,
            ErrorKind::Config,
        ),
        (
            "code",
            400,
            r#"{"code":1,"message":"Invalid code."}"#,
            ErrorKind::ReconnectRequired,
        ),
        (
            "refresh",
            400,
            r#"{"code":1,"message":"Invalid refresh token."}"#,
            ErrorKind::ReconnectRequired,
        ),
        (
            "refresh",
            401,
            r#"{"code":2,"message":"Authentication failed."}"#,
            ErrorKind::ReconnectRequired,
        ),
    ];
    for (step, status, body, kind) in cases {
        env.server.reset().await;
        Mock::given(method("POST"))
            .and(path("/v5/oauth/token"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("x-pinterest-rid", "rid-123")
                    .set_body_raw(body, "application/json"),
            )
            .mount(&env.server)
            .await;
        let err = match step {
            "code" => env
                .platform
                .exchange_code(&AuthCode::new("c"), &redirect, None)
                .await
                .unwrap_err(),
            _ => env.platform.refresh(&stored()).await.unwrap_err(),
        };
        assert_eq!(err.kind(), kind, "{step} {status} {body}");
        let detail = err.platform_error().expect("Pinterest's detail kept");
        assert_eq!(detail.trace_id.as_deref(), Some("rid-123"));
    }
}

#[tokio::test]
async fn an_html_answer_is_not_read_as_a_token_and_leaks_nothing() {
    let env = env(false).await;
    Mock::given(method("POST"))
        .and(path("/v5/oauth/token"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_raw("<html><body>pina_leaked</body></html>", "text/html"),
        )
        .mount(&env.server)
        .await;
    let err = env.platform.refresh(&stored()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform);
    assert!(
        !err.to_string().contains("pina_leaked") && !format!("{err:?}").contains("pina_leaked")
    );
}

#[tokio::test]
async fn user_tokens_are_not_revoked_upstream() {
    let env = env(false).await;
    // No mock: any request would hit the catch-all and fail the test when it is dropped.
    let outcome = env.platform.revoke(&stored()).await.unwrap();
    assert_eq!(outcome, Revocation::NotOffered);
    assert!(env.server.received_requests().await.unwrap().is_empty());
}
