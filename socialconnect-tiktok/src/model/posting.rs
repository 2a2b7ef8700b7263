//! Content Posting wire types: the creator's posting options, the answer to an init call and
//! a post's status.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use socialconnect_core::connect::decode;

/// Who may see a post. TikTok's creator info lists the levels a creator offers: public accounts
/// get `PUBLIC_TO_EVERYONE`, `MUTUAL_FOLLOW_FRIENDS` and `SELF_ONLY`; private accounts get
/// `FOLLOWER_OF_CREATOR`, `MUTUAL_FOLLOW_FRIENDS` and `SELF_ONLY`. A level this SDK does not
/// know is kept as [`PrivacyLevel::Other`] so a new option TikTok adds can still be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrivacyLevel {
    /// `PUBLIC_TO_EVERYONE`.
    PublicToEveryone,
    /// `MUTUAL_FOLLOW_FRIENDS`.
    MutualFollowFriends,
    /// `FOLLOWER_OF_CREATOR` (private accounts).
    FollowerOfCreator,
    /// `SELF_ONLY`: the only level an unaudited app may post with.
    SelfOnly,
    /// A level TikTok sent that this SDK does not name, exactly as sent.
    Other(String),
}

impl PrivacyLevel {
    /// TikTok's name for the level.
    pub fn as_str(&self) -> &str {
        match self {
            PrivacyLevel::PublicToEveryone => "PUBLIC_TO_EVERYONE",
            PrivacyLevel::MutualFollowFriends => "MUTUAL_FOLLOW_FRIENDS",
            PrivacyLevel::FollowerOfCreator => "FOLLOWER_OF_CREATOR",
            PrivacyLevel::SelfOnly => "SELF_ONLY",
            PrivacyLevel::Other(s) => s,
        }
    }

    /// The level TikTok names `name`.
    pub fn from_name(name: &str) -> Self {
        match name {
            "PUBLIC_TO_EVERYONE" => PrivacyLevel::PublicToEveryone,
            "MUTUAL_FOLLOW_FRIENDS" => PrivacyLevel::MutualFollowFriends,
            "FOLLOWER_OF_CREATOR" => PrivacyLevel::FollowerOfCreator,
            "SELF_ONLY" => PrivacyLevel::SelfOnly,
            other => PrivacyLevel::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for PrivacyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long TikTok's `creator_avatar_url` stays valid, by its docs.
pub(crate) const AVATAR_TTL: TimeDelta = TimeDelta::hours(2);

/// What a creator may post, from `/v2/post/publish/creator_info/query/`. TikTok requires its
/// answer to drive the posting UI: a post's privacy level must be one of
/// [`privacy_level_options`](Self::privacy_level_options), and the comment, duet and stitch
/// switches the creator turned off should be shown off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatorInfo {
    /// The creator's avatar. Short-lived (2 h by TikTok's docs): see
    /// [`CreatorInfo::avatar_expires_at`].
    pub avatar_url: Option<String>,
    /// The creator's username.
    pub username: Option<String>,
    /// The creator's nickname.
    pub nickname: Option<String>,
    /// The privacy levels the creator offers, in TikTok's order.
    pub privacy_level_options: Vec<PrivacyLevel>,
    /// The creator turned comments off.
    pub comment_disabled: bool,
    /// The creator turned duets off.
    pub duet_disabled: bool,
    /// The creator turned stitches off.
    pub stitch_disabled: bool,
    /// The longest video the creator may post, in seconds.
    pub max_video_post_duration_sec: Option<u64>,
    /// When this answer was read.
    pub fetched_at: DateTime<Utc>,
}

impl CreatorInfo {
    /// Whether the creator offers `level`.
    pub fn offers(&self, level: &PrivacyLevel) -> bool {
        self.privacy_level_options.contains(level)
    }

    /// When the avatar URL stops working (2 h after the read, TikTok's documented TTL);
    /// `None` without an avatar.
    pub fn avatar_expires_at(&self) -> Option<DateTime<Utc>> {
        self.avatar_url.as_ref()?;
        Some(self.fetched_at + AVATAR_TTL)
    }
}

/// `data` of the creator info query, as sent.
#[derive(Debug, Deserialize)]
pub(crate) struct CreatorInfoWire {
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    creator_avatar_url: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    creator_username: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    creator_nickname: Option<String>,
    #[serde(default, deserialize_with = "privacy_levels")]
    privacy_level_options: Vec<PrivacyLevel>,
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    comment_disabled: Option<bool>,
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    duet_disabled: Option<bool>,
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    stitch_disabled: Option<bool>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    max_video_post_duration_sec: Option<u64>,
}

impl CreatorInfoWire {
    pub(crate) fn into_domain(self, fetched_at: DateTime<Utc>) -> CreatorInfo {
        CreatorInfo {
            avatar_url: self.creator_avatar_url,
            username: self.creator_username,
            nickname: self.creator_nickname,
            privacy_level_options: self.privacy_level_options,
            // An absent switch reads as "not disabled": TikTok documents all three as
            // booleans it always sends, so absence only happens with a changed answer.
            comment_disabled: self.comment_disabled.unwrap_or(false),
            duet_disabled: self.duet_disabled.unwrap_or(false),
            stitch_disabled: self.stitch_disabled.unwrap_or(false),
            max_video_post_duration_sec: self.max_video_post_duration_sec,
            fetched_at,
        }
    }
}

/// The most privacy options read from one answer (TikTok documents three).
const MAX_PRIVACY_OPTIONS: usize = 16;

/// A list of privacy level names (`null` is none); entries that are not strings are skipped,
/// and the list is cut at [`MAX_PRIVACY_OPTIONS`].
fn privacy_levels<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PrivacyLevel>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Name(#[serde(deserialize_with = "decode::bounded_string::<_, 64>")] String),
        Other(serde::de::IgnoredAny),
    }
    let entries: Option<Vec<Entry>> = Option::deserialize(d)?;
    Ok(entries
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| match e {
            Entry::Name(n) => Some(PrivacyLevel::from_name(&n)),
            Entry::Other(_) => None,
        })
        .take(MAX_PRIVACY_OPTIONS)
        .collect())
}

/// `data` of a post init: the publish id, and for `FILE_UPLOAD` the URL to send chunks to.
#[derive(Debug, Deserialize)]
pub(crate) struct InitWire {
    #[serde(deserialize_with = "decode::id")]
    pub(crate) publish_id: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 8192>")]
    pub(crate) upload_url: Option<String>,
}

/// Where a post is in TikTok's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishState {
    /// `PROCESSING_UPLOAD`: TikTok is receiving or processing uploaded chunks.
    ProcessingUpload,
    /// `PROCESSING_DOWNLOAD`: TikTok is pulling the media from its URL.
    ProcessingDownload,
    /// `SEND_TO_USER_INBOX`: the draft reached the user's inbox; the user finishes posting in
    /// TikTok (the end for an inbox upload).
    SendToUserInbox,
    /// `PUBLISH_COMPLETE`: posted.
    PublishComplete,
    /// `FAILED`: see [`PublishStatus::fail_reason`].
    Failed,
    /// A status this SDK does not name, exactly as sent (read as still in progress).
    Other(String),
}

impl PublishState {
    fn from_name(name: &str) -> Self {
        match name {
            "PROCESSING_UPLOAD" => PublishState::ProcessingUpload,
            "PROCESSING_DOWNLOAD" => PublishState::ProcessingDownload,
            "SEND_TO_USER_INBOX" => PublishState::SendToUserInbox,
            "PUBLISH_COMPLETE" => PublishState::PublishComplete,
            "FAILED" => PublishState::Failed,
            other => PublishState::Other(other.to_owned()),
        }
    }

    /// TikTok's name for the status.
    pub fn as_str(&self) -> &str {
        match self {
            PublishState::ProcessingUpload => "PROCESSING_UPLOAD",
            PublishState::ProcessingDownload => "PROCESSING_DOWNLOAD",
            PublishState::SendToUserInbox => "SEND_TO_USER_INBOX",
            PublishState::PublishComplete => "PUBLISH_COMPLETE",
            PublishState::Failed => "FAILED",
            PublishState::Other(s) => s,
        }
    }

    /// Whether TikTok is done with the post: published, handed to the user's inbox, or failed.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PublishState::SendToUserInbox | PublishState::PublishComplete | PublishState::Failed
        )
    }
}

/// A post's status, from `/v2/post/publish/status/fetch/`. A failed post is a status, not an
/// error: TikTok answers it with HTTP 200 and `error.code = "ok"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublishStatus {
    /// The state.
    pub state: PublishState,
    /// Why it failed (`FAILED` only), e.g. `file_format_check_failed`.
    pub fail_reason: Option<String>,
    /// The public post ids (TikTok's `publicaly_available_post_id`, sic), sent as numbers and
    /// kept as exact text. Empty until moderation releases the post, which can take hours
    /// after `PUBLISH_COMPLETE`: ask for the status again later to read them.
    pub post_ids: Vec<String>,
    /// Bytes TikTok has received (`FILE_UPLOAD`).
    pub uploaded_bytes: Option<u64>,
    /// Bytes TikTok has pulled (`PULL_FROM_URL`).
    pub downloaded_bytes: Option<u64>,
}

/// `data` of the status fetch, as sent.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusWire {
    #[serde(deserialize_with = "decode::bounded_string::<_, 64>")]
    status: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    fail_reason: Option<String>,
    // Misspelled by TikTok. Documented as a list of int64; `decode::ids` also takes strings
    // and keeps 64-bit ids exact.
    #[serde(default, deserialize_with = "decode::ids")]
    publicaly_available_post_id: Vec<String>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    uploaded_bytes: Option<u64>,
    #[serde(default, deserialize_with = "decode::loose_u64")]
    downloaded_bytes: Option<u64>,
}

impl From<StatusWire> for PublishStatus {
    fn from(w: StatusWire) -> Self {
        PublishStatus {
            state: PublishState::from_name(&w.status),
            fail_reason: w.fail_reason.filter(|r| !r.is_empty()),
            post_ids: w.publicaly_available_post_id,
            uploaded_bytes: w.uploaded_bytes,
            downloaded_bytes: w.downloaded_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_options_are_tolerant() {
        let w: CreatorInfoWire = serde_json::from_str(
            r#"{"privacy_level_options": ["SELF_ONLY", 3, null, "NEW_LEVEL"],
                "comment_disabled": "true", "max_video_post_duration_sec": "600"}"#,
        )
        .unwrap();
        let info = w.into_domain(Utc::now());
        assert_eq!(
            info.privacy_level_options,
            [
                PrivacyLevel::SelfOnly,
                PrivacyLevel::Other("NEW_LEVEL".into())
            ]
        );
        assert!(info.comment_disabled && !info.duet_disabled);
        assert_eq!(info.max_video_post_duration_sec, Some(600));
        assert_eq!(info.avatar_expires_at(), None);
        let w: CreatorInfoWire =
            serde_json::from_str(r#"{"privacy_level_options": null}"#).unwrap();
        assert!(w.into_domain(Utc::now()).privacy_level_options.is_empty());
    }

    #[test]
    fn post_ids_are_numbers_or_strings_and_stay_exact() {
        let w: StatusWire = serde_json::from_str(
            r#"{"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7311111111111111111, "42"]}"#,
        )
        .unwrap();
        let s = PublishStatus::from(w);
        assert_eq!(s.state, PublishState::PublishComplete);
        assert_eq!(s.post_ids, ["7311111111111111111", "42"]);
        let w: StatusWire = serde_json::from_str(r#"{"status": "QUEUED"}"#).unwrap();
        let s = PublishStatus::from(w);
        assert_eq!(s.state, PublishState::Other("QUEUED".into()));
        assert!(!s.state.is_final());
    }
}
