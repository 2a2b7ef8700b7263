//! Wire types: what TikTok sends, decoded tolerantly (ids as strings or numbers, loose
//! integers, bounded strings; every field TikTok returns only on request is optional).

mod display;
mod posting;
mod webhook;

pub use display::{User, Video, VideoList};
pub use posting::{CreatorInfo, PrivacyLevel, PublishState, PublishStatus};
pub(crate) use posting::{CreatorInfoWire, InitWire, StatusWire};
pub use webhook::{
    MAX_EVENT_NAME_BYTES, MAX_KEPT_CONTENT_BYTES, PortabilityReady, PostOutcome, RemovalReason,
    TikTokEvent, UnknownEvent, WebhookEvent,
};
pub(crate) use webhook::{MAX_ID_BYTES, WireEnvelope, WireIds, WireRemoval};

use serde::Deserialize;

/// `{"data": …}` around every `/v2/*` answer (the `error` half is read by the error table).
#[derive(Debug, Deserialize)]
pub(crate) struct DataEnvelope<T> {
    pub(crate) data: T,
}
