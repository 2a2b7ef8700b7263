//! Display API wire types: the user and their videos.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use socialconnect_core::connect::decode;

/// A TikTok user as `/v2/user/info/` returns it: only the fields asked for are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's id for this app (`user.info.basic`).
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub open_id: Option<String>,
    /// The user's id across the developer's apps.
    #[serde(default, deserialize_with = "decode::opt_id")]
    pub union_id: Option<String>,
    /// Avatar URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub avatar_url: Option<String>,
    /// 100 × 100 avatar URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub avatar_url_100: Option<String>,
    /// Large avatar URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub avatar_large_url: Option<String>,
    /// Display name.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    pub display_name: Option<String>,
    /// Bio (`user.info.profile`).
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 1024>")]
    pub bio_description: Option<String>,
    /// Profile deep link.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub profile_deep_link: Option<String>,
    /// Whether TikTok verified the account.
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    pub is_verified: Option<bool>,
    /// Username.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 256>")]
    pub username: Option<String>,
    /// Followers (`user.info.stats`).
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub follower_count: Option<u64>,
    /// Accounts followed.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub following_count: Option<u64>,
    /// Likes received.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub likes_count: Option<u64>,
    /// Public videos.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub video_count: Option<u64>,
}

/// A video as `/v2/video/list/` and `/v2/video/query/` return it: only the fields asked for
/// are present, the id always.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Video {
    /// The video id (a string in TikTok's docs; a number is accepted too).
    #[serde(deserialize_with = "decode::id")]
    pub id: String,
    /// When it was posted (unix seconds).
    #[serde(default, deserialize_with = "decode::opt_unix_seconds")]
    pub create_time: Option<DateTime<Utc>>,
    /// The cover image. Short-lived: TikTok's docs give it a 6 h TTL; see
    /// [`Video::cover_expires_at`] and refresh it with a video query.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    pub cover_image_url: Option<String>,
    /// Share URL.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub share_url: Option<String>,
    /// Description (up to 150 characters on TikTok's side).
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 4096>")]
    pub video_description: Option<String>,
    /// Duration in seconds.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub duration: Option<u64>,
    /// Height in pixels.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub height: Option<u64>,
    /// Width in pixels.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub width: Option<u64>,
    /// Title.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 1024>")]
    pub title: Option<String>,
    /// Embed HTML.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 8192>")]
    pub embed_html: Option<String>,
    /// Embed link.
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 2048>")]
    pub embed_link: Option<String>,
    /// Likes.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub like_count: Option<u64>,
    /// Comments.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub comment_count: Option<u64>,
    /// Shares.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub share_count: Option<u64>,
    /// Views.
    #[serde(default, deserialize_with = "decode::loose_u64")]
    pub view_count: Option<u64>,
    /// Whether the video is marked AI-generated (newer docs only).
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    pub is_aigc: Option<bool>,
    /// When this copy was read (set by the client, not sent by TikTok).
    #[serde(skip)]
    pub(crate) fetched_at: Option<DateTime<Utc>>,
}

/// How long TikTok's cover image URLs stay valid, by its docs.
pub(crate) const COVER_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(6);

impl Video {
    /// When the cover URL stops working (6 h after the read, TikTok's documented TTL); `None`
    /// without a cover.
    pub fn cover_expires_at(&self) -> Option<DateTime<Utc>> {
        self.cover_image_url.as_ref()?;
        self.fetched_at.map(|t| t + COVER_TTL)
    }
}

/// `data` of `/v2/video/list/`.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct VideoList {
    /// The page's videos (`null` reads as none).
    #[serde(default, deserialize_with = "decode::null_as_default")]
    pub videos: Vec<Video>,
    /// The next cursor: a UTC timestamp in milliseconds.
    #[serde(default, deserialize_with = "decode::loose_i64")]
    pub cursor: Option<i64>,
    /// Whether more videos follow (a short page with `has_more` is normal).
    #[serde(default, deserialize_with = "decode::lenient_bool")]
    pub has_more: Option<bool>,
}
