//! The error taxonomy: one error type whose [`Error::kind`] tells a host what to do next.

use std::fmt;
use std::time::Duration;

use crate::id::{InvalidId, PlatformId, Purpose, Scope};

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a host can do about an error. Match on this, never on error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection's authorization is gone (expired, revoked, password changed): send the end
    /// user through `connect` again.
    ReconnectRequired,
    /// Rate limited; retry after the given wait when known.
    Throttled {
        /// How long to wait before trying again, when the platform said.
        retry_after: Option<Duration>,
    },
    /// The platform blocked the action under its policies (Meta code 368, "temporarily blocked
    /// for policy violations"; TikTok's `spam_risk_*` errors). Unlike [`ErrorKind::Throttled`],
    /// waiting out a timer does not lift it: do not retry automatically; tell the end user or an
    /// operator, and keep the platform's code for them.
    PolicyBlocked,
    /// The token lacks a permission the call needs; reconnect asking for more scopes.
    MissingScopes,
    /// The consent ledger does not permit this purpose for this subject and platform.
    ConsentRequired,
    /// The request was rejected as malformed; retrying it unchanged will fail again.
    InvalidInput,
    /// A temporary failure; the same call may succeed later.
    Transient,
    /// A non-idempotent call (a publish, a message) failed after it may have reached the
    /// platform. Check before repeating it, or it may happen twice.
    MaybeSent,
    /// The platform returned an error that fits no other kind, or a response we could not decode.
    Platform,
    /// The token store, ledger or log failed.
    Storage,
    /// Encryption, decryption or a signature check failed.
    Crypto,
    /// The SDK is misconfigured (missing key, bad URL, unknown platform).
    Config,
    /// The end user is below the minimum age for this service in their jurisdiction (see
    /// [`crate::age::AgePolicy`]). Not retryable with the same attestation; do not ask again
    /// hoping for a different answer.
    AgeRestricted,
    /// An API key of the host's own API was missing a valid credential or a needed scope (see
    /// [`crate::apikey::ApiKeys`]). Answer the API client with 401 (or 403 for
    /// [`ApiKeyRejection::MissingScope`]).
    Unauthorized,
    /// The end user (or the platform on their behalf) declined the authorization at the
    /// consent screen: the callback carried `error=access_denied`. Nothing was stored; offer
    /// to connect again, do not retry on your own.
    AuthorizationDenied,
    /// The thing asked for (a scheduled action) does not exist, or not for this subject.
    NotFound,
    /// The change conflicts with the thing's state (cancelling an action that already ran, or
    /// that an instance is running right now): read it again and decide.
    Conflict,
}

impl ErrorKind {
    /// A stable snake_case name (`reconnect_required`, `throttled`, …): what the usage log
    /// records and what JSON answers carry.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::ReconnectRequired => "reconnect_required",
            ErrorKind::Throttled { .. } => "throttled",
            ErrorKind::PolicyBlocked => "policy_blocked",
            ErrorKind::MissingScopes => "missing_scopes",
            ErrorKind::ConsentRequired => "consent_required",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Transient => "transient",
            ErrorKind::MaybeSent => "maybe_sent",
            ErrorKind::Platform => "platform",
            ErrorKind::Storage => "storage",
            ErrorKind::Crypto => "crypto",
            ErrorKind::Config => "config",
            ErrorKind::AgeRestricted => "age_restricted",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::AuthorizationDenied => "authorization_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
        }
    }
}

/// Why a connection needs the end user to connect again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectReason {
    /// The access token expired and cannot be refreshed.
    Expired,
    /// The user or platform revoked the authorization.
    Revoked,
    /// The refresh token was rejected (`invalid_grant`).
    InvalidGrant,
    /// The platform says the session was invalidated (password change, security checkpoint).
    SessionInvalidated,
    /// The connection was marked as needing reconnection after an earlier definitive failure.
    MarkedByEarlierFailure,
    /// No stored token for this connection.
    NotConnected,
    /// The platform answered 401 to a call made with the token.
    TokenRejected,
    /// The platform rejected the authorization code (`invalid_grant` on the code exchange:
    /// expired, already used, or issued for another redirect URI); start the authorization
    /// again.
    CodeRejected,
}

impl fmt::Display for ReconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReconnectReason::Expired => "token expired",
            ReconnectReason::Revoked => "authorization revoked",
            ReconnectReason::InvalidGrant => "refresh token rejected",
            ReconnectReason::SessionInvalidated => "session invalidated by the platform",
            ReconnectReason::MarkedByEarlierFailure => "connection marked for reconnection",
            ReconnectReason::NotConnected => "no stored token",
            ReconnectReason::TokenRejected => "token rejected by the platform",
            ReconnectReason::CodeRejected => "authorization code rejected",
        })
    }
}

/// What a platform said about a failed call: its own code, subcode and trace id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PlatformError {
    /// The platform.
    pub platform: Option<PlatformId>,
    /// HTTP status of the response.
    pub http_status: Option<u16>,
    /// The platform's numeric error code (Meta `code`), when it has one.
    pub code: Option<i64>,
    /// The platform's error subcode (Meta `error_subcode`).
    pub subcode: Option<i64>,
    /// The platform's symbolic error (OAuth `error`, Meta `type`, TikTok `error.code`).
    pub error_type: Option<String>,
    /// The platform's message, bounded in length.
    pub message: String,
    /// The platform's trace / request id (Meta `fbtrace_id`, TikTok `log_id`).
    pub trace_id: Option<String>,
    /// The platform's reason beside its symbolic error (Meta's `error_reason`, e.g.
    /// `user_denied`, on a denied authorization).
    pub reason: Option<String>,
}

impl PlatformError {
    /// A platform error with a message (truncated to 512 bytes).
    pub fn new(platform: Option<PlatformId>, message: impl Into<String>) -> Self {
        Self {
            platform,
            message: bounded(message.into(), 512),
            ..Self::default()
        }
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// Sets code and subcode.
    pub fn with_code(mut self, code: Option<i64>, subcode: Option<i64>) -> Self {
        self.code = code;
        self.subcode = subcode;
        self
    }

    /// Sets the symbolic error type.
    pub fn with_type(mut self, error_type: impl Into<String>) -> Self {
        self.error_type = Some(bounded(error_type.into(), 128));
        self
    }

    /// Sets the trace id.
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(bounded(trace_id.into(), 128));
        self
    }

    /// Sets the reason (truncated to 128 bytes).
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(bounded(reason.into(), 128));
        self
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.platform {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(s) = self.http_status {
            write!(f, " (http {s}")?;
            if let Some(c) = self.code {
                write!(f, ", code {c}")?;
            }
            if let Some(c) = self.subcode {
                write!(f, ", subcode {c}")?;
            }
            if let Some(t) = &self.trace_id {
                write!(f, ", trace {t}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A response body that did not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// JSON path to the offending value (`data[3].id`), `.` for the root.
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// The start of the body (at most 256 bytes) with the values of token- and secret-like keys
    /// blanked; `None` when the body may hold a secret (token endpoint responses).
    pub excerpt: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.message)?;
        if let Some(e) = &self.excerpt {
            write!(f, " (body starts: {e})")?;
        }
        Ok(())
    }
}

/// Why a well-formed API key of the host's own API was not accepted (see
/// [`crate::apikey::ApiKeys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiKeyRejection {
    /// No key has this id, or the secret does not match (deliberately one reason: no oracle).
    Invalid,
    /// The key was revoked.
    Revoked,
    /// The key is past its expiry.
    Expired,
    /// The key was rotated and its grace period is over.
    Superseded,
    /// The key is valid but lacks the scope the operation needs.
    MissingScope,
}

impl ApiKeyRejection {
    /// A stable name: `invalid`, `revoked`, `expired`, `superseded`, `missing_scope`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApiKeyRejection::Invalid => "invalid",
            ApiKeyRejection::Revoked => "revoked",
            ApiKeyRejection::Expired => "expired",
            ApiKeyRejection::Superseded => "superseded",
            ApiKeyRejection::MissingScope => "missing_scope",
        }
    }
}

impl fmt::Display for ApiKeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SocialConnect error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::ReconnectRequired`].
    #[error("reconnect required: {reason}")]
    ReconnectRequired {
        /// Why.
        reason: ReconnectReason,
        /// The platform's error, when it said something.
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::Throttled`].
    #[error("throttled{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs_f64())).unwrap_or_default())]
    Throttled {
        /// How long to wait.
        retry_after: Option<Duration>,
        /// The platform's error, when it said something.
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::PolicyBlocked`].
    #[error("blocked by the platform's policy{}", platform.as_ref().map(|p| format!(": {p}")).unwrap_or_default())]
    PolicyBlocked {
        /// The platform's error (its code is what an operator needs).
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::MissingScopes`].
    #[error("missing scopes{}", if missing.is_empty() { String::new() } else { format!(": {}", missing.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")) })]
    MissingScopes {
        /// The scopes known to be missing (may be empty when the platform did not say).
        missing: Vec<Scope>,
        /// The platform's error, when it said something.
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::ConsentRequired`].
    #[error("no consent or declared legal basis for purpose `{purpose}` on {platform}")]
    ConsentRequired {
        /// The purpose asked for.
        purpose: Purpose,
        /// The platform.
        platform: PlatformId,
    },
    /// See [`ErrorKind::InvalidInput`].
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What was wrong.
        message: String,
        /// The platform's error when the platform rejected it.
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::Transient`].
    #[error("temporary failure: {message}")]
    Transient {
        /// What happened.
        message: String,
        /// The platform's error, when it said something.
        platform: Option<Box<PlatformError>>,
    },
    /// See [`ErrorKind::MaybeSent`].
    #[error("outcome unknown, the request may have been sent: {message}")]
    MaybeSent {
        /// What happened.
        message: String,
    },
    /// See [`ErrorKind::Platform`].
    #[error("platform error: {0}")]
    Platform(Box<PlatformError>),
    /// A response that could not be decoded; kind [`ErrorKind::Platform`].
    #[error("unexpected response {0}")]
    Decode(Box<DecodeError>),
    /// See [`ErrorKind::Storage`].
    #[error("storage: {message}")]
    Storage {
        /// What failed.
        message: String,
        /// The backend's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// See [`ErrorKind::Crypto`].
    #[error("crypto: {0}")]
    Crypto(String),
    /// See [`ErrorKind::Config`].
    #[error("configuration: {0}")]
    Config(String),
    /// See [`ErrorKind::AgeRestricted`]. Carries the minimum that applied and nothing about the
    /// end user (no age, no birth date), so it is safe to log.
    #[error("below the minimum age of {minimum_age} for this service in this jurisdiction")]
    AgeRestricted {
        /// The minimum age that applied.
        minimum_age: u8,
    },
    /// See [`ErrorKind::Unauthorized`]. Never carries the presented key, only its public id.
    #[error("API key rejected: {reason}")]
    ApiKeyRejected {
        /// The key's public id, when the presented key was well-formed.
        key_id: Option<crate::id::ApiKeyId>,
        /// Why.
        reason: ApiKeyRejection,
    },
    /// The token endpoint refused the app's own credentials (`invalid_client`,
    /// `unauthorized_client`: a reset secret, a wrong client id, a grant the app may not use);
    /// kind [`ErrorKind::Config`]. The platform's error code and HTTP status are in the detail.
    #[error("configuration: the platform rejected the app credentials: {0}")]
    ClientRejected(Box<PlatformError>),
    /// See [`ErrorKind::AuthorizationDenied`]. The detail holds the callback's `error`
    /// (`error_type`), `error_reason` (`reason`) and `error_description` (`message`).
    #[error("authorization denied: {0}")]
    AuthorizationDenied(Box<PlatformError>),
    /// See [`ErrorKind::NotFound`].
    #[error("not found: {what}")]
    NotFound {
        /// What was not found (`scheduled action`).
        what: &'static str,
    },
    /// See [`ErrorKind::Conflict`].
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
}

impl From<InvalidId> for Error {
    fn from(e: InvalidId) -> Self {
        Error::invalid_input(e.message().to_owned())
    }
}

impl Error {
    /// What the host can do about it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::ReconnectRequired { .. } => ErrorKind::ReconnectRequired,
            Error::Throttled { retry_after, .. } => ErrorKind::Throttled {
                retry_after: *retry_after,
            },
            Error::PolicyBlocked { .. } => ErrorKind::PolicyBlocked,
            Error::MissingScopes { .. } => ErrorKind::MissingScopes,
            Error::ConsentRequired { .. } => ErrorKind::ConsentRequired,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Transient { .. } => ErrorKind::Transient,
            Error::MaybeSent { .. } => ErrorKind::MaybeSent,
            Error::Platform(_) | Error::Decode(_) => ErrorKind::Platform,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Crypto(_) => ErrorKind::Crypto,
            Error::Config(_) => ErrorKind::Config,
            Error::AgeRestricted { .. } => ErrorKind::AgeRestricted,
            Error::ApiKeyRejected { .. } => ErrorKind::Unauthorized,
            Error::ClientRejected(_) => ErrorKind::Config,
            Error::AuthorizationDenied(_) => ErrorKind::AuthorizationDenied,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
        }
    }

    /// The platform's own error details, when the platform said something.
    pub fn platform_error(&self) -> Option<&PlatformError> {
        match self {
            Error::ReconnectRequired { platform, .. }
            | Error::Throttled { platform, .. }
            | Error::PolicyBlocked { platform }
            | Error::MissingScopes { platform, .. }
            | Error::InvalidInput { platform, .. }
            | Error::Transient { platform, .. } => platform.as_deref(),
            Error::Platform(p) | Error::ClientRejected(p) | Error::AuthorizationDenied(p) => {
                Some(p)
            }
            _ => None,
        }
    }

    /// An [`ErrorKind::InvalidInput`] error raised by SocialConnect itself.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            platform: None,
        }
    }

    /// An [`ErrorKind::Transient`] error raised by SocialConnect itself.
    pub fn transient(message: impl Into<String>) -> Self {
        Error::Transient {
            message: message.into(),
            platform: None,
        }
    }

    /// An [`ErrorKind::ReconnectRequired`] error with no platform detail.
    pub fn reconnect(reason: ReconnectReason) -> Self {
        Error::ReconnectRequired {
            reason,
            platform: None,
        }
    }

    /// An [`ErrorKind::Storage`] error.
    pub fn storage(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Storage {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An [`ErrorKind::Storage`] error with no underlying source.
    pub fn storage_msg(message: impl Into<String>) -> Self {
        Error::Storage {
            message: message.into(),
            source: None,
        }
    }

    /// An [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    /// Decodes `body` as JSON into `T`, keeping the JSON path and a redacted excerpt on failure.
    pub fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
        decode_with(body, true)
    }

    /// Like [`Error::decode_json`] but never includes a body excerpt: for bodies that may hold
    /// secrets, such as token endpoint responses.
    pub fn decode_json_secret<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
        decode_with(body, false)
    }
}

fn decode_with<T: serde::de::DeserializeOwned>(body: &[u8], excerpt: bool) -> Result<T> {
    let fail = |path: String, message: String| {
        Error::Decode(Box::new(DecodeError {
            path,
            message: bounded(message, 256),
            excerpt: excerpt.then(|| redacted_excerpt(body, 256)),
        }))
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| fail(e.path().to_string(), e.inner().to_string()))?;
    de.end().map_err(|e| fail(".".to_owned(), e.to_string()))?;
    Ok(value)
}

/// Truncates to at most `max` bytes on a character boundary.
pub(crate) fn bounded(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The first `max` bytes of `body` as text, with the string value following any key whose name
/// mentions a token, secret, code, password or signature replaced by `"***"`.
pub(crate) fn redacted_excerpt(body: &[u8], max: usize) -> String {
    // Redact over a larger window than we show, so a value that straddles the cut is still caught.
    let window = &body[..body.len().min(max * 4)];
    let text = String::from_utf8_lossy(window);
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    const SENSITIVE: [&str; 6] = ["token", "secret", "code", "password", "signature", "key"];
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..=q]);
        rest = &rest[q + 1..];
        let Some(end) = rest.find('"') else { break };
        let key = &rest[..end];
        out.push_str(&rest[..=end]);
        rest = &rest[end + 1..];
        let lower = key.to_ascii_lowercase();
        let after = rest.trim_start();
        if after.starts_with(':') && SENSITIVE.iter().any(|s| lower.contains(s)) {
            let after_colon = after[1..].trim_start();
            if let Some(value) = after_colon.strip_prefix('"') {
                let close = value.find('"').unwrap_or(value.len());
                out.push_str(":\"***\"");
                rest = value.get(close + 1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    bounded(out, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // fields exist to be decoded; only the failure is under test
    struct Page {
        data: Vec<Item>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // as above
    struct Item {
        id: String,
    }

    #[test]
    fn decode_error_keeps_path_and_redacts() {
        let body = br#"{"access_token":"SECRET123","data":[{"id":"1"},{"id":7}]}"#;
        let err = Error::decode_json::<Page>(body).unwrap_err();
        let Error::Decode(d) = &err else {
            panic!("not a decode error")
        };
        assert_eq!(d.path, "data[1].id");
        let excerpt = d.excerpt.as_deref().unwrap();
        assert!(!excerpt.contains("SECRET123"), "{excerpt}");
        assert!(!err.to_string().contains("SECRET123"));
        assert_eq!(err.kind(), ErrorKind::Platform);

        let err = Error::decode_json_secret::<Page>(body).unwrap_err();
        let Error::Decode(d) = &err else {
            panic!("not a decode error")
        };
        assert!(d.excerpt.is_none());
    }

    #[test]
    fn excerpt_is_bounded_and_survives_garbage() {
        let body = vec![b'"'; 10_000];
        assert!(redacted_excerpt(&body, 256).len() <= 260);
        let body = b"\"token\": \"unterminated";
        assert!(!redacted_excerpt(body, 256).contains("unterminated"));
        let body = "é".repeat(500);
        assert!(redacted_excerpt(body.as_bytes(), 255).len() <= 260);
    }

    #[test]
    fn kinds_are_mapped() {
        let e = Error::Throttled {
            retry_after: Some(Duration::from_secs(3)),
            platform: None,
        };
        assert_eq!(
            e.kind(),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            Error::reconnect(ReconnectReason::Expired).kind(),
            ErrorKind::ReconnectRequired
        );
    }
}
