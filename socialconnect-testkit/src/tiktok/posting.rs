//! Content Posting: creator info, video init (direct and inbox, `FILE_UPLOAD` or
//! `PULL_FROM_URL`), photo init, and the status a post moves through.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::display::body_object;
use super::state::{Cx, Media, PostMode, Publish, Source, Upload, Video};
use super::upload::check_plan;
use super::wire::{self, invalid_params, utf16_len};
use crate::sim::Reply;

/// Longest video title, in UTF-16 units.
const MAX_VIDEO_TITLE: usize = 2200;
/// Longest photo title and description, in UTF-16 units.
const MAX_PHOTO_TITLE: usize = 90;
const MAX_PHOTO_DESCRIPTION: usize = 4000;
/// The most images in a photo post.
const MAX_PHOTOS: usize = 35;

fn missing_scope(scope: &str) -> Reply {
    wire::error(
        "scope_not_authorized",
        format!("The user did not authorize the scope required for this request: {scope}"),
    )
}

/// The privacy levels the creator may post with.
pub(crate) fn privacy_options(private_account: bool) -> [&'static str; 3] {
    if private_account {
        ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    } else {
        ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    }
}

/// `POST /v2/post/publish/creator_info/query/` (scope `video.publish`).
pub(crate) fn creator_info(cx: &mut Cx<'_>) -> Reply {
    if !cx.has("video.publish") {
        return missing_scope("video.publish");
    }
    let c = cx.cfg;
    let avatar = cx
        .base
        .join(&format!("avatar/{}/168.jpg", c.open_id))
        .map(String::from)
        .unwrap_or_default();
    wire::ok(json!({
        "creator_avatar_url": avatar,
        "creator_username": c.username,
        "creator_nickname": c.display_name,
        "privacy_level_options": privacy_options(c.private_account),
        "comment_disabled": false,
        "duet_disabled": false,
        "stitch_disabled": false,
        "max_video_post_duration_sec": 600,
    }))
}

/// Checks `privacy_level` against the creator's options and the audit status.
fn check_privacy(cx: &Cx<'_>, post_info: &Map<String, Value>) -> Result<(), Reply> {
    let Some(level) = post_info.get("privacy_level").and_then(Value::as_str) else {
        return Err(invalid_params("post_info.privacy_level is required"));
    };
    if !privacy_options(cx.cfg.private_account).contains(&level) {
        return Err(wire::error(
            "privacy_level_option_mismatch",
            format!("privacy_level {level} is not among the creator's privacy_level_options"),
        ));
    }
    if cx.cfg.unaudited_client && level != "SELF_ONLY" {
        return Err(wire::error(
            "unaudited_client_can_only_post_to_private_accounts",
            "an unaudited client can only post with privacy_level SELF_ONLY",
        ));
    }
    Ok(())
}

fn as_u64(v: Option<&Value>, name: &str) -> Result<u64, Reply> {
    v.and_then(Value::as_u64)
        .ok_or_else(|| invalid_params(format!("source_info.{name} must be a positive integer")))
}

/// A fresh publish id in TikTok's shape (`v_pub_file~v2-1.…`).
fn publish_id(cx: &mut Cx<'_>, prefix: &str) -> String {
    let n = cx.st.seq();
    format!("{prefix}~v2-1.{}", 7_400_000_000_000_000_000_u64 + n)
}

/// Records a new post and answers its `publish_id` (and `upload_url` for a file upload).
fn start(cx: &mut Cx<'_>, id: String, publish: Publish) -> Reply {
    let upload_url = match &publish.source {
        Source::FileUpload(u) => {
            let mut url = cx.base.clone();
            url.set_path(&format!("upload/{id}"));
            url.query_pairs_mut().append_pair("upload_token", &u.token);
            Some(url.to_string())
        }
        Source::PullFromUrl => None,
    };
    let mut data = json!({ "publish_id": id });
    if let Some(url) = upload_url {
        data["upload_url"] = json!(url);
    }
    let mut publish = publish;
    publish.fail_reason = cx.st.publish_failures.pop_front();
    cx.st.publishes.insert(id.clone(), publish);
    cx.st.last_publish = Some(id);
    wire::ok(data)
}

/// Reads `source_info` of a video init: a checked chunk plan, or a URL to pull.
fn video_source(cx: &mut Cx<'_>, body: &Map<String, Value>) -> Result<Source, Reply> {
    let Some(info) = body.get("source_info").and_then(Value::as_object) else {
        return Err(invalid_params("source_info is required"));
    };
    match info.get("source").and_then(Value::as_str) {
        Some("FILE_UPLOAD") => {
            let size = as_u64(info.get("video_size"), "video_size")?;
            let chunk = as_u64(info.get("chunk_size"), "chunk_size")?;
            let count = as_u64(info.get("total_chunk_count"), "total_chunk_count")?;
            check_plan(size, chunk, count).map_err(invalid_params)?;
            let n = cx.st.seq();
            Ok(Source::FileUpload(Upload {
                token: format!("ut-{n}-{}", uuid::Uuid::new_v4().simple()),
                video_size: size,
                chunk_size: chunk,
                // Checked to be at most 1000.
                total_chunk_count: u32::try_from(count).unwrap_or(u32::MAX),
                received: 0,
                chunks: 0,
                hasher: Sha256::new(),
                sha256: None,
            }))
        }
        Some("PULL_FROM_URL") => {
            let url = info.get("video_url").and_then(Value::as_str);
            match url.map(url::Url::parse) {
                Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => Ok(Source::PullFromUrl),
                _ => Err(invalid_params(
                    "source_info.video_url must be an http(s) URL",
                )),
            }
        }
        _ => Err(invalid_params(
            "source_info.source must be FILE_UPLOAD or PULL_FROM_URL",
        )),
    }
}

/// `POST /v2/post/publish/video/init/` (direct, scope `video.publish`) and
/// `/v2/post/publish/inbox/video/init/` (inbox, scope `video.upload`, `source_info` only).
pub(crate) fn video_init(cx: &mut Cx<'_>, mode: PostMode) -> Reply {
    let scope = match mode {
        PostMode::Direct => "video.publish",
        PostMode::Inbox => "video.upload",
    };
    if !cx.has(scope) {
        return missing_scope(scope);
    }
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let mut title = String::new();
    if mode == PostMode::Direct {
        let Some(post_info) = body.get("post_info").and_then(Value::as_object) else {
            return invalid_params("post_info is required for a direct post");
        };
        if let Err(reply) = check_privacy(cx, post_info) {
            return reply;
        }
        title = post_info
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if utf16_len(&title) > MAX_VIDEO_TITLE {
            return invalid_params("post_info.title is longer than 2200 UTF-16 units");
        }
    }
    let source = match video_source(cx, &body) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let prefix = match (mode, &source) {
        (PostMode::Direct, Source::FileUpload(_)) => "v_pub_file",
        (PostMode::Direct, Source::PullFromUrl) => "v_pub_url",
        (PostMode::Inbox, Source::FileUpload(_)) => "v_inbox_file",
        (PostMode::Inbox, Source::PullFromUrl) => "v_inbox_url",
    };
    let id = publish_id(cx, prefix);
    start(
        cx,
        id,
        Publish {
            mode,
            media: Media::Video,
            source,
            title,
            polls: 0,
            fail_reason: None,
            post_id: None,
            complete_polls: 0,
        },
    )
}

/// `POST /v2/post/publish/content/init/`: a photo post, `DIRECT_POST` (scope `video.publish`)
/// or `MEDIA_UPLOAD` to the inbox (scope `video.upload`), up to 35 pulled image URLs, title
/// ≤ 90 and description ≤ 4000 UTF-16 units.
pub(crate) fn content_init(cx: &mut Cx<'_>) -> Reply {
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    if body.get("media_type").and_then(Value::as_str) != Some("PHOTO") {
        return invalid_params("media_type must be PHOTO");
    }
    let mode = match body.get("post_mode").and_then(Value::as_str) {
        Some("DIRECT_POST") => PostMode::Direct,
        Some("MEDIA_UPLOAD") => PostMode::Inbox,
        _ => return invalid_params("post_mode must be DIRECT_POST or MEDIA_UPLOAD"),
    };
    let scope = match mode {
        PostMode::Direct => "video.publish",
        PostMode::Inbox => "video.upload",
    };
    if !cx.has(scope) {
        return missing_scope(scope);
    }
    let empty = Map::new();
    let post_info = body
        .get("post_info")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let text = |name: &str| post_info.get(name).and_then(Value::as_str).unwrap_or("");
    let title = text("title").to_owned();
    if utf16_len(&title) > MAX_PHOTO_TITLE {
        return invalid_params("post_info.title is longer than 90 UTF-16 units");
    }
    if utf16_len(text("description")) > MAX_PHOTO_DESCRIPTION {
        return invalid_params("post_info.description is longer than 4000 UTF-16 units");
    }
    if mode == PostMode::Direct
        && let Err(reply) = check_privacy(cx, post_info)
    {
        return reply;
    }
    let Some(info) = body.get("source_info").and_then(Value::as_object) else {
        return invalid_params("source_info is required");
    };
    if info.get("source").and_then(Value::as_str) != Some("PULL_FROM_URL") {
        return invalid_params("photos are only taken with source PULL_FROM_URL");
    }
    let images = info
        .get("photo_images")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if images.is_empty() || images.len() > MAX_PHOTOS {
        return invalid_params("source_info.photo_images takes 1 to 35 image URLs");
    }
    if images.iter().any(|i| {
        !i.as_str()
            .and_then(|s| url::Url::parse(s).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https"))
    }) {
        return invalid_params("every photo_images entry must be an http(s) URL");
    }
    match info.get("photo_cover_index") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let in_range = v
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .is_some_and(|i| i < images.len());
            if !in_range {
                return invalid_params("photo_cover_index must index photo_images");
            }
        }
    }
    let prefix = match mode {
        PostMode::Direct => "p_pub_url",
        PostMode::Inbox => "p_inbox_url",
    };
    let id = publish_id(cx, prefix);
    start(
        cx,
        id,
        Publish {
            mode,
            media: Media::Photo,
            source: Source::PullFromUrl,
            title,
            polls: 0,
            fail_reason: None,
            post_id: None,
            complete_polls: 0,
        },
    )
}

/// `POST /v2/post/publish/status/fetch/` with `{publish_id}`: `PROCESSING_UPLOAD` while the
/// upload is incomplete and for the configured polls after it (`PROCESSING_DOWNLOAD` for a
/// pulled URL), then `FAILED` with `fail_reason` (HTTP 200, code `ok`), `SEND_TO_USER_INBOX`
/// for an inbox post, or `PUBLISH_COMPLETE` with `publicaly_available_post_id` (sic) as a list
/// of numbers; a published video joins the video list.
pub(crate) fn status(cx: &mut Cx<'_>) -> Reply {
    if !cx.has("video.publish") && !cx.has("video.upload") {
        return missing_scope("video.publish");
    }
    let body = match body_object(cx) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let Some(id) = body.get("publish_id").and_then(Value::as_str) else {
        return invalid_params("publish_id is required");
    };
    let (processing_polls, moderation_polls) = (cx.cfg.processing_polls, cx.cfg.moderation_polls);
    let now = cx.now.timestamp();
    let Some(publish) = cx.st.publishes.get_mut(id) else {
        return invalid_params("unknown publish_id");
    };
    let processing = match &publish.source {
        Source::FileUpload(_) => "PROCESSING_UPLOAD",
        Source::PullFromUrl => "PROCESSING_DOWNLOAD",
    };
    let mut data = json!({ "status": processing });
    if let Source::FileUpload(u) = &publish.source {
        data["uploaded_bytes"] = json!(u.received);
    }
    if !publish.media_in() {
        return wire::ok(data);
    }
    publish.polls += 1;
    if publish.polls <= processing_polls {
        return wire::ok(data);
    }
    if let Some(reason) = &publish.fail_reason {
        data["status"] = json!("FAILED");
        data["fail_reason"] = json!(reason);
        return wire::ok(data);
    }
    if publish.mode == PostMode::Inbox {
        data["status"] = json!("SEND_TO_USER_INBOX");
        return wire::ok(data);
    }
    data["status"] = json!("PUBLISH_COMPLETE");
    publish.complete_polls += 1;
    if publish.complete_polls <= moderation_polls {
        data["publicaly_available_post_id"] = json!([]);
        return wire::ok(data);
    }
    let (post_id, is_new) = match publish.post_id {
        Some(id) => (id, false),
        None => {
            let id = cx.st.next_video_id;
            cx.st.next_video_id += 1;
            (id, true)
        }
    };
    // Re-borrow after taking the next id.
    if let Some(publish) = cx.st.publishes.get_mut(id) {
        publish.post_id = Some(post_id);
        if is_new && publish.media == Media::Video {
            // Strictly newer than the newest, so the millisecond cursor never ties.
            let newest = cx.st.videos.first().map_or(i64::MIN, |v| v.create_time);
            let video = Video {
                id: post_id,
                create_time: now.max(newest.saturating_add(1)),
                title: publish.title.clone(),
                duration: 15,
            };
            cx.st.videos.insert(0, video);
        }
    }
    data["publicaly_available_post_id"] = json!([post_id]);
    wire::ok(data)
}
