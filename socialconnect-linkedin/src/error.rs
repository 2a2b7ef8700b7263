//! LinkedIn's error body and how it maps to SocialConnect's error kinds, as a table on the
//! platform kit's [`ErrorMap`], plus the two cases a table cannot say (a sunset version, a day
//! limit), as classifiers.
//!
//! The body is the error itself: `{"status", "serviceErrorCode", "code"?, "message"}`.
//!
//! | status / code | kind |
//! |---|---|
//! | 401 `INVALID_ACCESS_TOKEN` (65600), `EXPIRED_ACCESS_TOKEN`, `REVOKED_ACCESS_TOKEN` | `ReconnectRequired` |
//! | 403 `ACCESS_DENIED` (100) | `MissingScopes`, the message naming resource and method |
//! | 404 `RESOURCE_NOT_FOUND` | `InvalidInput` (core has no not-found kind) |
//! | 422 validation | `InvalidInput`, the message carrying the field path |
//! | 426 `NONEXISTENT_VERSION` | `Config`, naming the version sent |
//! | 429 (101) | `Throttled`; until the next midnight UTC when the message names a DAY limit |

use std::sync::LazyLock;

use chrono::Utc;
use socialconnect_core::connect::classify::{Exchange, Verdict};
use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
use socialconnect_core::error::{PlatformError, ReconnectReason};
use socialconnect_core::http::until_next_midnight;
use socialconnect_core::{Error, ErrorKind};

/// LinkedIn's error body, read from the root.
pub fn api_envelope() -> EnvelopeFormat {
    EnvelopeFormat::at("")
        .code("/serviceErrorCode")
        .error_type("/code")
        .message("/message")
}

/// The LinkedIn error table (see the module docs).
pub fn api_errors() -> &'static ErrorMap {
    static MAP: LazyLock<ErrorMap> = LazyLock::new(|| {
        use Outcome::*;
        use ReconnectReason::*;
        ErrorMap::new(api_envelope())
            .rule(
                Rule::any()
                    .error_type("EXPIRED_ACCESS_TOKEN")
                    .to(Reconnect(Expired)),
            )
            .rule(
                Rule::any()
                    .error_type("REVOKED_ACCESS_TOKEN")
                    .to(Reconnect(Revoked)),
            )
            .rule(
                Rule::any()
                    .error_type("INVALID_ACCESS_TOKEN")
                    .to(Reconnect(TokenRejected)),
            )
            .rule(Rule::code(65_600).to(Reconnect(TokenRejected)))
            .rule(Rule::any().status(401).to(Reconnect(TokenRejected)))
            .rule(Rule::any().error_type("ACCESS_DENIED").to(MissingScopes))
            .rule(Rule::code(100).status(403).to(MissingScopes))
            .rule(Rule::any().status(429).to(Throttled))
            .rule(Rule::code(101).to(Throttled))
    });
    &MAP
}

/// A 426 for a sunset `LinkedIn-Version`: a `Config` error that names the version sent, so the
/// host knows to move the pin.
pub fn sunset_version(version: String) -> impl Fn(&Exchange<'_>) -> Verdict + Send + Sync {
    move |x: &Exchange<'_>| {
        if x.response.status() != 426 {
            return Verdict::Continue;
        }
        Verdict::Reject(Error::config(format!(
            "LinkedIn no longer serves API version {version} (HTTP 426 NONEXISTENT_VERSION): \
             move the pin (LinkedInConfig::with_version) to a supported YYYYMM version"
        )))
    }
}

/// A 429 whose message names a DAY limit waits until the next midnight UTC, when LinkedIn's
/// daily counters reset (it sends no `Retry-After`).
pub fn day_limit(x: &Exchange<'_>) -> Verdict {
    if x.response.status() != 429 {
        return Verdict::Continue;
    }
    let Some(envelope) = api_errors().parse(x.response.body()) else {
        return Verdict::Continue;
    };
    let says_day = envelope
        .message
        .as_deref()
        .is_some_and(|m| m.contains("DAY limit"));
    if !says_day {
        return Verdict::Continue;
    }
    let detail = envelope.detail(x.platform, 429);
    Verdict::Reject(Error::Throttled {
        retry_after: Some(until_next_midnight(Utc::now())),
        platform: Some(Box::new(detail)),
    })
}

/// The resource and method LinkedIn names in an `ACCESS_DENIED` message ("Not enough
/// permissions to access: posts.CREATE.20240101"), for a host's message to the member.
pub fn denied_resource(err: &Error) -> Option<(String, String)> {
    if err.kind() != ErrorKind::MissingScopes {
        return None;
    }
    let message: &PlatformError = err.platform_error()?;
    let rest = message.message.split("access:").nth(1)?.trim();
    let mut parts = rest.split('.');
    let resource = parts.next()?.trim();
    let method = parts.next()?.trim();
    (!resource.is_empty() && !method.is_empty()).then(|| (resource.to_owned(), method.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;
    use socialconnect_core::http::ApiResponse;
    use socialconnect_core::id::PlatformId;

    use super::*;

    fn map(status: u16, body: &str) -> Error {
        let resp = ApiResponse::new(status, Default::default(), body.to_owned().into());
        api_errors()
            .error(&PlatformId::LINKEDIN, &resp, None)
            .unwrap_or_else(|| resp.status_error())
    }

    #[test]
    fn documented_errors_map_to_kinds() {
        let e = map(
            401,
            r#"{"serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token","status":401}"#,
        );
        assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
        assert_eq!(e.platform_error().unwrap().code, Some(65_600));
        assert!(matches!(
            map(401, r#"{"code":"EXPIRED_ACCESS_TOKEN","status":401}"#),
            Error::ReconnectRequired {
                reason: ReconnectReason::Expired,
                ..
            }
        ));
        assert!(matches!(
            map(401, r#"{"code":"REVOKED_ACCESS_TOKEN","status":401}"#),
            Error::ReconnectRequired {
                reason: ReconnectReason::Revoked,
                ..
            }
        ));
        let denied = map(
            403,
            r#"{"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"Not enough permissions to access: posts.CREATE.20240101","status":403}"#,
        );
        assert_eq!(denied.kind(), ErrorKind::MissingScopes);
        assert_eq!(
            denied_resource(&denied),
            Some(("posts".into(), "CREATE".into()))
        );
        assert_eq!(
            map(404, r#"{"code":"RESOURCE_NOT_FOUND","message":"No virtual resource found","status":404}"#).kind(),
            ErrorKind::InvalidInput
        );
        let invalid = map(
            422,
            r#"{"message":"ERROR :: /author :: urn:li:person:x does not match urn:li:company:\\d+\n","status":422}"#,
        );
        assert_eq!(invalid.kind(), ErrorKind::InvalidInput);
        assert!(invalid.to_string().contains("/author"), "{invalid}");
        assert!(matches!(
            map(429, r#"{"serviceErrorCode":101,"message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached.","status":429}"#).kind(),
            ErrorKind::Throttled { .. }
        ));
    }

    #[test]
    fn a_day_limit_waits_for_midnight_utc_and_a_sunset_version_names_itself() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 23, 0, 0).unwrap();
        assert_eq!(until_next_midnight(now), Duration::from_secs(3600));
        let body = r#"{"serviceErrorCode":101,"message":"Resource level throttle MEMBER DAY limit for calls to this resource is reached.","status":429}"#;
        let resp = ApiResponse::new(429, Default::default(), body.into());
        let x = Exchange {
            platform: &PlatformId::LINKEDIN,
            response: &resp,
            retry_after: None,
        };
        let Verdict::Reject(e) = day_limit(&x) else {
            panic!("not rejected")
        };
        let ErrorKind::Throttled {
            retry_after: Some(wait),
        } = e.kind()
        else {
            panic!("{e:?}")
        };
        assert!(wait <= Duration::from_secs(86_400));
        let resp = ApiResponse::new(
            426,
            Default::default(),
            r#"{"code":"NONEXISTENT_VERSION","status":426}"#.into(),
        );
        let x = Exchange {
            platform: &PlatformId::LINKEDIN,
            response: &resp,
            retry_after: None,
        };
        let Verdict::Reject(e) = sunset_version("202511".into())(&x) else {
            panic!("not rejected")
        };
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("202511"), "{e}");
    }
}
