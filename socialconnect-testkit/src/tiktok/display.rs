//! The Display API: user info by field, the video list paged by a millisecond cursor, and the
//! video query by id.

use serde_json::{Value, json};

use super::state::Cx;
use super::wire::{self, invalid_params};
use crate::sim::Reply;

/// The user-info fields and the scope each needs.
const USER_FIELDS: [(&str, &str); 14] = [
    ("open_id", "user.info.basic"),
    ("union_id", "user.info.basic"),
    ("avatar_url", "user.info.basic"),
    ("avatar_url_100", "user.info.basic"),
    ("avatar_large_url", "user.info.basic"),
    ("display_name", "user.info.basic"),
    ("bio_description", "user.info.profile"),
    ("profile_deep_link", "user.info.profile"),
    ("is_verified", "user.info.profile"),
    ("username", "user.info.profile"),
    ("follower_count", "user.info.stats"),
    ("following_count", "user.info.stats"),
    ("likes_count", "user.info.stats"),
    ("video_count", "user.info.stats"),
];

/// The video-object fields.
const VIDEO_FIELDS: [&str; 16] = [
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
    "is_aigc",
];

/// The longest video-list page and its default.
const MAX_COUNT: i64 = 20;
const DEFAULT_COUNT: i64 = 10;
/// The most ids one video query takes.
const MAX_QUERY_IDS: usize = 20;

fn missing_scope(scope: &str) -> Reply {
    wire::error(
        "scope_not_authorized",
        format!("The user did not authorize the scope required for this request: {scope}"),
    )
}

/// `GET /v2/user/info/?fields=…`: only the requested fields, each checked against its scope.
pub(crate) fn user_info(cx: &mut Cx<'_>) -> Reply {
    let known: Vec<&str> = USER_FIELDS.iter().map(|(f, _)| *f).collect();
    let fields = match wire::fields(&cx.call.query, &known) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    for f in &fields {
        let scope = USER_FIELDS
            .iter()
            .find(|(name, _)| name == f)
            .map(|(_, s)| *s)
            .unwrap_or_default();
        if !cx.has(scope) {
            return missing_scope(scope);
        }
    }
    let c = cx.cfg;
    let avatar = |size: &str| {
        cx.base
            .join(&format!("avatar/{}/{size}.jpg", c.open_id))
            .map(String::from)
            .unwrap_or_default()
    };
    let user = json!({
        "open_id": c.open_id,
        "union_id": c.union_id,
        "avatar_url": avatar("168"),
        "avatar_url_100": avatar("100"),
        "avatar_large_url": avatar("1080"),
        "display_name": c.display_name,
        "bio_description": "Simulated creator for SocialConnect tests",
        "profile_deep_link": format!("https://vm.tiktok.com/{}/", c.username),
        "is_verified": false,
        "username": c.username,
        "follower_count": 4_200,
        "following_count": 42,
        "likes_count": 123_456,
        "video_count": cx.st.videos.len(),
    });
    wire::ok(json!({ "user": wire::select(&user, &fields) }))
}

/// The requested video fields (required for the list and the query), or the refusal.
fn video_fields(cx: &Cx<'_>) -> Result<Vec<String>, Reply> {
    if !cx.has("video.list") {
        return Err(missing_scope("video.list"));
    }
    wire::fields(&cx.call.query, &VIDEO_FIELDS)
}

/// The JSON body as an object (`{}` when empty), or `invalid_params`.
pub(crate) fn body_object(cx: &Cx<'_>) -> Result<serde_json::Map<String, Value>, Reply> {
    match cx.call.json() {
        Ok(None) => Ok(serde_json::Map::new()),
        Ok(Some(Value::Object(map))) => Ok(map),
        Ok(Some(_)) => Err(invalid_params("the request body must be a JSON object")),
        Err(_) => Err(invalid_params("the request body is not valid JSON")),
    }
}

/// `POST /v2/video/list/?fields=…` with `{cursor?, max_count?}`: newest first, the cursor the
/// previous page's last `create_time` in milliseconds, the page at most `max_count` (and at
/// most the configured cap, `has_more` staying true).
pub(crate) fn video_list(cx: &mut Cx<'_>) -> Reply {
    let fields = match video_fields(cx) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let max_count = match body.get("max_count") {
        None | Some(Value::Null) => DEFAULT_COUNT,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=MAX_COUNT).contains(&n) => n,
            // Whether TikTok clamps or refuses an out-of-range max_count is UNCONFIRMED;
            // refusing catches a client that does not clamp.
            _ => return invalid_params("max_count must be an integer from 1 to 20"),
        },
    };
    let cursor = match body.get("cursor") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(ms) if ms >= 0 => Some(ms),
            _ => return invalid_params("cursor must be a millisecond timestamp (an int64)"),
        },
    };
    let take = usize::try_from(max_count)
        .unwrap_or(usize::MAX)
        .min(cx.cfg.page_cap.unwrap_or(usize::MAX));
    let older: Vec<_> = cx
        .st
        .videos
        .iter()
        .filter(|v| cursor.is_none_or(|c| v.create_time * 1000 < c))
        .collect();
    let page: Vec<_> = older.iter().take(take).collect();
    let has_more = older.len() > page.len();
    let next_cursor = page
        .last()
        .map(|v| v.create_time * 1000)
        .or(cursor)
        .unwrap_or_else(|| cx.now.timestamp_millis());
    let username = &cx.cfg.username;
    let videos: Vec<Value> = page
        .iter()
        .map(|v| wire::select(&v.to_json(cx.base, username), &fields))
        .collect();
    wire::ok(json!({ "videos": videos, "cursor": next_cursor, "has_more": has_more }))
}

/// `POST /v2/video/query/?fields=…` with `{"filters": {"video_ids": […]}}`: the account's own
/// videos among the ids (at most 20), in the order asked; others are left out.
pub(crate) fn video_query(cx: &mut Cx<'_>) -> Reply {
    let fields = match video_fields(cx) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let Some(ids) = body
        .get("filters")
        .and_then(|f| f.get("video_ids"))
        .and_then(Value::as_array)
    else {
        return invalid_params("filters.video_ids is required");
    };
    if ids.is_empty() || ids.len() > MAX_QUERY_IDS {
        return invalid_params("filters.video_ids takes 1 to 20 ids");
    }
    let username = &cx.cfg.username;
    let mut videos = Vec::new();
    for id in ids {
        let Some(id) = id.as_str() else {
            return invalid_params("video ids are strings");
        };
        if let Some(v) = cx.st.videos.iter().find(|v| v.id.to_string() == id) {
            videos.push(wire::select(&v.to_json(cx.base, username), &fields));
        }
    }
    // UNCONFIRMED: whether the query's answer carries the list's `cursor` and `has_more`; they
    // are sent (one page, no more) and a tolerant parser ignores them.
    wire::ok(json!({ "videos": videos, "cursor": 0, "has_more": false }))
}
