//! Pinterest's public parse points fed arbitrary bytes: the error envelope and the token
//! endpoint's error reader, the account, a board, a Pin, analytics (the same calls as the
//! `pinterest` fuzz target). A typed error or a value, never a panic.

use proptest::prelude::*;
use socialconnect_core::http::ApiResponse;
use socialconnect_core::oauth::TokenStep;
use socialconnect_pinterest::account::Account;
use socialconnect_pinterest::error::{api_errors, is_anti_spam};
use socialconnect_pinterest::{analytics, boards, pins, token_error};

fn feed(status: u16, bytes: &[u8]) {
    let _ = api_errors().parse(bytes);
    let resp = ApiResponse::new(status, http::HeaderMap::new(), bytes.to_vec().into());
    let _ = is_anti_spam(&resp);
    for step in [TokenStep::Code, TokenStep::Refresh, TokenStep::Revoke] {
        let _ = token_error(step, &resp);
    }
    let _ = serde_json::from_slice::<Account>(bytes);
    let _ = boards::parse_board(bytes);
    let _ = pins::parse_pin(bytes);
    let _ = analytics::parse(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        status in prop::sample::select(vec![200u16, 400, 401, 403, 404, 429, 500]),
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        feed(status, &bytes);
    }

    #[test]
    fn json_shaped_noise_never_panics(
        status in prop::sample::select(vec![200u16, 400, 401, 429]),
        code in prop::option::of(-5i64..5000),
        message in r#"[ -~]{0,40}"#,
        day in r#"(null|"2026-1[0-2]-0[1-9]"|"x"|7|\{\})"#,
        status_name in r#"(null|"READY"|"ESTIMATE"|"BEFORE_[A-Z]{0,6}"|3)"#,
    ) {
        let code = code.map_or("null".to_owned(), |c| c.to_string());
        let body = format!(
            r#"{{"code":{code},"message":{message:?},"id":"1","items":[],"all":{{"daily_metrics":[{{"date":{day},"data_status":{status_name},"metrics":{{"IMPRESSION":1}}}}]}}}}"#
        );
        feed(status, body.as_bytes());
    }
}

#[test]
fn the_documented_error_bodies_are_read() {
    let resp = ApiResponse::new(
        400,
        http::HeaderMap::new(),
        br#"{"code":1,"message":"Invalid refresh token."}"#.to_vec().into(),
    );
    let e = token_error(TokenStep::Refresh, &resp).unwrap();
    assert_eq!(e.kind(), socialconnect_core::ErrorKind::ReconnectRequired);
    let html = ApiResponse::new(
        502,
        http::HeaderMap::new(),
        b"<html>502</html>".to_vec().into(),
    );
    assert!(
        token_error(TokenStep::Refresh, &html).is_none(),
        "HTML is left to the kit"
    );
}
