//! The authorization callback on the hub: the whole callback URL (or its query) in, the
//! connection or a typed error out; denial, state, code and RFC 9207 issuer cases, none of the
//! refusals reaching the token endpoint.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Env, PLATFORM, env};
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::id::{Purpose, Scope};
use socialconnect_core::memory::MemoryPendingAuthStore;
use socialconnect_core::oauth::{OAuthClient, StandardPlatform};
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{AuthCode, ClientSecret};
use socialconnect_core::{ConnectOptions, Error, ErrorKind, RefreshPolicy, SocialConnect};
use socialconnect_testkit::TokenFault;
use url::Url;

const ISSUER: &str = "https://issuer.example";

/// Consent, then `connect`: the authorize URL and the state it carries.
async fn start(env: &Env) -> (Url, String) {
    env.grant(Purpose::AccountConnection).await;
    let auth = env
        .hub
        .connect(
            &env.subject,
            &PLATFORM,
            &Scope::parse_list("w_member_social"),
            &env.redirect,
        )
        .await
        .unwrap();
    let state = auth
        .url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    (auth.url, state)
}

fn callback_url(env: &Env, query: &str) -> String {
    format!("{}?{query}", env.redirect)
}

async fn complete(
    env: &Env,
    callback: &str,
) -> socialconnect_core::Result<socialconnect_core::Connected> {
    env.hub
        .complete_callback(&env.subject, &env.redirect, callback)
        .await
}

#[tokio::test]
async fn the_whole_callback_url_with_facebooks_fragment_completes() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &state)
        .finish();
    let connected = complete(&env, &format!("{}#_=_", callback_url(&env, &query)))
        .await
        .unwrap();
    assert_eq!(connected.account.account_id, env.sim.account_id());
    assert_eq!(env.sim.exchange_requests(), 1);
    env.sim.assert_no_unexpected();
}

#[tokio::test]
async fn the_query_alone_completes() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", &state)
        .append_pair("code", &code)
        .finish();
    complete(&env, &format!("?{query}")).await.unwrap();
    assert_eq!(env.hub.connections(&env.subject).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_denial_is_typed_consumes_the_state_and_calls_nothing() {
    let env = env().await;
    let (url, state) = start(&env).await;
    env.sim.deny_next_authorization();
    let refused = env.sim.try_authorize(&url).unwrap_err();
    assert_eq!(refused.error, "access_denied");

    let err = complete(
        &env,
        &callback_url(
            &env,
            &format!("error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state={state}#_=_"),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthorizationDenied);
    assert!(matches!(err, Error::AuthorizationDenied(_)));
    let detail = err.platform_error().unwrap();
    assert_eq!(detail.reason.as_deref(), Some("user_denied"));
    assert_eq!(detail.message, "Permissions error");
    assert_eq!(detail.platform, Some(PLATFORM));
    assert_eq!(env.sim.token_requests(), 0);
    assert!(env.hub.connections(&env.subject).await.unwrap().is_empty());

    // Logged as a failed completion.
    let entries = env.log.entries(&env.subject).await.unwrap();
    assert!(entries.iter().any(|e| e.operation == "oauth.complete"
        && e.outcome == socialconnect_core::access_log::Outcome::Failure("authorization_denied")));

    // The state is spent: the same state with a code is now unknown.
    let err = complete(&env, &callback_url(&env, &format!("code=c&state={state}")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.token_requests(), 0);
}

#[tokio::test]
async fn a_missing_state_is_refused_without_a_request() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, _) = env.sim.authorize(&url);
    for callback in [
        callback_url(&env, &format!("code={code}")),
        callback_url(&env, &format!("code={code}&state=")),
        callback_url(&env, "error=access_denied"),
    ] {
        let err = complete(&env, &callback).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{callback}: {err}");
        assert!(err.to_string().contains("state"), "{err}");
    }
    assert_eq!(env.sim.token_requests(), 0);
}

#[tokio::test]
async fn an_unknown_or_reused_state_is_refused() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    let err = complete(
        &env,
        &callback_url(&env, &format!("code={code}&state=forged")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.token_requests(), 0);

    let good = callback_url(&env, &format!("code={code}&state={state}"));
    complete(&env, &good).await.unwrap();
    let err = complete(&env, &good).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("already used"), "{err}");
    assert_eq!(env.sim.exchange_requests(), 1);
}

#[tokio::test]
async fn a_missing_or_empty_code_is_refused_locally_and_spends_the_state() {
    let env = env().await;
    for query in [
        "state={state}",
        "state={state}&code=",
        "state={state}&code=%20",
    ] {
        let (_, state) = start(&env).await;
        let callback = callback_url(&env, &query.replace("{state}", &state));
        let err = complete(&env, &callback).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{query}: {err}");
        let again = complete(&env, &callback).await.unwrap_err();
        assert!(again.to_string().contains("already used"), "{again}");
    }
    assert_eq!(env.sim.token_requests(), 0);
}

#[tokio::test]
async fn complete_refuses_an_empty_code_locally() {
    let env = env().await;
    let (_, state) = start(&env).await;
    let err = env
        .hub
        .complete(&env.subject, &env.redirect, &state, AuthCode::new(""))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let (_, state) = start(&env).await;
    let err = env
        .hub
        .complete(
            &env.subject,
            &env.redirect,
            &state,
            AuthCode::new("x".repeat(5000)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.sim.token_requests(), 0);
}

#[tokio::test]
async fn a_rejected_code_says_so() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    env.sim.fail_token_requests(TokenFault::InvalidGrant, 1);
    let err = complete(
        &env,
        &callback_url(&env, &format!("code={code}&state={state}")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ReconnectRequired {
                reason: ReconnectReason::CodeRejected,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("authorization code rejected"));
    assert!(!err.to_string().contains("refresh token"));
}

#[tokio::test]
async fn a_rejected_client_keeps_the_status_and_code_at_the_callback() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    env.sim.fail_token_requests(TokenFault::InvalidClient, 1);
    let err = complete(
        &env,
        &callback_url(&env, &format!("code={code}&state={state}")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let detail = err.platform_error().unwrap();
    assert_eq!(detail.http_status, Some(401));
    assert_eq!(detail.error_type.as_deref(), Some("invalid_client"));
}

#[tokio::test]
async fn an_html_token_response_stores_nothing() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    env.sim.fail_token_requests(TokenFault::MalformedBody, 1);
    let err = complete(
        &env,
        &callback_url(&env, &format!("code={code}&state={state}")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Platform, "{err}");
    assert!(env.hub.connections(&env.subject).await.unwrap().is_empty());
}

/// The test hub, with a platform that names `ISSUER` (RFC 9207).
fn hub_with_issuer(env: &Env) -> SocialConnect {
    let spec = OAuthSpec::new(
        PLATFORM,
        env.sim.client_id(),
        env.sim.authorize_url(),
        env.sim.token_url(),
    )
    .with_issuer(ISSUER);
    let oauth = OAuthClient::new(
        spec,
        ClientSecret::new(env.sim.client_secret()),
        env.http.clone(),
        env.clock.clone(),
    );
    SocialConnect::builder()
        .http(env.http.clone())
        .platform(Arc::new(StandardPlatform::new(
            oauth,
            env.sim.userinfo_url(),
        )))
        .token_store(env.tokens.clone())
        .pending_store(Arc::new(MemoryPendingAuthStore::new()))
        .consent_ledger(env.ledger.clone())
        .access_log(env.log.clone())
        .clock(env.clock.clone())
        .refresh_policy(
            RefreshPolicy::default().with_lease(Duration::from_secs(30), Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_issuer_must_match_when_the_platform_names_one() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let hub = hub_with_issuer(&env);
    let issuer = url::form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect::<String>();
    let other = url::form_urlencoded::byte_serialize(b"https://mix-up.example").collect::<String>();
    let attempt = |extra: String| {
        let hub = hub.clone();
        let env = &env;
        async move {
            let auth = hub
                .connect(&env.subject, &PLATFORM, &[], &env.redirect)
                .await
                .unwrap();
            let (code, state) = env.sim.authorize(&auth.url);
            hub.complete_callback(
                &env.subject,
                &env.redirect,
                &format!("code={code}&state={state}{extra}"),
            )
            .await
        }
    };
    for extra in [String::new(), format!("&iss={other}"), "&iss=".to_owned()] {
        let err = attempt(extra.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{extra}: {err}");
        assert!(err.to_string().contains("RFC 9207"), "{err}");
    }
    assert_eq!(env.sim.token_requests(), 0);
    attempt(format!("&iss={issuer}")).await.unwrap();
    assert_eq!(env.sim.exchange_requests(), 1);

    // A denial from the wrong issuer is refused as a mix-up, not reported as a denial.
    let auth = hub
        .connect(&env.subject, &PLATFORM, &[], &env.redirect)
        .await
        .unwrap();
    let state = auth
        .url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let err = hub
        .complete_callback(
            &env.subject,
            &env.redirect,
            &format!("error=access_denied&state={state}&iss={other}"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn without_an_issuer_iss_is_not_required() {
    let env = env().await;
    let (url, _) = start(&env).await;
    let (code, state) = env.sim.authorize(&url);
    complete(
        &env,
        &callback_url(&env, &format!("code={code}&state={state}&iss=whatever")),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn connect_with_adds_per_request_parameters() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    let options = ConnectOptions::new()
        .login_hint("ada@host.example")
        .prompt("consent")
        .param("platform_thing", "1");
    let auth = env
        .hub
        .connect_with(&env.subject, &PLATFORM, &[], &env.redirect, &options)
        .await
        .unwrap();
    env.sim.authorize(&auth.url);
    let seen = env.sim.last_authorize_request().unwrap();
    let has = |k: &str, v: &str| seen.query.contains(&(k.to_owned(), v.to_owned()));
    assert!(has("login_hint", "ada@host.example"));
    assert!(has("prompt", "consent"));
    assert!(has("platform_thing", "1"));
    assert_eq!(
        seen.query.iter().filter(|(k, _)| k == "state").count(),
        1,
        "one state"
    );
}

#[tokio::test]
async fn connect_with_refuses_to_override_reserved_parameters() {
    let env = env().await;
    env.grant(Purpose::AccountConnection).await;
    for name in [
        "state",
        "code_challenge",
        "code_challenge_method",
        "redirect_uri",
        "client_id",
        "response_type",
        "scope",
    ] {
        let err = env
            .hub
            .connect_with(
                &env.subject,
                &PLATFORM,
                &[],
                &env.redirect,
                &ConnectOptions::new().param(name, "x"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
        assert!(err.to_string().contains(name));
    }
    assert_eq!(env.sim.authorize_requests(), 0);
}
