//! Instagram through Facebook Login: the business account, content publishing (containers,
//! status, `media_publish`, the publishing limit), media, comments and insights.

use serde_json::{Value, json};

use super::ContainerFault;
use super::insights::{PERIODS, insight_entries};
use super::state::{
    CONTAINER_LIFETIME, Comment, Container, Ctx, Fate, IgMedia, Need, authenticate,
};
use super::wire::{ErrorField, Reply, graph_error, graph_time, invalid_param, paginate, select};

/// Most items in a carousel.
const CAROUSEL_MAX: usize = 10;

/// `GET /{ig-user-id}`.
pub(crate) fn account(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let cfg = cx.cfg;
    let record = json!({
        "id": cfg.instagram_user_id,
        "username": cfg.instagram_username,
        "name": cfg.page_name,
        "followers_count": 1280,
        "follows_count": 12,
        "media_count": cx.st.ig_media.len(),
    });
    Reply::ok(select(&record, cx.call.params.fields().as_deref()))
}

fn absolute_url(value: Option<String>, name: &str) -> Result<Option<String>, Reply> {
    match value {
        Some(v) if url::Url::parse(&v).is_err() => {
            Err(invalid_param(format!("Param {name} must be a valid URL")))
        }
        v => Ok(v),
    }
}

/// `POST /{ig-user-id}/media`: an image, a reel, a story, a carousel item or a carousel.
pub(crate) fn create_container(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let p = &cx.call.params;
    let (image, video) = match (
        absolute_url(p.get("image_url"), "image_url"),
        absolute_url(p.get("video_url"), "video_url"),
    ) {
        (Ok(i), Ok(v)) => (i, v),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let is_carousel_item = match p.flag("is_carousel_item", false) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let media_type = p.get("media_type").map(|t| t.to_ascii_uppercase());
    let (media_type, product_type) = match media_type.as_deref() {
        None | Some("IMAGE") if is_carousel_item => match (&image, &video) {
            (Some(_), _) => ("IMAGE", "FEED"),
            (None, Some(_)) => ("VIDEO", "FEED"),
            (None, None) => return invalid_param("The parameter image_url is required."),
        },
        None | Some("IMAGE") => {
            if image.is_none() {
                return invalid_param("The parameter image_url is required.");
            }
            ("IMAGE", "FEED")
        }
        Some("REELS") => {
            if video.is_none() {
                return invalid_param("The parameter video_url is required.");
            }
            ("VIDEO", "REELS")
        }
        Some("STORIES") => match (&image, &video) {
            (Some(_), _) => ("IMAGE", "STORY"),
            (None, Some(_)) => ("VIDEO", "STORY"),
            (None, None) => return invalid_param("Stories need an image_url or a video_url."),
        },
        Some("CAROUSEL") => {
            let children: Vec<String> = p
                .get("children")
                .unwrap_or_default()
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            if !(2..=CAROUSEL_MAX).contains(&children.len()) {
                return invalid_param(format!(
                    "The parameter children must list 2 to {CAROUSEL_MAX} carousel item \
                     containers."
                ));
            }
            if let Some(bad) = children.iter().find(|c| {
                !cx.st
                    .containers
                    .get(c.as_str())
                    .is_some_and(|k| k.is_carousel_item)
            }) {
                return invalid_param(format!(
                    "The children parameter holds `{bad}`, which is not a carousel item container."
                ));
            }
            ("CAROUSEL_ALBUM", "FEED")
        }
        Some("VIDEO") => {
            return invalid_param(
                "The media_type VIDEO is no longer supported for feed videos; use REELS.",
            );
        }
        Some(other) => {
            return invalid_param(format!(
                "Param media_type `{other}` must be one of REELS, STORIES, CAROUSEL"
            ));
        }
    };
    let caption = p.get("caption");
    let fate = match cx.st.container_faults.pop_front() {
        None => Fate::Finished,
        Some(ContainerFault::Error(status)) => Fate::Error(status),
        Some(ContainerFault::Expired) => Fate::Expired,
    };
    let id = cx.st.new_container_id();
    cx.st.containers.insert(
        id.clone(),
        Container {
            media_type,
            product_type,
            caption,
            is_carousel_item,
            created_at: cx.now,
            polls: 0,
            fate,
            published_as: None,
        },
    );
    Reply::ok(json!({ "id": id }))
}

/// A container's `(status_code, status)` now.
fn status(cx: &Ctx<'_>, c: &Container) -> (&'static str, String) {
    if c.published_as.is_some() {
        return (
            "PUBLISHED",
            "Published: Media has been published.".to_owned(),
        );
    }
    let expired = || {
        (
            "EXPIRED",
            "Expired: Media container was not published within 24 hours.".to_owned(),
        )
    };
    if cx.now - c.created_at >= CONTAINER_LIFETIME {
        return expired();
    }
    if c.polls < cx.cfg.polls_in_progress {
        return (
            "IN_PROGRESS",
            "In Progress: Media is still being processed.".to_owned(),
        );
    }
    match &c.fate {
        Fate::Finished => (
            "FINISHED",
            "Finished: Media has been uploaded and it is ready to be published.".to_owned(),
        ),
        Fate::Error(status) => ("ERROR", status.clone()),
        Fate::Expired => expired(),
    }
}

/// `GET /{container-id}?fields=status_code,status`: each poll moves the container along.
pub(crate) fn container_status(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let id = cx.call.route.id.clone();
    let Some(container) = cx.st.containers.get(&id).cloned() else {
        return super::wire::unknown_object(&id);
    };
    let (code, text) = status(cx, &container);
    if let Some(c) = cx.st.containers.get_mut(&id) {
        c.polls += 1;
    }
    let record = json!({ "id": id, "status_code": code, "status": text });
    Reply::ok(select(&record, cx.call.params.fields().as_deref()))
}

/// `POST /{ig-user-id}/media_publish?creation_id=…`: only a `FINISHED` container, within the
/// publishing quota.
pub(crate) fn publish(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let Some(creation_id) = cx.call.params.get("creation_id") else {
        return invalid_param("The parameter creation_id is required.");
    };
    let Some(container) = cx.st.containers.get(&creation_id).cloned() else {
        return invalid_param(format!(
            "Param creation_id `{creation_id}` is not a media container of this account"
        ));
    };
    if container.is_carousel_item {
        return invalid_param("A carousel item cannot be published on its own.");
    }
    if cx.st.quota_usage(cx.now) >= cx.cfg.publishing_quota as usize {
        return graph_error(
            9,
            Some(2_207_042),
            "You reached the maximum number of posts allowed by the Content Publishing API.",
        )
        .error_field("is_transient", json!(false));
    }
    if status(cx, &container).0 != "FINISHED" {
        return graph_error(9007, Some(2_207_027), "Media ID is not available")
            .error_field("error_user_title", json!("Media not ready for publishing"))
            .error_field("is_transient", json!(false));
    }
    let media_id = cx.st.new_ig_media_id();
    cx.st.ig_media.push(IgMedia {
        id: media_id.clone(),
        caption: container.caption,
        media_type: container.media_type,
        product_type: container.product_type,
        timestamp: cx.now,
    });
    if let Some(c) = cx.st.containers.get_mut(&creation_id) {
        c.published_as = Some(media_id.clone());
    }
    cx.st.publishes.push(cx.now);
    Reply::ok(json!({ "id": media_id }))
}

/// `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`.
pub(crate) fn publishing_limit(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let fields = cx.call.params.fields().unwrap_or_default();
    let mut entry = json!({ "quota_usage": cx.st.quota_usage(cx.now) });
    if super::wire::field_names(&fields)
        .iter()
        .any(|f| f == "config")
    {
        entry["config"] =
            json!({ "quota_total": cx.cfg.publishing_quota, "quota_duration": 86_400 });
    }
    Reply::ok(json!({ "data": [entry] }))
}

fn media_json(cx: &Ctx<'_>, m: &IgMedia) -> Value {
    let comments = cx.st.comments.iter().filter(|c| c.parent == m.id).count();
    let mut record = json!({
        "id": m.id,
        "media_type": m.media_type,
        "media_product_type": m.product_type,
        "timestamp": graph_time(m.timestamp),
        "permalink": format!("https://www.instagram.com/p/sim{}/", m.id),
        "username": cx.cfg.instagram_username,
        "like_count": 0,
        "comments_count": comments,
    });
    if let Some(c) = &m.caption {
        record["caption"] = json!(c);
    }
    record
}

/// `GET /{ig-user-id}/media`: published media, newest first, cursor-paged.
pub(crate) fn list_media(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let fields = cx.call.params.fields();
    let items: Vec<Value> = cx
        .st
        .ig_media
        .iter()
        .rev()
        .map(|m| select(&media_json(cx, m), fields.as_deref()))
        .collect();
    paginate(items, &cx.call.params, &cx.url()).map_or_else(|e| e, Reply::ok)
}

/// `GET /{ig-media-id}`.
pub(crate) fn media(cx: &mut Ctx<'_>, index: usize) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let record = media_json(cx, &cx.st.ig_media[index]);
    Reply::ok(select(&record, cx.call.params.fields().as_deref()))
}

/// `GET /{ig-media-id}/insights?metric=reach,saved`: lifetime values.
pub(crate) fn media_insights(cx: &mut Ctx<'_>, index: usize) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let Some(metrics) = cx.call.params.get("metric").filter(|m| !m.is_empty()) else {
        return invalid_param("The parameter metric is required.");
    };
    let id = cx.st.ig_media[index].id.clone();
    let data: Vec<Value> = insight_entries(cx, &id, &metrics, "lifetime")
        .into_iter()
        .map(|mut entry| {
            // Media insights carry a bare value, without end_time.
            if let Some(values) = entry["values"].as_array_mut() {
                for v in values {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("end_time");
                    }
                }
            }
            entry
        })
        .collect();
    Reply::ok(json!({ "data": data }))
}

/// `GET /{ig-user-id}/insights?metric=reach&period=day`.
pub(crate) fn account_insights(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let Some(metrics) = cx.call.params.get("metric").filter(|m| !m.is_empty()) else {
        return invalid_param("The parameter metric is required.");
    };
    let period = cx
        .call
        .params
        .get("period")
        .unwrap_or_else(|| "day".to_owned());
    if !PERIODS.contains(&period.as_str()) {
        return invalid_param(format!(
            "Param period must be one of {}",
            PERIODS.join(", ")
        ));
    }
    let data = insight_entries(cx, &cx.cfg.instagram_user_id, &metrics, &period);
    Reply::ok(json!({ "data": data }))
}

fn comment_json(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "text": c.message,
        "timestamp": graph_time(c.created_time),
        "username": c.author_name,
        "like_count": 0,
    })
}

/// `GET /{ig-comment-id}`.
pub(crate) fn comment(cx: &mut Ctx<'_>, c: &Comment) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    Reply::ok(select(&comment_json(c), cx.call.params.fields().as_deref()))
}

/// `GET /{ig-media-id}/comments`.
pub(crate) fn comments(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let parent = cx.call.route.id.as_str();
    let fields = cx.call.params.fields();
    let items: Vec<Value> = cx
        .st
        .comments
        .iter()
        .filter(|c| c.parent == parent)
        .map(|c| select(&comment_json(c), fields.as_deref()))
        .collect();
    paginate(items, &cx.call.params, &cx.url()).map_or_else(|e| e, Reply::ok)
}

/// `POST /{ig-media-id}/comments` (`message`), as the business account.
pub(crate) fn create_comment(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::UserOrPage);
    let Some(message) = cx.call.params.get("message").filter(|m| !m.is_empty()) else {
        return invalid_param("The parameter message is required.");
    };
    let id = cx.st.new_comment_suffix().to_string();
    cx.st.comments.push(Comment {
        id: id.clone(),
        parent: cx.call.route.id.clone(),
        message,
        created_time: cx.now,
        author_id: cx.cfg.instagram_user_id.clone(),
        author_name: cx.cfg.instagram_username.clone(),
        instagram: true,
    });
    Reply::ok(json!({ "id": id }))
}
