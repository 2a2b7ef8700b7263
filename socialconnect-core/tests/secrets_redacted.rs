//! Every secret type, alone and inside the structures that hold it, formats without its value.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::error::{DecodeError, Error, PlatformError};
use socialconnect_core::http::{ApiRequest, HttpClient};
use socialconnect_core::id::{PlatformId, Scope, SubjectId};
use socialconnect_core::keys::DataKey;
use socialconnect_core::oauth::OAuthClient;
use socialconnect_core::platform::OAuthSpec;
use socialconnect_core::secret::{
    AccessToken, AuthCode, ClientSecret, PkceVerifier, RefreshToken, StateToken, WebhookSecret,
};
use socialconnect_core::store::PendingAuth;
use socialconnect_core::token::{Expiry, TokenSet};

const SECRET: &str = "S3CR3T-value-that-must-not-leak";

fn assert_redacted(what: &str, debug: String, pretty: String) {
    assert!(!debug.contains(SECRET), "{what} leaks in {{:?}}: {debug}");
    assert!(
        !pretty.contains(SECRET),
        "{what} leaks in {{:#?}}: {pretty}"
    );
    assert!(!debug.contains("S3CR3T"), "{what} leaks a prefix: {debug}");
}

macro_rules! check {
    ($what:expr, $value:expr) => {{
        let v = $value;
        assert_redacted($what, format!("{v:?}"), format!("{v:#?}"));
    }};
}

#[test]
fn secret_newtypes_are_redacted() {
    check!("AccessToken", AccessToken::new(SECRET));
    check!("RefreshToken", RefreshToken::new(SECRET));
    check!("ClientSecret", ClientSecret::new(SECRET));
    check!("PkceVerifier", PkceVerifier::new(SECRET));
    check!("AuthCode", AuthCode::new(SECRET));
    check!("StateToken", StateToken::new(SECRET));
    check!("WebhookSecret", WebhookSecret::new(SECRET));
    let key = DataKey::from_bytes([0x53; 32]);
    let dbg = format!("{key:?}");
    assert!(!dbg.contains("83") && !dbg.contains("53"), "{dbg}");
}

#[test]
fn holders_of_secrets_are_redacted() {
    let now = Utc::now();
    let tokens = TokenSet::new(AccessToken::new(SECRET), Expiry::after(now, 60), now)
        .with_refresh(RefreshToken::new(SECRET), Expiry::Never)
        .with_scopes(Scope::parse_list("a b"));
    check!("TokenSet", &tokens);

    let pending = PendingAuth::new(
        SubjectId::new("s").unwrap(),
        PlatformId::TIKTOK,
        "https://host.example/cb".parse().unwrap(),
        vec![],
        Some(PkceVerifier::new(SECRET)),
        now,
        now,
    );
    check!("PendingAuth", &pending);

    let spec = OAuthSpec::new(
        PlatformId::LINKEDIN,
        "client",
        "https://example.com/auth".parse().unwrap(),
        "https://example.com/token".parse().unwrap(),
    );
    let http = HttpClient::builder().build().unwrap();
    let client = OAuthClient::new(spec, ClientSecret::new(SECRET), http, Arc::new(SystemClock));
    check!("OAuthClient", &client);

    let req = ApiRequest::post("https://example.com/token".parse().unwrap())
        .bearer(AccessToken::new(SECRET))
        .basic_auth("client", ClientSecret::new(SECRET))
        .form(&[("refresh_token", SECRET)])
        .query(&[("access_token", SECRET)]);
    check!("ApiRequest", &req);
}

#[test]
fn errors_carry_no_secret() {
    let body = format!(r#"{{"access_token":"{SECRET}","expires_in":"soon"}}"#);
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // decoded only to make the decoder fail on `expires_in`
    struct Shape {
        access_token: String,
        expires_in: u64,
    }
    let err = Error::decode_json::<Shape>(body.as_bytes()).unwrap_err();
    check!("Error::Decode", &err);
    assert!(!err.to_string().contains(SECRET));
    let err = Error::decode_json_secret::<Shape>(body.as_bytes()).unwrap_err();
    check!("Error::Decode (secret)", &err);
    let e = Error::Decode(Box::new(DecodeError {
        path: "x".into(),
        message: "m".into(),
        excerpt: None,
    }));
    check!("DecodeError", &e);
    check!("PlatformError", PlatformError::new(None, "invalid token"));
}
