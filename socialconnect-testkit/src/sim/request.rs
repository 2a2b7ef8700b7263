//! What every simulator reads off a request the same way: the bearer token, a JSON body, and
//! HMAC-SHA256 signatures in hex (webhook deliveries, `appsecret_proof`, challenges).

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The token of an `Authorization: Bearer …` header value (scheme case-insensitive, the token
/// trimmed), `None` for any other scheme or an empty token.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A body as JSON: `Ok(None)` for an empty (or all-whitespace) body, `Err` for one that is not
/// JSON.
pub fn json_body(body: &[u8]) -> Result<Option<Value>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some)
}

/// `hex(HMAC-SHA256(key, parts concatenated))`, lowercase.
pub fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer  "), None);
    }

    #[test]
    fn json_bodies_and_hmac() {
        assert_eq!(json_body(b" \n").unwrap(), None);
        assert_eq!(
            json_body(b"{\"a\":1}").unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert!(json_body(b"{").is_err());
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
