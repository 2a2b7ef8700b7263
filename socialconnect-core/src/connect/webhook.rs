//! Inbound webhook signature checks: HMAC-SHA256 over the raw body, in constant time.
//!
//! Every check fails closed: a missing header, a header in the wrong shape, an empty secret, a
//! mismatching signature or (for timestamped schemes) a timestamp outside the tolerance window
//! is a [`WebhookError`], never a pass. Errors never carry the secret or the expected signature.
//!
//! Besides the signature checks below, [`SignatureScheme`] and [`TimestampedScheme`] describe
//! each platform's scheme as data (header, signed string, tag format) and find the header
//! whatever its case; [`TokenChallenge`] and [`HmacChallenge`] answer subscription
//! handshakes (Meta's `hub.challenge`, LinkedIn's `challengeCode`); [`Deduper`] and
//! [`DeliveryLog`] drop the repeats of at-least-once deliveries.
//!
//! Always pass the body exactly as received: a signature is over bytes, and re-serialized JSON
//! (reordered keys, unescaped unicode) no longer matches.
//!
//! ```
//! use socialconnect_core::secret::WebhookSecret;
//! use socialconnect_core::webhook::{self, SignatureFormat};
//!
//! let secret = WebhookSecret::new("app-secret");
//! let body = br#"{"object":"page","entry":[]}"#;
//! // What Meta would send in `X-Hub-Signature-256`.
//! let header = webhook::sign_header(&secret, body, SignatureFormat::META);
//! assert!(header.starts_with("sha256="));
//!
//! webhook::verify_hmac_sha256(&secret, body, Some(&header), SignatureFormat::META)?;
//! assert!(webhook::verify_hmac_sha256(&secret, b"tampered", Some(&header), SignatureFormat::META).is_err());
//! assert!(webhook::verify_hmac_sha256(&secret, body, None, SignatureFormat::META).is_err());
//! # Ok::<(), webhook::WebhookError>(())
//! ```

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::WebhookSecret;

mod challenge;
mod dedupe;
mod scheme;

pub use challenge::{
    ChallengeRefusal, ChallengeReply, HmacChallenge, MAX_CHALLENGE_LEN, TokenChallenge,
};
pub use dedupe::{Deduper, Delivery, DeliveryLog};
pub use scheme::{SignatureScheme, header_in, header_value};

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag in bytes.
const TAG_LEN: usize = 32;
/// Longest timestamped header accepted, in bytes; real ones are well under 200.
const MAX_TIMESTAMPED_HEADER: usize = 4096;
/// Most signatures accepted in one timestamped header (several during a secret rotation).
const MAX_SIGNATURES: usize = 8;
/// Most digits accepted in a timestamp: up to the year 33658, and always within chrono's range.
const MAX_TIMESTAMP_DIGITS: usize = 12;

/// A replay window suitable for most platforms: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Why a webhook was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature header is absent or empty.
    #[error("webhook signature header is missing")]
    MissingSignature,
    /// The signature header is not in the expected shape.
    #[error("webhook signature header is malformed: {reason}")]
    MalformedSignature {
        /// What was wrong with it (never the header's content).
        reason: &'static str,
    },
    /// The signature does not match the body: tampered, signed with another secret, or forged.
    #[error("webhook signature does not match the body")]
    SignatureMismatch,
    /// The signature is valid but its timestamp is older than the tolerance allows: a replay,
    /// a long-delayed delivery, or a slow clock on this side.
    #[error("webhook timestamp is older than the tolerance window")]
    StaleTimestamp,
    /// The signature is valid but its timestamp is further ahead than the tolerance allows.
    #[error("webhook timestamp is further in the future than the tolerance window")]
    FutureTimestamp,
    /// The configured secret is empty; an HMAC keyed with it proves nothing.
    #[error("webhook secret is empty")]
    EmptySecret,
}

impl From<WebhookError> for crate::Error {
    /// [`WebhookError::EmptySecret`] is a misconfiguration ([`crate::ErrorKind::Config`]);
    /// every other rejection is [`crate::ErrorKind::Crypto`].
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::EmptySecret => crate::Error::Config(err.to_string()),
            _ => crate::Error::Crypto(err.to_string()),
        }
    }
}

/// How a signature header carries an HMAC-SHA256 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureFormat {
    /// A label followed by lowercase or uppercase hex, e.g. Meta's `sha256=<hex>`. The label
    /// is matched ignoring ASCII case.
    PrefixedHex(&'static str),
    /// Bare hex (64 digits, either case), e.g. LinkedIn's `X-LI-Signature`.
    Hex,
    /// Standard base64 (`+/`), padding optional.
    Base64,
}

impl SignatureFormat {
    /// Meta's `X-Hub-Signature-256: sha256=<hex>`.
    pub const META: Self = Self::PrefixedHex("sha256=");

    /// Renders a tag the way this format carries it.
    fn render(self, tag: &[u8]) -> String {
        match self {
            Self::PrefixedHex(prefix) => format!("{prefix}{}", hex::encode(tag)),
            Self::Hex => hex::encode(tag),
            Self::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
        }
    }

    /// Extracts the tag from a header value.
    fn parse(self, value: &str) -> Result<[u8; TAG_LEN], WebhookError> {
        match self {
            Self::PrefixedHex(prefix) => {
                let label = value
                    .get(..prefix.len())
                    .filter(|label| label.eq_ignore_ascii_case(prefix))
                    .ok_or(WebhookError::MalformedSignature {
                        reason: "unexpected prefix",
                    })?;
                decode_hex_tag(&value[label.len()..])
            }
            Self::Hex => decode_hex_tag(value),
            Self::Base64 => decode_base64_tag(value),
        }
    }
}

fn decode_hex_tag(text: &str) -> Result<[u8; TAG_LEN], WebhookError> {
    if text.len() != TAG_LEN * 2 {
        return Err(WebhookError::MalformedSignature {
            reason: "signature has the wrong length",
        });
    }
    let mut tag = [0u8; TAG_LEN];
    hex::decode_to_slice(text, &mut tag).map_err(|_| WebhookError::MalformedSignature {
        reason: "signature is not hex",
    })?;
    Ok(tag)
}

fn decode_base64_tag(text: &str) -> Result<[u8; TAG_LEN], WebhookError> {
    // 32 bytes are 43 characters unpadded, 44 padded; checking first bounds the decoding work.
    if !(43..=44).contains(&text.len()) {
        return Err(WebhookError::MalformedSignature {
            reason: "signature has the wrong length",
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(text)
        .map_err(|_| WebhookError::MalformedSignature {
            reason: "signature is not base64",
        })?;
    bytes
        .try_into()
        .map_err(|_| WebhookError::MalformedSignature {
            reason: "signature has the wrong length",
        })
}

/// An HMAC-SHA256 keyed with `secret`, fed with `parts` in order.
fn mac_over(secret: &WebhookSecret, parts: &[&[u8]]) -> HmacSha256 {
    // `new_from_slice` cannot fail for HMAC (keys of any length are hashed or padded); hmac's
    // own `KeyInit::new` relies on the same fact.
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The header value with surrounding whitespace removed, or `MissingSignature` when absent or
/// blank.
fn present(header_value: Option<&str>) -> Result<&str, WebhookError> {
    match header_value.map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(WebhookError::MissingSignature),
    }
}

fn non_empty(secret: &WebhookSecret) -> Result<(), WebhookError> {
    if secret.expose_secret().is_empty() {
        Err(WebhookError::EmptySecret)
    } else {
        Ok(())
    }
}

/// Verifies an HMAC-SHA256 signature of the raw `body` carried in `header_value` (the header's
/// value, `None` when the request had no such header), in constant time.
///
/// # Errors
///
/// [`WebhookError::EmptySecret`], [`WebhookError::MissingSignature`],
/// [`WebhookError::MalformedSignature`] or [`WebhookError::SignatureMismatch`].
pub fn verify_hmac_sha256(
    secret: &WebhookSecret,
    body: &[u8],
    header_value: Option<&str>,
    format: SignatureFormat,
) -> Result<(), WebhookError> {
    non_empty(secret)?;
    let tag = format.parse(present(header_value)?)?;
    mac_over(secret, &[body])
        .verify_slice(&tag)
        .map_err(|_| WebhookError::SignatureMismatch)
}

/// The lowercase-hex HMAC-SHA256 of `body` under `secret`: the signature a platform would send
/// (for simulators and tests), or a challenge response such as LinkedIn's.
pub fn sign_hmac_sha256(secret: &WebhookSecret, body: &[u8]) -> String {
    hex::encode(mac_over(secret, &[body]).finalize().into_bytes())
}

/// A complete signature header value for `body` in `format`, e.g. `sha256=<hex>` for
/// [`SignatureFormat::META`] (for simulators and tests).
pub fn sign_header(secret: &WebhookSecret, body: &[u8], format: SignatureFormat) -> String {
    format.render(&mac_over(secret, &[body]).finalize().into_bytes())
}

/// A signature scheme that signs a timestamp along with the body, for replay protection.
///
/// The header is a comma-separated list of `key=value` pairs holding one timestamp (unix
/// seconds) and one or more hex signatures (several during a secret rotation; any one may
/// match). Pairs with other keys are ignored. The signed payload is
/// `{timestamp}{separator}{body}`, with the timestamp exactly as it appears in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimestampedScheme {
    /// The header carrying the signature (matched ignoring case); empty when unset.
    pub header: &'static str,
    /// The key of the timestamp pair (`t`).
    pub timestamp_key: &'static str,
    /// The key of the signature pairs (`s` for TikTok, `v1` for Stripe).
    pub signature_key: &'static str,
    /// What goes between the timestamp and the body in the signed payload (`.`).
    pub separator: &'static str,
}

impl TimestampedScheme {
    /// TikTok's `TikTok-Signature: t=<unix>,s=<hex>`, signing `{t}.{body}`.
    pub const TIKTOK: Self = Self::new("t", "s", ".").in_header("TikTok-Signature");

    /// A scheme with the given pair keys and payload separator.
    pub const fn new(
        timestamp_key: &'static str,
        signature_key: &'static str,
        separator: &'static str,
    ) -> Self {
        Self {
            header: "",
            timestamp_key,
            signature_key,
            separator,
        }
    }

    /// Names the header that carries the signature (for
    /// [`TimestampedScheme::verify_headers`]).
    pub const fn in_header(mut self, header: &'static str) -> Self {
        self.header = header;
        self
    }
}

/// A parsed timestamped signature header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampedSignature {
    timestamp: DateTime<Utc>,
    /// The timestamp as it appeared in the header: what was signed.
    timestamp_text: String,
    signatures: Vec<[u8; TAG_LEN]>,
}

impl TimestampedSignature {
    /// The signed timestamp.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// How many signatures the header carried.
    pub fn signature_count(&self) -> usize {
        self.signatures.len()
    }
}

/// Parses a timestamped signature header (see [`TimestampedScheme`]) without checking it.
///
/// # Errors
///
/// [`WebhookError::MissingSignature`] for an absent or blank header;
/// [`WebhookError::MalformedSignature`] when a pair has no `=`, the timestamp is missing,
/// repeated or not plain decimal digits, or a signature is missing, not 64 hex digits or one
/// too many.
pub fn parse_timestamped(
    header_value: Option<&str>,
    scheme: &TimestampedScheme,
) -> Result<TimestampedSignature, WebhookError> {
    let malformed = |reason| WebhookError::MalformedSignature { reason };
    let value = present(header_value)?;
    if value.len() > MAX_TIMESTAMPED_HEADER {
        return Err(malformed("header is too long"));
    }
    let mut timestamp: Option<(&str, DateTime<Utc>)> = None;
    let mut signatures = Vec::new();
    for pair in value.split(',') {
        let (key, val) = pair.split_once('=').ok_or(malformed("a pair has no `=`"))?;
        let (key, val) = (key.trim(), val.trim());
        if key == scheme.timestamp_key {
            if timestamp.is_some() {
                return Err(malformed("timestamp appears twice"));
            }
            timestamp = Some((val, parse_unix_seconds(val)?));
        } else if key == scheme.signature_key {
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed("too many signatures"));
            }
            signatures.push(decode_hex_tag(val)?);
        }
    }
    let (timestamp_text, timestamp) = timestamp.ok_or(malformed("timestamp is missing"))?;
    if signatures.is_empty() {
        return Err(malformed("signature is missing"));
    }
    Ok(TimestampedSignature {
        timestamp,
        timestamp_text: timestamp_text.to_owned(),
        signatures,
    })
}

fn parse_unix_seconds(text: &str) -> Result<DateTime<Utc>, WebhookError> {
    let malformed = WebhookError::MalformedSignature {
        reason: "timestamp is not unix seconds",
    };
    // Digits only: no sign, no spaces, no fraction, and short enough to fit an i64.
    if text.is_empty()
        || text.len() > MAX_TIMESTAMP_DIGITS
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed);
    }
    text.parse::<i64>()
        .ok()
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .ok_or(malformed)
}

/// Verifies a timestamped signature header (see [`TimestampedScheme`]) over the raw `body`,
/// then checks that its timestamp is within `tolerance` of `now` in either direction. Returns
/// the signed timestamp.
///
/// The signature is checked first, so a timestamp error means an authentic message that is
/// replayed, long delayed, or judged by a skewed clock.
///
/// # Errors
///
/// [`WebhookError::EmptySecret`], the errors of [`parse_timestamped`],
/// [`WebhookError::SignatureMismatch`], [`WebhookError::StaleTimestamp`] or
/// [`WebhookError::FutureTimestamp`].
pub fn verify_timestamped(
    secret: &WebhookSecret,
    body: &[u8],
    header_value: Option<&str>,
    scheme: &TimestampedScheme,
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<DateTime<Utc>, WebhookError> {
    non_empty(secret)?;
    let parsed = parse_timestamped(header_value, scheme)?;
    let mac = mac_over(
        secret,
        &[
            parsed.timestamp_text.as_bytes(),
            scheme.separator.as_bytes(),
            body,
        ],
    );
    // Each candidate is checked with a copy of the keyed state, in constant time.
    let matched = parsed.signatures.iter().fold(false, |any, sig| {
        mac.clone().verify_slice(sig).is_ok() | any
    });
    if !matched {
        return Err(WebhookError::SignatureMismatch);
    }
    // A tolerance beyond what chrono represents is as good as unlimited.
    let tolerance = TimeDelta::from_std(tolerance).unwrap_or(TimeDelta::MAX);
    let age = now.signed_duration_since(parsed.timestamp);
    if age > tolerance {
        return Err(WebhookError::StaleTimestamp);
    }
    if -age > tolerance {
        return Err(WebhookError::FutureTimestamp);
    }
    Ok(parsed.timestamp)
}

/// A timestamped signature header value for `body` at `timestamp` (unix seconds), e.g.
/// `t=1700000000,s=<hex>` for [`TimestampedScheme::TIKTOK`] (for simulators and tests).
pub fn sign_timestamped(
    secret: &WebhookSecret,
    body: &[u8],
    timestamp: i64,
    scheme: &TimestampedScheme,
) -> String {
    let ts = timestamp.to_string();
    let tag = mac_over(secret, &[ts.as_bytes(), scheme.separator.as_bytes(), body])
        .finalize()
        .into_bytes();
    format!(
        "{}={ts},{}={}",
        scheme.timestamp_key,
        scheme.signature_key,
        hex::encode(tag)
    )
}

/// Whether `given` equals the configured verify token (Meta's `hub.verify_token` in the
/// subscription handshake), compared in constant time. An empty configured token matches
/// nothing.
///
/// The comparison takes time independent of the content; only the lengths' equality may be
/// observable.
pub fn verify_token_matches(expected: &WebhookSecret, given: &str) -> bool {
    let expected = expected.expose_secret().as_bytes();
    !expected.is_empty() && bool::from(expected.ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::ErrorKind;

    // Known vectors, computed independently with Python:
    //   hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest() (and base64 of the digest)
    const BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","time":1700000000}]}"#;
    const BODY_HEX: &str = "bc82f0895388957aba6cdbcce9bdd4b42ac80afa99c53c55a4a27f9e3d0f34c3";
    const BODY_B64: &str = "vILwiVOIlXq6bNvM6b3UtCrICvqZxTxVpKJ/nj0PNMM=";
    //   hmac.new(b"tt-secret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    const TIKTOK_HEX: &str = "98bdc8a0c42aee2213bf8532d67ae1565a4f9ae144736849b60323ddb2fac6d6";

    fn secret() -> WebhookSecret {
        WebhookSecret::new("app-secret")
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn known_vectors() {
        assert_eq!(sign_hmac_sha256(&secret(), BODY), BODY_HEX);
        assert_eq!(
            sign_header(&secret(), BODY, SignatureFormat::META),
            format!("sha256={BODY_HEX}")
        );
        assert_eq!(sign_header(&secret(), BODY, SignatureFormat::Hex), BODY_HEX);
        assert_eq!(
            sign_header(&secret(), BODY, SignatureFormat::Base64),
            BODY_B64
        );
        // RFC 4231 test case 2.
        assert_eq!(
            sign_hmac_sha256(&WebhookSecret::new("Jefe"), b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign_timestamped(
                &WebhookSecret::new("tt-secret"),
                BODY,
                1_700_000_000,
                &TimestampedScheme::TIKTOK
            ),
            format!("t=1700000000,s={TIKTOK_HEX}")
        );
    }

    #[test]
    fn accepts_each_format() {
        let meta = format!("sha256={BODY_HEX}");
        let upper = format!("SHA256={}", BODY_HEX.to_uppercase());
        let padded = format!("  {meta}\t");
        let unpadded = BODY_B64.trim_end_matches('=');
        for (header, format) in [
            (meta.as_str(), SignatureFormat::META),
            (upper.as_str(), SignatureFormat::META),
            (padded.as_str(), SignatureFormat::META),
            (BODY_HEX, SignatureFormat::Hex),
            (BODY_B64, SignatureFormat::Base64),
            (unpadded, SignatureFormat::Base64),
        ] {
            assert_eq!(
                verify_hmac_sha256(&secret(), BODY, Some(header), format),
                Ok(()),
                "{header}"
            );
        }
    }

    #[test]
    fn rejects_tampering_and_wrong_secret() {
        let header = sign_header(&secret(), BODY, SignatureFormat::META);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_hmac_sha256(&secret(), &tampered, Some(&header), SignatureFormat::META),
            Err(WebhookError::SignatureMismatch)
        );
        // Trailing whitespace in the body is part of what was signed.
        let mut extended = BODY.to_vec();
        extended.push(b'\n');
        assert_eq!(
            verify_hmac_sha256(&secret(), &extended, Some(&header), SignatureFormat::META),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            verify_hmac_sha256(
                &WebhookSecret::new("other-secret"),
                BODY,
                Some(&header),
                SignatureFormat::META
            ),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn fails_closed_on_missing_or_malformed_headers() {
        let fmt = SignatureFormat::META;
        for missing in [None, Some(""), Some("   ")] {
            assert_eq!(
                verify_hmac_sha256(&secret(), BODY, missing, fmt),
                Err(WebhookError::MissingSignature)
            );
        }
        let short = format!("sha256={}", &BODY_HEX[..63]);
        let long = format!("sha256={BODY_HEX}0");
        let not_hex = format!("sha256={}", "zz".repeat(32));
        let sha1 = format!("sha1={BODY_HEX}");
        let bare = BODY_HEX.to_owned();
        let multibyte = format!("sha25é{BODY_HEX}");
        for header in [
            short,
            long,
            not_hex,
            sha1,
            bare,
            multibyte,
            "sha256=".into(),
        ] {
            assert!(
                matches!(
                    verify_hmac_sha256(&secret(), BODY, Some(&header), fmt),
                    Err(WebhookError::MalformedSignature { .. })
                ),
                "{header}"
            );
        }
        let not_base64 = "@".repeat(44);
        // Valid base64, but of 33 bytes.
        let too_long = "A".repeat(44);
        for header in ["!!!!", not_base64.as_str(), too_long.as_str(), BODY_HEX] {
            assert!(
                matches!(
                    verify_hmac_sha256(&secret(), BODY, Some(header), SignatureFormat::Base64),
                    Err(WebhookError::MalformedSignature { .. })
                ),
                "{header}"
            );
        }
        let meta = format!("sha256={BODY_HEX}");
        assert!(matches!(
            verify_hmac_sha256(&secret(), BODY, Some(&meta), SignatureFormat::Hex),
            Err(WebhookError::MalformedSignature { .. })
        ));
    }

    #[test]
    fn empty_secret_never_verifies() {
        let empty = WebhookSecret::new("");
        let header = sign_header(&empty, BODY, SignatureFormat::META);
        assert_eq!(
            verify_hmac_sha256(&empty, BODY, Some(&header), SignatureFormat::META),
            Err(WebhookError::EmptySecret)
        );
        let header = sign_timestamped(&empty, BODY, 100, &TimestampedScheme::TIKTOK);
        assert_eq!(
            verify_timestamped(
                &empty,
                BODY,
                Some(&header),
                &TimestampedScheme::TIKTOK,
                at(100),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::EmptySecret)
        );
        assert_eq!(
            crate::Error::from(WebhookError::EmptySecret).kind(),
            ErrorKind::Config
        );
    }

    #[test]
    fn errors_map_to_crypto_and_leak_nothing() {
        let header = sign_header(&secret(), BODY, SignatureFormat::META);
        let err = verify_hmac_sha256(&secret(), b"other", Some(&header), SignatureFormat::META)
            .unwrap_err();
        let expected_for_other = sign_hmac_sha256(&secret(), b"other");
        let core: crate::Error = err.into();
        assert_eq!(core.kind(), ErrorKind::Crypto);
        let text = format!("{core} {core:?} {err:?}");
        assert!(!text.contains("app-secret"), "{text}");
        assert!(!text.contains(&expected_for_other), "{text}");
        assert!(!text.contains(BODY_HEX), "{text}");
    }

    #[test]
    fn timestamped_round_trip_and_window() {
        let s = WebhookSecret::new("tt-secret");
        let scheme = TimestampedScheme::TIKTOK;
        let t = 1_700_000_000;
        let header = sign_timestamped(&s, BODY, t, &scheme);
        let tol = Duration::from_secs(300);
        let verify = |now| verify_timestamped(&s, BODY, Some(&header), &scheme, now, tol);

        assert_eq!(verify(at(t)), Ok(at(t)));
        // The window's edges are inside it.
        assert_eq!(verify(at(t + 300)), Ok(at(t)));
        assert_eq!(verify(at(t - 300)), Ok(at(t)));
        assert_eq!(verify(at(t + 301)), Err(WebhookError::StaleTimestamp));
        assert_eq!(verify(at(t - 301)), Err(WebhookError::FutureTimestamp));
        assert_eq!(
            verify_timestamped(
                &s,
                BODY,
                Some(&header),
                &scheme,
                at(i64::from(u32::MAX)),
                Duration::MAX
            ),
            Ok(at(t))
        );
    }

    #[test]
    fn timestamped_signature_covers_the_timestamp() {
        let s = WebhookSecret::new("tt-secret");
        let scheme = TimestampedScheme::TIKTOK;
        let header = sign_timestamped(&s, BODY, 1_700_000_000, &scheme);
        // Moving the timestamp forward to dodge the window breaks the signature.
        let replayed = header.replace("t=1700000000", "t=1700000900");
        assert_eq!(
            verify_timestamped(
                &s,
                BODY,
                Some(&replayed),
                &scheme,
                at(1_700_000_900),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::SignatureMismatch)
        );
        // So does a leading zero: the text, not the number, is signed.
        let zero = header.replace("t=1700000000", "t=01700000000");
        assert_eq!(
            verify_timestamped(
                &s,
                BODY,
                Some(&zero),
                &scheme,
                at(1_700_000_000),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            verify_timestamped(
                &s,
                b"tampered",
                Some(&header),
                &scheme,
                at(1_700_000_000),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::SignatureMismatch)
        );
        // A bad signature is reported as such even when the timestamp is also stale.
        assert_eq!(
            verify_timestamped(
                &s,
                b"tampered",
                Some(&header),
                &scheme,
                at(1_800_000_000),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn timestamped_accepts_rotation_and_other_keys() {
        let old = WebhookSecret::new("old-secret");
        let new = WebhookSecret::new("new-secret");
        let scheme = TimestampedScheme::new("t", "v1", ".");
        let t = 1_700_000_000;
        let sig = |s: &WebhookSecret| {
            let h = sign_timestamped(s, BODY, t, &scheme);
            h.rsplit_once("v1=").unwrap().1.to_owned()
        };
        let header = format!(
            " t={t} , v1={}, v0=ignored-legacy ,v1={} ",
            sig(&old),
            sig(&new)
        );
        for s in [&old, &new] {
            assert_eq!(
                verify_timestamped(s, BODY, Some(&header), &scheme, at(t), DEFAULT_TOLERANCE),
                Ok(at(t))
            );
        }
        assert_eq!(
            verify_timestamped(
                &WebhookSecret::new("third"),
                BODY,
                Some(&header),
                &scheme,
                at(t),
                DEFAULT_TOLERANCE
            ),
            Err(WebhookError::SignatureMismatch)
        );
        let parsed = parse_timestamped(Some(&header), &scheme).unwrap();
        assert_eq!(parsed.timestamp(), at(t));
        assert_eq!(parsed.signature_count(), 2);
    }

    #[test]
    fn timestamped_rejects_malformed_headers() {
        let scheme = TimestampedScheme::TIKTOK;
        let sig = "ab".repeat(32);
        assert_eq!(
            parse_timestamped(None, &scheme),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            parse_timestamped(Some(" "), &scheme),
            Err(WebhookError::MissingSignature)
        );
        let too_many = format!("t=1,{}", vec![format!("s={sig}"); 9].join(","));
        let huge = format!("t=1,s={sig},x={}", "y".repeat(5000));
        for header in [
            format!("s={sig}"),
            "t=1700000000".to_owned(),
            format!("t=1700000000,s={}", &sig[..62]),
            format!("t=1700000000,s={}", "zz".repeat(32)),
            format!("t=1700000000;s={sig}"),
            format!("t=1700000000,s={sig},garbage"),
            format!("t=1,t=2,s={sig}"),
            format!("t=-5,s={sig}"),
            format!("t=+5,s={sig}"),
            format!("t=1.5,s={sig}"),
            format!("t=,s={sig}"),
            format!("t=99999999999999999999,s={sig}"),
            // Thirteen digits: past the year 33000, refused before parsing.
            format!("t=1000000000000,s={sig}"),
            too_many,
            huge,
        ] {
            assert!(
                matches!(
                    parse_timestamped(Some(&header), &scheme),
                    Err(WebhookError::MalformedSignature { .. })
                ),
                "{header}"
            );
        }
    }

    #[test]
    fn verify_token_is_exact() {
        let expected = WebhookSecret::new("my-verify-token");
        assert!(verify_token_matches(&expected, "my-verify-token"));
        assert!(!verify_token_matches(&expected, "my-verify-toke"));
        assert!(!verify_token_matches(&expected, "my-verify-tokeN"));
        assert!(!verify_token_matches(&expected, "my-verify-token "));
        assert!(!verify_token_matches(&expected, ""));
        assert!(!verify_token_matches(&WebhookSecret::new(""), ""));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            header in ".{0,128}",
            secret in ".{0,32}",
            now in -10_000_000_000i64..10_000_000_000i64,
            tol in any::<u64>(),
        ) {
            let secret = WebhookSecret::new(secret);
            let formats = [SignatureFormat::META, SignatureFormat::Hex, SignatureFormat::Base64];
            for format in formats {
                let _ = verify_hmac_sha256(&secret, &body, Some(&header), format);
            }
            let _ = parse_timestamped(Some(&header), &TimestampedScheme::TIKTOK);
            let _ = verify_timestamped(
                &secret,
                &body,
                Some(&header),
                &TimestampedScheme::TIKTOK,
                at(now),
                Duration::from_secs(tol),
            );
            let _ = verify_token_matches(&secret, &header);
        }

        #[test]
        fn structured_headers_never_panic(
            ts in "[0-9+-]{0,14}",
            sig in "[0-9a-fA-FxX]{0,70}",
            extra in "[a-z0-9=,. ]{0,40}",
        ) {
            let header = format!("t={ts},s={sig},{extra}");
            let _ = verify_timestamped(
                &secret(),
                BODY,
                Some(&header),
                &TimestampedScheme::TIKTOK,
                at(1_700_000_000),
                DEFAULT_TOLERANCE,
            );
        }

        #[test]
        fn correct_signatures_always_verify(
            body in proptest::collection::vec(any::<u8>(), 0..2048),
            secret in ".{1,64}",
            t in 0i64..4_000_000_000,
            skew in -300i64..=300,
        ) {
            let secret = WebhookSecret::new(secret);
            for format in [SignatureFormat::META, SignatureFormat::Hex, SignatureFormat::Base64] {
                let header = sign_header(&secret, &body, format);
                prop_assert_eq!(verify_hmac_sha256(&secret, &body, Some(&header), format), Ok(()));
            }
            let scheme = TimestampedScheme::TIKTOK;
            let header = sign_timestamped(&secret, &body, t, &scheme);
            prop_assert_eq!(
                verify_timestamped(&secret, &body, Some(&header), &scheme, at(t + skew), DEFAULT_TOLERANCE),
                Ok(at(t))
            );
        }

        #[test]
        fn any_single_bit_flip_is_caught(
            body in proptest::collection::vec(any::<u8>(), 1..256),
            bit in any::<usize>(),
        ) {
            let header = sign_header(&secret(), &body, SignatureFormat::META);
            let mut flipped = body.clone();
            let bit = bit % (flipped.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(
                verify_hmac_sha256(&secret(), &flipped, Some(&header), SignatureFormat::META),
                Err(WebhookError::SignatureMismatch)
            );
        }
    }
}
