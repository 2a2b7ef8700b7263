//! TikTok webhooks: the `TikTok-Signature` check, the envelope with its doubly encoded
//! `content`, typed events, dedupe of at-least-once deliveries, and `authorization.removed` as
//! the deauthorization and erasure trigger.
//!
//! TikTok POSTs JSON to the callback URL set in the developer portal and retries for 72 hours
//! until it sees a 200, so the same event may arrive more than once. Each delivery is signed:
//! `TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client secret, t + "." + raw body)>`
//! (TikTok's "Webhooks verification" page). TikTok leaves the age check to the receiver; this
//! module refuses a timestamp more than [`DEFAULT_TOLERANCE`] (5 minutes, configurable) away
//! from the clock, either way.
//!
//! Two ways in:
//!
//! - [`WebhookVerifier`] checks and parses a delivery without touching any store: for a host
//!   that queues the event and handles it elsewhere.
//! - [`TikTokWebhooks`] is bound to a hub: it verifies, drops repeats through a
//!   [`DeliveryLog`](socialconnect_core::webhook::DeliveryLog), and on `authorization.removed`
//!   marks the open id's connections revoked, deletes their tokens and, as the host chose
//!   ([`DeletionMode`]), records the erasure as done or queues it for review.
//!
//! Hand over the body exactly as received (bytes, before any JSON extractor): the signature is
//! over bytes.
//!
//! ```
//! use chrono::Utc;
//! use socialconnect_core::secret::{ClientSecret, WebhookSecret};
//! use socialconnect_core::webhook::{TimestampedScheme, sign_timestamped};
//! use socialconnect_tiktok::TikTokConfig;
//! use socialconnect_tiktok::webhook::{TikTokEvent, WebhookVerifier};
//!
//! let config = TikTokConfig::new("bwo2m45353a6k85", ClientSecret::new("client-secret"));
//! let verifier = WebhookVerifier::new(&config);
//! let body = br#"{"client_key":"bwo2m45353a6k85","event":"authorization.removed","create_time":1615338610,"user_openid":"act.example","content":"{\"reason\": 1 }"}"#;
//! let now = Utc::now();
//! let header = sign_timestamped(
//!     &WebhookSecret::new("client-secret"), body, now.timestamp(), &TimestampedScheme::TIKTOK);
//!
//! let mut headers = http::HeaderMap::new();
//! headers.insert("TikTok-Signature", header.parse().unwrap());
//! let event = verifier.verify_and_parse(&headers, body, now)?;
//! assert!(matches!(event.event, TikTokEvent::AuthorizationRemoved { .. }));
//! assert_eq!(event.user_openid, "act.example");
//! # Ok::<(), socialconnect_tiktok::webhook::WebhookRejection>(())
//! ```
//!
//! # Privacy
//!
//! Errors name what was wrong (a field, a category) and never quote the body, the header or
//! the secret. The delivery id given to the dedupe log holds no open id in clear (see
//! [`WebhookEvent::delivery_id`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{self as kit, TimestampedScheme};
use socialconnect_core::{Error, ErrorKind};

use crate::client::TikTokConfig;
pub use crate::model::{
    MAX_EVENT_NAME_BYTES, MAX_KEPT_CONTENT_BYTES, PortabilityReady, PostOutcome, RemovalReason,
    TikTokEvent, UnknownEvent, WebhookEvent,
};
use crate::model::{MAX_ID_BYTES, WireEnvelope, WireIds, WireRemoval};

mod removal;

pub use removal::{DeletionMode, Delivered, Removal, TikTokWebhooks};

/// The signature header's name, lowercase as `http::HeaderMap` stores it (looked up ignoring
/// case either way).
pub const SIGNATURE_HEADER: &str = "tiktok-signature";

/// The largest body accepted: 64 KiB. TikTok's events are one small envelope each (its example
/// is under 200 bytes); [`WebhookVerifier::with_max_body_bytes`] changes it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The default window around the clock a signed timestamp must fall in: 5 minutes either way.
pub const DEFAULT_TOLERANCE: Duration = kit::DEFAULT_TOLERANCE;

/// The platform name deliveries are recorded under in a
/// [`DeliveryLog`](socialconnect_core::webhook::DeliveryLog).
pub const DELIVERY_PLATFORM: &str = "tiktok";

/// Why a TikTok webhook delivery was refused. Never carries the body, the header or the
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No `TikTok-Signature` header, or an empty one.
    #[error("TikTok-Signature header is missing")]
    MissingSignature,
    /// The header is not `t=<unix>,s=<64 hex digits>` (or appears twice).
    #[error("TikTok-Signature header is malformed: {reason}")]
    MalformedSignature {
        /// What was wrong with it (never the header's content).
        reason: &'static str,
    },
    /// The signature does not match the body: tampered, signed with another secret, or forged.
    #[error("TikTok-Signature does not match the body")]
    SignatureMismatch,
    /// Authentic, but signed longer ago than the tolerance allows (a replay or a long delay).
    #[error("TikTok-Signature timestamp is older than the tolerance window")]
    StaleTimestamp,
    /// Authentic, but signed further ahead than the tolerance allows (a clock out of step).
    #[error("TikTok-Signature timestamp is further in the future than the tolerance window")]
    FutureTimestamp,
    /// The configured client secret is empty: nothing can be verified.
    #[error("the TikTok client secret is empty")]
    EmptySecret,
    /// The body is larger than the configured limit.
    #[error("webhook body of {len} bytes is over the {max}-byte limit")]
    BodyTooLarge {
        /// The body's size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The envelope is not the documented `{client_key, event, create_time, user_openid,
    /// content}` object.
    #[error("TikTok webhook envelope is malformed: {reason}")]
    MalformedEnvelope {
        /// What was wrong (a field name or a category, never a value).
        reason: &'static str,
    },
    /// `content` is not a JSON string (TikTok serializes the event's details into one).
    #[error("TikTok webhook `content` is not a JSON string")]
    ContentNotString,
    /// `content` is a string, but not a JSON document.
    #[error("TikTok webhook `content` is not serialized JSON")]
    ContentNotJson,
    /// `content` is JSON, but not the shape the event's name calls for.
    #[error("TikTok webhook `content` is malformed: {reason}")]
    MalformedContent {
        /// What was wrong (never a value).
        reason: &'static str,
    },
    /// The delivery names another app's client key.
    #[error("TikTok webhook is for another client key")]
    ClientKeyMismatch,
}

impl WebhookRejection {
    /// The kind of failure: [`ErrorKind::Crypto`] for every signature and timestamp failure,
    /// [`ErrorKind::Config`] for an empty secret, [`ErrorKind::InvalidInput`] for the body.
    pub fn kind(&self) -> ErrorKind {
        use WebhookRejection::*;
        match self {
            MissingSignature
            | MalformedSignature { .. }
            | SignatureMismatch
            | StaleTimestamp
            | FutureTimestamp => ErrorKind::Crypto,
            EmptySecret => ErrorKind::Config,
            BodyTooLarge { .. }
            | MalformedEnvelope { .. }
            | ContentNotString
            | ContentNotJson
            | MalformedContent { .. }
            | ClientKeyMismatch => ErrorKind::InvalidInput,
        }
    }

    /// The HTTP status to answer TikTok with: 401 for a signature failure, 413 for a body over
    /// the limit, 500 for an empty secret (TikTok retries, giving time to fix it), 400 else.
    pub fn status(&self) -> u16 {
        match (self, self.kind()) {
            (Self::BodyTooLarge { .. }, _) => 413,
            (_, ErrorKind::Crypto) => 401,
            (_, ErrorKind::Config) => 500,
            _ => 400,
        }
    }
}

impl From<kit::WebhookError> for WebhookRejection {
    fn from(err: kit::WebhookError) -> Self {
        use kit::WebhookError as K;
        match err {
            K::MissingSignature => Self::MissingSignature,
            K::MalformedSignature { reason } => Self::MalformedSignature { reason },
            K::SignatureMismatch => Self::SignatureMismatch,
            K::StaleTimestamp => Self::StaleTimestamp,
            K::FutureTimestamp => Self::FutureTimestamp,
            K::EmptySecret => Self::EmptySecret,
            // The kit's enum may grow; a rejection it adds later is still a refusal.
            _ => Self::MalformedSignature {
                reason: "signature refused",
            },
        }
    }
}

impl From<WebhookRejection> for Error {
    fn from(err: WebhookRejection) -> Self {
        match err.kind() {
            ErrorKind::Crypto => Error::Crypto(err.to_string()),
            ErrorKind::Config => Error::config(err.to_string()),
            _ => Error::invalid_input(err.to_string()),
        }
    }
}

/// The HTTP status to answer a delivery with when handling it failed with `err`: a rejected
/// delivery as [`WebhookRejection::status`] says (401, 400); a failure on this side (a store,
/// the configuration) 500, so TikTok delivers it again later.
pub fn response_status(err: &Error) -> u16 {
    match err.kind() {
        ErrorKind::Crypto => 401,
        ErrorKind::InvalidInput => 400,
        _ => 500,
    }
}

/// Checks and parses TikTok webhook deliveries for one app, without any store.
#[derive(Clone)]
pub struct WebhookVerifier {
    client_key: String,
    secret: WebhookSecret,
    tolerance: Duration,
    max_body: usize,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("client_key", &self.client_key)
            .field("tolerance", &self.tolerance)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier for the app in `config`: its client secret signs deliveries, and its client
    /// key must be the one a delivery names. Tolerance [`DEFAULT_TOLERANCE`], body limit
    /// [`MAX_BODY_BYTES`].
    pub fn new(config: &TikTokConfig) -> Self {
        Self {
            client_key: config.client_key.clone(),
            secret: WebhookSecret::new(config.client_secret.expose_secret()),
            tolerance: DEFAULT_TOLERANCE,
            max_body: MAX_BODY_BYTES,
        }
    }

    /// How far from the clock a signed timestamp may be, either way.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The largest body accepted.
    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// The tolerance window.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    fn check_size(&self, body: &[u8]) -> Result<(), WebhookRejection> {
        if body.len() > self.max_body {
            Err(WebhookRejection::BodyTooLarge {
                len: body.len(),
                max: self.max_body,
            })
        } else {
            Ok(())
        }
    }

    /// Verifies the signature header's value (`None` when the request had none) over the raw
    /// `body`, in constant time, then its timestamp against `now`. Returns the signed
    /// timestamp.
    ///
    /// # Errors
    ///
    /// [`WebhookRejection::BodyTooLarge`], then the signature failures
    /// ([`MissingSignature`](WebhookRejection::MissingSignature),
    /// [`MalformedSignature`](WebhookRejection::MalformedSignature),
    /// [`SignatureMismatch`](WebhookRejection::SignatureMismatch),
    /// [`StaleTimestamp`](WebhookRejection::StaleTimestamp),
    /// [`FutureTimestamp`](WebhookRejection::FutureTimestamp),
    /// [`EmptySecret`](WebhookRejection::EmptySecret)). The signature is checked before the
    /// timestamp, so a timestamp error means an authentic but replayed or delayed delivery.
    pub fn verify_header(
        &self,
        header_value: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, WebhookRejection> {
        self.check_size(body)?;
        Ok(kit::verify_timestamped(
            &self.secret,
            body,
            header_value,
            &TimestampedScheme::TIKTOK,
            now,
            self.tolerance,
        )?)
    }

    /// Finds `TikTok-Signature` in `headers` (whatever its case) and verifies it as
    /// [`verify_header`](Self::verify_header) does.
    ///
    /// # Errors
    ///
    /// As [`verify_header`](Self::verify_header); a header given twice or not visible ASCII
    /// is [`WebhookRejection::MalformedSignature`].
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, WebhookRejection> {
        self.check_size(body)?;
        let value = kit::header_value(headers, SIGNATURE_HEADER)?;
        self.verify_header(value, body, now)
    }

    /// Verifies a delivery whose headers come as name/value pairs (a framework's own header
    /// type), the name matched ignoring ASCII case.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_pairs<'a, I>(
        &self,
        pairs: I,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, WebhookRejection>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        self.check_size(body)?;
        let value = kit::header_in(pairs, SIGNATURE_HEADER)?;
        self.verify_header(value, body, now)
    }

    /// Verifies a delivery ([`verify`](Self::verify)), parses it ([`parse_event_with_limit`])
    /// and checks that it names this app's client key.
    ///
    /// # Errors
    ///
    /// Any [`WebhookRejection`].
    pub fn verify_and_parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookRejection> {
        self.verify(headers, body, now)?;
        self.parse_for_app(body)
    }

    /// [`verify_and_parse`](Self::verify_and_parse) for headers as name/value pairs.
    ///
    /// # Errors
    ///
    /// Any [`WebhookRejection`].
    pub fn verify_and_parse_pairs<'a, I>(
        &self,
        pairs: I,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, WebhookRejection>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        self.verify_pairs(pairs, body, now)?;
        self.parse_for_app(body)
    }

    fn parse_for_app(&self, body: &[u8]) -> Result<WebhookEvent, WebhookRejection> {
        let event = parse_event_with_limit(body, self.max_body)?;
        // Not secret, so a plain comparison: a client key is public (it is in every authorize
        // URL).
        if event.client_key != self.client_key {
            return Err(WebhookRejection::ClientKeyMismatch);
        }
        Ok(event)
    }
}

/// Parses a delivery's body (already verified) into a [`WebhookEvent`], refusing bodies over
/// [`MAX_BODY_BYTES`]. The client key is read but not checked; [`WebhookVerifier`] checks it.
///
/// # Errors
///
/// [`WebhookRejection::BodyTooLarge`], [`MalformedEnvelope`](WebhookRejection::MalformedEnvelope),
/// [`ContentNotString`](WebhookRejection::ContentNotString),
/// [`ContentNotJson`](WebhookRejection::ContentNotJson) or
/// [`MalformedContent`](WebhookRejection::MalformedContent).
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookRejection> {
    parse_event_with_limit(body, MAX_BODY_BYTES)
}

/// [`parse_event`] with another body limit.
///
/// # Errors
///
/// As [`parse_event`].
pub fn parse_event_with_limit(body: &[u8], max: usize) -> Result<WebhookEvent, WebhookRejection> {
    use WebhookRejection::*;
    let malformed = |reason| MalformedEnvelope { reason };
    if body.len() > max {
        return Err(BodyTooLarge {
            len: body.len(),
            max,
        });
    }
    let wire: WireEnvelope = serde_json::from_slice(body).map_err(|e| {
        malformed(match e.classify() {
            serde_json::error::Category::Data => {
                "a field has the wrong type or the body is not an object"
            }
            _ => "the body is not JSON",
        })
    })?;
    let client_key = wire.client_key.ok_or(malformed("client_key is missing"))?;
    let event = wire
        .event
        .filter(|e| !e.is_empty())
        .ok_or(malformed("event is missing"))?;
    let create_time = wire
        .create_time
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or(malformed("create_time is missing or not unix seconds"))?;
    let user_openid = wire
        .user_openid
        .filter(|id| !id.is_empty())
        .ok_or(malformed("user_openid is missing"))?;
    if user_openid.len() > MAX_ID_BYTES || client_key.len() > MAX_ID_BYTES {
        return Err(malformed("an id is too long"));
    }
    let text = match wire.content {
        Some(serde_json::Value::String(text)) => text,
        _ => return Err(ContentNotString),
    };
    let content: serde_json::Value = serde_json::from_str(&text).map_err(|_| ContentNotJson)?;
    let kept = (text.len() <= MAX_KEPT_CONTENT_BYTES).then(|| content.clone());
    let parsed = match event.as_str() {
        "authorization.removed" => {
            require_object(&content)?;
            // A reason that is not an integer (or a numeric string) reads as unknown: the
            // authorization is gone whatever the reason says.
            let wire: WireRemoval =
                serde_json::from_value(content).map_err(|_| MalformedContent {
                    reason: "authorization.removed content is not an object",
                })?;
            TikTokEvent::AuthorizationRemoved {
                reason: RemovalReason::from_code(wire.reason),
            }
        }
        "video.upload.failed" | "video.publish.completed" => {
            let ids = ids_of(content)?;
            let outcome = PostOutcome {
                publish_id: ids.publish_id,
                share_id: ids.share_id,
                content: kept,
            };
            if event == "video.upload.failed" {
                TikTokEvent::VideoUploadFailed(outcome)
            } else {
                TikTokEvent::VideoPublishCompleted(outcome)
            }
        }
        "portability.download.ready" => TikTokEvent::PortabilityDownloadReady(PortabilityReady {
            request_id: ids_of(content)?.request_id,
            content: kept,
        }),
        _ => TikTokEvent::Unknown(UnknownEvent {
            event,
            content: kept,
            content_len: text.len(),
        }),
    };
    Ok(WebhookEvent {
        client_key,
        create_time,
        user_openid,
        event: parsed,
        content_digest: Sha256::digest(text.as_bytes()).into(),
    })
}

/// Every documented `content` is an object (serde would also read a struct from an array).
fn require_object(content: &serde_json::Value) -> Result<(), WebhookRejection> {
    if content.is_object() {
        Ok(())
    } else {
        Err(WebhookRejection::MalformedContent {
            reason: "content is not a JSON object",
        })
    }
}

/// The optional ids of an event whose content fields are UNCONFIRMED: an object is read
/// tolerantly; anything else is refused, since every documented content is an object.
fn ids_of(content: serde_json::Value) -> Result<WireIds, WebhookRejection> {
    require_object(&content)?;
    serde_json::from_value(content).map_err(|_| WebhookRejection::MalformedContent {
        reason: "an id in content is neither a string nor an integer",
    })
}

impl WebhookEvent {
    /// The id this delivery is deduplicated by.
    ///
    /// TikTok gives deliveries no event id, so the id is derived from what a redelivery
    /// repeats unchanged: the event name, `create_time` (when the event happened, not when it
    /// was sent, so the same on every retry), and a SHA-256 over the open id and the `content`
    /// string exactly as received. Two different events of one name for one user within the
    /// same second would need identical content to collide, and then they say the same thing.
    /// The open id is hashed, not written out, so a shared dedupe store holds no account id.
    /// The retry's signature timestamp is deliberately not part of it (it changes per retry).
    pub fn delivery_id(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.user_openid.as_bytes());
        hash.update([0]);
        hash.update(self.content_digest);
        let digest = hash.finalize();
        format!(
            "{}:{}:{}",
            self.name(),
            self.create_time.timestamp(),
            hex::encode(&digest[..16])
        )
    }
}
