//! The token endpoint as data: every response shape a platform sends, read the same by both
//! dialects (RFC 6749 through the `oauth2` crate, and the lenient reader), and every error
//! keeping its real HTTP status and the platform's code.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::http::{HttpClient, RetryPolicy};
use socialconnect_core::id::PlatformId;
use socialconnect_core::oauth::OAuthClient;
use socialconnect_core::platform::{OAuthSpec, TokenDialect};
use socialconnect_core::secret::{AuthCode, ClientSecret, RefreshToken};
use socialconnect_core::token::{Expiry, TokenSet};
use socialconnect_core::{Error, ErrorKind, Result};
use socialconnect_testkit::ManualClock;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DIALECTS: [TokenDialect; 2] = [TokenDialect::Rfc6749, TokenDialect::Lenient];

struct Endpoint {
    server: MockServer,
    clock: Arc<ManualClock>,
}

impl Endpoint {
    async fn new() -> Self {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        Self {
            server: MockServer::start().await,
            clock: Arc::new(ManualClock::new(start)),
        }
    }

    async fn answers(&self, status: u16, content_type: &str, body: &str) {
        self.server.reset().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), content_type),
            )
            .mount(&self.server)
            .await;
    }

    fn client(&self, dialect: TokenDialect) -> OAuthClient {
        let base = Url::parse(&self.server.uri()).unwrap();
        let spec = OAuthSpec::new(
            PlatformId::LINKEDIN,
            "client",
            base.join("/authorize").unwrap(),
            base.join("/token").unwrap(),
        )
        .with_token_dialect(dialect);
        let http = HttpClient::builder()
            .timeout(Duration::from_secs(5))
            .retry(RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap();
        OAuthClient::new(spec, ClientSecret::new("secret"), http, self.clock.clone())
    }

    async fn exchange(&self, dialect: TokenDialect) -> Result<TokenSet> {
        self.client(dialect)
            .exchange_code(
                &AuthCode::new("the-code"),
                &Url::parse("https://host.example/cb").unwrap(),
                None,
            )
            .await
    }

    async fn refresh(&self, dialect: TokenDialect) -> Result<TokenSet> {
        self.client(dialect)
            .refresh(&RefreshToken::new("the-refresh-token"))
            .await
    }

    /// Both dialects read `body` (HTTP 200, JSON) as a token set.
    async fn reads(&self, body: &str) -> Vec<TokenSet> {
        self.answers(200, "application/json", body).await;
        let mut sets = Vec::new();
        for dialect in DIALECTS {
            match self.exchange(dialect).await {
                Ok(set) => sets.push(set),
                Err(e) => panic!("{dialect:?} refused {body}: {e}"),
            }
        }
        sets
    }

    fn at(&self, seconds: i64) -> Expiry {
        use socialconnect_core::clock::Clock;
        Expiry::At(self.clock.now() + chrono::Duration::seconds(seconds))
    }
}

#[tokio::test]
async fn a_missing_expires_in_is_an_unknown_expiry() {
    let ep = Endpoint::new().await;
    for set in ep
        .reads(r#"{"access_token":"a","token_type":"bearer"}"#)
        .await
    {
        assert_eq!(set.access_token.expose_secret(), "a");
        assert_eq!(set.access_expires, Expiry::Unknown);
        assert!(set.refresh_token.is_none());
    }
}

#[tokio::test]
async fn expires_in_is_remaining_seconds_as_number_string_or_fraction() {
    let ep = Endpoint::new().await;
    for body in [
        r#"{"access_token":"a","token_type":"bearer","expires_in":3600}"#,
        r#"{"access_token":"a","token_type":"bearer","expires_in":"3600"}"#,
        r#"{"access_token":"a","token_type":"bearer","expires_in":3600.0}"#,
    ] {
        for set in ep.reads(body).await {
            assert_eq!(set.access_expires, ep.at(3600), "{body}");
        }
    }
    // Zero or negative lifetimes say nothing usable.
    for set in ep
        .reads(r#"{"access_token":"a","token_type":"bearer","expires_in":"0"}"#)
        .await
    {
        assert_eq!(set.access_expires, Expiry::Unknown);
    }
}

#[tokio::test]
async fn token_type_is_lowercased_and_defaults_to_bearer() {
    let ep = Endpoint::new().await;
    for body in [
        r#"{"access_token":"a","token_type":"Bearer"}"#,
        r#"{"access_token":"a","token_type":"BEARER"}"#,
        r#"{"access_token":"a","token_type":"bearer"}"#,
        // LinkedIn omits it.
        r#"{"access_token":"a","expires_in":60}"#,
    ] {
        for set in ep.reads(body).await {
            assert_eq!(set.token_type, "bearer", "{body}");
        }
    }
}

#[tokio::test]
async fn the_refresh_tokens_lifetime_is_read_under_both_names() {
    let ep = Endpoint::new().await;
    for body in [
        // LinkedIn
        r#"{"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r","refresh_token_expires_in":31536000}"#,
        // TikTok
        r#"{"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r","refresh_expires_in":31536000}"#,
        r#"{"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r","refresh_expires_in":"31536000"}"#,
    ] {
        for set in ep.reads(body).await {
            assert_eq!(
                set.refresh_token.as_ref().unwrap().expose_secret(),
                "r",
                "{body}"
            );
            assert_eq!(set.refresh_expires, ep.at(31_536_000), "{body}");
            assert_eq!(set.access_expires, ep.at(60));
        }
    }
    // A refresh token without a stated lifetime has an unknown one.
    for set in ep
        .reads(r#"{"access_token":"a","token_type":"bearer","refresh_token":"r"}"#)
        .await
    {
        assert_eq!(set.refresh_expires, Expiry::Unknown);
    }
}

#[tokio::test]
async fn an_empty_refresh_token_counts_as_none() {
    let ep = Endpoint::new().await;
    for set in ep
        .reads(r#"{"access_token":"a","token_type":"bearer","refresh_token":""}"#)
        .await
    {
        assert!(set.refresh_token.is_none());
    }
}

#[tokio::test]
async fn extra_fields_are_ignored_and_scopes_read() {
    let ep = Endpoint::new().await;
    let body = r#"{"access_token":"a","token_type":"bearer","expires_in":60,"id_token":"eyJ","open_id":"u-1","scope":"r_basicprofile w_member_social","nested":{"x":[1,2,{"y":null}]},"flag":true}"#;
    for set in ep.reads(body).await {
        assert_eq!(set.scopes.len(), 2);
        assert_eq!(set.access_expires, ep.at(60));
    }
}

fn status_of(e: &Error) -> Option<u16> {
    e.platform_error().and_then(|p| p.http_status)
}

#[tokio::test]
async fn invalid_client_keeps_its_real_status_and_code() {
    let ep = Endpoint::new().await;
    for (status, code) in [(401, "invalid_client"), (400, "unauthorized_client")] {
        ep.answers(
            status,
            "application/json",
            &format!(r#"{{"error":"{code}","error_description":"Client authentication failed"}}"#),
        )
        .await;
        for dialect in DIALECTS {
            for err in [
                ep.exchange(dialect).await.unwrap_err(),
                ep.refresh(dialect).await.unwrap_err(),
            ] {
                assert_eq!(err.kind(), ErrorKind::Config, "{dialect:?}: {err}");
                assert!(matches!(err, Error::ClientRejected(_)));
                let detail = err.platform_error().unwrap();
                assert_eq!(detail.http_status, Some(status), "{dialect:?}");
                assert_eq!(detail.error_type.as_deref(), Some(code));
                assert_eq!(detail.platform, Some(PlatformId::LINKEDIN));
                assert!(err.to_string().contains(&format!("http {status}")), "{err}");
                assert!(!err.to_string().contains("secret"));
            }
        }
    }
}

#[tokio::test]
async fn invalid_grant_names_the_code_on_exchange_and_the_refresh_token_on_refresh() {
    let ep = Endpoint::new().await;
    ep.answers(
        400,
        "application/json",
        r#"{"error":"invalid_grant","error_description":"code expired"}"#,
    )
    .await;
    for dialect in DIALECTS {
        let err = ep.exchange(dialect).await.unwrap_err();
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
        assert_eq!(status_of(&err), Some(400));
        let err = ep.refresh(dialect).await.unwrap_err();
        assert!(matches!(
            err,
            Error::ReconnectRequired {
                reason: ReconnectReason::InvalidGrant,
                ..
            }
        ));
        assert!(err.to_string().contains("refresh token rejected"));
    }
}

#[tokio::test]
async fn an_error_inside_a_200_body_is_an_error_in_both_dialects() {
    let ep = Endpoint::new().await;
    ep.answers(
        200,
        "application/json",
        r#"{"error":"invalid_grant","error_description":"refresh token expired","log_id":"L1"}"#,
    )
    .await;
    for dialect in DIALECTS {
        let err = ep.refresh(dialect).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReconnectRequired, "{dialect:?}");
        assert_eq!(status_of(&err), Some(200));
    }
}

#[tokio::test]
async fn html_empty_and_hollow_bodies_are_typed_errors_without_the_body() {
    let ep = Endpoint::new().await;
    let html = "<html><body>access_token=LEAKED Bad Gateway</body></html>";
    for (status, content_type, body) in [
        (200, "text/html", html),
        (400, "text/html", html),
        (403, "text/html", html),
        (200, "application/json", ""),
        (400, "application/json", ""),
        (200, "application/json", r#"{"access_token":""}"#),
        (200, "application/json", r#"{"token_type":"bearer"}"#),
        (200, "application/json", "[1,2,3]"),
        (200, "application/json", r#"{"access_token":12}"#),
    ] {
        ep.answers(status, content_type, body).await;
        for dialect in DIALECTS {
            let err = ep.exchange(dialect).await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Platform,
                "{dialect:?} {status} {body}: {err}"
            );
            assert!(!err.to_string().contains("LEAKED"), "{err}");
            assert!(!format!("{err:?}").contains("LEAKED"));
            if status != 200 {
                assert_eq!(status_of(&err), Some(status), "{dialect:?} {body}");
            }
        }
    }
}

#[tokio::test]
async fn server_failures_and_throttling_keep_their_kinds() {
    let ep = Endpoint::new().await;
    ep.answers(503, "text/html", "<html>down</html>").await;
    for dialect in DIALECTS {
        let err = ep.refresh(dialect).await.unwrap_err();
        // A token request is never repeated: a refresh token may rotate once it is processed.
        assert!(
            matches!(err.kind(), ErrorKind::MaybeSent | ErrorKind::Transient),
            "{err}"
        );
    }
    ep.answers(429, "application/json", r#"{"error":"rate_limited"}"#)
        .await;
    for dialect in DIALECTS {
        let err = ep.refresh(dialect).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Throttled { .. }),
            "{dialect:?}: {err}"
        );
    }
}

#[tokio::test]
async fn revocation_is_data_rfc7009_platform_or_not_offered() {
    use socialconnect_core::platform::{Revocation, RevocationEndpoint};
    let ep = Endpoint::new().await;
    let base = Url::parse(&ep.server.uri()).unwrap();
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&ep.server)
        .await;
    let client = |revocation: RevocationEndpoint| {
        let spec = ep.client(TokenDialect::Rfc6749).spec().clone();
        OAuthClient::new(
            spec.with_revocation(revocation),
            ClientSecret::new("secret"),
            ep.client(TokenDialect::Rfc6749).http().clone(),
            ep.clock.clone(),
        )
    };
    let rfc = client(RevocationEndpoint::Rfc7009(base.join("/revoke").unwrap()));
    assert_eq!(
        rfc.spec().revoke_url(),
        Some(&base.join("/revoke").unwrap())
    );
    assert_eq!(
        rfc.revoke("t", "refresh_token").await.unwrap(),
        Revocation::Revoked
    );
    // Not offered: nothing is sent.
    let none = client(RevocationEndpoint::NotOffered);
    assert_eq!(none.spec().revoke_url(), None);
    assert_eq!(
        none.revoke("t", "refresh_token").await.unwrap(),
        Revocation::NotOffered
    );
    // The platform's own endpoint is the platform's business, not the OAuth client's.
    let own = client(RevocationEndpoint::Platform);
    assert_eq!(
        own.revoke("t", "refresh_token").await.unwrap_err().kind(),
        ErrorKind::Config
    );
    // The default spec offers none and names no issuer.
    let spec = ep.client(TokenDialect::Rfc6749).spec().clone();
    assert_eq!(spec.revocation, RevocationEndpoint::NotOffered);
    assert_eq!(spec.issuer, None);
    assert_eq!(
        spec.with_issuer("https://id.example").issuer.as_deref(),
        Some("https://id.example")
    );
}
