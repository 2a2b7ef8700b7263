//! Signature schemes as data — which header, what is signed, how the tag is written — and
//! header lookup that ignores the case of the header's name.
//!
//! | platform | header | signed string | tag |
//! |---|---|---|---|
//! | Meta | `X-Hub-Signature-256` | body | `sha256=<hex>` ([`SignatureScheme::META`]) |
//! | LinkedIn | `X-LI-Signature` | `hmacsha256=` + body | hex ([`SignatureScheme::LINKEDIN`]) |
//! | TikTok | `TikTok-Signature` | `t` + `.` + body | `t=<unix>,s=<hex>` ([`TimestampedScheme::TIKTOK`]) |
//!
//! ```
//! use socialconnect_core::secret::WebhookSecret;
//! use socialconnect_core::webhook::SignatureScheme;
//!
//! let secret = WebhookSecret::new("client-secret");
//! let body = br#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("x-li-signature", SignatureScheme::LINKEDIN.sign(&secret, body).parse().unwrap());
//! SignatureScheme::LINKEDIN.verify_headers(&secret, &headers, body)?;
//! # Ok::<(), socialconnect_core::webhook::WebhookError>(())
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::Mac;
use http::HeaderMap;

use super::{
    SignatureFormat, TimestampedScheme, WebhookError, mac_over, non_empty, present,
    verify_timestamped,
};
use crate::secret::WebhookSecret;

/// The value of header `name` in `headers` (names never depend on case in an
/// [`http::HeaderMap`]); `None` when absent.
///
/// # Errors
///
/// [`WebhookError::MalformedSignature`] when the header appears more than once (which one
/// was signed is ambiguous) or its value is not visible ASCII.
pub fn header_value<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, WebhookError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(WebhookError::MalformedSignature {
            reason: "signature header appears more than once",
        });
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| WebhookError::MalformedSignature {
            reason: "signature header is not visible ASCII",
        })
}

/// Like [`header_value`] for headers given as name/value pairs (a framework's own header
/// type): the name is matched ignoring ASCII case.
///
/// # Errors
///
/// [`WebhookError::MalformedSignature`] when the header appears more than once.
pub fn header_in<'a, I>(pairs: I, name: &str) -> Result<Option<&'a str>, WebhookError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut found = None;
    for (key, value) in pairs {
        if key.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(WebhookError::MalformedSignature {
                    reason: "signature header appears more than once",
                });
            }
            found = Some(value);
        }
    }
    Ok(found)
}

/// An HMAC-SHA256 signature over a fixed prefix plus the raw body, carried in one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureScheme {
    /// The header carrying the signature (matched ignoring case).
    pub header: &'static str,
    /// Bytes signed before the body (`hmacsha256=` for LinkedIn, empty for Meta).
    pub signed_prefix: &'static str,
    /// How the header writes the tag.
    pub format: SignatureFormat,
}

impl SignatureScheme {
    /// Meta's `X-Hub-Signature-256: sha256=<hex of HMAC(app secret, body)>`.
    pub const META: Self = Self::new("X-Hub-Signature-256", SignatureFormat::META);

    /// LinkedIn's `X-LI-Signature: <hex of HMAC(client secret, "hmacsha256=" + body)>`.
    pub const LINKEDIN: Self =
        Self::new("X-LI-Signature", SignatureFormat::Hex).signing_prefix("hmacsha256=");

    /// A scheme signing the body alone.
    pub const fn new(header: &'static str, format: SignatureFormat) -> Self {
        Self {
            header,
            signed_prefix: "",
            format,
        }
    }

    /// Signs `prefix` followed by the body.
    pub const fn signing_prefix(mut self, prefix: &'static str) -> Self {
        self.signed_prefix = prefix;
        self
    }

    /// Verifies `header_value` (the header's value, `None` when absent) over the raw `body`,
    /// in constant time.
    ///
    /// # Errors
    ///
    /// As [`verify_hmac_sha256`](super::verify_hmac_sha256).
    pub fn verify(
        &self,
        secret: &WebhookSecret,
        body: &[u8],
        header_value: Option<&str>,
    ) -> Result<(), WebhookError> {
        non_empty(secret)?;
        let tag = self.format.parse(present(header_value)?)?;
        mac_over(secret, &[self.signed_prefix.as_bytes(), body])
            .verify_slice(&tag)
            .map_err(|_| WebhookError::SignatureMismatch)
    }

    /// Finds this scheme's header in `headers` and verifies it over the raw `body`.
    ///
    /// # Errors
    ///
    /// As [`SignatureScheme::verify`] and [`header_value`].
    pub fn verify_headers(
        &self,
        secret: &WebhookSecret,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        self.verify(secret, body, header_value(headers, self.header)?)
    }

    /// The header value a platform would send for `body` (for simulators and tests).
    pub fn sign(&self, secret: &WebhookSecret, body: &[u8]) -> String {
        let mac = mac_over(secret, &[self.signed_prefix.as_bytes(), body]);
        self.format.render(&mac.finalize().into_bytes())
    }
}

impl TimestampedScheme {
    /// Finds this scheme's header (see [`TimestampedScheme::header`]) in `headers` and verifies
    /// it as [`verify_timestamped`] does.
    ///
    /// # Errors
    ///
    /// As [`verify_timestamped`] and [`header_value`].
    pub fn verify_headers(
        &self,
        secret: &WebhookSecret,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
        tolerance: Duration,
    ) -> Result<DateTime<Utc>, WebhookError> {
        let value = header_value(headers, self.header)?;
        verify_timestamped(secret, body, value, self, now, tolerance)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use http::HeaderValue;

    use super::super::{DEFAULT_TOLERANCE, sign_timestamped};
    use super::*;

    // hmac.new(b"li-secret", b"hmacsha256=" + BODY, hashlib.sha256).hexdigest()
    const LI_BODY: &[u8] = br#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS"}"#;
    const LI_HEX: &str = "f56f69894bb34118a705416fcdaa16365d58765500f6743154cdbf7121082746";

    fn map(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn linkedin_signs_the_prefix_and_the_body() {
        let s = WebhookSecret::new("li-secret");
        assert_eq!(SignatureScheme::LINKEDIN.sign(&s, LI_BODY), LI_HEX);
        for name in [
            "X-LI-Signature",
            "x-li-signature",
            "X-Li-Signature",
            "X-LI-SIGNATURE",
        ] {
            let h = map("x-li-signature", LI_HEX);
            assert_eq!(header_value(&h, name), Ok(Some(LI_HEX)), "{name}");
            assert_eq!(
                SignatureScheme::LINKEDIN.verify_headers(&s, &h, LI_BODY),
                Ok(())
            );
            let pairs = [("Content-Type", "application/json"), (name, LI_HEX)];
            let found = header_in(pairs, SignatureScheme::LINKEDIN.header).unwrap();
            assert_eq!(
                SignatureScheme::LINKEDIN.verify(&s, LI_BODY, found),
                Ok(()),
                "{name}"
            );
        }
        // Uppercase hex is the same tag.
        let upper = LI_HEX.to_uppercase();
        assert_eq!(
            SignatureScheme::LINKEDIN.verify(&s, LI_BODY, Some(&upper)),
            Ok(())
        );
        // The body alone (without the prefix) is not what LinkedIn signs.
        let body_only =
            SignatureScheme::new("X-LI-Signature", SignatureFormat::Hex).sign(&s, LI_BODY);
        assert_eq!(
            SignatureScheme::LINKEDIN.verify(&s, LI_BODY, Some(&body_only)),
            Err(WebhookError::SignatureMismatch)
        );
        // A Meta-style `sha256=` value is malformed for LinkedIn.
        assert!(matches!(
            SignatureScheme::LINKEDIN.verify(&s, LI_BODY, Some(&format!("sha256={LI_HEX}"))),
            Err(WebhookError::MalformedSignature { .. })
        ));
    }

    #[test]
    fn meta_header_in_every_spelling() {
        let s = WebhookSecret::new("app-secret");
        let body = br#"{"object":"page","entry":[]}"#;
        let sig = SignatureScheme::META.sign(&s, body);
        assert!(sig.starts_with("sha256="));
        for name in [
            "X-Hub-Signature-256",
            "x-hub-signature-256",
            "X-HUB-SIGNATURE-256",
        ] {
            let pairs = [(name, sig.as_str())];
            let found = header_in(pairs, "X-Hub-Signature-256").unwrap();
            assert_eq!(
                SignatureScheme::META.verify(&s, body, found),
                Ok(()),
                "{name}"
            );
        }
        let h = map("x-hub-signature-256", &sig);
        assert_eq!(SignatureScheme::META.verify_headers(&s, &h, body), Ok(()));
        // The legacy SHA-1 header is not a substitute.
        let h = map("x-hub-signature", &sig);
        assert_eq!(
            SignatureScheme::META.verify_headers(&s, &h, body),
            Err(WebhookError::MissingSignature)
        );
    }

    #[test]
    fn a_repeated_or_binary_header_is_malformed() {
        let s = WebhookSecret::new("li-secret");
        let mut h = map("x-li-signature", LI_HEX);
        h.append("X-LI-Signature", HeaderValue::from_static("00"));
        assert!(matches!(
            SignatureScheme::LINKEDIN.verify_headers(&s, &h, LI_BODY),
            Err(WebhookError::MalformedSignature { .. })
        ));
        let pairs = [("x-li-signature", LI_HEX), ("X-LI-SIGNATURE", LI_HEX)];
        assert!(header_in(pairs, "X-LI-Signature").is_err());
        let mut h = HeaderMap::new();
        h.insert(
            "x-li-signature",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert!(matches!(
            SignatureScheme::LINKEDIN.verify_headers(&s, &h, LI_BODY),
            Err(WebhookError::MalformedSignature { .. })
        ));
        assert_eq!(
            SignatureScheme::LINKEDIN.verify_headers(&s, &HeaderMap::new(), LI_BODY),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            SignatureScheme::LINKEDIN.verify(&WebhookSecret::new(""), LI_BODY, Some(LI_HEX)),
            Err(WebhookError::EmptySecret)
        );
    }

    #[test]
    fn tiktok_header_spellings_and_a_two_second_window() {
        let s = WebhookSecret::new("tt-secret");
        let scheme = TimestampedScheme::TIKTOK;
        assert_eq!(scheme.header, "TikTok-Signature");
        let t = 1_700_000_000;
        let value = sign_timestamped(&s, LI_BODY, t, &scheme);
        for name in [
            "TikTok-Signature",
            "Tiktok-Signature",
            "tiktok-signature",
            "TIKTOK-SIGNATURE",
        ] {
            let pairs = [(name, value.as_str())];
            let found = header_in(pairs, scheme.header).unwrap();
            assert_eq!(
                verify_timestamped(&s, LI_BODY, found, &scheme, at(t), DEFAULT_TOLERANCE),
                Ok(at(t)),
                "{name}"
            );
        }
        let h = map("tiktok-signature", &value);
        let two = Duration::from_secs(2);
        assert_eq!(
            scheme.verify_headers(&s, &h, LI_BODY, at(t + 2), two),
            Ok(at(t))
        );
        assert_eq!(
            scheme.verify_headers(&s, &h, LI_BODY, at(t - 2), two),
            Ok(at(t))
        );
        assert_eq!(
            scheme.verify_headers(&s, &h, LI_BODY, at(t + 3), two),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            scheme.verify_headers(&s, &h, LI_BODY, at(t - 3), two),
            Err(WebhookError::FutureTimestamp)
        );
        assert_eq!(
            scheme.verify_headers(&s, &HeaderMap::new(), LI_BODY, at(t), two),
            Err(WebhookError::MissingSignature)
        );
    }
}
