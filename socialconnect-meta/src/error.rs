//! The Graph error envelope and how it maps to SocialConnect's error kinds, as a table on the
//! platform kit's [`ErrorMap`].
//!
//! Logic keys on `error.code`, `error.error_subcode` and `is_transient`, never on the HTTP
//! status: Graph answers most errors, throttling and expired tokens included, with HTTP 400.
//!
//! | code | subcode | kind |
//! |---|---|---|
//! | 190, 102 | 458 | `ReconnectRequired` (revoked) |
//! | 190, 102 | 459, 460, 464 | `ReconnectRequired` (session invalidated) |
//! | 190, 102 | 463 | `ReconnectRequired` (expired) |
//! | 190, 102 | other | `ReconnectRequired` (token rejected) |
//! | 368 | | `PolicyBlocked`: lifts on Meta's review, not on a timer |
//! | 4, 17, 32, 341, 613, 80000–80014 | | `Throttled` (app, user, page, custom, Business Use Case) |
//! | 9 | 2207042 | `Throttled` (Instagram's publish limit) |
//! | 3, 10, 200–299 | | `MissingScopes` |
//! | 100, 506 | | `InvalidInput` |
//! | 1, 2, or `is_transient` | | `Transient` |
//! | none, `type` `OAuthException` | | `ReconnectRequired` (token rejected) |
//! | anything else | | `Platform` |

use std::sync::LazyLock;

use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::error::ReconnectReason;

/// Graph's envelope: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id",
/// "is_transient"}}`.
pub fn graph_envelope() -> EnvelopeFormat {
    EnvelopeFormat::at("/error")
        .code("/code")
        .subcode("/error_subcode")
        .error_type("/type")
        .message("/message")
        .trace_id("/fbtrace_id")
        .transient("/is_transient")
}

/// The Graph error table (see the module docs), shared by every Meta surface.
pub fn graph_errors() -> &'static ErrorMap {
    static MAP: LazyLock<ErrorMap> = LazyLock::new(|| {
        use Outcome::*;
        use ReconnectReason::*;
        let token = [190, 102];
        ErrorMap::new(graph_envelope())
            .rule(Rule::codes(&token).subcode(458).to(Reconnect(Revoked)))
            .rule(
                Rule::codes(&token)
                    .subcodes(&[459, 460, 464])
                    .to(Reconnect(SessionInvalidated)),
            )
            .rule(Rule::codes(&token).subcode(463).to(Reconnect(Expired)))
            .rule(Rule::codes(&token).to(Reconnect(TokenRejected)))
            .rule(Rule::code(368).to(PolicyBlocked))
            .rule(Rule::codes(&[4, 17, 32, 341, 613]).to(Throttled))
            .rule(Rule::code_range(80_000, 80_014).to(Throttled))
            .rule(Rule::code(9).subcode(2_207_042).to(Throttled))
            .rule(Rule::codes(&[3, 10]).to(MissingScopes))
            .rule(Rule::code_range(200, 299).to(MissingScopes))
            .rule(Rule::codes(&[100, 506]).to(InvalidInput))
            .rule(Rule::codes(&[1, 2]).to(Transient))
            .rule(Rule::any().transient(true).to(Transient))
            .rule(
                Rule::no_code()
                    .error_type("OAuthException")
                    .to(Reconnect(TokenRejected)),
            )
            .rule(Rule::any().to(Platform))
    });
    &MAP
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use socialconnect_core::http::ApiResponse;
    use socialconnect_core::id::PlatformId;
    use socialconnect_core::{Error, ErrorKind};

    use super::*;

    fn map(body: &str) -> Error {
        let resp = ApiResponse::new(400, Default::default(), body.to_owned().into());
        graph_errors()
            .error(&PlatformId::FACEBOOK, &resp, Some(Duration::from_secs(60)))
            .unwrap()
    }

    #[test]
    fn codes_map_to_kinds() {
        let e = map(
            r#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbC"}}"#,
        );
        assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
        assert!(matches!(
            e,
            Error::ReconnectRequired {
                reason: ReconnectReason::SessionInvalidated,
                ..
            }
        ));
        let p = e.platform_error().unwrap();
        assert_eq!(
            (p.code, p.subcode, p.trace_id.as_deref()),
            (Some(190), Some(460), Some("AbC"))
        );
        for code in ["4", "17", "32", "613", "80001", "80014"] {
            let e = map(&format!(
                r#"{{"error":{{"message":"limit","code":{code}}}}}"#
            ));
            assert_eq!(
                e.kind(),
                ErrorKind::Throttled {
                    retry_after: Some(Duration::from_secs(60))
                },
                "{code}"
            );
        }
        assert_eq!(
            map(r#"{"error":{"code":9,"error_subcode":2207042}}"#).kind(),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(60))
            }
        );
        assert_eq!(
            map(r#"{"error":{"code":10}}"#).kind(),
            ErrorKind::MissingScopes
        );
        assert_eq!(
            map(r#"{"error":{"code":200}}"#).kind(),
            ErrorKind::MissingScopes
        );
        assert_eq!(
            map(r#"{"error":{"code":299}}"#).kind(),
            ErrorKind::MissingScopes
        );
        assert_eq!(
            map(r#"{"error":{"code":100}}"#).kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(map(r#"{"error":{"code":1}}"#).kind(), ErrorKind::Transient);
        assert_eq!(map(r#"{"error":{"code":2}}"#).kind(), ErrorKind::Transient);
        assert_eq!(
            map(r#"{"error":{"code":-2,"error_subcode":2207003,"is_transient":true}}"#).kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            map(r#"{"error":{"code":"190"}}"#).kind(),
            ErrorKind::ReconnectRequired
        );
        assert_eq!(
            map(r#"{"error":{"code":36000,"error_subcode":2207004}}"#).kind(),
            ErrorKind::Platform
        );
    }

    #[test]
    fn a_policy_block_is_not_a_rate_limit() {
        let e = map(r#"{"error":{"message":"blocked","code":368,"error_subcode":1390008}}"#);
        assert_eq!(e.kind(), ErrorKind::PolicyBlocked);
        assert_eq!(e.platform_error().unwrap().code, Some(368));
    }

    #[test]
    fn malformed_envelopes_are_not_errors_of_their_own() {
        for body in ["", "{", "[]", r#"{"error":"x"}"#, r#"{"data":[]}"#] {
            assert!(graph_errors().parse(body.as_bytes()).is_none(), "{body}");
        }
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "m".repeat(10_000));
        let parsed = graph_errors().parse(long.as_bytes()).unwrap();
        assert!(parsed.message.unwrap().len() <= 512);
    }
}
