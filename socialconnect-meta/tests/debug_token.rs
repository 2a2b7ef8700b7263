//! `debug_token`: what Meta says about a token, including why it is no longer valid.

mod common;

use common::{APP_ID, APP_SECRET, env, graph};
use socialconnect_core::secret::AccessToken;
use socialconnect_core::token::Expiry;
use socialconnect_meta::{FacebookLogin, MetaProduct};
use socialconnect_testkit::JsonMock;
use wiremock::matchers::{header, query_param};

async fn debug(body: serde_json::Value) -> socialconnect_meta::TokenInfo {
    let env = env().await;
    JsonMock::new("GET", graph("debug_token"), body)
        .and(query_param("input_token", "user-token-EAAB"))
        .and(header(
            "authorization",
            format!("Bearer {APP_ID}|{APP_SECRET}").as_str(),
        ))
        .expect(1)
        .mount(&env.server)
        .await;
    let login = FacebookLogin::new(env.client.clone(), MetaProduct::Facebook).unwrap();
    let info = login
        .debug_token(&AccessToken::new("user-token-EAAB"))
        .await
        .unwrap();
    env.catch_all.assert_no_unexpected();
    info
}

#[tokio::test]
async fn an_invalid_token_carries_the_inner_error() {
    let info = debug(socialconnect_testkit::fixture!("oauth/debug_token_invalid")).await;
    assert!(!info.is_valid);
    let err = info.error.expect("is_valid: false comes with an error");
    assert_eq!((err.code, err.subcode), (Some(190), Some(460)));
    assert!(
        err.message
            .as_deref()
            .unwrap()
            .starts_with("Error validating access token"),
        "{err:?}"
    );
    assert_eq!(info.user_id.as_deref(), Some("10150000000000001"));
    assert!(matches!(info.expires, Expiry::At(_)));
}

#[tokio::test]
async fn the_inner_error_is_read_tolerantly() {
    // `error_subcode` (the envelope's spelling), codes as strings, a message bounded.
    let info = debug(serde_json::json!({"data": {"is_valid": false, "error": {
        "code": "190", "error_subcode": 463, "message": "m".repeat(5_000)
    }}}))
    .await;
    let err = info.error.unwrap();
    assert_eq!((err.code, err.subcode), (Some(190), Some(463)));
    assert_eq!(err.message.unwrap().len(), 512);

    // An odd `error` value never hides the rest of the answer.
    let info = debug(
        serde_json::json!({"data": {"is_valid": false, "scopes": ["pages_show_list"],
        "error": {"code": {"x": 1}, "message": 7}}}),
    )
    .await;
    let err = info.error.unwrap();
    assert_eq!((err.code, err.subcode, err.message), (None, None, None));
    assert_eq!(info.scopes.len(), 1);
}

#[tokio::test]
async fn a_valid_token_has_no_error() {
    let info = debug(
        serde_json::json!({"data": {"is_valid": true, "type": "USER",
        "app_id": 1234567890, "expires_at": 0, "scopes": ["pages_show_list"]}}),
    )
    .await;
    assert!(info.is_valid);
    assert_eq!(info.error, None);
    assert_eq!(info.expires, Expiry::Never);
    assert_eq!(info.app_id.as_deref(), Some("1234567890"));
}
