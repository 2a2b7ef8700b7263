//! The Graph error envelope and how it maps to SocialConnect's error kinds.
//!
//! Logic keys on `error.code`, `error.error_subcode` and `is_transient`, never on the HTTP
//! status: Graph answers most errors, throttling and expired tokens included, with HTTP 400.

use std::time::Duration;

use serde::Deserialize;
use socialconnect_core::Error;
use socialconnect_core::connect::decode;
use socialconnect_core::error::{PlatformError, ReconnectReason};
use socialconnect_core::http::ApiResponse;
use socialconnect_core::id::PlatformId;

/// Largest body the envelope parser looks at.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A Graph API error as Meta sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphError {
    /// `error.message`.
    pub message: String,
    /// `error.type`, e.g. `OAuthException`.
    pub error_type: Option<String>,
    /// `error.code` (may be negative for Instagram).
    pub code: Option<i64>,
    /// `error.error_subcode`.
    pub subcode: Option<i64>,
    /// `error.fbtrace_id`.
    pub fbtrace_id: Option<String>,
    /// `error.is_transient`.
    pub is_transient: bool,
    /// `error.error_user_title`, localized.
    pub user_title: Option<String>,
    /// `error.error_user_msg`, localized.
    pub user_message: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: Wire,
}

/// Codes as numbers or numeric strings (anything else is absent); strings bounded as they
/// are read, so a huge message is never copied whole.
#[derive(Deserialize)]
struct Wire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    message: Option<String>,
    #[serde(
        default,
        rename = "type",
        deserialize_with = "decode::opt_bounded_string::<_, 128>"
    )]
    error_type: Option<String>,
    #[serde(default, deserialize_with = "decode::loose_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "decode::loose_i64")]
    error_subcode: Option<i64>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 128>")]
    fbtrace_id: Option<String>,
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    is_transient: Option<bool>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    error_user_title: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    error_user_msg: Option<String>,
}

impl GraphError {
    /// Reads `{"error": {...}}`; `None` when the body is not a Graph error envelope.
    pub fn parse(body: &[u8]) -> Option<GraphError> {
        if body.len() > MAX_ERROR_BODY {
            return None;
        }
        let e = serde_json::from_slice::<Envelope>(body).ok()?.error;
        Some(GraphError {
            message: e.message.unwrap_or_else(|| "Graph API error".to_owned()),
            error_type: e.error_type,
            code: e.code,
            subcode: e.error_subcode,
            fbtrace_id: e.fbtrace_id,
            is_transient: e.is_transient.unwrap_or(false),
            user_title: e.error_user_title,
            user_message: e.error_user_msg,
        })
    }

    /// The platform details SocialConnect errors carry.
    pub fn detail(&self, platform: &PlatformId, status: u16) -> PlatformError {
        let mut d = PlatformError::new(Some(platform.clone()), self.message.clone())
            .with_status(status)
            .with_code(self.code, self.subcode);
        if let Some(t) = &self.error_type {
            d = d.with_type(t.clone());
        }
        if let Some(t) = &self.fbtrace_id {
            d = d.with_trace_id(t.clone());
        }
        d
    }

    /// Maps to an error kind: 190/102 → `ReconnectRequired`, throttling codes → `Throttled`
    /// (with `retry_after` from the usage headers), 10/3/200–299 → `MissingScopes`,
    /// 100/506 → `InvalidInput`, 1/2/`is_transient` → `Transient`, anything else `Platform`.
    pub fn into_error(
        self,
        platform: &PlatformId,
        status: u16,
        retry_after: Option<Duration>,
    ) -> Error {
        let boxed = Box::new(self.detail(platform, status));
        let detail = Some(boxed.clone());
        let code = self.code.unwrap_or(0);
        match code {
            190 | 102 => Error::ReconnectRequired {
                reason: match self.subcode {
                    Some(458) => ReconnectReason::Revoked,
                    Some(459 | 460 | 464) => ReconnectReason::SessionInvalidated,
                    Some(463) => ReconnectReason::Expired,
                    _ => ReconnectReason::TokenRejected,
                },
                platform: detail,
            },
            // App, user, page, custom and Business Use Case throttling; 341 application limit;
            // A policy block lifts on Meta's review, not on a timer.
            368 => Error::PolicyBlocked { platform: detail },
            // Instagram's 9/2207042 publish limit.
            4 | 17 | 32 | 341 | 613 | 80_000..=80_014 => Error::Throttled {
                retry_after,
                platform: detail,
            },
            9 if self.subcode == Some(2_207_042) => Error::Throttled {
                retry_after,
                platform: detail,
            },
            3 | 10 | 200..=299 => Error::MissingScopes {
                missing: Vec::new(),
                platform: detail,
            },
            100 | 506 => Error::InvalidInput {
                message: self.message,
                platform: detail,
            },
            1 | 2 => Error::Transient {
                message: self.message,
                platform: detail,
            },
            _ if self.is_transient => Error::Transient {
                message: self.message,
                platform: detail,
            },
            _ if self.error_type.as_deref() == Some("OAuthException") && self.code.is_none() => {
                Error::ReconnectRequired {
                    reason: ReconnectReason::TokenRejected,
                    platform: detail,
                }
            }
            _ => Error::Platform(boxed),
        }
    }
}

/// The error a non-2xx Graph response stands for: the envelope when there is one, else the
/// HTTP status alone (a 5xx to a publish is `MaybeSent`).
pub(crate) fn response_error(
    platform: &PlatformId,
    resp: &ApiResponse,
    retry_after: Option<Duration>,
) -> Error {
    match GraphError::parse(resp.body()) {
        Some(g) => g.into_error(platform, resp.status(), retry_after),
        None => resp.status_error(),
    }
}

#[cfg(test)]
mod tests {
    use socialconnect_core::ErrorKind;

    use super::*;

    fn map(body: &str) -> Error {
        GraphError::parse(body.as_bytes()).unwrap().into_error(
            &PlatformId::FACEBOOK,
            400,
            Some(Duration::from_secs(60)),
        )
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
            assert!(GraphError::parse(body.as_bytes()).is_none(), "{body}");
        }
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "m".repeat(10_000));
        assert!(GraphError::parse(long.as_bytes()).unwrap().message.len() <= 512);
    }
}
