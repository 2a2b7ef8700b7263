//! The member behind a token against wiremock: typed `userinfo` with `locale` as an object,
//! token introspection with comma-separated scopes, and the grant's end — a warning ahead of a
//! refresh token's end, and no refresh sent once it has passed.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use socialconnect_core::ErrorKind;
use socialconnect_core::alert::{Alert, RecordingAlerts};
use socialconnect_core::id::{PlatformId, Purpose, Scope};
use socialconnect_core::secret::{AccessToken, RefreshToken};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_testkit::{JsonMock, fixture};
use wiremock::matchers::body_string_contains;

use common::{CLIENT_ID, CLIENT_SECRET, USER_TOKEN, env, env_alerting};

#[tokio::test]
async fn userinfo_is_typed_with_the_locale_object_read() {
    let env = env().await;
    let session = env.session(Purpose::AccountConnection).await;
    JsonMock::new(
        "GET",
        "/v2/userinfo",
        fixture!("member/userinfo_locale_object"),
    )
    .expect(1)
    .mount(&env.server)
    .await;
    let me = env.client.userinfo(&session).await.unwrap();
    assert_eq!(me.person.as_str(), "urn:li:person:782bbtaQ");
    let locale = me.locale.unwrap();
    assert_eq!(
        (locale.language.as_str(), locale.country.as_deref()),
        ("en", Some("GB"))
    );
    assert_eq!(me.email_verified, Some(true));
}

#[tokio::test]
async fn introspection_sends_the_app_credentials_and_reads_comma_separated_scopes() {
    let env = env().await;
    JsonMock::new(
        "POST",
        "/oauth/v2/introspectToken",
        fixture!("member/introspection"),
    )
    .and(body_string_contains(format!("client_id={CLIENT_ID}")))
    .and(body_string_contains(format!(
        "client_secret={CLIENT_SECRET}"
    )))
    .and(body_string_contains(format!("token={USER_TOKEN}")))
    .expect(1)
    .mount(&env.server)
    .await;
    let info = env
        .client
        .introspect_token(&AccessToken::new(USER_TOKEN))
        .await
        .unwrap();
    assert!(info.active);
    assert_eq!(
        info.scopes,
        Scope::parse_list("openid profile w_member_social")
    );
    assert_eq!(info.expires_at.unwrap().timestamp(), 1_770_184_000);
    assert_eq!(info.auth_type.as_deref(), Some("3L"));
}

fn tokens(refresh_left: Option<Duration>, access_left: Duration) -> TokenSet {
    let now = Utc::now();
    let mut t = TokenSet::new(
        AccessToken::new(USER_TOKEN),
        Expiry::At(now + access_left),
        now,
    );
    if let Some(left) = refresh_left {
        t.refresh_token = Some(RefreshToken::new("AQX-refresh"));
        t.refresh_expires = Expiry::At(now + left);
    }
    t.scopes = Scope::parse_list("openid profile w_member_social");
    t
}

#[tokio::test]
async fn a_refresh_token_ending_within_the_window_warns_once_and_a_grant_far_off_does_not() {
    let alerts = Arc::new(RecordingAlerts::new());
    let env = env_alerting(alerts.clone()).await;
    let ending = tokens(Some(Duration::days(10)), Duration::days(59));
    let session = env
        .harness
        .session_with_tokens(&PlatformId::LINKEDIN, &ending, Purpose::Publishing)
        .await;
    assert_eq!(session.grant_ends(), ending.refresh_expires);
    let raised = alerts.take();
    assert!(
        matches!(raised.as_slice(), [Alert::ReconnectSoon { connection, .. }] if *connection == session.key().connection),
        "{raised:?}"
    );
    // The same connection and end: no second alert.
    let again = env
        .harness
        .session(session.key(), Purpose::Publishing)
        .await;
    assert_eq!(again.grant_ends(), ending.refresh_expires);
    assert!(alerts.take().is_empty());

    // No refresh token (an app without programmatic refresh): the grant ends with the 60-day
    // access token, outside the 30-day window.
    let plain = tokens(None, Duration::days(59));
    let session = env
        .harness
        .session_with_tokens(&PlatformId::LINKEDIN, &plain, Purpose::Publishing)
        .await;
    assert_eq!(session.grant_ends(), plain.access_expires);
    assert!(alerts.take().is_empty());
}

#[tokio::test]
async fn a_refresh_token_past_its_end_is_reconnect_required_without_a_request() {
    let env = env().await;
    // The access token has expired and so has the refresh token: nothing can be sent.
    let dead = tokens(Some(Duration::seconds(-1)), Duration::seconds(-60));
    let err = env
        .harness
        .try_session_with_tokens(&PlatformId::LINKEDIN, &dead, Purpose::Publishing)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired, "{err}");
    env.catch_all.assert_no_unexpected();
}

#[tokio::test]
async fn tokens_of_a_thousand_characters_and_more_are_kept_whole() {
    use socialconnect_core::platform::Platform;
    use socialconnect_core::secret::AuthCode;

    let env = env().await;
    let access = format!("AQV{}", "x".repeat(1200));
    let refresh = format!("AQX{}", "y".repeat(1000));
    JsonMock::new(
        "POST",
        "/oauth/v2/accessToken",
        serde_json::json!({
            "access_token": access,
            "expires_in": 5_184_000,
            "refresh_token": refresh,
            "refresh_token_expires_in": 31_536_000,
            "scope": "openid,profile,w_member_social"
        }),
    )
    .and(body_string_contains("grant_type=authorization_code"))
    .expect(1)
    .mount(&env.server)
    .await;
    let login = socialconnect_linkedin::LinkedInLogin::new(
        &env.client,
        Arc::new(socialconnect_core::clock::SystemClock),
    )
    .unwrap();
    let redirect = url::Url::parse("https://host.example/callback").unwrap();
    let set = login
        .exchange_code(&AuthCode::new("code"), &redirect, None)
        .await
        .unwrap();
    assert_eq!(set.access_token.expose_secret(), access);
    assert_eq!(set.refresh_token.unwrap().expose_secret(), refresh);
    assert!(matches!(set.refresh_expires, Expiry::At(_)));
}
