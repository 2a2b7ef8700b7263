//! Shared helpers for the testkit's integration tests.

// Each test binary compiles this module and uses a different subset of it.
#![allow(dead_code)]

use serde_json::Value;
use socialconnect_testkit::{OAuthSimulator, pkce_s256};
use url::Url;

/// The redirect URI every test registers.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A PKCE verifier of valid shape (43 characters of the unreserved set).
pub const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

/// A reqwest client for loopback HTTP that, like every client in the SDK, follows no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a loopback client")
}

/// An authorize URL for `sim` with `state` and an S256 challenge of [`VERIFIER`].
pub fn authorize_url(sim: &OAuthSimulator, state: &str) -> Url {
    let mut url = sim.authorize_url();
    url.query_pairs_mut()
        .append_pair("client_id", sim.client_id())
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "pages_read profile")
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce_s256(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    url
}

/// A token-endpoint answer: status, headers and JSON body (`Null` when not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Answer {
    /// The RFC 6749 `error` code of the body, if any.
    pub fn error(&self) -> Option<&str> {
        self.json["error"].as_str()
    }
}

/// Posts `form` to the token endpoint with the client credentials in the body.
pub async fn token(http: &reqwest::Client, sim: &OAuthSimulator, form: &[(&str, &str)]) -> Answer {
    let mut body = vec![
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
    ];
    body.extend_from_slice(form);
    send(http.post(sim.token_url()).form(&body)).await
}

/// Exchanges `code` with [`VERIFIER`] and [`REDIRECT`], credentials in the body.
pub async fn exchange(http: &reqwest::Client, sim: &OAuthSimulator, code: &str) -> Answer {
    token(
        http,
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

/// Uses `refresh_token`, credentials in the body.
pub async fn refresh(http: &reqwest::Client, sim: &OAuthSimulator, refresh_token: &str) -> Answer {
    token(
        http,
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Calls the userinfo endpoint with `access_token` as a bearer token.
pub async fn me(http: &reqwest::Client, sim: &OAuthSimulator, access_token: &str) -> Answer {
    send(http.get(sim.userinfo_url()).bearer_auth(access_token)).await
}

/// Sends `request` and reads the answer.
pub async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a readable body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
    }
}

/// The access and refresh tokens of a successful answer.
pub fn tokens(answer: &Answer) -> (String, Option<String>) {
    assert_eq!(answer.status, 200, "token request failed: {}", answer.json);
    let access = answer.json["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let refresh = answer.json["refresh_token"].as_str().map(str::to_owned);
    (access, refresh)
}
