//! The kit's call path (`ApiCaller`) against wiremock on loopback: errors inside 200 bodies,
//! usage-header back-off, throttling pauses, writes never resent, and what the usage log says.

mod common;

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;
use socialconnect_core::access_log::Outcome as LogOutcome;
use socialconnect_core::connect::classify::Classifiers;
use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::http::{ApiRequest, Usage, UsageHeaders, UsagePolicy};
use socialconnect_core::id::Purpose;
use socialconnect_core::{ApiCaller, ErrorKind, Session};
use url::Url;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::{Env, PLATFORM, env};

/// A TikTok-like platform: errors inside 200 answers, `ok` on success.
fn caller() -> ApiCaller {
    let errors = ErrorMap::new(
        EnvelopeFormat::at("/error")
            .code("/code")
            .message("/message")
            .trace_id("/log_id")
            .success_code("ok"),
    )
    .errors_in_success_bodies()
    .rule(Rule::text("access_token_invalid").to(Outcome::Reconnect(ReconnectReason::TokenRejected)))
    .rule(Rule::text("rate_limit_exceeded").to(Outcome::Throttled))
    .rule(Rule::prefix("spam_risk_").to(Outcome::PolicyBlocked))
    .rule(Rule::text("internal_error").to(Outcome::Transient));
    ApiCaller::new(Classifiers::new().with(errors))
}

/// `x-usage: <percent>` and `x-regain: <seconds>`.
struct PlainUsage;

impl UsageHeaders for PlainUsage {
    fn usage(&self, headers: &HeaderMap) -> Option<Usage> {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.parse::<f64>().ok();
        Some(Usage::new(
            num("x-usage")?,
            num("x-regain").map(Duration::from_secs_f64),
        ))
    }
}

async fn setup() -> (Env, Session, MockServer) {
    let env = env().await;
    let connected = env.connected().await;
    let session = env
        .hub
        .session(&connected.key, Purpose::Publishing)
        .await
        .unwrap();
    (env, session, MockServer::start().await)
}

fn url(server: &MockServer, p: &str) -> Url {
    Url::parse(&format!("{}{p}", server.uri())).unwrap()
}

fn answer(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_owned(), "application/json")
}

async fn last_outcome(env: &Env, operation: &str) -> (LogOutcome, Option<u16>) {
    let entries = env.log.entries(&env.subject).await.unwrap();
    let e = entries
        .iter()
        .rev()
        .find(|e| e.operation == operation)
        .expect("the call is in the usage log");
    (e.outcome, e.http_status)
}

#[tokio::test]
async fn an_error_inside_a_200_is_an_error_and_is_logged_as_one() {
    let (env, session, server) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .respond_with(answer(
            200,
            r#"{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid","log_id":"L-1"}}"#,
        ))
        .mount(&server)
        .await;
    let req = ApiRequest::get(url(&server, "/v2/user/info/")).operation("user.info");
    let err = caller().send(&session, req).await.unwrap_err();
    assert!(matches!(
        err,
        socialconnect_core::Error::ReconnectRequired {
            reason: ReconnectReason::TokenRejected,
            ..
        }
    ));
    let detail = err.platform_error().unwrap();
    assert_eq!(detail.error_type.as_deref(), Some("access_token_invalid"));
    assert_eq!(detail.trace_id.as_deref(), Some("L-1"));
    assert_eq!(
        last_outcome(&env, "user.info").await,
        (LogOutcome::Failure("reconnect_required"), Some(200))
    );

    // The same endpoint saying `ok` is a success, logged as one, with the bearer token.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v2/user/info/"))
        .and(wiremock::matchers::header_exists("authorization"))
        .respond_with(answer(
            200,
            r#"{"data":{"user":{"open_id":"o1"}},"error":{"code":"ok","message":"","log_id":"L-2"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let req = ApiRequest::get(url(&server, "/v2/user/info/")).operation("user.info");
    let body: Value = caller().send_json(&session, req).await.unwrap();
    assert_eq!(body["data"]["user"]["open_id"], "o1");
    assert_eq!(
        last_outcome(&env, "user.info").await,
        (LogOutcome::Success, Some(200))
    );
}

#[tokio::test]
async fn usage_headers_pause_the_platform_before_it_refuses() {
    let (env, session, server) = setup().await;
    Mock::given(method("GET"))
        .and(path("/busy"))
        .respond_with(
            answer(200, r#"{"data":{}}"#)
                .insert_header("x-usage", "97")
                .insert_header("x-regain", "120"),
        )
        .mount(&server)
        .await;
    let caller = caller().usage_headers(PlainUsage, UsagePolicy::default());
    let req = ApiRequest::get(url(&server, "/busy")).operation("busy");
    caller.send(&session, req).await.unwrap();
    let pause = env.http.platform_pause(&PLATFORM);
    assert!(pause > Duration::from_secs(100), "{pause:?}");
}

#[tokio::test]
async fn a_rate_limit_pauses_the_platform_for_the_wait_it_gives() {
    let (env, session, server) = setup().await;
    Mock::given(method("GET"))
        .and(path("/limited"))
        .respond_with(
            answer(
                429,
                r#"{"error":{"code":"rate_limit_exceeded","message":"slow down","log_id":"L"}}"#,
            )
            .insert_header("retry-after", "300"),
        )
        .mount(&server)
        .await;
    let req = ApiRequest::get(url(&server, "/limited")).operation("limited");
    let err = caller().send(&session, req).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(300))
        }
    );
    assert!(env.http.platform_pause(&PLATFORM) > Duration::from_secs(250));
}

#[tokio::test]
async fn a_policy_block_is_not_a_rate_limit_and_pauses_nothing() {
    let (env, session, server) = setup().await;
    Mock::given(method("POST"))
        .and(path("/post"))
        .respond_with(answer(
            200,
            r#"{"error":{"code":"spam_risk_too_many_posts","message":"spam risk"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let req = ApiRequest::post(url(&server, "/post")).operation("post.init");
    let err = caller()
        .send_write::<Value>(&session, req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PolicyBlocked);
    assert_eq!(env.http.platform_pause(&PLATFORM), Duration::ZERO);
    assert_eq!(
        last_outcome(&env, "post.init").await,
        (LogOutcome::Failure("policy_blocked"), Some(200))
    );
}

#[tokio::test]
async fn a_write_the_platform_failed_on_is_maybe_sent_and_sent_once() {
    let (env, session, server) = setup().await;
    // A 503 with the platform's own envelope saying "temporary".
    Mock::given(method("POST"))
        .and(path("/publish"))
        .respond_with(answer(
            503,
            r#"{"error":{"code":"internal_error","message":"try later"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let req = ApiRequest::post(url(&server, "/publish"))
        .idempotent(true) // send_write overrides it: a write is never resent
        .operation("publish");
    let err = caller()
        .send_write::<Value>(&session, req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent, "{err}");
    assert_eq!(
        last_outcome(&env, "publish").await,
        (LogOutcome::Failure("transient"), Some(503))
    );
    server.verify().await;

    // A temporary failure reported inside a 200 leaves the outcome just as unknown.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/publish"))
        .respond_with(answer(200, r#"{"error":{"code":"internal_error"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    let req = ApiRequest::post(url(&server, "/publish")).operation("publish");
    let err = caller()
        .send_write::<Value>(&session, req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
}

#[tokio::test]
async fn an_accepted_write_with_an_unreadable_answer_is_maybe_sent() {
    let (_env, session, server) = setup().await;
    Mock::given(method("POST"))
        .and(path("/publish"))
        .respond_with(answer(201, r#"{"data":{"publish_id":"#))
        .expect(1)
        .mount(&server)
        .await;
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // the field is the shape being decoded; the test checks the failure
    struct Published {
        publish_id: String,
    }
    let req = ApiRequest::post(url(&server, "/publish")).operation("publish");
    let err = caller()
        .send_write::<Published>(&session, req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MaybeSent);
    assert!(err.to_string().contains("publish"), "{err}");
}

#[tokio::test]
async fn a_refused_write_keeps_its_kind() {
    let (_env, session, server) = setup().await;
    Mock::given(method("POST"))
        .and(path("/publish"))
        .respond_with(answer(400, r#"{"message":"bad caption"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let req = ApiRequest::post(url(&server, "/publish")).operation("publish");
    let err = caller()
        .send_write::<Value>(&session, req)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn an_authorizer_places_the_token_and_app_calls_are_classified_too() {
    let (env, session, server) = setup().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(|r: &wiremock::Request| !r.headers.contains_key("authorization"))
        .and(query_param(
            "access_token",
            session.access_token().expose_secret(),
        ))
        .respond_with(answer(200, r#"{"error":{"code":"ok"},"data":{"id":"1"}}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token/"))
        .respond_with(answer(
            200,
            r#"{"error":{"code":"rate_limit_exceeded","message":"later"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let caller =
        caller().authorizer(|req, token| req.query(&[("access_token", token.expose_secret())]));
    let req = ApiRequest::get(url(&server, "/me")).operation("me");
    let resp = caller.send(&session, req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let app = ApiRequest::post(url(&server, "/oauth/token/")).operation("oauth.app");
    let err = caller
        .send_app(&env.http, &PLATFORM, app)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Throttled { .. }));
}
