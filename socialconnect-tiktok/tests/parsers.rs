//! Every TikTok parser fed arbitrary bytes and JSON-like text: a typed error or a value,
//! never a panic.

use proptest::prelude::*;
use socialconnect_tiktok::error::api_errors;
use socialconnect_tiktok::model::{User, Video, VideoList};

/// JSON-ish text built from the pieces TikTok bodies are made of, so the parsers get past
/// their first byte.
fn jsonish() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("\"ok\"".to_owned()),
        Just("\"error\"".to_owned()),
        Just("\"code\"".to_owned()),
        Just("\"data\"".to_owned()),
        Just("\"videos\"".to_owned()),
        Just("\"id\"".to_owned()),
        Just("\"cursor\"".to_owned()),
        Just("\"has_more\"".to_owned()),
        Just("\"create_time\"".to_owned()),
        Just("\"view_count\"".to_owned()),
        Just("\"open_id\"".to_owned()),
        Just("-1".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("1e400".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z_]{0,12}".prop_map(|s| format!("\"{s}\"")),
    ];
    prop::collection::vec(atom, 0..40).prop_map(|parts| parts.concat())
}

fn parse_all(bytes: &[u8]) {
    let _ = api_errors().parse(bytes);
    let _ = serde_json::from_slice::<User>(bytes);
    let _ = serde_json::from_slice::<Video>(bytes);
    let _ = serde_json::from_slice::<VideoList>(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
    }

    #[test]
    fn json_like_text_never_panics(text in jsonish()) {
        parse_all(text.as_bytes());
        let wrapped = format!(r#"{{"data":{{"videos":[{text}]}},"error":{{"code":{text}}}}}"#);
        parse_all(wrapped.as_bytes());
    }
}
