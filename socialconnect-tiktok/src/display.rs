//! The Display API: the user's profile and stats, and their public videos.
//!
//! TikTok returns only the fields a request names, so each call takes the fields it wants and
//! every field of [`User`] and [`Video`] is optional. The video list pages by a cursor that is
//! a millisecond timestamp, with `has_more`; a page shorter than asked is normal and not the
//! end. Listing goes through the kit's pagination walker, so a repeating cursor is an error
//! and a budget bounds the walk, returning the cursor to resume from.

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use socialconnect_core::connect::paging::{Collected, Cursor, Page, PageBudget, Pages};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result, Session};

use crate::client::{TikTokClient, require_purpose, require_scopes};
use crate::model::{DataEnvelope, User, Video, VideoList};
use crate::scopes;

/// The most videos one list page returns, and TikTok's default.
pub const MAX_PAGE_SIZE: u8 = 20;
/// The most ids one video query takes; larger queries are split.
pub const MAX_QUERY_IDS: usize = 20;

/// A field of [`User`] to ask for, with the scope that grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the TikTok field of the same name
pub enum UserField {
    OpenId,
    UnionId,
    AvatarUrl,
    AvatarUrl100,
    AvatarLargeUrl,
    DisplayName,
    BioDescription,
    ProfileDeepLink,
    IsVerified,
    Username,
    FollowerCount,
    FollowingCount,
    LikesCount,
    VideoCount,
}

impl UserField {
    /// The basic profile: open id, union id, avatar and display name.
    pub const BASIC: [UserField; 4] = [
        UserField::OpenId,
        UserField::UnionId,
        UserField::AvatarUrl,
        UserField::DisplayName,
    ];
    /// The counts.
    pub const STATS: [UserField; 4] = [
        UserField::FollowerCount,
        UserField::FollowingCount,
        UserField::LikesCount,
        UserField::VideoCount,
    ];

    /// TikTok's name for the field.
    pub fn as_str(self) -> &'static str {
        use UserField::*;
        match self {
            OpenId => "open_id",
            UnionId => "union_id",
            AvatarUrl => "avatar_url",
            AvatarUrl100 => "avatar_url_100",
            AvatarLargeUrl => "avatar_large_url",
            DisplayName => "display_name",
            BioDescription => "bio_description",
            ProfileDeepLink => "profile_deep_link",
            IsVerified => "is_verified",
            Username => "username",
            FollowerCount => "follower_count",
            FollowingCount => "following_count",
            LikesCount => "likes_count",
            VideoCount => "video_count",
        }
    }

    /// The scope that grants the field.
    pub fn scope(self) -> &'static str {
        use UserField::*;
        match self {
            OpenId | UnionId | AvatarUrl | AvatarUrl100 | AvatarLargeUrl | DisplayName => {
                scopes::USER_INFO_BASIC
            }
            BioDescription | ProfileDeepLink | IsVerified | Username => scopes::USER_INFO_PROFILE,
            FollowerCount | FollowingCount | LikesCount | VideoCount => scopes::USER_INFO_STATS,
        }
    }
}

/// A field of [`Video`] to ask for (`id` is always asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the TikTok field of the same name
pub enum VideoField {
    CreateTime,
    CoverImageUrl,
    ShareUrl,
    VideoDescription,
    Duration,
    Height,
    Width,
    Title,
    EmbedHtml,
    EmbedLink,
    LikeCount,
    CommentCount,
    ShareCount,
    ViewCount,
}

impl VideoField {
    /// What a video list usually shows: time, cover, link, title and the counts.
    pub const SUMMARY: [VideoField; 9] = [
        VideoField::CreateTime,
        VideoField::CoverImageUrl,
        VideoField::ShareUrl,
        VideoField::Title,
        VideoField::Duration,
        VideoField::LikeCount,
        VideoField::CommentCount,
        VideoField::ShareCount,
        VideoField::ViewCount,
    ];

    /// TikTok's name for the field.
    pub fn as_str(self) -> &'static str {
        use VideoField::*;
        match self {
            CreateTime => "create_time",
            CoverImageUrl => "cover_image_url",
            ShareUrl => "share_url",
            VideoDescription => "video_description",
            Duration => "duration",
            Height => "height",
            Width => "width",
            Title => "title",
            EmbedHtml => "embed_html",
            EmbedLink => "embed_link",
            LikeCount => "like_count",
            CommentCount => "comment_count",
            ShareCount => "share_count",
            ViewCount => "view_count",
        }
    }
}

fn video_fields(fields: &[VideoField]) -> String {
    let mut names = vec!["id"];
    for f in fields {
        if !names.contains(&f.as_str()) {
            names.push(f.as_str());
        }
    }
    names.join(",")
}

#[derive(Deserialize)]
struct UserData {
    user: User,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(
        default,
        deserialize_with = "socialconnect_core::connect::decode::null_as_default"
    )]
    videos: Vec<Video>,
}

// The accessor lives here rather than in client.rs so that client.rs imports no surface
// (no client ↔ surface import cycle).
impl TikTokClient {
    /// The Display API for one session.
    pub fn display<'a>(&'a self, session: &'a Session) -> Display<'a> {
        Display {
            client: self,
            session,
        }
    }
}

/// The Display API for one session.
#[derive(Debug, Clone, Copy)]
pub struct Display<'a> {
    client: &'a TikTokClient,
    session: &'a Session,
}

impl<'a> Display<'a> {
    /// The user's profile with `fields` (refused locally when a field's scope was not
    /// granted).
    pub async fn user_info(&self, fields: &[UserField]) -> Result<User> {
        if fields.is_empty() {
            return Err(Error::invalid_input("ask for at least one user field"));
        }
        let needed: Vec<&str> = fields.iter().map(|f| f.scope()).collect();
        require_scopes(self.session, &needed)?;
        let names: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
        let mut url = self.client.api_url("v2/user/info/")?;
        url.query_pairs_mut()
            .append_pair("fields", &names.join(","));
        let req = ApiRequest::get(url).operation("user.info");
        let data: DataEnvelope<UserData> =
            self.client.caller().send_json(self.session, req).await?;
        Ok(data.data.user)
    }

    /// One page of the user's videos, newest first, from `cursor` (`None`: the newest), at
    /// most `max_count` (1–20) long. Pass the page's `next` back to continue.
    pub async fn videos_page(
        &self,
        fields: &[VideoField],
        cursor: Option<&Cursor>,
        max_count: u8,
    ) -> Result<Page<Video>> {
        require_purpose(self.session, &[Purpose::ReadingContent, Purpose::Analytics])?;
        require_scopes(self.session, &[scopes::VIDEO_LIST])?;
        let max_count = max_count.clamp(1, MAX_PAGE_SIZE);
        let mut body = json!({ "max_count": max_count });
        if let Some(c) = cursor {
            let ms: i64 = c
                .as_token()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| Error::invalid_input("not a TikTok video-list cursor"))?;
            body["cursor"] = json!(ms);
        }
        let mut url = self.client.api_url("v2/video/list/")?;
        url.query_pairs_mut()
            .append_pair("fields", &video_fields(fields));
        let req = ApiRequest::post(url)
            .json(&body)?
            // A listing changes nothing: safe to retry.
            .idempotent(true)
            .operation("video.list");
        let data: DataEnvelope<VideoList> =
            self.client.caller().send_json(self.session, req).await?;
        let list = data.data;
        let next = Cursor::when_more(
            &PlatformId::TIKTOK,
            list.has_more.unwrap_or(false),
            list.cursor.map(|c| c.to_string()),
        )?;
        let now = Utc::now();
        let videos = list
            .videos
            .into_iter()
            .map(|mut v| {
                v.fetched_at = Some(now);
                v
            })
            .collect();
        Ok(Page::new(videos, next))
    }

    /// Every video, page after page, within `budget` (reaching it returns the cursor to resume
    /// from). A cursor TikTok repeats is an error, not a silent end.
    pub async fn videos(
        &self,
        fields: &[VideoField],
        budget: PageBudget,
    ) -> Result<Collected<Video>> {
        let fetch = |cursor: Option<Cursor>| async move {
            self.videos_page(fields, cursor.as_ref(), MAX_PAGE_SIZE)
                .await
        };
        Pages::new(PlatformId::TIKTOK, fetch)
            .budget(budget)
            .collect()
            .await
    }

    /// The user's own videos among `ids` (TikTok returns only those the token's user owns),
    /// e.g. to refresh expired cover URLs. More than 20 ids are split into several queries.
    pub async fn query_videos(&self, ids: &[&str], fields: &[VideoField]) -> Result<Vec<Video>> {
        require_purpose(self.session, &[Purpose::ReadingContent, Purpose::Analytics])?;
        require_scopes(self.session, &[scopes::VIDEO_LIST])?;
        if ids.iter().any(|id| id.is_empty() || id.len() > 64) {
            return Err(Error::invalid_input("not a TikTok video id"));
        }
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_QUERY_IDS) {
            let mut url = self.client.api_url("v2/video/query/")?;
            url.query_pairs_mut()
                .append_pair("fields", &video_fields(fields));
            let req = ApiRequest::post(url)
                .json(&json!({ "filters": { "video_ids": chunk } }))?
                .idempotent(true)
                .operation("video.query");
            let data: DataEnvelope<QueryData> =
                self.client.caller().send_json(self.session, req).await?;
            let now = Utc::now();
            out.extend(data.data.videos.into_iter().map(|mut v| {
                v.fetched_at = Some(now);
                v
            }));
        }
        Ok(out)
    }
}
