//! `signed_request` parsing and verification, and the form-body extraction in front of it.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use socialconnect_core::secret::ClientSecret;
use socialconnect_meta::signed_request::{
    DEFAULT_MAX_AGE, from_form_body, sign_signed_request, verify_signed_request,
};

fuzz_target!(|data: &[u8]| {
    let secret = ClientSecret::new("fuzz-app-secret");
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("in range");

    // As a raw `signed_request` value.
    if let Ok(raw) = std::str::from_utf8(data) {
        let _ = verify_signed_request(raw, &secret, now, DEFAULT_MAX_AGE);
        let _ = verify_signed_request(raw, &secret, now, Duration::MAX);
        // As a payload that passes the signature check, to reach the JSON and time checks.
        let signed = sign_signed_request(raw, &secret);
        let _ = verify_signed_request(&signed, &secret, now, DEFAULT_MAX_AGE);
    }

    // As a form body.
    if let Ok(raw) = from_form_body(data) {
        let _ = verify_signed_request(&raw, &secret, now, DEFAULT_MAX_AGE);
    }
});
