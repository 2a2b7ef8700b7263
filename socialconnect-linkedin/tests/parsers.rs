//! LinkedIn's public parse points fed arbitrary bytes: the error envelope, URNs, Rest.li
//! decoding, little text, `userinfo`, and webhook batches behind a correct signature (the same
//! calls as the `linkedin` fuzz target). A typed error or a value, never a panic.

use proptest::prelude::*;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_core::webhook::SignatureScheme;
use socialconnect_linkedin::LinkedInConfig;
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::error::api_errors;
use socialconnect_linkedin::little_text::unescape;
use socialconnect_linkedin::member::parse_userinfo_body;
use socialconnect_linkedin::urn::percent_decode;
use socialconnect_linkedin::webhook::LinkedInWebhooks;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = api_errors().parse(&bytes);
        let _ = serde_json::from_slice::<Urn>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Urn::parse(&text);
        let _ = percent_decode(&text);
        let _ = unescape(&text);
        let _ = parse_userinfo_body(&bytes);
        let hooks = LinkedInWebhooks::new(&LinkedInConfig::new("p", ClientSecret::new("s")));
        let signature = SignatureScheme::LINKEDIN.sign(&WebhookSecret::new("s"), &bytes);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-li-signature", http::HeaderValue::from_str(&signature).unwrap());
        let _ = hooks.verify_and_parse(&headers, &bytes);
        let _ = hooks.challenge(&text);
    }

    #[test]
    fn userinfo_with_odd_locales_never_panics(
        locale in r#"(null|7|"[a-z_-]{0,8}"|\{\}|\{"language":"[a-z]{0,3}"\}|\[\])"#,
    ) {
        let body = format!(r#"{{"sub":"abc","locale":{locale}}}"#);
        let _ = parse_userinfo_body(body.as_bytes());
    }

    #[test]
    fn error_bodies_with_odd_fields_never_panic(
        code in "(null|true|-?[0-9]{1,25}|\"[A-Z_]{0,20}\"|\\[\\]|\\{\\})",
        status in "(null|-?[0-9]{1,6}|\"x\")",
    ) {
        let body = format!(r#"{{"status":{status},"serviceErrorCode":{code},"code":{code},"message":{code}}}"#);
        let _ = api_errors().parse(body.as_bytes());
    }
}
