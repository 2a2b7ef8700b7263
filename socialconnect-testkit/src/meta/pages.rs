//! Facebook Pages: the Page object, posts and photos, comments and insights.

use chrono::{DateTime, TimeDelta};
use serde_json::{Value, json};

use super::insights::{PERIODS, insight_entries};
use super::state::{Comment, Ctx, Need, Object, Post, TokenKind, authenticate};
use super::wire::{Reply, graph_error, graph_time, invalid_param, paginate, select};

/// How far ahead a post can be scheduled: from ten minutes to 30 days.
const SCHEDULE_MIN: TimeDelta = TimeDelta::minutes(10);
const SCHEDULE_MAX: TimeDelta = TimeDelta::days(30);

/// `GET /{page-id}`: `name` and `id` by default; `fields=access_token` with a user token
/// gives the Page token.
pub(crate) fn page(cx: &mut Ctx<'_>) -> Reply {
    let caller = authenticate!(cx, Need::UserOrPage);
    let cfg = cx.cfg;
    let fields = cx.call.params.fields();
    let Some(fields) = fields else {
        return Reply::ok(json!({ "name": cfg.page_name, "id": cfg.page_id }));
    };
    let mut record = json!({
        "id": cfg.page_id,
        "name": cfg.page_name,
        "category": "Bakery",
        "fan_count": 1280,
        "followers_count": 1312,
        "link": format!("https://www.facebook.com/{}", cfg.page_id),
    });
    if cfg.instagram_linked {
        record["instagram_business_account"] = json!({ "id": cfg.instagram_user_id });
    }
    if caller.kind.is_some_and(TokenKind::is_user) {
        record["access_token"] = json!(cx.st.page_token_for(&caller.token, cx.now));
    }
    Reply::ok(select(&record, Some(&fields)))
}

fn post_json(cx: &Ctx<'_>, post: &Post) -> Value {
    let suffix = post.id.rsplit('_').next().unwrap_or_default();
    let mut record = json!({
        "id": post.id,
        "created_time": graph_time(post.created_time),
        "permalink_url": format!("https://www.facebook.com/{}/posts/{suffix}", cx.cfg.page_id),
        "is_published": post.published,
    });
    if let Some(m) = &post.message {
        record["message"] = json!(m);
    }
    if let Some(l) = &post.link {
        record["link"] = json!(l);
    }
    if let Some(t) = post.scheduled_publish_time {
        record["scheduled_publish_time"] = json!(t.timestamp());
    }
    record
}

/// `GET /{post-id}` (or a photo's id).
pub(crate) fn post(cx: &mut Ctx<'_>, index: usize) -> Reply {
    authenticate!(cx, Need::Page);
    let record = post_json(cx, &cx.st.posts[index]);
    Reply::ok(select(&record, cx.call.params.fields().as_deref()))
}

/// `POST /{page-id}/feed`: `message` and/or `link`, `published`, `scheduled_publish_time`.
pub(crate) fn create_post(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Page);
    let p = &cx.call.params;
    let message = p.get("message").filter(|m| !m.is_empty());
    let link = p.get("link").filter(|l| !l.is_empty());
    if message.is_none() && link.is_none() {
        return invalid_param("Requires one of the params: message, link");
    }
    if let Some(l) = &link
        && url::Url::parse(l).is_err()
    {
        return invalid_param("Param link must be a valid URL");
    }
    let published = match p.flag("published", true) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let scheduled = match p.get("scheduled_publish_time") {
        None => None,
        Some(_) if published => {
            return invalid_param(
                "A scheduled_publish_time needs published=false: a published post cannot be \
                 scheduled",
            );
        }
        Some(s) => {
            let at = s
                .parse::<i64>()
                .ok()
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .or_else(|| DateTime::parse_from_rfc3339(&s).ok().map(|t| t.to_utc()));
            match at {
                Some(at) if at >= cx.now + SCHEDULE_MIN && at <= cx.now + SCHEDULE_MAX => Some(at),
                _ => {
                    return invalid_param(
                        "The specified scheduled publish time is invalid: it must be between 10 \
                         minutes and 30 days from now",
                    );
                }
            }
        }
    };
    let id = cx.st.new_post_id(&cx.cfg.page_id);
    cx.st.posts.push(Post {
        id: id.clone(),
        message,
        link,
        created_time: cx.now,
        published,
        scheduled_publish_time: scheduled,
        photo_id: None,
    });
    Reply::ok(json!({ "id": id }))
}

/// `POST /{page-id}/photos`: `url` (or a multipart `source`), `caption`, `published`.
pub(crate) fn create_photo(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Page);
    let p = &cx.call.params;
    match p.get("url") {
        Some(u) if url::Url::parse(&u).is_ok() => {}
        Some(_) => return invalid_param("Param url must be a valid URL"),
        None if p.files.iter().any(|f| f == "source") => {}
        None => return invalid_param("Requires one of the params: url, source"),
    }
    let published = match p.flag("published", true) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let caption = p.get("caption").or_else(|| p.get("message"));
    let photo_id = cx.st.new_photo_id();
    let post_id = cx.st.new_post_id(&cx.cfg.page_id);
    cx.st.posts.push(Post {
        id: post_id.clone(),
        message: caption,
        link: None,
        created_time: cx.now,
        published,
        scheduled_publish_time: None,
        photo_id: Some(photo_id.clone()),
    });
    if published {
        Reply::ok(json!({ "id": photo_id, "post_id": post_id }))
    } else {
        Reply::ok(json!({ "id": photo_id }))
    }
}

/// `GET /{page-id}/posts` (and `/feed`): published posts, newest first, cursor-paged.
pub(crate) fn list_posts(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Page);
    let fields = cx.call.params.fields();
    let items: Vec<Value> = cx
        .st
        .posts
        .iter()
        .rev()
        .filter(|p| p.published || p.scheduled_publish_time.is_some_and(|t| t <= cx.now))
        .map(|p| select(&post_json(cx, p), fields.as_deref()))
        .collect();
    paginate(items, &cx.call.params, &cx.url()).map_or_else(|e| e, Reply::ok)
}

fn comment_json(c: &Comment, replies: usize) -> Value {
    json!({
        "id": c.id,
        "created_time": graph_time(c.created_time),
        "from": { "id": c.author_id, "name": c.author_name },
        "message": c.message,
        "like_count": 0,
        "comment_count": replies,
    })
}

/// `GET /{comment-id}` for a Page comment.
pub(crate) fn comment(cx: &mut Ctx<'_>, index: usize) -> Reply {
    authenticate!(cx, Need::Page);
    let comment = cx.st.comments[index].clone();
    let replies = cx
        .st
        .comments
        .iter()
        .filter(|c| c.parent == comment.id)
        .count();
    Reply::ok(select(
        &comment_json(&comment, replies),
        cx.call.params.fields().as_deref(),
    ))
}

/// `GET /{object-id}/comments` on a post, photo or comment; `summary=true` adds the total.
pub(crate) fn comments(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Page);
    let parent = cx.call.route.id.as_str();
    let fields = cx.call.params.fields();
    let all = &cx.st.comments;
    let items: Vec<Value> = all
        .iter()
        .filter(|c| c.parent == parent)
        .map(|c| {
            let replies = all.iter().filter(|r| r.parent == c.id).count();
            select(&comment_json(c, replies), fields.as_deref())
        })
        .collect();
    let total = items.len();
    let mut page = match paginate(items, &cx.call.params, &cx.url()) {
        Ok(page) => page,
        Err(e) => return e,
    };
    if matches!(
        cx.call.params.get("summary").as_deref(),
        Some("true" | "1" | "total_count")
    ) {
        page["summary"] =
            json!({ "order": "chronological", "total_count": total, "can_comment": true });
    }
    Reply::ok(page)
}

/// `POST /{object-id}/comments` (`message`), as the Page; ids are `{post}_{comment}`.
pub(crate) fn create_comment(cx: &mut Ctx<'_>, parent: Object) -> Reply {
    authenticate!(cx, Need::Page);
    let Some(message) = cx.call.params.get("message").filter(|m| !m.is_empty()) else {
        return invalid_param("Requires one of the params: message, attachment_url");
    };
    let parent_id = cx.call.route.id.clone();
    let post_part = match parent {
        Object::Post(_) => parent_id.rsplit('_').next().unwrap_or_default().to_owned(),
        Object::Comment(_) => parent_id.split('_').next().unwrap_or_default().to_owned(),
        _ => parent_id.clone(),
    };
    let id = format!("{post_part}_{}", cx.st.new_comment_suffix());
    cx.st.comments.push(Comment {
        id: id.clone(),
        parent: parent_id,
        message,
        created_time: cx.now,
        author_id: cx.cfg.page_id.clone(),
        author_name: cx.cfg.page_name.clone(),
        instagram: false,
    });
    Reply::ok(json!({ "id": id }))
}

/// `GET /{page-id}/insights?metric=a,b&period=day`.
pub(crate) fn insights(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Page);
    let Some(metrics) = cx.call.params.get("metric").filter(|m| !m.is_empty()) else {
        return graph_error(
            3001,
            Some(1_504_028),
            "Invalid query: no metric was specified.",
        );
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
    let data = insight_entries(cx, &cx.cfg.page_id, &metrics, &period);
    Reply::ok(json!({ "data": data }))
}
