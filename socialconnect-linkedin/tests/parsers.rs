//! LinkedIn's public parse points fed arbitrary bytes: the error envelope, URNs, Rest.li
//! decoding and little text. A typed error or a value, never a panic.

use proptest::prelude::*;
use socialconnect_linkedin::Urn;
use socialconnect_linkedin::error::api_errors;
use socialconnect_linkedin::little_text::unescape;
use socialconnect_linkedin::urn::percent_decode;

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
