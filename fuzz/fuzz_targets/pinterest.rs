//! Pinterest's parse points: the error envelope and token-endpoint errors, the account, a
//! board, a Pin and analytics. Any input gives a value or a typed error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use socialconnect_core::http::ApiResponse;
use socialconnect_core::oauth::TokenStep;
use socialconnect_pinterest::account::Account;
use socialconnect_pinterest::error::{api_errors, is_anti_spam};
use socialconnect_pinterest::{analytics, boards, pins, token_error};

fuzz_target!(|data: &[u8]| {
    let _ = api_errors().parse(data);
    for status in [200u16, 400, 401, 429] {
        let resp = ApiResponse::new(status, http::HeaderMap::new(), data.to_vec().into());
        let _ = is_anti_spam(&resp);
        for step in [TokenStep::Code, TokenStep::Refresh, TokenStep::Revoke] {
            let _ = token_error(step, &resp);
        }
    }
    let _ = serde_json::from_slice::<Account>(data);
    let _ = boards::parse_board(data);
    let _ = pins::parse_pin(data);
    let _ = analytics::parse(data);
});
