//! Error envelopes as data: where a platform puts its error in a JSON body, and an ordered
//! table that maps what is found there (and the HTTP status) to core's error kinds.
//!
//! A platform declares its envelope once:
//!
//! ```
//! use socialconnect_core::connect::envelope::{EnvelopeFormat, ErrorMap, Outcome, Rule};
//! use socialconnect_core::error::ReconnectReason;
//!
//! // TikTok: `{"data": {...}, "error": {"code": "ok", "message": "", "log_id": "..."}}`,
//! // errors reported inside HTTP 200 answers.
//! let tiktok = ErrorMap::new(
//!     EnvelopeFormat::at("/error")
//!         .code("/code")
//!         .message("/message")
//!         .trace_id("/log_id")
//!         .success_code("ok"),
//! )
//! .errors_in_success_bodies()
//! .rule(Rule::text("access_token_invalid").to(Outcome::Reconnect(ReconnectReason::TokenRejected)))
//! .rule(Rule::prefix("spam_risk_").to(Outcome::PolicyBlocked))
//! .rule(Rule::text("rate_limit_exceeded").to(Outcome::Throttled));
//!
//! let body = br#"{"data":{},"error":{"code":"spam_risk_too_many_posts","message":"slow down","log_id":"L1"}}"#;
//! let found = tiktok.parse(body).unwrap();
//! assert_eq!(found.code_text.as_deref(), Some("spam_risk_too_many_posts"));
//! assert_eq!(tiktok.outcome(&found, 200), Some(Outcome::PolicyBlocked));
//! ```
//!
//! Rules are tried in order; the first that matches decides. A response whose envelope no rule
//! matches falls back to its HTTP status ([`Outcome::ByStatus`]), keeping the envelope's code,
//! message and trace id as the error's [`PlatformError`] detail, so the raw code reaches logs.
//!
//! Parsing is bounded: bodies over [`MAX_ENVELOPE_BODY`] are not looked at, strings are cut
//! to a few hundred bytes, and anything that is not JSON (an HTML error page, an empty or
//! truncated body) is simply "no envelope": the status decides.

use std::time::Duration;

use serde_json::Value;

use crate::connect::decode::bounded;
use crate::connect::http::ApiResponse;
use crate::error::{Error, PlatformError, ReconnectReason};
use crate::id::PlatformId;

/// Largest body the envelope parser looks at; an error envelope is a few hundred bytes.
pub const MAX_ENVELOPE_BODY: usize = 64 * 1024;

const MAX_MESSAGE: usize = 512;
const MAX_SYMBOL: usize = 128;

/// Where a platform's error fields sit, as JSON pointers (RFC 6901): the envelope's root, and
/// each field relative to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeFormat {
    root: String,
    code: Option<String>,
    subcode: Option<String>,
    error_type: Option<String>,
    message: Option<String>,
    trace_id: Option<String>,
    trace_header: Option<String>,
    transient: Option<String>,
    success_code: Option<String>,
}

impl EnvelopeFormat {
    /// An envelope rooted at `root` (`"/error"` for Meta and TikTok, `""` for a body that is
    /// the error itself, as LinkedIn's and Pinterest's are).
    pub fn at(root: &str) -> Self {
        Self {
            root: root.to_owned(),
            ..Self::default()
        }
    }

    /// The error code: a number, a numeric string, or a symbol such as `access_token_invalid`.
    pub fn code(mut self, pointer: &str) -> Self {
        self.code = Some(pointer.to_owned());
        self
    }

    /// The error subcode (Meta's `error_subcode`).
    pub fn subcode(mut self, pointer: &str) -> Self {
        self.subcode = Some(pointer.to_owned());
        self
    }

    /// A second symbolic field beside the code (Meta's `type`, LinkedIn's `code` beside its
    /// numeric `serviceErrorCode`).
    pub fn error_type(mut self, pointer: &str) -> Self {
        self.error_type = Some(pointer.to_owned());
        self
    }

    /// The human-readable message.
    pub fn message(mut self, pointer: &str) -> Self {
        self.message = Some(pointer.to_owned());
        self
    }

    /// The platform's request or trace id (Meta `fbtrace_id`, TikTok `log_id`).
    pub fn trace_id(mut self, pointer: &str) -> Self {
        self.trace_id = Some(pointer.to_owned());
        self
    }

    /// A response header carrying the request id when the body has none (Pinterest's
    /// `x-pinterest-rid`), kept in the error for the platform's support.
    pub fn trace_header(mut self, name: &str) -> Self {
        self.trace_header = Some(name.to_ascii_lowercase());
        self
    }

    /// A boolean saying the error is temporary (Meta's `is_transient`).
    pub fn transient(mut self, pointer: &str) -> Self {
        self.transient = Some(pointer.to_owned());
        self
    }

    /// The code a successful answer carries in its envelope (TikTok's `"ok"`): such an
    /// envelope is not an error.
    pub fn success_code(mut self, code: &str) -> Self {
        self.success_code = Some(code.to_owned());
        self
    }

    /// Reads the envelope from `body`; `None` when the body is not JSON, is over
    /// [`MAX_ENVELOPE_BODY`], has no object at the root, or carries the success code.
    pub fn parse(&self, body: &[u8]) -> Option<Envelope> {
        if body.is_empty() || body.len() > MAX_ENVELOPE_BODY {
            return None;
        }
        let json: Value = serde_json::from_slice(body).ok()?;
        let root = json.pointer(&self.root).filter(|v| v.is_object())?;
        let field = |p: &Option<String>| p.as_deref().and_then(|p| root.pointer(p));
        let (code, code_text) = match field(&self.code) {
            Some(Value::Number(n)) => (n.as_i64(), None),
            Some(Value::String(s)) => match s.trim().parse::<i64>() {
                Ok(n) => (Some(n), None),
                Err(_) => (None, Some(bounded(s.clone(), MAX_SYMBOL))),
            },
            _ => (None, None),
        };
        if let (Some(ok), Some(text)) = (&self.success_code, &code_text)
            && ok == text
        {
            return None;
        }
        let text = |p: &Option<String>, max: usize| match field(p) {
            Some(Value::String(s)) if !s.is_empty() => Some(bounded(s.clone(), max)),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let subcode = match field(&self.subcode) {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let transient = match field(&self.transient) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Some(Envelope {
            code,
            code_text,
            subcode,
            error_type: text(&self.error_type, MAX_SYMBOL),
            message: text(&self.message, MAX_MESSAGE),
            trace_id: text(&self.trace_id, MAX_SYMBOL),
            transient,
        })
    }
}

/// One error envelope as read from a body: every field bounded, every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// A numeric code (or a numeric string).
    pub code: Option<i64>,
    /// A symbolic code (TikTok's `access_token_invalid`), when the code is not a number.
    pub code_text: Option<String>,
    /// The subcode.
    pub subcode: Option<i64>,
    /// The second symbolic field (Meta's `type`, LinkedIn's `code`).
    pub error_type: Option<String>,
    /// The message.
    pub message: Option<String>,
    /// The platform's trace or request id.
    pub trace_id: Option<String>,
    /// Whether the platform marked the error temporary.
    pub transient: bool,
}

impl Envelope {
    /// The [`PlatformError`] detail an error built from this envelope carries.
    pub fn detail(&self, platform: &PlatformId, status: u16) -> PlatformError {
        let message = self
            .message
            .clone()
            .or_else(|| self.code_text.clone())
            .unwrap_or_else(|| format!("http {status}"));
        let mut d = PlatformError::new(Some(platform.clone()), message)
            .with_status(status)
            .with_code(self.code, self.subcode);
        if let Some(t) = self.code_text.as_ref().or(self.error_type.as_ref()) {
            d = d.with_type(t.clone());
        }
        if let Some(t) = &self.trace_id {
            d = d.with_trace_id(t.clone());
        }
        d
    }
}

/// What a matched envelope means, as one of core's error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The token is dead: `ReconnectRequired` with this reason.
    Reconnect(ReconnectReason),
    /// A rate limit: `Throttled`, retried after the wait the response gives.
    Throttled,
    /// A policy block (Meta 368, TikTok `spam_risk_*`): never retried on a timer.
    PolicyBlocked,
    /// The token lacks a permission.
    MissingScopes,
    /// The request was refused as malformed.
    InvalidInput,
    /// A temporary failure.
    Transient,
    /// A platform error with no better kind.
    Platform,
    /// The SDK is misconfigured for the platform (a sunset API version, say).
    Config,
    /// Decide by the HTTP status, keeping the envelope as detail.
    ByStatus,
}

/// One row of an [`ErrorMap`]: conditions on the envelope and status, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    code: Match<i64>,
    text: Match<String>,
    subcodes: Option<Vec<i64>>,
    statuses: Option<Vec<u16>>,
    error_type: Option<String>,
    transient: Option<bool>,
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Match<T> {
    Any,
    Absent,
    OneOf(Vec<T>),
    Range(T, T),
    Prefix(String),
}

impl Rule {
    fn new(code: Match<i64>, text: Match<String>) -> Self {
        Self {
            code,
            text,
            subcodes: None,
            statuses: None,
            error_type: None,
            transient: None,
            outcome: Outcome::Platform,
        }
    }

    /// Matches every envelope (narrow it with the other conditions).
    pub fn any() -> Self {
        Self::new(Match::Any, Match::Any)
    }

    /// A numeric code.
    pub fn code(code: i64) -> Self {
        Self::new(Match::OneOf(vec![code]), Match::Any)
    }

    /// Any of these numeric codes.
    pub fn codes(codes: &[i64]) -> Self {
        Self::new(Match::OneOf(codes.to_vec()), Match::Any)
    }

    /// A numeric code in `low..=high`.
    pub fn code_range(low: i64, high: i64) -> Self {
        Self::new(Match::Range(low, high), Match::Any)
    }

    /// A symbolic code, exactly.
    pub fn text(code: &str) -> Self {
        Self::new(Match::Any, Match::OneOf(vec![code.to_owned()]))
    }

    /// Any of these symbolic codes.
    pub fn texts(codes: &[&str]) -> Self {
        Self::new(
            Match::Any,
            Match::OneOf(codes.iter().map(|c| (*c).to_owned()).collect()),
        )
    }

    /// A symbolic code starting with `prefix` (TikTok's `spam_risk_` family).
    pub fn prefix(prefix: &str) -> Self {
        Self::new(Match::Any, Match::Prefix(prefix.to_owned()))
    }

    /// An envelope without a numeric code.
    pub fn no_code() -> Self {
        Self::new(Match::Absent, Match::Any)
    }

    /// Only with this subcode.
    pub fn subcode(self, subcode: i64) -> Self {
        self.subcodes(&[subcode])
    }

    /// Only with one of these subcodes.
    pub fn subcodes(mut self, subcodes: &[i64]) -> Self {
        self.subcodes = Some(subcodes.to_vec());
        self
    }

    /// Only on this HTTP status.
    pub fn status(self, status: u16) -> Self {
        self.statuses(&[status])
    }

    /// Only on one of these HTTP statuses.
    pub fn statuses(mut self, statuses: &[u16]) -> Self {
        self.statuses = Some(statuses.to_vec());
        self
    }

    /// Only with this second symbolic field (Meta's `type`).
    pub fn error_type(mut self, error_type: &str) -> Self {
        self.error_type = Some(error_type.to_owned());
        self
    }

    /// Only when the platform marked the error temporary (or not).
    pub fn transient(mut self, transient: bool) -> Self {
        self.transient = Some(transient);
        self
    }

    /// What a match means.
    pub fn to(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    fn matches(&self, e: &Envelope, status: u16) -> bool {
        let code = match &self.code {
            Match::Any => true,
            Match::Absent => e.code.is_none(),
            Match::OneOf(v) => e.code.is_some_and(|c| v.contains(&c)),
            Match::Range(lo, hi) => e.code.is_some_and(|c| (*lo..=*hi).contains(&c)),
            Match::Prefix(_) => false,
        };
        let text = match &self.text {
            Match::Any => true,
            Match::Absent => e.code_text.is_none(),
            Match::OneOf(v) => e.code_text.as_ref().is_some_and(|t| v.contains(t)),
            Match::Prefix(p) => e.code_text.as_ref().is_some_and(|t| t.starts_with(p)),
            Match::Range(..) => false,
        };
        code && text
            && self
                .subcodes
                .as_ref()
                .is_none_or(|v| e.subcode.is_some_and(|s| v.contains(&s)))
            && self.statuses.as_ref().is_none_or(|v| v.contains(&status))
            && self
                .error_type
                .as_ref()
                .is_none_or(|t| e.error_type.as_ref() == Some(t))
            && self.transient.is_none_or(|t| t == e.transient)
    }
}

/// A platform's error envelope and its ordered rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMap {
    format: EnvelopeFormat,
    rules: Vec<Rule>,
    in_success_bodies: bool,
}

impl ErrorMap {
    /// A map over `format` with no rules yet: every envelope falls back to its status.
    pub fn new(format: EnvelopeFormat) -> Self {
        Self {
            format,
            rules: Vec::new(),
            in_success_bodies: false,
        }
    }

    /// Appends a rule; rules are tried in the order they were added.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The platform reports errors inside 2xx answers too (TikTok): a 2xx body carrying an
    /// envelope other than the success code is an error.
    pub fn errors_in_success_bodies(mut self) -> Self {
        self.in_success_bodies = true;
        self
    }

    /// Whether 2xx bodies are looked at.
    pub fn reads_success_bodies(&self) -> bool {
        self.in_success_bodies
    }

    /// Reads the envelope from `body` (see [`EnvelopeFormat::parse`]).
    pub fn parse(&self, body: &[u8]) -> Option<Envelope> {
        self.format.parse(body)
    }

    /// The outcome the first matching rule gives; `None` when no rule matches.
    pub fn outcome(&self, envelope: &Envelope, status: u16) -> Option<Outcome> {
        self.rules
            .iter()
            .find(|r| r.matches(envelope, status))
            .map(|r| r.outcome)
    }

    /// The error `resp` stands for, or `None` when it is a success (or, not being one, carries
    /// no envelope: the caller then decides by the status alone). `retry_after` is the wait a
    /// `Throttled` outcome carries (from usage headers or `Retry-After`).
    pub fn error(
        &self,
        platform: &PlatformId,
        resp: &ApiResponse,
        retry_after: Option<Duration>,
    ) -> Option<Error> {
        let status = resp.status();
        if resp.is_success() && !self.in_success_bodies {
            return None;
        }
        let envelope = self.parse(resp.body())?;
        if resp.is_success() && envelope.code.is_none() && envelope.code_text.is_none() {
            return None;
        }
        let outcome = self.outcome(&envelope, status).unwrap_or(Outcome::ByStatus);
        let mut detail = envelope.detail(platform, status);
        if detail.trace_id.is_none()
            && let Some(id) = self
                .format
                .trace_header
                .as_deref()
                .and_then(|h| resp.header(h))
                .filter(|id| !id.is_empty())
        {
            detail = detail.with_trace_id(id);
        }
        let detail = Box::new(detail);
        let message = detail.message.clone();
        Some(match outcome {
            Outcome::Reconnect(reason) => Error::ReconnectRequired {
                reason,
                platform: Some(detail),
            },
            Outcome::Throttled => Error::Throttled {
                retry_after,
                platform: Some(detail),
            },
            Outcome::PolicyBlocked => Error::PolicyBlocked {
                platform: Some(detail),
            },
            Outcome::MissingScopes => Error::MissingScopes {
                missing: Vec::new(),
                platform: Some(detail),
            },
            Outcome::InvalidInput => Error::InvalidInput {
                message,
                platform: Some(detail),
            },
            Outcome::Transient => Error::Transient {
                message,
                platform: Some(detail),
            },
            Outcome::Platform => Error::Platform(detail),
            Outcome::Config => Error::Config(format!("{platform}: {detail}")),
            Outcome::ByStatus if resp.is_success() => Error::Platform(detail),
            Outcome::ByStatus => resp.status_error_with(*detail),
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;
    use crate::error::ErrorKind;

    fn resp(status: u16, body: &str) -> ApiResponse {
        ApiResponse::new(status, HeaderMap::new(), Bytes::from(body.to_owned()))
    }

    fn tiktok() -> ErrorMap {
        ErrorMap::new(
            EnvelopeFormat::at("/error")
                .code("/code")
                .message("/message")
                .trace_id("/log_id")
                .success_code("ok"),
        )
        .errors_in_success_bodies()
        .rule(
            Rule::text("access_token_invalid")
                .to(Outcome::Reconnect(ReconnectReason::TokenRejected)),
        )
        .rule(Rule::prefix("spam_risk_").to(Outcome::PolicyBlocked))
        .rule(Rule::text("rate_limit_exceeded").to(Outcome::Throttled))
    }

    #[test]
    fn errors_inside_a_200_are_errors_and_ok_is_not() {
        let map = tiktok();
        let p = PlatformId::TIKTOK;
        let ok = resp(
            200,
            r#"{"data":{"x":1},"error":{"code":"ok","message":"","log_id":"L"}}"#,
        );
        assert!(map.error(&p, &ok, None).is_none());
        assert!(map.error(&p, &resp(200, r#"{"data":{}}"#), None).is_none());
        let dead = resp(
            200,
            r#"{"data":{},"error":{"code":"access_token_invalid","message":"The access token is invalid","log_id":"202312"}}"#,
        );
        let e = map.error(&p, &dead, None).unwrap();
        assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
        let d = e.platform_error().unwrap();
        assert_eq!(d.error_type.as_deref(), Some("access_token_invalid"));
        assert_eq!(d.trace_id.as_deref(), Some("202312"));
        assert_eq!(d.http_status, Some(200));
        let limited = resp(
            429,
            r#"{"error":{"code":"rate_limit_exceeded","message":"slow","log_id":"x"}}"#,
        );
        assert_eq!(
            map.error(&p, &limited, Some(Duration::from_secs(60)))
                .unwrap()
                .kind(),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(60))
            }
        );
    }

    #[test]
    fn a_prefix_rule_catches_a_family_and_unknown_codes_fall_to_the_status() {
        let map = tiktok();
        let p = PlatformId::TIKTOK;
        let spam = resp(
            403,
            r#"{"error":{"code":"spam_risk_too_many_pending_share","message":"m"}}"#,
        );
        assert_eq!(
            map.error(&p, &spam, None).unwrap().kind(),
            ErrorKind::PolicyBlocked
        );
        let odd = resp(400, r#"{"error":{"code":"brand_new_code","message":"m"}}"#);
        let e = map.error(&p, &odd, None).unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            e.platform_error().unwrap().error_type.as_deref(),
            Some("brand_new_code")
        );
        // In a 200, an unknown code is a platform error, not a success.
        let odd200 = resp(200, r#"{"error":{"code":"brand_new_code"}}"#);
        assert_eq!(
            map.error(&p, &odd200, None).unwrap().kind(),
            ErrorKind::Platform
        );
    }

    #[test]
    fn a_status_condition_and_a_config_outcome() {
        // LinkedIn: the body is the error itself; 426 for a version that no longer exists.
        let map = ErrorMap::new(
            EnvelopeFormat::at("")
                .code("/serviceErrorCode")
                .error_type("/code")
                .message("/message"),
        )
        .rule(
            Rule::any()
                .error_type("NONEXISTENT_VERSION")
                .to(Outcome::Config),
        )
        .rule(
            Rule::any()
                .status(401)
                .to(Outcome::Reconnect(ReconnectReason::TokenRejected)),
        );
        let p = PlatformId::LINKEDIN;
        let sunset = resp(
            426,
            r#"{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 20200101 is not active"}"#,
        );
        let e = map.error(&p, &sunset, None).unwrap();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("not active"), "{e}");
        let expired = resp(
            401,
            r#"{"serviceErrorCode":65601,"message":"The token used in the request has been revoked by the user","status":401}"#,
        );
        let e = map.error(&p, &expired, None).unwrap();
        assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
        assert_eq!(e.platform_error().unwrap().code, Some(65601));
    }

    #[test]
    fn graph_style_codes_subcodes_ranges_and_flags() {
        let map = ErrorMap::new(
            EnvelopeFormat::at("/error")
                .code("/code")
                .subcode("/error_subcode")
                .error_type("/type")
                .message("/message")
                .trace_id("/fbtrace_id")
                .transient("/is_transient"),
        )
        .rule(
            Rule::code(190)
                .subcode(458)
                .to(Outcome::Reconnect(ReconnectReason::Revoked)),
        )
        .rule(Rule::code(190).to(Outcome::Reconnect(ReconnectReason::TokenRejected)))
        .rule(Rule::code_range(80_000, 80_014).to(Outcome::Throttled))
        .rule(Rule::any().transient(true).to(Outcome::Transient))
        .rule(
            Rule::no_code()
                .error_type("OAuthException")
                .to(Outcome::Reconnect(ReconnectReason::TokenRejected)),
        )
        .rule(Rule::any().to(Outcome::Platform));
        let p = PlatformId::FACEBOOK;
        let kind = |body: &str| map.error(&p, &resp(400, body), None).unwrap();
        assert!(matches!(
            kind(r#"{"error":{"code":190,"error_subcode":"458"}}"#),
            Error::ReconnectRequired {
                reason: ReconnectReason::Revoked,
                ..
            }
        ));
        assert!(matches!(
            kind(r#"{"error":{"code":"190","error_subcode":460}}"#),
            Error::ReconnectRequired {
                reason: ReconnectReason::TokenRejected,
                ..
            }
        ));
        assert!(matches!(
            kind(r#"{"error":{"code":80004}}"#).kind(),
            ErrorKind::Throttled { .. }
        ));
        assert_eq!(
            kind(r#"{"error":{"code":-2,"is_transient":true}}"#).kind(),
            ErrorKind::Transient
        );
        assert_eq!(
            kind(r#"{"error":{"type":"OAuthException","message":"x"}}"#).kind(),
            ErrorKind::ReconnectRequired
        );
        assert_eq!(
            kind(r#"{"error":{"code":36000}}"#).kind(),
            ErrorKind::Platform
        );
    }

    #[test]
    fn what_is_not_an_envelope_is_left_to_the_status() {
        let map = tiktok();
        let long = format!(
            r#"{{"error":{{"code":"x","message":"{}"}}}}"#,
            "m".repeat(10_000)
        );
        assert!(map.parse(long.as_bytes()).unwrap().message.unwrap().len() <= MAX_MESSAGE);
        let huge = format!(
            r#"{{"error":{{"code":"x","pad":"{}"}}}}"#,
            "p".repeat(MAX_ENVELOPE_BODY)
        );
        for body in [
            "",
            "{",
            "[]",
            "null",
            r#"{"error":"x"}"#,
            r#"{"error":{"code":"ok"}}"#,
            "<!DOCTYPE html><html><body>502</body></html>",
            r#"{"error":{"code":"acc"#,
            &huge,
        ] {
            assert!(map.parse(body.as_bytes()).is_none(), "{body:.40}");
            assert!(
                map.error(&PlatformId::TIKTOK, &resp(502, body), None)
                    .is_none()
            );
        }
    }
}
