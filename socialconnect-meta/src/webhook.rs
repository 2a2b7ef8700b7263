//! Meta webhooks (Pages, Instagram, WhatsApp): the subscription handshake, the
//! `X-Hub-Signature-256` check and typed events.
//!
//! Meta calls one callback URL in two ways (`meta.md` §7):
//!
//! - `GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…` when the subscription is set
//!   up: answer with [`verify_subscription`], which checks the verify token in constant time and
//!   returns the challenge to echo with `200 text/plain`.
//! - `POST` with a JSON body signed in `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of
//!   the **raw body** under the app secret: answer with [`verify_and_parse`].
//!
//! # Handing over the raw body
//!
//! The signature covers the bytes exactly as sent (Meta escapes non-ASCII as `\u00e4`, and
//! re-serialized JSON never matches), so a host must take the body as bytes *before* any JSON
//! extractor touches it. With `http` types:
//!
//! ```
//! use bytes::Bytes;
//! use socialconnect_core::secret::WebhookSecret;
//! use socialconnect_meta::webhook::{self, MetaEvent};
//!
//! fn on_webhook(app_secret: &WebhookSecret, req: &http::Request<Bytes>) -> u16 {
//!     let header = req
//!         .headers()
//!         .get(webhook::SIGNATURE_HEADER)
//!         .and_then(|v| v.to_str().ok());
//!     match webhook::verify_and_parse(app_secret, req.body(), header) {
//!         Ok(batch) => {
//!             for event in batch.events {
//!                 if let MetaEvent::WhatsAppMessage(msg) = event {
//!                     // Enqueue; answer Meta quickly.
//!                     let _ = msg.message_id;
//!                 }
//!             }
//!             200
//!         }
//!         // Crypto: bad or missing signature; InvalidInput: too large; Platform: bad shape.
//!         Err(e) => webhook::rejection_status(&e),
//!     }
//! }
//!
//! # let secret = WebhookSecret::new("app-secret");
//! # let body = Bytes::from_static(br#"{"object":"page","entry":[]}"#);
//! # let sig = socialconnect_core::webhook::sign_header(
//! #     &secret, &body, socialconnect_core::webhook::SignatureFormat::META);
//! # let req = http::Request::builder().header("X-Hub-Signature-256", sig).body(body).unwrap();
//! # assert_eq!(on_webhook(&secret, &req), 200);
//! ```
//!
//! In axum, take `headers: HeaderMap, body: Bytes` as the handler's arguments (never
//! `Json<_>`, which consumes and re-parses the body), and take the handshake as
//! `Query<SubscriptionQuery>`:
//!
//! ```ignore
//! async fn handshake(Query(q): Query<SubscriptionQuery>, State(s): State<App>) -> Response {
//!     match webhook::verify_subscription(&q, &s.verify_token) {
//!         Ok(challenge) => ([(CONTENT_TYPE, "text/plain")], challenge).into_response(),
//!         Err(e) => StatusCode::from_u16(e.status_code()).unwrap().into_response(),
//!     }
//! }
//! async fn receive(headers: HeaderMap, body: Bytes, State(s): State<App>) -> StatusCode {
//!     let sig = headers.get(webhook::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
//!     match webhook::verify_and_parse(&s.app_secret, &body, sig) { /* … */ }
//! }
//! ```
//!
//! Meta retries deliveries that are not answered with a 200 and disables a subscription whose
//! callback keeps failing, so acknowledge fast and process asynchronously (enqueue the verified
//! raw body, or the events).
//!
//! # Privacy
//!
//! Payloads carry end users' names, phone numbers and message text. Decode errors raised here
//! keep the JSON path of the offending value but never an excerpt of the body.

use std::fmt;

use serde::Deserialize;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{
    ChallengeRefusal, SignatureFormat, TokenChallenge, WebhookError, verify_hmac_sha256,
};
use socialconnect_core::{Error, ErrorKind};

pub use crate::model::webhook::{
    DeliveryStatus, FeedItem, FeedVerb, InstagramComment, InstagramMention, InstagramUser,
    MetaEvent, PageActor, PageFeedChange, WebhookBatch, WhatsAppContact, WhatsAppContent,
    WhatsAppContext, WhatsAppConversation, WhatsAppError, WhatsAppMessage, WhatsAppMetadata,
    WhatsAppPricing, WhatsAppReferredProduct, WhatsAppStatus,
};
use crate::model::webhook::{
    UnknownChange, WireChange, WireEntry, WireEnvelope, WireId, WireIgComment, WireIgMention,
    WirePageFeed, WireWaMessage, WireWaValue,
};

/// The signature header's name, lowercase as `http::HeaderMap` stores it.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// The largest body [`parse_events`] and [`verify_and_parse`] accept: 1 MiB.
///
/// Meta batches updates (up to 1000 per delivery by one UNCONFIRMED account), which stays far
/// below this for text events; hosts that see more can use [`parse_events_with_limit`].
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest `hub.challenge` echoed back (the platform kit's limit). Meta's are short
/// decimal numbers.
pub const MAX_CHALLENGE_LEN: usize = socialconnect_core::webhook::MAX_CHALLENGE_LEN;

// ---------------------------------------------------------------------------------------------
// Subscription handshake
// ---------------------------------------------------------------------------------------------

/// The query of Meta's subscription handshake:
/// `?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`.
///
/// Build it from the query string ([`SubscriptionQuery::from_query`]), from decoded pairs
/// ([`SubscriptionQuery::from_pairs`]), or deserialize it directly (axum's `Query`, say). The
/// PHP-style names `hub_mode`, `hub_challenge` and `hub_verify_token` are accepted too.
///
/// Its `Debug` output redacts the verify token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SubscriptionQuery {
    mode: Option<String>,
    verify_token: Option<String>,
    challenge: Option<String>,
    /// A parameter appeared more than once: ambiguous, so refused.
    duplicated: bool,
}

impl SubscriptionQuery {
    /// A query from its three values.
    pub fn new(
        mode: Option<String>,
        verify_token: Option<String>,
        challenge: Option<String>,
    ) -> Self {
        Self {
            mode,
            verify_token,
            challenge,
            duplicated: false,
        }
    }

    /// A query from decoded `(name, value)` pairs. Other parameters are ignored; a `hub.*`
    /// parameter given twice makes [`verify_subscription`] refuse the query.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut query = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_ref() {
                "hub.mode" | "hub_mode" => &mut query.mode,
                "hub.verify_token" | "hub_verify_token" => &mut query.verify_token,
                "hub.challenge" | "hub_challenge" => &mut query.challenge,
                _ => continue,
            };
            if slot.is_some() {
                query.duplicated = true;
            }
            *slot = Some(value.into());
        }
        query
    }

    /// A query from a raw, percent-encoded query string (with or without the leading `?`).
    pub fn from_query(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        Self::from_pairs(url::form_urlencoded::parse(query.as_bytes()))
    }

    /// `hub.mode`.
    pub fn mode(&self) -> Option<&str> {
        self.mode.as_deref()
    }

    /// `hub.challenge`.
    pub fn challenge(&self) -> Option<&str> {
        self.challenge.as_deref()
    }
}

impl fmt::Debug for SubscriptionQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionQuery")
            .field("mode", &self.mode)
            .field(
                "verify_token",
                &self.verify_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("challenge", &self.challenge)
            .field("duplicated", &self.duplicated)
            .finish()
    }
}

impl<'de> Deserialize<'de> for SubscriptionQuery {
    /// Deserializes from a map with the `hub.*` (or `hub_*`) keys; giving both spellings of one
    /// key is an error (a duplicate field).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default, rename = "hub.mode", alias = "hub_mode")]
            mode: Option<String>,
            #[serde(default, rename = "hub.verify_token", alias = "hub_verify_token")]
            verify_token: Option<String>,
            #[serde(default, rename = "hub.challenge", alias = "hub_challenge")]
            challenge: Option<String>,
        }
        let w = Wire::deserialize(d)?;
        Ok(Self::new(w.mode, w.verify_token, w.challenge))
    }
}

/// Why a subscription handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriptionError {
    /// `hub.mode` is absent or not `subscribe`.
    #[error("hub.mode is missing or not `subscribe`")]
    NotSubscribe,
    /// `hub.verify_token` is absent or does not match the configured token.
    #[error("hub.verify_token does not match")]
    TokenMismatch,
    /// `hub.challenge` is absent or empty.
    #[error("hub.challenge is missing")]
    MissingChallenge,
    /// `hub.challenge` is longer than [`MAX_CHALLENGE_LEN`] or holds characters other than
    /// ASCII letters, digits and `-._~`. It is echoed into a response body, so nothing that
    /// could be markup is reflected.
    #[error("hub.challenge is too long or holds unexpected characters")]
    InvalidChallenge,
    /// A `hub.*` parameter appeared more than once.
    #[error("a hub.* parameter appears more than once")]
    DuplicateParameter,
    /// The configured verify token is empty; it would prove nothing.
    #[error("the configured verify token is empty")]
    EmptyVerifyToken,
}

impl SubscriptionError {
    /// The HTTP status to answer with, as the platform kit's [`TokenChallenge::META`] answers:
    /// 403 for every refused verification (a wrong or missing token, a wrong or missing mode),
    /// as Meta expects; 500 for an empty configured token (the host's own fault); 400 for a
    /// malformed request (a missing or unsafe challenge, a repeated parameter).
    pub fn status_code(&self) -> u16 {
        ChallengeRefusal::from(*self).status()
    }
}

impl From<ChallengeRefusal> for SubscriptionError {
    fn from(r: ChallengeRefusal) -> Self {
        match r {
            ChallengeRefusal::WrongMode => Self::NotSubscribe,
            ChallengeRefusal::TokenMismatch => Self::TokenMismatch,
            ChallengeRefusal::MissingChallenge => Self::MissingChallenge,
            ChallengeRefusal::DuplicateParameter => Self::DuplicateParameter,
            ChallengeRefusal::EmptySecret => Self::EmptyVerifyToken,
            // InvalidChallenge, and any refusal the kit adds later.
            _ => Self::InvalidChallenge,
        }
    }
}

impl From<SubscriptionError> for ChallengeRefusal {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::NotSubscribe => Self::WrongMode,
            SubscriptionError::TokenMismatch => Self::TokenMismatch,
            SubscriptionError::MissingChallenge => Self::MissingChallenge,
            SubscriptionError::InvalidChallenge => Self::InvalidChallenge,
            SubscriptionError::DuplicateParameter => Self::DuplicateParameter,
            SubscriptionError::EmptyVerifyToken => Self::EmptySecret,
        }
    }
}

impl From<SubscriptionError> for Error {
    /// A token mismatch is [`ErrorKind::Crypto`], an empty configured token
    /// [`ErrorKind::Config`], anything else [`ErrorKind::InvalidInput`].
    fn from(err: SubscriptionError) -> Self {
        match err {
            SubscriptionError::TokenMismatch => Error::Crypto(err.to_string()),
            SubscriptionError::EmptyVerifyToken => Error::config(err.to_string()),
            _ => Error::invalid_input(err.to_string()),
        }
    }
}

/// Checks a subscription handshake and returns the `hub.challenge` to echo back with
/// `200 text/plain`.
///
/// `hub.mode` must be `subscribe`; `hub.verify_token` must equal `verify_token` (compared in
/// constant time); the challenge must be 1 to [`MAX_CHALLENGE_LEN`] characters of ASCII
/// letters, digits and `-._~` (Meta sends digits).
///
/// ```
/// use socialconnect_core::secret::WebhookSecret;
/// use socialconnect_meta::webhook::{self, SubscriptionError, SubscriptionQuery};
///
/// let token = WebhookSecret::new("my-verify-token");
/// let q = SubscriptionQuery::from_query(
///     "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my-verify-token",
/// );
/// assert_eq!(webhook::verify_subscription(&q, &token)?, "1158201444");
///
/// let wrong = SubscriptionQuery::from_query(
///     "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
/// );
/// let err = webhook::verify_subscription(&wrong, &token).unwrap_err();
/// assert_eq!(err, SubscriptionError::TokenMismatch);
/// assert_eq!(err.status_code(), 403);
/// # Ok::<(), SubscriptionError>(())
/// ```
///
/// # Errors
///
/// A [`SubscriptionError`] saying which check failed.
pub fn verify_subscription(
    query: &SubscriptionQuery,
    verify_token: &WebhookSecret,
) -> Result<String, SubscriptionError> {
    if verify_token.expose_secret().is_empty() {
        return Err(SubscriptionError::EmptyVerifyToken);
    }
    if query.duplicated {
        return Err(SubscriptionError::DuplicateParameter);
    }
    // The decoded values go back into a query for the kit's handshake, which does the checks.
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("hub.mode", &query.mode),
        ("hub.verify_token", &query.verify_token),
        ("hub.challenge", &query.challenge),
    ] {
        if let Some(value) = value {
            encoded.append_pair(name, value);
        }
    }
    let reply = TokenChallenge::META.answer(&encoded.finish(), verify_token);
    match reply.refusal() {
        None => Ok(reply.body().to_owned()),
        Some(refusal) => Err(refusal.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------

/// Verifies `X-Hub-Signature-256: sha256=<hex>` over the raw body, in constant time.
///
/// `header` is the header's value, `None` when the request had none. The legacy
/// `X-Hub-Signature` (SHA-1) header is deliberately not accepted.
///
/// # Errors
///
/// [`WebhookError::EmptySecret`], [`WebhookError::MissingSignature`],
/// [`WebhookError::MalformedSignature`] or [`WebhookError::SignatureMismatch`]; each converts
/// into [`socialconnect_core::Error`] (kind `Crypto`, or `Config` for the empty secret).
pub fn verify_signature(
    app_secret: &WebhookSecret,
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), WebhookError> {
    verify_hmac_sha256(app_secret, raw_body, header, SignatureFormat::META)
}

/// Checks the body size, then the signature, then parses: the one call a webhook handler
/// needs. See the [module documentation](self) for passing the raw body.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] for a body over [`MAX_BODY_BYTES`] (checked before anything is
/// hashed), [`ErrorKind::Crypto`] (or `Config` for an empty secret) from
/// [`verify_signature`], and then the errors of [`parse_events`].
pub fn verify_and_parse(
    app_secret: &WebhookSecret,
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<WebhookBatch, Error> {
    check_size(raw_body, MAX_BODY_BYTES)?;
    verify_signature(app_secret, raw_body, header)?;
    parse_events(raw_body)
}

/// A suggested HTTP status for an error from [`verify_and_parse`]: 401 for a signature
/// failure ([`ErrorKind::Crypto`]), 500 for a misconfiguration ([`ErrorKind::Config`]), 400
/// for anything else.
///
/// A body that is correctly signed but fails to parse is authentic: Meta retries whatever is
/// not answered with a 200, so a host may prefer to log the error's JSON path and acknowledge.
pub fn rejection_status(err: &Error) -> u16 {
    match err.kind() {
        ErrorKind::Crypto => 401,
        ErrorKind::Config => 500,
        _ => 400,
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

fn check_size(raw_body: &[u8], max_bytes: usize) -> Result<(), Error> {
    if raw_body.len() > max_bytes {
        Err(Error::invalid_input(format!(
            "webhook body of {} bytes is over the {max_bytes}-byte limit",
            raw_body.len()
        )))
    } else {
        Ok(())
    }
}

/// Parses a webhook body (already verified with [`verify_signature`]) into typed events,
/// refusing bodies over [`MAX_BODY_BYTES`].
///
/// Page `feed`, Instagram `comments` and `mentions`, and WhatsApp `messages` changes become
/// typed events (one per WhatsApp message and per status); any other object or field becomes a
/// [`MetaEvent::Unknown`], never an error.
///
/// ```
/// use socialconnect_meta::webhook::{self, MetaEvent, WhatsAppContent};
///
/// let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",
///   "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
///   "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
///   "contacts":[{"profile":{"name":"Kerry"},"wa_id":"16505551234"}],
///   "messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdBMjg=",
///     "timestamp":"1749416383","type":"text","text":{"body":"Hello"}}]}}]}]}"#;
/// let batch = webhook::parse_events(body)?;
/// let MetaEvent::WhatsAppMessage(msg) = &batch.events[0] else { panic!() };
/// assert_eq!(msg.from, "16505551234");
/// assert_eq!(msg.timestamp.timestamp(), 1_749_416_383);
/// assert!(matches!(&msg.content, WhatsAppContent::Text { body } if body == "Hello"));
/// # Ok::<(), socialconnect_core::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] for a body over the limit; [`Error::Decode`] (kind `Platform`)
/// for invalid JSON or a known event in the wrong shape, with the JSON path of the offending
/// value (such as `entry[0].changes[1].value.messages[0].timestamp`) and no body excerpt.
pub fn parse_events(raw_body: &[u8]) -> Result<WebhookBatch, Error> {
    parse_events_with_limit(raw_body, MAX_BODY_BYTES)
}

/// [`parse_events`] with another size limit, in bytes.
///
/// # Errors
///
/// As [`parse_events`].
pub fn parse_events_with_limit(raw_body: &[u8], max_bytes: usize) -> Result<WebhookBatch, Error> {
    check_size(raw_body, max_bytes)?;
    let envelope: WireEnvelope = Error::decode_json_secret(raw_body)?;
    let object = envelope.object;
    let kind = ObjectKind::of(&object);
    let mut events = Vec::new();
    for (i, entry) in envelope.entry.into_iter().enumerate() {
        let at = format!("entry[{i}]");
        if kind == ObjectKind::Other {
            unknown_entry(&object, entry, &mut events);
            continue;
        }
        let wire: WireEntry = decode_at(&entry, &at)?;
        let entry_id = wire.id.0;
        let time = wire.time.map(|t| t.0);
        let Some(changes) = wire.changes else {
            events.push(MetaEvent::Unknown(UnknownChange {
                object: object.clone(),
                entry_id: Some(entry_id),
                field: None,
                value: entry,
            }));
            continue;
        };
        for (j, change) in changes.into_iter().enumerate() {
            let at = format!("{at}.changes[{j}].value");
            typed_change(&object, kind, &entry_id, time, change, &at, &mut events)?;
        }
    }
    Ok(WebhookBatch { object, events })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    Page,
    Instagram,
    WhatsApp,
    Other,
}

impl ObjectKind {
    fn of(object: &str) -> Self {
        match object {
            "page" => Self::Page,
            "instagram" => Self::Instagram,
            "whatsapp_business_account" => Self::WhatsApp,
            _ => Self::Other,
        }
    }
}

fn typed_change(
    object: &str,
    kind: ObjectKind,
    entry_id: &str,
    time: Option<chrono::DateTime<chrono::Utc>>,
    change: WireChange,
    at: &str,
    events: &mut Vec<MetaEvent>,
) -> Result<(), Error> {
    let id = || entry_id.to_owned();
    match (kind, change.field.as_str()) {
        (ObjectKind::Page, "feed") => {
            let wire: WirePageFeed = decode_at(&change.value, at)?;
            events.push(MetaEvent::PageFeed(wire.into_event(
                id(),
                time,
                change.value,
            )));
        }
        (ObjectKind::Instagram, "comments") => {
            let wire: WireIgComment = decode_at(&change.value, at)?;
            events.push(MetaEvent::InstagramComment(wire.into_event(id(), time)));
        }
        (ObjectKind::Instagram, "mentions") => {
            let wire: WireIgMention = decode_at(&change.value, at)?;
            events.push(MetaEvent::InstagramMention(wire.into_event(id(), time)));
        }
        (ObjectKind::WhatsApp, "messages") => {
            let value: WireWaValue = decode_at(&change.value, at)?;
            if value.messages.is_empty() && value.statuses.is_empty() {
                // Value-level `errors`, or a shape not modelled yet: hand it over whole.
                events.push(unknown(object, entry_id, change));
                return Ok(());
            }
            let metadata = value.metadata.into_domain();
            for (k, raw) in value.messages.into_iter().enumerate() {
                let wire: WireWaMessage = decode_at(&raw, &format!("{at}.messages[{k}]"))?;
                events.push(MetaEvent::WhatsAppMessage(wire.into_event(
                    id(),
                    metadata.clone(),
                    &value.contacts,
                    raw,
                )));
            }
            for status in value.statuses {
                events.push(MetaEvent::WhatsAppStatus(
                    status.into_event(id(), metadata.clone()),
                ));
            }
        }
        _ => events.push(unknown(object, entry_id, change)),
    }
    Ok(())
}

fn unknown(object: &str, entry_id: &str, change: WireChange) -> MetaEvent {
    MetaEvent::Unknown(UnknownChange {
        object: object.to_owned(),
        entry_id: Some(entry_id.to_owned()),
        field: Some(change.field),
        value: change.value,
    })
}

/// The events of an entry of an unknown object: one per well-formed `changes[]` item, else the
/// entry whole. Nothing about an unknown object's shape is assumed, so nothing here fails.
fn unknown_entry(object: &str, entry: serde_json::Value, events: &mut Vec<MetaEvent>) {
    let entry_id = entry
        .get("id")
        .and_then(|id| serde_json::from_value::<WireId>(id.clone()).ok())
        .map(WireId::into_string);
    let changes = entry
        .get("changes")
        .and_then(|c| serde_json::from_value::<Vec<WireChange>>(c.clone()).ok());
    match changes {
        Some(changes) => events.extend(changes.into_iter().map(|c| {
            MetaEvent::Unknown(UnknownChange {
                object: object.to_owned(),
                entry_id: entry_id.clone(),
                field: Some(c.field),
                value: c.value,
            })
        })),
        None => events.push(MetaEvent::Unknown(UnknownChange {
            object: object.to_owned(),
            entry_id,
            field: None,
            value: entry,
        })),
    }
}

/// Decodes a part of the already-parsed body, reporting failures with their full JSON path
/// (`at` joined with the path inside the part).
///
/// The part is re-serialized and decoded through [`Error::decode_json_secret`] so that the path
/// inside it is tracked; `serde_json::Value` keeps every integer up to 64 bits exactly, so
/// nothing is lost on the way.
fn decode_at<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    at: &str,
) -> Result<T, Error> {
    // Serializing a `Value` cannot fail: its map keys are strings.
    let bytes = serde_json::to_vec(value).map_err(|e| Error::invalid_input(e.to_string()))?;
    Error::decode_json_secret(&bytes).map_err(|err| match err {
        Error::Decode(mut d) => {
            d.path = join_path(at, &d.path);
            Error::Decode(d)
        }
        other => other,
    })
}

fn join_path(at: &str, inner: &str) -> String {
    match inner {
        "." | "" => at.to_owned(),
        _ if inner.starts_with('[') => format!("{at}{inner}"),
        _ => format!("{at}.{inner}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join() {
        assert_eq!(join_path("entry[0]", "."), "entry[0]");
        assert_eq!(join_path("entry[0]", "id"), "entry[0].id");
        assert_eq!(join_path("a.value", "[2].id"), "a.value[2].id");
    }

    #[test]
    fn subscription_query_deserializes_both_spellings() {
        let q: SubscriptionQuery = serde_json::from_value(serde_json::json!({
            "hub_mode": "subscribe", "hub.verify_token": "t", "hub.challenge": "42", "x": 1
        }))
        .unwrap();
        assert_eq!(q.mode(), Some("subscribe"));
        assert_eq!(q.challenge(), Some("42"));
        assert_eq!(
            verify_subscription(&q, &WebhookSecret::new("t")).unwrap(),
            "42"
        );
        assert!(!format!("{q:?}").contains("\"t\""), "{q:?}");
        // Both spellings at once are ambiguous.
        assert!(
            serde_json::from_value::<SubscriptionQuery>(serde_json::json!({
                "hub_mode": "subscribe", "hub.mode": "subscribe"
            }))
            .is_err()
        );
    }
}
