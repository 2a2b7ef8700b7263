//! TikTok webhook deliveries: the `TikTok-Signature` check, the envelope and the second parse
//! of its `content` string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_core::webhook::{TimestampedScheme, sign_timestamped};
use socialconnect_tiktok::TikTokConfig;
use socialconnect_tiktok::webhook::{self, WebhookVerifier};

const CLIENT_KEY: &str = "fuzz-client-key";
const SECRET: &str = "fuzz-client-secret";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let verifier = WebhookVerifier::new(&TikTokConfig::new(CLIENT_KEY, ClientSecret::new(SECRET)));
    let now = chrono::DateTime::from_timestamp(NOW, 0).expect("in range");

    let _ = webhook::parse_event(data);
    // Correctly signed, so the parser runs behind the signature check too.
    let header = sign_timestamped(
        &WebhookSecret::new(SECRET),
        data,
        NOW,
        &TimestampedScheme::TIKTOK,
    );
    let _ = verifier.verify_and_parse_pairs([("TikTok-Signature", header.as_str())], data, now);

    if let Ok(text) = std::str::from_utf8(data) {
        // As a signature header over a fixed body.
        let _ = verifier.verify_header(Some(text), b"{}", now);
        // As the `content` string of an otherwise valid envelope, for each known event.
        let content = serde_json::Value::String(text.to_owned()).to_string();
        for event in [
            "authorization.removed",
            "video.upload.failed",
            "video.publish.completed",
            "portability.download.ready",
            "unknown.event",
        ] {
            let body = format!(
                r#"{{"client_key":"{CLIENT_KEY}","event":"{event}","create_time":{NOW},"user_openid":"act.fuzz","content":{content}}}"#
            );
            if let Ok(event) = webhook::parse_event(body.as_bytes()) {
                let _ = event.delivery_id();
            }
        }
    }
});
