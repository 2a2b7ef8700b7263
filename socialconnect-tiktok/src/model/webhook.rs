//! Webhook wire types: TikTok's delivery envelope, and the typed events read from its
//! `content`, a JSON document serialized into a string.
//!
//! ```json
//! {"client_key": "bwo2m45353a6k85", "event": "authorization.removed", "create_time": 1615338610,
//!  "user_openid": "act.example12345", "content": "{\"reason\": 1 }"}
//! ```
//!
//! The envelope and `authorization.removed`'s `reason` are documented (TikTok's "Webhook
//! Events" page). The `content` fields of `video.upload.failed`, `video.publish.completed` and
//! `portability.download.ready` are UNCONFIRMED here (the fact sheet names the events only), so
//! those events read the likely ids as optional, accept strings or numbers, and keep the whole
//! `content` document as well.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use socialconnect_core::connect::decode;

/// Longest event name kept; TikTok's are a few dozen bytes.
pub const MAX_EVENT_NAME_BYTES: usize = 128;
/// Longest `content` string whose JSON an [`UnknownEvent`], a [`PostOutcome`] or a
/// [`PortabilityReady`] keeps; larger ones are reported without it.
pub const MAX_KEPT_CONTENT_BYTES: usize = 16 * 1024;
/// Longest `user_openid` or `client_key` accepted (open ids are about 40 bytes); a longer one is
/// refused rather than cut, since a cut id would name someone else or no one.
pub(crate) const MAX_ID_BYTES: usize = 256;

/// The envelope as sent. Every field is read tolerantly so that a malformed one is reported
/// by name after the parse; `content` is kept as JSON to tell a string from anything else.
#[derive(Debug, Deserialize)]
pub(crate) struct WireEnvelope {
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub(crate) client_key: Option<String>,
    #[serde(
        default,
        deserialize_with = "decode::opt_bounded_string::<_, MAX_EVENT_NAME_BYTES>"
    )]
    pub(crate) event: Option<String>,
    #[serde(default, deserialize_with = "decode::loose_i64")]
    pub(crate) create_time: Option<i64>,
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub(crate) user_openid: Option<String>,
    #[serde(default)]
    pub(crate) content: Option<serde_json::Value>,
}

/// `content` of `authorization.removed`.
#[derive(Debug, Deserialize)]
pub(crate) struct WireRemoval {
    #[serde(default, deserialize_with = "decode::loose_i64")]
    pub(crate) reason: Option<i64>,
}

/// `content` of the video and portability events: the ids they are likely to carry (all
/// UNCONFIRMED, so all optional; strings or numbers).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireIds {
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub(crate) publish_id: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub(crate) share_id: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub(crate) request_id: Option<String>,
}

/// One verified, parsed TikTok webhook delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The app the event is for (checked against the configured client key).
    pub client_key: String,
    /// When the event happened (TikTok's `create_time`, unix seconds).
    pub create_time: DateTime<Utc>,
    /// The TikTok user's open id for this app: the account id of their connection.
    pub user_openid: String,
    /// What happened.
    pub event: TikTokEvent,
    /// SHA-256 of the `content` string exactly as received, for the delivery id.
    pub(crate) content_digest: [u8; 32],
}

impl WebhookEvent {
    /// TikTok's event name (`authorization.removed`, or an unknown one as sent).
    pub fn name(&self) -> &str {
        self.event.name()
    }
}

/// A TikTok webhook event, by its `event` name.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TikTokEvent {
    /// `authorization.removed`: the user's authorization of the app ended; the access token is
    /// already revoked when this arrives.
    AuthorizationRemoved {
        /// Why.
        reason: RemovalReason,
    },
    /// `video.upload.failed`.
    VideoUploadFailed(PostOutcome),
    /// `video.publish.completed`.
    VideoPublishCompleted(PostOutcome),
    /// `portability.download.ready`: a Data Portability archive can be downloaded.
    PortabilityDownloadReady(PortabilityReady),
    /// An event this version does not know, kept raw.
    Unknown(UnknownEvent),
}

impl TikTokEvent {
    /// TikTok's name for the event.
    pub fn name(&self) -> &str {
        match self {
            Self::AuthorizationRemoved { .. } => "authorization.removed",
            Self::VideoUploadFailed(_) => "video.upload.failed",
            Self::VideoPublishCompleted(_) => "video.publish.completed",
            Self::PortabilityDownloadReady(_) => "portability.download.ready",
            Self::Unknown(u) => &u.event,
        }
    }
}

/// Why TikTok ended an authorization (`content.reason` of `authorization.removed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemovalReason {
    /// `0`, or no reason given.
    Unknown,
    /// `1`: the user disconnected the app in TikTok.
    UserDisconnected,
    /// `2`: the user's TikTok account was deleted.
    AccountDeleted,
    /// `3`: the user's age changed.
    AgeChanged,
    /// `4`: the user's account was banned.
    AccountBanned,
    /// `5`: the developer revoked the authorization.
    DeveloperRevoked,
    /// A number this version does not know, kept.
    Other(i64),
}

impl RemovalReason {
    /// The reason for TikTok's number (`None`, a missing reason, reads as unknown).
    pub fn from_code(code: Option<i64>) -> Self {
        match code {
            None | Some(0) => Self::Unknown,
            Some(1) => Self::UserDisconnected,
            Some(2) => Self::AccountDeleted,
            Some(3) => Self::AgeChanged,
            Some(4) => Self::AccountBanned,
            Some(5) => Self::DeveloperRevoked,
            Some(n) => Self::Other(n),
        }
    }

    /// TikTok's number for the reason.
    pub fn code(self) -> i64 {
        match self {
            Self::Unknown => 0,
            Self::UserDisconnected => 1,
            Self::AccountDeleted => 2,
            Self::AgeChanged => 3,
            Self::AccountBanned => 4,
            Self::DeveloperRevoked => 5,
            Self::Other(n) => n,
        }
    }
}

/// The content of `video.upload.failed` and `video.publish.completed`. Its fields are
/// UNCONFIRMED: the ids are read when present, and the whole content is kept.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PostOutcome {
    /// The Content Posting API's `publish_id`, when the content carries one.
    pub publish_id: Option<String>,
    /// The older Share Kit's `share_id`, when the content carries one.
    pub share_id: Option<String>,
    /// The whole content document (`None` when over [`MAX_KEPT_CONTENT_BYTES`]).
    pub content: Option<serde_json::Value>,
}

/// The content of `portability.download.ready`. Its fields are UNCONFIRMED: the request id
/// is read when present, and the whole content is kept.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PortabilityReady {
    /// The data-portability request's id, when the content carries one.
    pub request_id: Option<String>,
    /// The whole content document (`None` when over [`MAX_KEPT_CONTENT_BYTES`]).
    pub content: Option<serde_json::Value>,
}

/// An event this version does not know: its name and its content, kept raw.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The event name as sent (at most [`MAX_EVENT_NAME_BYTES`]).
    pub event: String,
    /// The content document, parsed (`None` when its string was over
    /// [`MAX_KEPT_CONTENT_BYTES`]).
    pub content: Option<serde_json::Value>,
    /// The size of the `content` string in bytes.
    pub content_len: usize,
}
