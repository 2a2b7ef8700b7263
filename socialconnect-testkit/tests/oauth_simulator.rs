//! The OAuth simulator over real loopback HTTP.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;
use common::{REDIRECT, VERIFIER, authorize_url, exchange, http_client, me, refresh, send, tokens};
use serde_json::json;
use socialconnect_testkit::{
    ClientAuth, ManualClock, OAuthSimulator, TokenFault, UNEXPECTED_STATUS, pkce_s256,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn full_code_flow_with_pkce_over_http() {
    let sim = OAuthSimulator::builder()
        .redirect_uri(REDIRECT)
        .start()
        .await;
    let http = http_client();

    // The browser step over HTTP: a 302 back to the redirect URI.
    let answer = send(http.get(authorize_url(&sim, "st-1"))).await;
    assert_eq!(answer.status, 302);
    let location = answer.headers["location"].to_str().expect("ascii location");
    let location = url::Url::parse(location).expect("absolute location");
    assert!(location.as_str().starts_with(REDIRECT));
    let get = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(get("state").as_deref(), Some("st-1"));
    let code = get("code").expect("a code");
    let recorded = sim.last_authorize_request().expect("recorded");
    assert_eq!(recorded.code_challenge_method.as_deref(), Some("S256"));
    assert_eq!(recorded.scopes, ["pages_read", "profile"]);

    // The exchange, with the client authenticating by HTTP Basic.
    let basic = STANDARD.encode(format!("{}:{}", sim.client_id(), sim.client_secret()));
    let answer = send(
        http.post(sim.token_url())
            .header("authorization", format!("Basic {basic}"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ]),
    )
    .await;
    let (access, refresh_token) = tokens(&answer);
    assert!(access.starts_with("at-"));
    assert!(refresh_token.expect("a refresh token").starts_with("rt-"));
    assert_eq!(answer.json["token_type"], "bearer");
    assert_eq!(answer.json["expires_in"], 3600);
    assert_eq!(answer.json["scope"], "pages_read profile");
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert_eq!(sim.last_client_auth(), Some(ClientAuth::Basic));
    assert_eq!(sim.last_code_verifier().as_deref(), Some(VERIFIER));

    // The identity call.
    let answer = me(&http, &sim, &access).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json,
        json!({ "id": "1234567890123456789", "name": "Test User" })
    );

    assert_eq!(sim.authorize_requests(), 1);
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.exchange_requests(), 1);
    assert_eq!(sim.refresh_requests(), 0);
    assert_eq!(sim.userinfo_requests(), 1);
    assert!(sim.is_valid(&access));
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn direct_authorize_and_body_credentials() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let (code, state) = sim.authorize(&authorize_url(&sim, "st-2"));
    assert_eq!(state, "st-2");
    let (access, _) = tokens(&exchange(&http, &sim, &code).await);
    assert_eq!(sim.last_client_auth(), Some(ClientAuth::RequestBody));
    assert_eq!(sim.issued_access_tokens(), [access]);
}

#[tokio::test]
async fn code_reuse_is_rejected() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    tokens(&exchange(&http, &sim, &code).await);
    let again = exchange(&http, &sim, &code).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.error(), Some("invalid_grant"));
    assert_eq!(sim.exchange_requests(), 2);
}

#[tokio::test]
async fn wrong_or_missing_verifier_is_rejected_and_spends_the_code() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let wrong = "wrong-verifier-0123456789-abcdefghijklmnopqrstuvw";

    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    let form = |verifier: Option<&'static str>, code: &str| {
        let mut f = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("client_id", sim.client_id().to_owned()),
            ("client_secret", sim.client_secret().to_owned()),
        ];
        if let Some(v) = verifier {
            f.push(("code_verifier", v.to_owned()));
        }
        f
    };
    let answer = send(http.post(sim.token_url()).form(&form(Some(wrong), &code))).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error(), Some("invalid_grant"));
    // The failed attempt spent the code.
    let answer = exchange(&http, &sim, &code).await;
    assert_eq!(answer.error(), Some("invalid_grant"));

    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    let answer = send(http.post(sim.token_url()).form(&form(None, &code))).await;
    assert_eq!(answer.error(), Some("invalid_request"));
}

#[tokio::test]
async fn redirect_uri_and_client_credentials_are_checked() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();

    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    let answer = common::token(
        &http,
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(answer.error(), Some("invalid_grant"));

    // Wrong secret in the body: 400; in HTTP Basic: 401 with a challenge.
    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let body_auth = [("client_id", sim.client_id()), ("client_secret", "nope")];
    let mut body = form.to_vec();
    body.extend_from_slice(&body_auth);
    let answer = send(http.post(sim.token_url()).form(&body)).await;
    assert_eq!(
        (answer.status, answer.error()),
        (400, Some("invalid_client"))
    );
    let answer = send(
        http.post(sim.token_url())
            .basic_auth(sim.client_id(), Some("nope"))
            .form(&form),
    )
    .await;
    assert_eq!(
        (answer.status, answer.error()),
        (401, Some("invalid_client"))
    );
    assert!(answer.headers.contains_key("www-authenticate"));

    // Client failures leave the code unspent.
    tokens(&exchange(&http, &sim, &code).await);
}

#[tokio::test]
async fn refresh_with_rotation_invalidates_the_old_token() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let first = sim.issue_tokens(["profile"]);
    let rt1 = first.refresh_token.expect("a refresh token");

    let answer = refresh(&http, &sim, &rt1).await;
    let (at2, rt2) = tokens(&answer);
    let rt2 = rt2.expect("a rotated refresh token");
    assert_ne!(rt1, rt2);
    assert_eq!(answer.json["scope"], "profile");
    assert!(!sim.is_refresh_token_valid(&rt1));
    assert!(sim.is_refresh_token_valid(&rt2));

    let stale = refresh(&http, &sim, &rt1).await;
    assert_eq!((stale.status, stale.error()), (400, Some("invalid_grant")));
    tokens(&refresh(&http, &sim, &rt2).await);

    assert_eq!(sim.refresh_requests(), 3);
    assert_eq!(sim.exchange_requests(), 0);
    assert_eq!(sim.issued_refresh_tokens().len(), 3);
    assert!(
        sim.is_valid(&at2),
        "refreshing does not revoke earlier access tokens"
    );
}

#[tokio::test]
async fn refresh_without_rotation_returns_the_same_token() {
    let sim = OAuthSimulator::builder()
        .rotate_refresh_tokens(false)
        .start()
        .await;
    let http = http_client();
    let rt = sim.issue_tokens(["a"]).refresh_token.expect("rt");
    for _ in 0..2 {
        let (_, again) = tokens(&refresh(&http, &sim, &rt).await);
        assert_eq!(again.as_deref(), Some(rt.as_str()));
    }
    assert_eq!(sim.issued_refresh_tokens(), [rt]);
}

#[tokio::test]
async fn refresh_may_omit_the_refresh_token() {
    let sim = OAuthSimulator::builder()
        .omit_refresh_token_on_refresh(true)
        .start()
        .await;
    let http = http_client();
    let rt = sim.issue_tokens(["a"]).refresh_token.expect("rt");
    let answer = refresh(&http, &sim, &rt).await;
    assert_eq!(tokens(&answer).1, None);
    assert!(answer.json.get("refresh_token").is_none());
    // The old refresh token must be kept, and it still works.
    tokens(&refresh(&http, &sim, &rt).await);
}

#[tokio::test]
async fn revocation_then_userinfo_is_401() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let issued = sim.issue_tokens(["a"]);
    let revoke = |token: &str| {
        http.post(sim.revoke_url()).form(&[
            ("token", token),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
        ])
    };

    assert_eq!(me(&http, &sim, &issued.access_token).await.status, 200);
    assert_eq!(send(revoke(&issued.access_token)).await.status, 200);
    let answer = me(&http, &sim, &issued.access_token).await;
    assert_eq!(
        (answer.status, answer.error()),
        (401, Some("invalid_token"))
    );
    assert!(!sim.is_valid(&issued.access_token));

    // Revoking the refresh token ends the whole grant.
    let rt = issued.refresh_token.expect("rt");
    let (at2, rt2) = tokens(&refresh(&http, &sim, &rt).await);
    let rt2 = rt2.expect("rotated");
    assert_eq!(send(revoke(&rt2)).await.status, 200);
    assert!(!sim.is_valid(&at2));
    assert_eq!(
        refresh(&http, &sim, &rt2).await.error(),
        Some("invalid_grant")
    );

    // Unknown tokens are answered 200 too (RFC 7009 §2.2).
    assert_eq!(send(revoke("at-unknown")).await.status, 200);
    assert_eq!(sim.revocations(), 3);
}

#[tokio::test]
async fn expiry_forced_or_by_the_shared_clock() {
    let clock = Arc::new(ManualClock::default());
    let sim = OAuthSimulator::builder()
        .access_token_lifetime(Duration::from_secs(60))
        .clock(clock.clone())
        .start()
        .await;
    let http = http_client();

    let at = sim.issue_tokens(["a"]).access_token;
    clock.advance(TimeDelta::seconds(59));
    assert_eq!(me(&http, &sim, &at).await.status, 200);
    clock.advance(TimeDelta::seconds(1));
    assert_eq!(me(&http, &sim, &at).await.status, 401);

    let at = sim.issue_tokens(["a"]).access_token;
    assert!(sim.is_valid(&at));
    sim.expire_all_access_tokens();
    assert!(!sim.is_valid(&at));
    assert_eq!(me(&http, &sim, &at).await.error(), Some("invalid_token"));
    assert!(sim.is_valid(&sim.issue_tokens(["a"]).access_token));
}

#[tokio::test]
async fn tokens_that_never_expire_carry_no_expires_in() {
    let sim = OAuthSimulator::builder()
        .access_tokens_never_expire()
        .refresh_tokens(false)
        .start()
        .await;
    let http = http_client();
    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    let answer = exchange(&http, &sim, &code).await;
    assert_eq!(tokens(&answer).1, None);
    assert!(answer.json.get("expires_in").is_none());
}

#[tokio::test]
async fn injected_faults_come_first_and_change_nothing() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));

    sim.fail_token_requests(TokenFault::ServerError, 1);
    sim.fail_token_requests(
        TokenFault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
        1,
    );
    sim.fail_token_requests(TokenFault::InvalidGrant, 1);
    sim.fail_token_requests(TokenFault::MalformedBody, 1);

    let a = exchange(&http, &sim, &code).await;
    assert_eq!((a.status, a.error()), (500, Some("server_error")));
    let a = exchange(&http, &sim, &code).await;
    assert_eq!((a.status, a.error()), (429, Some("rate_limited")));
    assert_eq!(a.headers["retry-after"], "7");
    let a = exchange(&http, &sim, &code).await;
    assert_eq!((a.status, a.error()), (400, Some("invalid_grant")));
    let a = exchange(&http, &sim, &code).await;
    assert_eq!((a.status, a.json.is_null()), (200, true));
    assert_eq!(a.headers["content-type"], "text/html");

    // The code was never spent by a faulted request.
    tokens(&exchange(&http, &sim, &code).await);
    assert_eq!(sim.exchange_requests(), 5);
}

#[tokio::test]
async fn latency_and_stall_delay_the_answer() {
    let sim = OAuthSimulator::builder()
        .token_latency(Duration::from_millis(100))
        .start()
        .await;
    let http = http_client();
    let rt = sim.issue_tokens(["a"]).refresh_token.expect("rt");

    let started = Instant::now();
    tokens(&refresh(&http, &sim, &rt).await);
    assert!(started.elapsed() >= Duration::from_millis(100));

    // A stalled request is processed: the refresh token rotates although the client has not
    // seen the answer yet.
    let rt2 = sim.issued_refresh_tokens()[1].clone();
    sim.fail_token_requests(TokenFault::Stall(Duration::from_secs(5)), 1);
    let stalled = http
        .post(sim.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt2.as_str()),
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
        ])
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(stalled.expect_err("times out").is_timeout());
    assert!(!sim.is_refresh_token_valid(&rt2));
}

#[tokio::test]
async fn concurrent_refreshes_are_counted_exactly_and_rotate_once() {
    const N: usize = 200;
    let sim = Arc::new(OAuthSimulator::start().await);
    let http = http_client();
    let rt = sim.issue_tokens(["a"]).refresh_token.expect("rt");

    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (sim, http, rt) = (Arc::clone(&sim), http.clone(), rt.clone());
            tokio::spawn(async move { refresh(&http, &sim, &rt).await.status })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.expect("task") == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "a rotated refresh token is single-use");
    assert_eq!(sim.refresh_requests(), N);
    assert_eq!(sim.token_requests(), N);
}

#[tokio::test]
async fn authorize_refusals() {
    let sim = OAuthSimulator::builder()
        .redirect_uri(REDIRECT)
        .require_pkce(true)
        .start()
        .await;
    let http = http_client();

    // An unknown client is refused without a redirect.
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_id", "someone-else")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("state", "s");
    let answer = send(http.get(url.clone())).await;
    assert_eq!(
        (answer.status, answer.error()),
        (400, Some("invalid_request"))
    );
    assert_eq!(
        sim.try_authorize(&url).unwrap_err().error,
        "invalid_request"
    );

    // So is an unregistered redirect URI.
    let mut url = authorize_url(&sim, "s");
    let query: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            let v = if k == "redirect_uri" {
                "http://evil.example/cb".to_owned()
            } else {
                v
            };
            (k, v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(query);
    assert_eq!(send(http.get(url)).await.status, 400);

    // Missing PKCE is redirected back with an error.
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_id", sim.client_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("state", "s");
    let answer = send(http.get(url.clone())).await;
    assert_eq!(answer.status, 302);
    let location = answer.headers["location"].to_str().expect("ascii");
    assert!(location.contains("error=invalid_request") && location.contains("state=s"));

    // A user who cancels.
    sim.deny_next_authorization();
    let err = sim.try_authorize(&authorize_url(&sim, "s")).unwrap_err();
    assert_eq!(err.error, "access_denied");
    sim.authorize(&authorize_url(&sim, "s"));

    // A URL for another server.
    let elsewhere = url::Url::parse("http://127.0.0.1:9/oauth/authorize").expect("url");
    assert_eq!(
        sim.try_authorize(&elsewhere).unwrap_err().error,
        "wrong_endpoint"
    );
}

#[tokio::test]
async fn platform_variants_tiktok_style() {
    let sim = OAuthSimulator::builder()
        .client_id("aw-client-key")
        .client_id_param("client_key")
        .scope_separator(",")
        .account_id("9223372036854775807")
        .account_id_as_number(true)
        .extra_token_field("open_id", json!("open-123"))
        .token_path("/v2/oauth/token/")
        .start()
        .await;
    let http = http_client();
    assert_eq!(sim.token_url().path(), "/v2/oauth/token/");

    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_key", "aw-client-key")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "user.info.basic,video.list")
        .append_pair("state", "s")
        .append_pair("code_challenge", &pkce_s256(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    let (code, _) = sim.authorize(&url);
    let answer = send(http.post(sim.token_url()).form(&[
        ("client_key", "aw-client-key"),
        ("client_secret", sim.client_secret()),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ]))
    .await;
    let (access, _) = tokens(&answer);
    assert_eq!(answer.json["scope"], "user.info.basic,video.list");
    assert_eq!(answer.json["open_id"], "open-123");

    // The id arrives as a JSON number beyond f64's exact range; its text must be exact.
    let response = http
        .get(sim.userinfo_url())
        .bearer_auth(&access)
        .send()
        .await
        .expect("answer");
    let text = response.text().await.expect("body");
    assert!(text.contains("\"id\":9223372036854775807"), "{text}");
}

#[tokio::test]
async fn granted_scopes_override_the_request() {
    let sim = OAuthSimulator::builder()
        .grant_scopes(["profile"])
        .start()
        .await;
    let http = http_client();
    let (code, _) = sim.authorize(&authorize_url(&sim, "s"));
    assert_eq!(exchange(&http, &sim, &code).await.json["scope"], "profile");
}

#[tokio::test]
async fn unexpected_routes_hit_the_catch_all() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();

    // A platform mock mounted on the same server wins over the catch-all.
    Mock::given(method("GET"))
        .and(path("/v21.0/me/accounts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [] })))
        .mount(sim.server())
        .await;
    let page = send(http.get(sim.base_url().join("v21.0/me/accounts").expect("url"))).await;
    assert_eq!(page.status, 200);

    let foo = http
        .get(sim.base_url().join("foo?access_token=x").expect("url"))
        .send()
        .await
        .expect("answer");
    assert_eq!(foo.status().as_u16(), UNEXPECTED_STATUS);
    assert_eq!(
        foo.text().await.expect("body"),
        "unexpected request: GET /foo"
    );
    // The right path with the wrong method is unexpected too.
    let wrong_method = send(http.get(sim.token_url())).await;
    assert_eq!(wrong_method.status, UNEXPECTED_STATUS);

    let seen = sim.take_unexpected_requests();
    let names: Vec<String> = seen.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["GET /foo", "GET /oauth/token"]);
    assert_eq!(seen[0].query.as_deref(), Some("access_token=x"));
    sim.assert_no_unexpected();
}

#[tokio::test]
#[should_panic(expected = "unexpected request: GET /foo")]
async fn dropping_the_simulator_fails_on_unexpected_requests() {
    let sim = OAuthSimulator::start().await;
    let http = http_client();
    send(http.get(sim.base_url().join("foo").expect("url"))).await;
    drop(sim);
}

#[tokio::test]
#[should_panic(expected = "unexpected request: DELETE /oauth/revoke")]
async fn assert_no_unexpected_names_the_route() {
    let sim = OAuthSimulator::start().await;
    send(http_client().delete(sim.revoke_url())).await;
    sim.assert_no_unexpected();
}

#[tokio::test]
async fn a_userinfo_limit_refuses_calls_over_it_and_counts_them() {
    let sim = OAuthSimulator::builder()
        .limit_userinfo(3, Duration::from_secs(60))
        .start()
        .await;
    let http = http_client();
    let issued = sim.issue_tokens(["a"]);
    let other = sim.issue_tokens(["a"]);
    for token in [
        &issued.access_token,
        &other.access_token,
        &issued.access_token,
    ] {
        assert_eq!(me(&http, &sim, token).await.status, 200);
    }
    // Across tokens: the app's fourth call in the window is refused, with a Retry-After.
    let refused = me(&http, &sim, &other.access_token).await;
    assert_eq!(
        (refused.status, refused.error()),
        (429, Some("rate_limited"))
    );
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(me(&http, &sim, "at-unknown").await.status, 429);
    assert_eq!((sim.userinfo_accepted(), sim.userinfo_refusals()), (3, 2));
    assert_eq!(sim.userinfo_requests(), 5);
}
