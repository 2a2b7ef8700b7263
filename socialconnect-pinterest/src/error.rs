//! Pinterest's error body and how it maps to SocialConnect's error kinds, as a table on the
//! platform kit's [`ErrorMap`], plus the case a table cannot say (an anti-spam 429), as a
//! classifier.
//!
//! The body is the error itself, everywhere including `/oauth/token`: `{"code": <int>,
//! "message": "..."}`, where `code` is Pinterest's own or just mirrors the HTTP status
//! (`{"code": 404, "message": "Board not found."}`). The `x-pinterest-rid` request id is kept in
//! the error for Pinterest's support.
//!
//! | code | kind |
//! |---|---|
//! | 1 invalid parameters, 4196 invalid request | `InvalidInput` |
//! | 2 authentication failed | `ReconnectRequired` (Pinterest has no deauthorization callback: this is how a disconnect shows) |
//! | 3 insufficient scopes, 7 not authorized to access the board or Pin, 29 not permitted | `MissingScopes` |
//! | 8 rate limit, any other 429 | `Throttled`, honouring `Retry-After` |
//! | a 429 whose message says spam | `PolicyBlocked`: not retried, tell the user |
//! | 50 Pin not found | `InvalidInput` (core has no not-found kind) |
//! | 4197 endpoint ramped down | `Config` |
//! | 30 (rate limit or not found, by endpoint), a code mirroring the status | by the HTTP status |

use std::sync::LazyLock;

use socialconnect_core::Error;
use socialconnect_core::connect::classify::{Classifiers, Exchange, Verdict};
use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::error::ReconnectReason;
use socialconnect_core::http::ApiResponse;

/// The request-id header Pinterest answers with.
pub const REQUEST_ID_HEADER: &str = "x-pinterest-rid";

/// Pinterest's error body, read from the root, with the request id from its header.
pub fn api_envelope() -> EnvelopeFormat {
    EnvelopeFormat::at("")
        .code("/code")
        .message("/message")
        .trace_header(REQUEST_ID_HEADER)
}

/// The Pinterest error table (see the module docs).
pub fn api_errors() -> &'static ErrorMap {
    static MAP: LazyLock<ErrorMap> = LazyLock::new(|| {
        use Outcome::*;
        ErrorMap::new(api_envelope())
            .rule(Rule::code(2).to(Reconnect(ReconnectReason::TokenRejected)))
            .rule(Rule::codes(&[3, 7, 29]).to(MissingScopes))
            .rule(Rule::code(8).to(Throttled))
            .rule(Rule::any().status(429).to(Throttled))
            .rule(Rule::codes(&[1, 50, 4196]).to(InvalidInput))
            .rule(Rule::code(4197).to(Config))
    });
    &MAP
}

/// Whether `resp` is an anti-spam 429: its `message` or `message_detail` says spam. Every
/// request of this crate is marked not to be retried on one (`ApiRequest::not_retried_when`).
pub fn is_anti_spam(resp: &ApiResponse) -> bool {
    if resp.status() != 429 {
        return false;
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(resp.body()) else {
        return false;
    };
    ["/message", "/message_detail"].iter().any(|p| {
        body.pointer(p)
            .and_then(|v| v.as_str())
            .is_some_and(|m| m.to_ascii_lowercase().contains("spam"))
    })
}

/// A 429 that is anti-spam (its `message` or `message_detail` says spam) is a policy block:
/// waiting does not lift it, so it is not retried.
pub fn anti_spam(x: &Exchange<'_>) -> Verdict {
    if !is_anti_spam(x.response) {
        return Verdict::Continue;
    }
    // The table's error for it carries the message, the code and the request id.
    let detail = api_errors()
        .error(x.platform, x.response, None)
        .and_then(|e| e.platform_error().cloned());
    Verdict::Reject(Error::PolicyBlocked {
        platform: detail.map(Box::new),
    })
}

/// Every Pinterest classifier, in order: the anti-spam check, then the table.
pub fn classifiers() -> Classifiers {
    Classifiers::new()
        .with(anti_spam)
        .with(api_errors().clone())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use socialconnect_core::ErrorKind;
    use socialconnect_core::id::PlatformId;

    use super::*;

    fn kind(status: u16, body: &str) -> ErrorKind {
        error(status, body, &[]).kind()
    }

    fn error(status: u16, body: &str, headers: &[(&str, &str)]) -> Error {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        let resp = ApiResponse::new(status, map, body.to_owned().into());
        let x = Exchange {
            platform: &PlatformId::PINTEREST,
            response: &resp,
            retry_after: (status == 429).then(|| Duration::from_secs(7)),
        };
        match classifiers().classify(&x) {
            Err(e) => e,
            Ok(()) => panic!("{status} {body} accepted"),
        }
    }

    #[test]
    fn every_documented_code_has_its_kind() {
        let auth = kind(401, r#"{"code":2,"message":"Authentication failed."}"#);
        assert_eq!(auth, ErrorKind::ReconnectRequired);
        for (status, code) in [(401, 3), (403, 7), (403, 29)] {
            let body = format!(r#"{{"code":{code},"message":"Not permitted"}}"#);
            assert_eq!(kind(status, &body), ErrorKind::MissingScopes, "{code}");
        }
        assert_eq!(
            kind(400, r#"{"code":1,"message":"Invalid parameters."}"#),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(404, r#"{"code":50,"message":"Pin not found."}"#),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(410, r#"{"code":4197,"message":"Endpoint ramped down."}"#),
            ErrorKind::Config
        );
        assert_eq!(
            kind(429, r#"{"code":8,"message":"Rate limit exceeded."}"#),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn a_code_mirroring_the_status_and_code_30_go_by_the_status() {
        let mirrored = error(404, r#"{"code":404,"message":"Board not found."}"#, &[]);
        assert_ne!(mirrored.kind(), ErrorKind::ReconnectRequired);
        assert!(
            mirrored.to_string().contains("Board not found"),
            "{mirrored}"
        );
        assert!(matches!(
            kind(429, r#"{"code":30,"message":"Too many requests"}"#),
            ErrorKind::Throttled { .. }
        ));
        assert_eq!(
            kind(401, r#"{"code":401,"message":"Unauthorized"}"#),
            ErrorKind::ReconnectRequired
        );
    }

    #[test]
    fn an_anti_spam_429_is_a_policy_block_and_the_request_id_is_kept() {
        let spam = error(
            429,
            r#"{"code":8,"message":"Request blocked","message_detail":"Your request was blocked by our spam filter"}"#,
            &[(REQUEST_ID_HEADER, "a1b2c3d4e5")],
        );
        assert_eq!(spam.kind(), ErrorKind::PolicyBlocked);
        assert_eq!(
            spam.platform_error().unwrap().trace_id.as_deref(),
            Some("a1b2c3d4e5")
        );
        let plain = error(
            403,
            r#"{"code":29,"message":"Not permitted"}"#,
            &[(REQUEST_ID_HEADER, "ffee")],
        );
        assert_eq!(
            plain.platform_error().unwrap().trace_id.as_deref(),
            Some("ffee")
        );
    }

    #[test]
    fn html_and_empty_bodies_are_not_an_envelope() {
        assert!(
            api_errors()
                .parse(b"<html><body>502</body></html>")
                .is_none()
        );
        assert!(api_errors().parse(b"").is_none());
    }
}
