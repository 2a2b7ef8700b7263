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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use proptest::prelude::*;

    use super::*;

    /// Every crate-private wire type fed arbitrary bytes, bare and inside `{"data": …}`:
    /// a typed error or a value, never a panic (the public ones are fed from `tests/parsers.rs`).
    fn parse_all(bytes: &[u8]) {
        if let Ok(w) = serde_json::from_slice::<DataEnvelope<CreatorInfoWire>>(bytes) {
            let _ = w.data.into_domain(Utc::now());
        }
        if let Ok(w) = serde_json::from_slice::<DataEnvelope<StatusWire>>(bytes) {
            let _ = PublishStatus::from(w.data);
        }
        let _ = serde_json::from_slice::<DataEnvelope<InitWire>>(bytes);
        let _ = serde_json::from_slice::<CreatorInfoWire>(bytes);
        let _ = serde_json::from_slice::<StatusWire>(bytes);
        let _ = serde_json::from_slice::<WireEnvelope>(bytes);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            parse_all(&bytes);
        }

        #[test]
        fn arbitrary_field_values_never_panic(
            value in "(null|true|-?[0-9]{1,25}|\"[A-Z_a-z0-9]{0,20}\"|\\[[0-9, \"]{0,30}\\]|\\{\\})",
        ) {
            for field in [
                "status", "fail_reason", "publicaly_available_post_id", "uploaded_bytes",
                "privacy_level_options", "max_video_post_duration_sec", "publish_id",
                "upload_url", "comment_disabled",
            ] {
                let body = format!(r#"{{"data":{{"{field}":{value},"status":"PUBLISH_COMPLETE"}}}}"#);
                parse_all(body.as_bytes());
            }
        }
    }
}
