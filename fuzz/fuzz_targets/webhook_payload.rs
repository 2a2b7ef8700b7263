//! Webhook bodies: event parsing, and the signature check in front of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{SignatureFormat, sign_header};
use socialconnect_meta::webhook::{self, SubscriptionQuery};

fuzz_target!(|data: &[u8]| {
    let secret = WebhookSecret::new("fuzz-app-secret");

    let _ = webhook::parse_events(data);
    // Correctly signed, so the parser runs behind the signature check too.
    let header = sign_header(&secret, data, SignatureFormat::META);
    let _ = webhook::verify_and_parse(&secret, data, Some(&header));

    if let Ok(text) = std::str::from_utf8(data) {
        // As a signature header, and as a handshake query string.
        let _ = webhook::verify_signature(&secret, b"{}", Some(text));
        let _ = webhook::verify_subscription(&SubscriptionQuery::from_query(text), &secret);
    }
});
