//! Meta's `signed_request`: the payload of the Deauthorize and Data Deletion callbacks.
//!
//! When a user removes the app, or asks for their data to be deleted, Meta `POST`s an
//! `application/x-www-form-urlencoded` body with one field, `signed_request`, to the URL set in
//! the app dashboard (`meta.md` §8). Its value is `<base64url(signature)>.<base64url(payload)>`,
//! where the signature is HMAC-SHA256 under the **app secret** over the base64url payload
//! *string as sent* (not the decoded JSON), and the payload is JSON such as
//! `{"algorithm":"HMAC-SHA256","issued_at":1291836800,"user_id":"218471"}`.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use socialconnect_core::secret::ClientSecret;
//! use socialconnect_meta::signed_request::{self, DEFAULT_MAX_AGE};
//!
//! let app_secret = ClientSecret::new("app-secret");
//! # let now: DateTime<Utc> = DateTime::from_timestamp(1_291_837_000, 0).unwrap();
//! # let raw = signed_request::sign_signed_request(
//! #     r#"{"algorithm":"HMAC-SHA256","issued_at":1291836800,"user_id":"218471"}"#, &app_secret);
//! # let form_body = format!("signed_request={raw}").into_bytes();
//! // In the Data Deletion callback's handler, with the raw request body:
//! let raw = signed_request::from_form_body(&form_body)?;
//! let request = signed_request::verify_signed_request(&raw, &app_secret, now, DEFAULT_MAX_AGE)?;
//! assert_eq!(request.user_id, "218471");
//! // Start deleting the data of app-scoped user `request.user_id`, record it in the consent
//! // ledger, and answer with JSON `{"url": "<status page>", "confirmation_code": "<code>"}`.
//! # Ok::<(), signed_request::SignedRequestError>(())
//! ```
//!
//! Checks, in order: size ([`MAX_SIGNED_REQUEST_LEN`]), shape, the signature (in constant time,
//! before anything of the payload is decoded), `algorithm` (`HMAC-SHA256`, any case, as the
//! official PHP sample's `strtoupper`), then `issued_at` against a freshness window.
//!
//! Tolerance: base64url is sent without padding, but padded input is accepted (a third-party
//! account, UNCONFIRMED, says Meta's signature carries a trailing `=`), and so is the standard
//! alphabet (`+/`), which the PHP sample's decoder also accepts. `user_id` may be a string or
//! an integer; `issued_at` and `expires` an integer or a decimal string. Other payload keys
//! (`user{country,locale}`, `profile_id`, `code`, …) are ignored.

use std::time::Duration;

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD_INDIFFERENT};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use socialconnect_core::Error;
use socialconnect_core::secret::ClientSecret;

use crate::model::webhook::{WireId, WireTime};

type HmacSha256 = Hmac<Sha256>;

/// The longest `signed_request` accepted, in bytes. Real ones are a few hundred.
pub const MAX_SIGNED_REQUEST_LEN: usize = 8 * 1024;

/// The largest form body [`from_form_body`] reads, in bytes.
pub const MAX_FORM_BODY_LEN: usize = 16 * 1024;

/// The default freshness window for `issued_at`: one hour.
///
/// Meta delivers these callbacks when the user acts, and its documented example expires an
/// hour after issue (`expires = issued_at + 3600`). A request older than that is more likely a
/// replay (the same format also travels through browsers, in the JS SDK's `fbsr_` cookie) than
/// a late delivery. Meta's retry schedule for these callbacks is UNCONFIRMED; a host that sees
/// late deliveries can pass a longer window.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// How far in the future `issued_at` may be, for clock skew between Meta and the host: five
/// minutes.
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);

const ALGORITHM: &str = "HMAC-SHA256";
const TAG_LEN: usize = 32;

/// URL-safe alphabet, padding optional. Trailing bits must be zero: every encoder emits that.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, PAD_INDIFFERENT);

/// A verified `signed_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedRequest {
    /// The app-scoped user id the callback is about.
    pub user_id: String,
    /// When Meta issued the request.
    pub issued_at: DateTime<Utc>,
    /// The `expires` field, when present and non-zero. Its meaning in the privacy callbacks is
    /// not documented (older captures omit it), so it is reported but not enforced;
    /// [`verify_signed_request`] applies its own window to `issued_at`.
    pub expires: Option<DateTime<Utc>>,
}

/// Why a `signed_request` was refused. None of them carry any part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedRequestError {
    /// Not in the `<sig>.<payload>` shape, not base64url, not a JSON object, or missing
    /// `issued_at` or `user_id`.
    #[error("malformed signed_request: {reason}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The signature does not match: tampered, signed with another secret, or forged.
    #[error("signed_request signature does not match")]
    BadSignature,
    /// `algorithm` is absent or not `HMAC-SHA256`.
    #[error("signed_request algorithm is missing or not HMAC-SHA256")]
    UnsupportedAlgorithm,
    /// `issued_at` is older than the freshness window.
    #[error("signed_request is older than the freshness window")]
    Stale,
    /// `issued_at` is further in the future than [`MAX_FUTURE_SKEW`].
    #[error("signed_request is issued in the future")]
    Future,
    /// The input is over [`MAX_SIGNED_REQUEST_LEN`] (or the form body over
    /// [`MAX_FORM_BODY_LEN`]).
    #[error("signed_request is too large")]
    TooLarge,
    /// The configured app secret is empty; an HMAC keyed with it proves nothing.
    #[error("app secret is empty")]
    EmptySecret,
}

impl From<SignedRequestError> for Error {
    /// Signature, algorithm and freshness failures are [`socialconnect_core::ErrorKind::Crypto`];
    /// malformed or oversized input is `InvalidInput`; an empty secret is `Config`.
    fn from(err: SignedRequestError) -> Self {
        match err {
            SignedRequestError::Malformed { .. } | SignedRequestError::TooLarge => {
                Error::invalid_input(err.to_string())
            }
            SignedRequestError::EmptySecret => Error::config(err.to_string()),
            _ => Error::Crypto(err.to_string()),
        }
    }
}

fn malformed(reason: &'static str) -> SignedRequestError {
    SignedRequestError::Malformed { reason }
}

#[derive(Deserialize)]
struct WirePayload {
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    issued_at: Option<WireTime>,
    #[serde(default)]
    expires: Option<WireTime>,
    #[serde(default)]
    user_id: Option<WireId>,
}

/// Decodes base64url, padded or not, also accepting the standard alphabet's `+` and `/`.
fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    if text.contains(['+', '/']) {
        BASE64URL
            .decode(text.replace('+', "-").replace('/', "_"))
            .ok()
    } else {
        BASE64URL.decode(text).ok()
    }
}

fn mac(app_secret: &ClientSecret) -> HmacSha256 {
    // HMAC accepts keys of any length (longer ones are hashed, shorter ones padded).
    HmacSha256::new_from_slice(app_secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length")
}

/// Verifies a `signed_request` and returns its payload.
///
/// `raw` is the field's value (see [`from_form_body`]); surrounding whitespace is ignored.
/// `now` is the current time (a parameter so tests and replays are deterministic) and
/// `max_age` how old `issued_at` may be ([`DEFAULT_MAX_AGE`] unless the host knows better).
///
/// # Errors
///
/// [`SignedRequestError::TooLarge`] over [`MAX_SIGNED_REQUEST_LEN`];
/// [`SignedRequestError::EmptySecret`]; [`SignedRequestError::Malformed`] for a bad shape or
/// encoding; [`SignedRequestError::BadSignature`]; then, for an authentic payload,
/// [`SignedRequestError::UnsupportedAlgorithm`], `Malformed` (not a JSON object, no usable
/// `issued_at` or `user_id`), [`SignedRequestError::Stale`] or [`SignedRequestError::Future`].
pub fn verify_signed_request(
    raw: &str,
    app_secret: &ClientSecret,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<SignedRequest, SignedRequestError> {
    if raw.len() > MAX_SIGNED_REQUEST_LEN {
        return Err(SignedRequestError::TooLarge);
    }
    if app_secret.expose_secret().is_empty() {
        return Err(SignedRequestError::EmptySecret);
    }
    let raw = raw.trim();
    let (encoded_sig, payload) = raw
        .split_once('.')
        .ok_or(malformed("no `.` between signature and payload"))?;
    if encoded_sig.is_empty() || payload.is_empty() {
        return Err(malformed("empty signature or payload"));
    }
    // 32 bytes are 43 characters unpadded, 44 padded: checking first bounds the decoding work.
    if !(43..=44).contains(&encoded_sig.len()) {
        return Err(malformed("signature has the wrong length"));
    }
    let signature = decode_base64url(encoded_sig).ok_or(malformed("signature is not base64url"))?;
    if signature.len() != TAG_LEN {
        return Err(malformed("signature has the wrong length"));
    }
    let mut mac = mac(app_secret);
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| SignedRequestError::BadSignature)?;

    // Authentic from here on.
    let json = decode_base64url(payload).ok_or(malformed("payload is not base64url"))?;
    // Through a `Value` so that only an object is accepted (serde would also fill a struct
    // from an array); `Value` keeps 64-bit integers exact.
    let payload = serde_json::from_slice::<serde_json::Value>(&json)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or(malformed("payload is not a JSON object"))?;
    let payload = WirePayload::deserialize(payload)
        .map_err(|_| malformed("payload fields have the wrong types"))?;
    let algorithm = payload.algorithm.unwrap_or_default();
    if !algorithm.eq_ignore_ascii_case(ALGORITHM) {
        return Err(SignedRequestError::UnsupportedAlgorithm);
    }
    let issued_at = payload
        .issued_at
        .ok_or(malformed("issued_at is missing"))?
        .0;
    let age = now.signed_duration_since(issued_at);
    if age > TimeDelta::from_std(max_age).unwrap_or(TimeDelta::MAX) {
        return Err(SignedRequestError::Stale);
    }
    if -age > TimeDelta::from_std(MAX_FUTURE_SKEW).unwrap_or(TimeDelta::MAX) {
        return Err(SignedRequestError::Future);
    }
    let user_id = payload
        .user_id
        .map(WireId::into_string)
        .filter(|id| !id.is_empty())
        .ok_or(malformed("user_id is missing"))?;
    let expires = payload.expires.map(|t| t.0).filter(|t| t.timestamp() != 0);
    Ok(SignedRequest {
        user_id,
        issued_at,
        expires,
    })
}

/// Signs `payload_json` the way Meta does: `<base64url(sig)>.<base64url(payload)>`, unpadded.
///
/// For tests and platform simulators only; a host never signs a `signed_request`.
pub fn sign_signed_request(payload_json: &str, app_secret: &ClientSecret) -> String {
    let payload = BASE64URL_NO_PAD.encode(payload_json);
    let mut mac = mac(app_secret);
    mac.update(payload.as_bytes());
    let signature = BASE64URL_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signature}.{payload}")
}

const BASE64URL_NO_PAD: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Extracts the `signed_request` field from an `application/x-www-form-urlencoded` body, as
/// Meta posts it to the Deauthorize and Data Deletion callbacks. Other fields are ignored.
///
/// # Errors
///
/// [`SignedRequestError::TooLarge`] for a body over [`MAX_FORM_BODY_LEN`] or a value over
/// [`MAX_SIGNED_REQUEST_LEN`]; [`SignedRequestError::Malformed`] when the field is absent,
/// empty, or given twice.
pub fn from_form_body(body: &[u8]) -> Result<String, SignedRequestError> {
    if body.len() > MAX_FORM_BODY_LEN {
        return Err(SignedRequestError::TooLarge);
    }
    let mut found: Option<String> = None;
    for (name, value) in url::form_urlencoded::parse(body) {
        if name == "signed_request" {
            if found.is_some() {
                return Err(malformed("signed_request appears twice"));
            }
            found = Some(value.into_owned());
        }
    }
    let value = found
        .filter(|v| !v.trim().is_empty())
        .ok_or(malformed("no signed_request field"))?;
    if value.len() > MAX_SIGNED_REQUEST_LEN {
        return Err(SignedRequestError::TooLarge);
    }
    Ok(value)
}
