//! LinkedIn's parse points: signed webhook batches (behind a correct `X-LI-Signature` too),
//! the `challengeCode` query, the error envelope, `userinfo`, URNs, Rest.li decoding and
//! little text.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_core::webhook::SignatureScheme;
use socialconnect_linkedin::error::api_errors;
use socialconnect_linkedin::little_text::unescape;
use socialconnect_linkedin::member::parse_userinfo_body;
use socialconnect_linkedin::urn::percent_decode;
use socialconnect_linkedin::webhook::LinkedInWebhooks;
use socialconnect_linkedin::{LinkedInConfig, Urn};

const SECRET: &str = "fuzz-client-secret";

fuzz_target!(|data: &[u8]| {
    let hooks = LinkedInWebhooks::new(&LinkedInConfig::new("fuzz", ClientSecret::new(SECRET)));
    let signature = SignatureScheme::LINKEDIN.sign(&WebhookSecret::new(SECRET), data);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&signature) {
        headers.insert("x-li-signature", value);
    }
    let _ = hooks.verify_and_parse(&headers, data);
    let _ = hooks.verify_and_parse(&HeaderMap::new(), data);
    let _ = api_errors().parse(data);
    let _ = parse_userinfo_body(data);
    let _ = serde_json::from_slice::<Urn>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = hooks.challenge(text);
        let _ = Urn::parse(text);
        let _ = percent_decode(text);
        let _ = unescape(text);
    }
});
