//! Wire types: what TikTok sends, decoded tolerantly (ids as strings or numbers, loose
//! integers, bounded strings; every field TikTok returns only on request is optional).

mod display;
mod posting;

pub use display::{User, Video, VideoList};
pub use posting::{CreatorInfo, PrivacyLevel, PublishState, PublishStatus};
pub(crate) use posting::{CreatorInfoWire, InitWire, StatusWire};

use serde::Deserialize;

/// `{"data": …}` around every `/v2/*` answer (the `error` half is read by the error table).
#[derive(Debug, Deserialize)]
pub(crate) struct DataEnvelope<T> {
    pub(crate) data: T,
}
