//! Subscription handshakes as data: what a platform sends to check a webhook endpoint, and
//! the exact reply to give.
//!
//! Two shapes cover the platforms:
//! - [`TokenChallenge`]: the platform sends a mode, the verify token the host configured and a
//!   challenge to echo (Meta's `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`).
//!   Every refused verification — wrong token *or* wrong mode — is answered 403, as Meta
//!   expects; a malformed request 400.
//! - [`HmacChallenge`]: the platform sends a code and expects its HMAC-SHA256 under the app
//!   secret back in JSON (LinkedIn's `challengeCode` → `{challengeCode, challengeResponse}`).
//!
//! Both take the raw query string (with or without its `?`) and return a [`ChallengeReply`]
//! (status, content type, body) that the host writes back as is. The reply never contains the
//! verify token or the secret.
//!
//! ```
//! use socialconnect_core::secret::WebhookSecret;
//! use socialconnect_core::webhook::{HmacChallenge, TokenChallenge};
//!
//! let token = WebhookSecret::new("my-verify-token");
//! let ok = TokenChallenge::META.answer(
//!     "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token",
//!     &token,
//! );
//! assert_eq!((ok.status(), ok.body()), (200, "1158201444"));
//! let refused = TokenChallenge::META.answer("hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess", &token);
//! assert_eq!(refused.status(), 403);
//!
//! let li = HmacChallenge::LINKEDIN.answer(
//!     "challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed1",
//!     &WebhookSecret::new("client-secret"),
//! );
//! assert_eq!((li.status(), li.content_type()), (200, "application/json"));
//! assert!(li.body().contains(r#""challengeResponse":""#));
//! ```

use crate::secret::WebhookSecret;

use super::{sign_hmac_sha256, verify_token_matches};

/// Longest challenge echoed or signed, in bytes; real ones are a few dozen.
pub const MAX_CHALLENGE_LEN: usize = 256;

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeRefusal {
    /// The mode is absent or not the one expected (`subscribe`).
    #[error("handshake mode is missing or unexpected")]
    WrongMode,
    /// The verify token is absent or does not match the configured one.
    #[error("handshake verify token does not match")]
    TokenMismatch,
    /// The challenge (or code) is absent or empty.
    #[error("handshake challenge is missing")]
    MissingChallenge,
    /// The challenge is longer than [`MAX_CHALLENGE_LEN`] or holds characters other than ASCII
    /// letters, digits and `-._~`. It is reflected into the reply, so nothing that could be
    /// markup is echoed.
    #[error("handshake challenge is too long or holds unexpected characters")]
    InvalidChallenge,
    /// A handshake parameter appears more than once (under either spelling).
    #[error("a handshake parameter appears more than once")]
    DuplicateParameter,
    /// The configured verify token or secret is empty; it would prove nothing.
    #[error("the configured handshake secret is empty")]
    EmptySecret,
}

impl ChallengeRefusal {
    /// The HTTP status for the refusal: 403 for a wrong token or mode, 500 for an empty
    /// configured secret (the host's fault), 400 otherwise.
    pub fn status(self) -> u16 {
        match self {
            Self::WrongMode | Self::TokenMismatch => 403,
            Self::EmptySecret => 500,
            _ => 400,
        }
    }
}

/// The reply to a handshake: write `status`, `Content-Type: content_type` and `body` back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeReply {
    status: u16,
    content_type: &'static str,
    body: String,
    refusal: Option<ChallengeRefusal>,
}

impl ChallengeReply {
    fn accept(content_type: &'static str, body: String) -> Self {
        Self {
            status: 200,
            content_type,
            body,
            refusal: None,
        }
    }

    fn refuse(refusal: ChallengeRefusal) -> Self {
        Self {
            status: refusal.status(),
            content_type: "text/plain; charset=utf-8",
            body: String::new(),
            refusal: Some(refusal),
        }
    }

    /// The HTTP status: 200 when accepted.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `Content-Type` to send.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The body to send (empty for a refusal).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether the handshake was accepted.
    pub fn is_accepted(&self) -> bool {
        self.refusal.is_none()
    }

    /// Why it was refused (for the host's logs; safe to log).
    pub fn refusal(&self) -> Option<ChallengeRefusal> {
        self.refusal
    }
}

/// A verify-token handshake: the platform sends a mode, the verify token the host configured
/// and a challenge to echo (Meta's `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`).
/// Every refused verification — wrong token *or* wrong mode — is answered 403, as Meta
/// expects; a malformed request 400. Holds the parameter names (each with every spelling
/// accepted) and the mode expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenChallenge {
    /// Names of the mode parameter.
    pub mode_keys: &'static [&'static str],
    /// The mode that means "verify this endpoint".
    pub mode: &'static str,
    /// Names of the verify-token parameter.
    pub token_keys: &'static [&'static str],
    /// Names of the challenge parameter.
    pub challenge_keys: &'static [&'static str],
}

impl TokenChallenge {
    /// Meta's `hub.mode` / `hub.verify_token` / `hub.challenge`, also spelled with `_` (PHP
    /// and some frameworks rewrite the dots).
    pub const META: Self = Self {
        mode_keys: &["hub.mode", "hub_mode"],
        mode: "subscribe",
        token_keys: &["hub.verify_token", "hub_verify_token"],
        challenge_keys: &["hub.challenge", "hub_challenge"],
    };

    /// Answers the handshake in `query` (the raw, percent-encoded query string): 200
    /// `text/plain` echoing the challenge, or the refusal's status with an empty body.
    ///
    /// Checks run in an order that reveals nothing about the token: parameters, then mode,
    /// then the token (in constant time), then the challenge's shape.
    pub fn answer(&self, query: &str, verify_token: &WebhookSecret) -> ChallengeReply {
        match self.check(query, verify_token) {
            Ok(challenge) => ChallengeReply::accept("text/plain; charset=utf-8", challenge),
            Err(refusal) => ChallengeReply::refuse(refusal),
        }
    }

    fn check(&self, query: &str, verify_token: &WebhookSecret) -> Result<String, ChallengeRefusal> {
        if verify_token.expose_secret().is_empty() {
            return Err(ChallengeRefusal::EmptySecret);
        }
        let [mode, token, challenge] = params(
            query,
            [self.mode_keys, self.token_keys, self.challenge_keys],
        )?;
        if mode.as_deref() != Some(self.mode) {
            return Err(ChallengeRefusal::WrongMode);
        }
        if !verify_token_matches(verify_token, token.as_deref().unwrap_or("")) {
            return Err(ChallengeRefusal::TokenMismatch);
        }
        checked_challenge(challenge)
    }
}

/// An HMAC handshake: the platform sends a code and expects its HMAC-SHA256 under the app
/// secret back in JSON (LinkedIn's `challengeCode` → `{challengeCode, challengeResponse}`).
/// Holds the code's parameter names and the JSON keys of the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HmacChallenge {
    /// Names of the code parameter.
    pub code_keys: &'static [&'static str],
    /// The reply's key for the code, echoed.
    pub echo_key: &'static str,
    /// The reply's key for the lowercase-hex HMAC-SHA256 of the code under the secret.
    pub response_key: &'static str,
}

impl HmacChallenge {
    /// LinkedIn's `GET ?challengeCode=…` answered with
    /// `{"challengeCode": …, "challengeResponse": hex(HMAC-SHA256(client secret, code))}`.
    pub const LINKEDIN: Self = Self {
        code_keys: &["challengeCode"],
        echo_key: "challengeCode",
        response_key: "challengeResponse",
    };

    /// Answers the handshake in `query`: 200 `application/json` with the code and its HMAC,
    /// or the refusal's status with an empty body.
    pub fn answer(&self, query: &str, secret: &WebhookSecret) -> ChallengeReply {
        match self.check(query, secret) {
            Ok(body) => ChallengeReply::accept("application/json", body),
            Err(refusal) => ChallengeReply::refuse(refusal),
        }
    }

    fn check(&self, query: &str, secret: &WebhookSecret) -> Result<String, ChallengeRefusal> {
        if secret.expose_secret().is_empty() {
            return Err(ChallengeRefusal::EmptySecret);
        }
        let [code] = params(query, [self.code_keys])?;
        let code = checked_challenge(code)?;
        let response = sign_hmac_sha256(secret, code.as_bytes());
        let mut reply = serde_json::Map::new();
        reply.insert(self.echo_key.to_owned(), code.into());
        reply.insert(self.response_key.to_owned(), response.into());
        Ok(serde_json::Value::Object(reply).to_string())
    }
}

/// The value of each parameter in `keys` (each with its spellings), refusing repeats.
fn params<const N: usize>(
    query: &str,
    keys: [&[&str]; N],
) -> Result<[Option<String>; N], ChallengeRefusal> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let Some(slot) = keys
            .iter()
            .position(|spellings| spellings.contains(&&*name))
        else {
            continue;
        };
        if found[slot].is_some() {
            return Err(ChallengeRefusal::DuplicateParameter);
        }
        found[slot] = Some(value.into_owned());
    }
    Ok(found)
}

fn checked_challenge(challenge: Option<String>) -> Result<String, ChallengeRefusal> {
    let challenge = challenge
        .filter(|c| !c.is_empty())
        .ok_or(ChallengeRefusal::MissingChallenge)?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if challenge.len() > MAX_CHALLENGE_LEN || !challenge.bytes().all(allowed) {
        return Err(ChallengeRefusal::InvalidChallenge);
    }
    Ok(challenge)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn token() -> WebhookSecret {
        WebhookSecret::new("my-verify-token")
    }

    #[test]
    fn meta_accepts_both_spellings_and_a_leading_question_mark() {
        for q in [
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token",
            "?hub_mode=subscribe&hub_challenge=1158201444&hub_verify_token=my-verify-token",
            "hub.mode=subscribe&hub_challenge=1158201444&hub.verify_token=my%2Dverify%2Dtoken&x=1",
        ] {
            let r = TokenChallenge::META.answer(q, &token());
            assert!(r.is_accepted(), "{q}: {:?}", r.refusal());
            assert_eq!((r.status(), r.body()), (200, "1158201444"));
            assert_eq!(r.content_type(), "text/plain; charset=utf-8");
        }
    }

    #[test]
    fn meta_refusals_and_their_statuses() {
        let c = "hub.challenge=42";
        for (q, refusal, status) in [
            (
                format!("hub.mode=subscribe&{c}&hub.verify_token=guess"),
                ChallengeRefusal::TokenMismatch,
                403,
            ),
            (
                format!("hub.mode=subscribe&{c}"),
                ChallengeRefusal::TokenMismatch,
                403,
            ),
            (
                format!("hub.mode=subscribe&{c}&hub.verify_token=MY-VERIFY-TOKEN"),
                ChallengeRefusal::TokenMismatch,
                403,
            ),
            (
                format!("hub.mode=unsubscribe&{c}&hub.verify_token=my-verify-token"),
                ChallengeRefusal::WrongMode,
                403,
            ),
            (
                format!("{c}&hub.verify_token=my-verify-token"),
                ChallengeRefusal::WrongMode,
                403,
            ),
            (
                format!("hub.mode=Subscribe&{c}&hub.verify_token=my-verify-token"),
                ChallengeRefusal::WrongMode,
                403,
            ),
            (
                "hub.mode=subscribe&hub.verify_token=my-verify-token".to_owned(),
                ChallengeRefusal::MissingChallenge,
                400,
            ),
            (
                "hub.mode=subscribe&hub.challenge=&hub.verify_token=my-verify-token".to_owned(),
                ChallengeRefusal::MissingChallenge,
                400,
            ),
            (
                "hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=my-verify-token"
                    .to_owned(),
                ChallengeRefusal::InvalidChallenge,
                400,
            ),
            (
                format!(
                    "hub.mode=subscribe&hub.challenge={}&hub.verify_token=my-verify-token",
                    "9".repeat(257)
                ),
                ChallengeRefusal::InvalidChallenge,
                400,
            ),
            (
                format!(
                    "hub.mode=subscribe&hub_mode=subscribe&{c}&hub.verify_token=my-verify-token"
                ),
                ChallengeRefusal::DuplicateParameter,
                400,
            ),
            (
                format!("hub.mode=subscribe&{c}&{c}&hub.verify_token=my-verify-token"),
                ChallengeRefusal::DuplicateParameter,
                400,
            ),
        ] {
            let r = TokenChallenge::META.answer(&q, &token());
            assert_eq!(r.refusal(), Some(refusal), "{q}");
            assert_eq!(r.status(), status, "{q}");
            assert!(r.body().is_empty());
        }
        let r = TokenChallenge::META.answer(
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=",
            &WebhookSecret::new(""),
        );
        assert_eq!(
            (r.refusal(), r.status()),
            (Some(ChallengeRefusal::EmptySecret), 500)
        );
        // The longest allowed challenge is echoed.
        let long = "a".repeat(MAX_CHALLENGE_LEN);
        let q = format!("hub.mode=subscribe&hub.challenge={long}&hub.verify_token=my-verify-token");
        assert_eq!(TokenChallenge::META.answer(&q, &token()).body(), long);
    }

    #[test]
    fn linkedin_challenge_response_is_the_hmac_of_the_code() {
        // hmac.new(b"client-secret", b"890e4665-4dfe-4ab1-b689-ed553bceeed1", hashlib.sha256).hexdigest()
        let secret = WebhookSecret::new("client-secret");
        let code = "890e4665-4dfe-4ab1-b689-ed553bceeed1";
        let r = HmacChallenge::LINKEDIN.answer(&format!("?challengeCode={code}"), &secret);
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = serde_json::from_str(r.body()).unwrap();
        assert_eq!(body["challengeCode"], code);
        assert_eq!(
            body["challengeResponse"],
            "cea0d9c7e11de18dbcd1a3810b6eacc31117b25c77707c1168990104add5b52f"
        );
        assert!(!r.body().contains("client-secret"));

        for (q, refusal) in [
            ("", ChallengeRefusal::MissingChallenge),
            ("challengeCode=", ChallengeRefusal::MissingChallenge),
            ("challengecode=abc", ChallengeRefusal::MissingChallenge),
            (
                "challengeCode=a&challengeCode=b",
                ChallengeRefusal::DuplicateParameter,
            ),
            ("challengeCode=%22%7D", ChallengeRefusal::InvalidChallenge),
        ] {
            let r = HmacChallenge::LINKEDIN.answer(q, &secret);
            assert_eq!((r.refusal(), r.status()), (Some(refusal), 400), "{q}");
        }
        let r = HmacChallenge::LINKEDIN.answer("challengeCode=abc", &WebhookSecret::new(""));
        assert_eq!(r.refusal(), Some(ChallengeRefusal::EmptySecret));
    }

    proptest! {
        #[test]
        fn arbitrary_queries_never_panic_or_echo_markup(q in ".{0,200}") {
            for r in [
                TokenChallenge::META.answer(&q, &token()),
                HmacChallenge::LINKEDIN.answer(&q, &token()),
            ] {
                prop_assert!(!r.body().contains('<'));
                prop_assert!(!r.body().contains("my-verify-token"));
                prop_assert!(matches!(r.status(), 200 | 400 | 403));
            }
        }
    }
}
