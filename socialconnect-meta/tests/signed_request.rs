//! Meta `signed_request` (Deauthorize and Data Deletion callbacks), `shared/platforms/meta.md` §8.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{Error, ErrorKind};
use socialconnect_meta::signed_request::{
    DEFAULT_MAX_AGE, MAX_FORM_BODY_LEN, MAX_FUTURE_SKEW, MAX_SIGNED_REQUEST_LEN, SignedRequest,
    SignedRequestError, from_form_body, sign_signed_request, verify_signed_request,
};

/// The documented example payload (`user_id "218471", issued_at 1291836800, expires
/// 1291840400`), signed with the secret `app-secret`. Computed independently with Python:
///
/// ```text
/// enc = base64.urlsafe_b64encode(PAYLOAD).rstrip(b"=")
/// sig = base64.urlsafe_b64encode(hmac.new(b"app-secret", enc, hashlib.sha256).digest()).rstrip(b"=")
/// ```
const PAYLOAD: &str =
    r#"{"algorithm":"HMAC-SHA256","expires":1291840400,"issued_at":1291836800,"user_id":"218471"}"#;
const VECTOR: &str = "jrp12ZijqTy2-9NDSsFcrvW7Yz9HUqinb-TuSFEekhs.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjEyOTE4NDA0MDAsImlzc3VlZF9hdCI6MTI5MTgzNjgwMCwidXNlcl9pZCI6IjIxODQ3MSJ9";
const ISSUED_AT: i64 = 1_291_836_800;

fn secret() -> ClientSecret {
    ClientSecret::new("app-secret")
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

fn verify(raw: &str) -> Result<SignedRequest, SignedRequestError> {
    verify_signed_request(raw, &secret(), at(ISSUED_AT + 60), DEFAULT_MAX_AGE)
}

fn payload_with(fields: &str) -> String {
    format!(r#"{{"algorithm":"HMAC-SHA256",{fields}}}"#)
}

#[test]
fn known_vector_verifies() {
    assert_eq!(sign_signed_request(PAYLOAD, &secret()), VECTOR);
    let request = verify(VECTOR).unwrap();
    assert_eq!(request.user_id, "218471");
    assert_eq!(request.issued_at, at(ISSUED_AT));
    assert_eq!(request.expires, Some(at(1_291_840_400)));
    // Surrounding whitespace (a trailing newline from a form) is ignored.
    assert_eq!(verify(&format!(" {VECTOR}\n")).unwrap(), request);
}

#[test]
fn tampered_payload_is_rejected() {
    let (sig, _) = VECTOR.split_once('.').unwrap();
    let forged = URL_SAFE_NO_PAD.encode(PAYLOAD.replace("218471", "218472"));
    assert_eq!(
        verify(&format!("{sig}.{forged}")),
        Err(SignedRequestError::BadSignature)
    );
    // Flipping one character of the payload or the signature.
    for i in 0..VECTOR.len() {
        let mut bytes = VECTOR.as_bytes().to_vec();
        if bytes[i] == b'.' {
            continue;
        }
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let raw = String::from_utf8(bytes).unwrap();
        assert!(verify(&raw).is_err(), "{raw}");
    }
}

#[test]
fn wrong_secret_is_rejected() {
    let err = verify_signed_request(
        VECTOR,
        &ClientSecret::new("other-secret"),
        at(ISSUED_AT),
        DEFAULT_MAX_AGE,
    )
    .unwrap_err();
    assert_eq!(err, SignedRequestError::BadSignature);
    assert_eq!(Error::from(err).kind(), ErrorKind::Crypto);
}

#[test]
fn empty_secret_is_a_config_error() {
    let empty = ClientSecret::new("");
    let raw = sign_signed_request(PAYLOAD, &empty);
    let err = verify_signed_request(&raw, &empty, at(ISSUED_AT), DEFAULT_MAX_AGE).unwrap_err();
    assert_eq!(err, SignedRequestError::EmptySecret);
    assert_eq!(Error::from(err).kind(), ErrorKind::Config);
}

#[test]
fn algorithm_must_be_hmac_sha256_in_any_case() {
    let ok = sign_signed_request(
        r#"{"algorithm":"hmac-sha256","issued_at":1291836800,"user_id":"1"}"#,
        &secret(),
    );
    assert_eq!(verify(&ok).unwrap().user_id, "1");
    for payload in [
        r#"{"algorithm":"HMAC-SHA1","issued_at":1291836800,"user_id":"1"}"#,
        r#"{"algorithm":"none","issued_at":1291836800,"user_id":"1"}"#,
        r#"{"algorithm":"","issued_at":1291836800,"user_id":"1"}"#,
        r#"{"issued_at":1291836800,"user_id":"1"}"#,
    ] {
        let raw = sign_signed_request(payload, &secret());
        let err = verify(&raw).unwrap_err();
        assert_eq!(err, SignedRequestError::UnsupportedAlgorithm, "{payload}");
        assert_eq!(Error::from(err).kind(), ErrorKind::Crypto);
    }
    // A non-string algorithm is a malformed payload.
    let raw = sign_signed_request(
        r#"{"algorithm":256,"issued_at":1291836800,"user_id":"1"}"#,
        &secret(),
    );
    assert!(matches!(
        verify(&raw),
        Err(SignedRequestError::Malformed { .. })
    ));
}

#[test]
fn stale_and_future_requests_are_rejected() {
    let check = |now: i64, max_age: Duration| {
        verify_signed_request(VECTOR, &secret(), at(now), max_age).map(|r| r.user_id)
    };
    let hour = DEFAULT_MAX_AGE.as_secs() as i64;
    // The window's edge is inside it.
    assert_eq!(
        check(ISSUED_AT + hour, DEFAULT_MAX_AGE).as_deref(),
        Ok("218471")
    );
    assert_eq!(
        check(ISSUED_AT + hour + 1, DEFAULT_MAX_AGE),
        Err(SignedRequestError::Stale)
    );
    assert_eq!(
        check(ISSUED_AT + 10 * 86_400, DEFAULT_MAX_AGE),
        Err(SignedRequestError::Stale)
    );
    // A host may widen the window.
    assert_eq!(
        check(ISSUED_AT + 10 * 86_400, Duration::from_secs(30 * 86_400)).as_deref(),
        Ok("218471")
    );
    assert_eq!(
        check(i64::from(u32::MAX), Duration::MAX).as_deref(),
        Ok("218471")
    );
    let skew = MAX_FUTURE_SKEW.as_secs() as i64;
    assert_eq!(
        check(ISSUED_AT - skew, DEFAULT_MAX_AGE).as_deref(),
        Ok("218471")
    );
    assert_eq!(
        check(ISSUED_AT - skew - 1, DEFAULT_MAX_AGE),
        Err(SignedRequestError::Future)
    );
    let err = check(0, DEFAULT_MAX_AGE).unwrap_err();
    assert_eq!(err, SignedRequestError::Future);
    assert_eq!(Error::from(err).kind(), ErrorKind::Crypto);
    assert_eq!(
        Error::from(SignedRequestError::Stale).kind(),
        ErrorKind::Crypto
    );
}

#[test]
fn padded_input_is_accepted() {
    // Signature with its `=` (the UNCONFIRMED "trailing =" report).
    let (sig, payload) = VECTOR.split_once('.').unwrap();
    assert_eq!(
        verify(&format!("{sig}=.{payload}")).unwrap().user_id,
        "218471"
    );

    // A payload sent padded is signed padded: the HMAC is over the string as sent.
    // 90 bytes need no padding; one more space makes base64 pad.
    let json = format!("{PAYLOAD} ");
    let padded_payload = base64::engine::general_purpose::URL_SAFE.encode(&json);
    assert!(padded_payload.ends_with('='));
    let raw = sign_padded(&padded_payload);
    assert_eq!(verify(&raw).unwrap().user_id, "218471");

    // Padding added after signing changes what was signed.
    assert_eq!(
        verify(&format!("{VECTOR}=")),
        Err(SignedRequestError::BadSignature)
    );

    // The standard alphabet (`+/`) decodes too, as in the PHP sample.
    let std_sig = sig.replace('-', "+").replace('_', "/");
    assert_ne!(std_sig, sig);
    assert_eq!(
        verify(&format!("{std_sig}.{payload}")).unwrap().user_id,
        "218471"
    );
}

/// Signs an already-encoded payload string, padding the signature as well.
fn sign_padded(encoded_payload: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"app-secret").unwrap();
    mac.update(encoded_payload.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE.encode(mac.finalize().into_bytes());
    format!("{sig}.{encoded_payload}")
}

#[test]
fn numeric_ids_and_timestamps_are_accepted() {
    let raw = sign_signed_request(
        &payload_with(r#""issued_at":"1291836800","user_id":10000000000000000001,"expires":0"#),
        &secret(),
    );
    let request = verify(&raw).unwrap();
    // Above 2^53: kept exactly.
    assert_eq!(request.user_id, "10000000000000000001");
    assert_eq!(request.issued_at, at(ISSUED_AT));
    // `expires: 0` means none.
    assert_eq!(request.expires, None);
}

#[test]
fn extra_keys_are_ignored() {
    // The older deauthorize shape: `user{country,locale}`, `profile_id`, no `expires`.
    let raw = sign_signed_request(
        &payload_with(
            r#""issued_at":1291836800,"user":{"country":"de","locale":"de_DE","age":{"min":21}},"profile_id":"9","user_id":"218471","oauth_token":"ignored""#,
        ),
        &secret(),
    );
    let request = verify(&raw).unwrap();
    assert_eq!(request.user_id, "218471");
    assert_eq!(request.expires, None);
}

#[test]
fn authentic_but_incomplete_payloads_are_malformed() {
    for fields in [
        r#""user_id":"1""#,
        r#""issued_at":1291836800"#,
        r#""issued_at":1291836800,"user_id":"""#,
        r#""issued_at":1291836800,"user_id":null"#,
        r#""issued_at":1291836800.5,"user_id":"1""#,
        r#""issued_at":"yesterday","user_id":"1""#,
        r#""issued_at":99999999999999999,"user_id":"1""#,
        r#""issued_at":1291836800,"user_id":1.5"#,
        r#""issued_at":1291836800,"user_id":{"id":"1"}"#,
    ] {
        let raw = sign_signed_request(&payload_with(fields), &secret());
        let err = verify(&raw).unwrap_err();
        assert!(
            matches!(err, SignedRequestError::Malformed { .. }),
            "{fields}: {err:?}"
        );
        assert_eq!(Error::from(err).kind(), ErrorKind::InvalidInput);
    }
    for payload in [
        "[]",
        "\"x\"",
        "not json",
        "",
        "{\"algorithm\":\"HMAC-SHA256\"",
    ] {
        let raw = sign_signed_request(payload, &secret());
        assert!(
            matches!(verify(&raw), Err(SignedRequestError::Malformed { .. })),
            "{payload}"
        );
    }
}

#[test]
fn garbage_is_malformed() {
    let (sig, payload) = VECTOR.split_once('.').unwrap();
    for raw in [
        "",
        ".",
        "no-dot-here",
        &format!("{sig}."),
        &format!(".{payload}"),
        &format!("{}.{payload}", &sig[..42]),
        &format!("{sig}AAAA.{payload}"),
        &format!("{}!.{payload}", &sig[..42]),
        "é.é",
    ] {
        let err = verify(raw).unwrap_err();
        assert!(
            matches!(err, SignedRequestError::Malformed { .. }),
            "{raw}: {err:?}"
        );
        assert_eq!(Error::from(err).kind(), ErrorKind::InvalidInput);
    }
    // A payload that is not base64url cannot carry a valid signature.
    assert_eq!(
        verify(&format!("{sig}.{payload}!")),
        Err(SignedRequestError::BadSignature)
    );
    // Nor can a third segment.
    assert_eq!(
        verify(&format!("{VECTOR}.{payload}")),
        Err(SignedRequestError::BadSignature)
    );
}

#[test]
fn a_signed_payload_that_is_not_base64_is_malformed() {
    let raw = sign_padded("not*base64");
    assert!(matches!(
        verify(&raw),
        Err(SignedRequestError::Malformed { .. })
    ));
}

#[test]
fn oversized_input_is_refused() {
    let huge = format!("{VECTOR}{}", "A".repeat(MAX_SIGNED_REQUEST_LEN));
    let err = verify(&huge).unwrap_err();
    assert_eq!(err, SignedRequestError::TooLarge);
    assert_eq!(Error::from(err).kind(), ErrorKind::InvalidInput);
}

#[test]
fn errors_leak_nothing() {
    let err = verify_signed_request(
        VECTOR,
        &ClientSecret::new("other-secret"),
        at(ISSUED_AT),
        DEFAULT_MAX_AGE,
    )
    .unwrap_err();
    let core = Error::from(err);
    let text = format!("{err} {err:?} {core} {core:?}");
    let (sig, payload) = VECTOR.split_once('.').unwrap();
    for secretish in ["app-secret", "other-secret", sig, payload, "218471"] {
        assert!(!text.contains(secretish), "{text}");
    }
}

#[test]
fn form_body_extraction() {
    let body = format!("signed_request={VECTOR}");
    assert_eq!(from_form_body(body.as_bytes()).unwrap(), VECTOR);
    // Percent-encoded padding, other fields around it.
    let body = format!("a=1&signed_request={VECTOR}%3D&b=2");
    assert_eq!(
        from_form_body(body.as_bytes()).unwrap(),
        format!("{VECTOR}=")
    );

    let full = from_form_body(format!("signed_request={VECTOR}").as_bytes()).unwrap();
    assert_eq!(verify(&full).unwrap().user_id, "218471");

    for body in [
        "".to_owned(),
        "signed_request=".to_owned(),
        "other=1".to_owned(),
        "signed_request".to_owned(),
        format!("signed_request={VECTOR}&signed_request={VECTOR}"),
    ] {
        assert!(
            matches!(
                from_form_body(body.as_bytes()),
                Err(SignedRequestError::Malformed { .. })
            ),
            "{body}"
        );
    }
    let too_big = format!(
        "signed_request={VECTOR}&pad={}",
        "x".repeat(MAX_FORM_BODY_LEN)
    );
    assert_eq!(
        from_form_body(too_big.as_bytes()),
        Err(SignedRequestError::TooLarge)
    );
    let long_value = format!("signed_request={}", "A".repeat(MAX_SIGNED_REQUEST_LEN + 1));
    assert_eq!(
        from_form_body(long_value.as_bytes()),
        Err(SignedRequestError::TooLarge)
    );
}

proptest! {
    #[test]
    fn verify_never_panics_on_arbitrary_strings(
        raw in ".{0,600}",
        now in -100_000_000_000i64..100_000_000_000i64,
        max_age in any::<u64>(),
    ) {
        let _ = verify_signed_request(&raw, &secret(), at(now), Duration::from_secs(max_age));
    }

    #[test]
    fn verify_never_panics_on_base64ish_input(
        sig in "[A-Za-z0-9_+/=-]{0,50}",
        payload in "[A-Za-z0-9_+/=.-]{0,200}",
    ) {
        let _ = verify(&format!("{sig}.{payload}"));
    }

    #[test]
    fn verify_never_panics_on_signed_arbitrary_payloads(
        payload in ".{0,300}",
        now in -100_000_000_000i64..100_000_000_000i64,
    ) {
        let raw = sign_signed_request(&payload, &secret());
        let _ = verify_signed_request(&raw, &secret(), at(now), DEFAULT_MAX_AGE);
    }

    #[test]
    fn verify_never_panics_on_signed_json_like_payloads(
        issued in prop_oneof![
            "-?[0-9]{0,22}".prop_map(|s| s),
            "\"-?[0-9]{0,22}\"".prop_map(|s| s),
            Just("null".to_owned()),
            Just("1e300".to_owned()),
        ],
        user in prop_oneof!["[0-9]{0,30}", "\"[^\"\\\\]{0,20}\""],
        algorithm in "[a-zA-Z0-9-]{0,15}",
    ) {
        let payload = format!(r#"{{"algorithm":"{algorithm}","issued_at":{issued},"user_id":{user}}}"#);
        let raw = sign_signed_request(&payload, &secret());
        let _ = verify(&raw);
    }

    #[test]
    fn form_extraction_never_panics(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(raw) = from_form_body(&body) {
            let _ = verify(&raw);
        }
    }

    #[test]
    fn fresh_requests_always_verify(
        user_id in "[0-9]{1,20}",
        numeric in any::<bool>(),
        issued in 0i64..4_000_000_000,
        age in -300i64..=3600,
        secret_text in ".{1,40}",
    ) {
        let app_secret = ClientSecret::new(secret_text);
        let user_json = if numeric && user_id.parse::<u64>().is_ok() {
            user_id.trim_start_matches('0').to_owned()
        } else {
            format!("\"{user_id}\"")
        };
        prop_assume!(!user_json.is_empty());
        let payload = format!(r#"{{"algorithm":"HMAC-SHA256","issued_at":{issued},"user_id":{user_json}}}"#);
        let raw = sign_signed_request(&payload, &app_secret);
        let request = verify_signed_request(&raw, &app_secret, at(issued + age), DEFAULT_MAX_AGE).unwrap();
        prop_assert_eq!(request.user_id, user_json.trim_matches('"'));
        prop_assert_eq!(request.issued_at, at(issued));
    }
}
