//! Comments through `socialActions`: `GET /rest/socialActions/{urn}/comments` with classic
//! paging, and `POST` the same path with `{actor, object, message: {text}}`.

use serde_json::{Value, json};

use super::model::Comment;
use super::organizations::{page, paging};
use super::state::{Cx, FIRST_COMMENT_ID};
use super::wire;
use crate::sim::Reply;

/// The longest comment, in characters.
const MAX_TEXT: usize = 1250;

/// A comment as LinkedIn answers it. UNCONFIRMED beyond the create body: `id`, `commentUrn`,
/// `created` and `lastModified` follow LinkedIn's Comments API pages. `$URN` is not sent.
pub(crate) fn comment_json(c: &Comment) -> Value {
    let stamp = json!({ "actor": c.actor, "time": c.created_at.timestamp_millis() });
    json!({
        "id": c.id,
        "commentUrn": c.urn,
        "actor": c.actor,
        "object": c.object,
        "message": { "text": c.text },
        "created": stamp,
        "lastModified": stamp,
    })
}

fn post_urn(cx: &Cx<'_>, segment: &str) -> Result<String, Reply> {
    let urn = wire::path_urn(segment)?;
    if !matches!(wire::urn_entity(&urn), Some("share" | "ugcPost")) {
        return Err(wire::bad_request(format!(
            "{urn} is not a share or ugcPost URN"
        )));
    }
    if cx.st.post(&urn).is_none() {
        return Err(wire::not_found());
    }
    Ok(urn)
}

/// `GET /rest/socialActions/{urn}/comments?start=&count=`: oldest first.
pub(crate) fn list(cx: &mut Cx<'_>, segment: &str) -> Reply {
    if let Err(reply) = cx.need_scope("GET", &["r_organization_social", "r_member_social"]) {
        return reply;
    }
    let urn = match post_urn(cx, segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let (start, count) = match paging(cx) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let elements = cx
        .st
        .comments_on(&urn)
        .into_iter()
        .map(comment_json)
        .collect();
    page(elements, start, count)
}

/// `POST /rest/socialActions/{urn}/comments`: `201` with the comment, its URN also in
/// `x-restli-id`.
pub(crate) fn create(cx: &mut Cx<'_>, segment: &str) -> Reply {
    let urn = match post_urn(cx, segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let Ok(Some(body)) = cx.call.json() else {
        return wire::bad_request("the body must be JSON");
    };
    let Some(actor) = body.get("actor").and_then(Value::as_str) else {
        return wire::invalid(
            "/actor",
            "field is required but not found and has no default value",
        );
    };
    if let Err(reply) = cx.may_write_as(actor, "CREATE") {
        return reply.unwrap_or_else(|| {
            wire::invalid(
                "/actor",
                &format!("{actor} is not a person or organization URN"),
            )
        });
    }
    match body.get("object").and_then(Value::as_str) {
        Some(object) if object == urn => {}
        Some(object) => {
            return wire::invalid(
                "/object",
                &format!("{object} is not the post in the path, {urn}"),
            );
        }
        None => {
            return wire::invalid(
                "/object",
                "field is required but not found and has no default value",
            );
        }
    }
    let text = match body.pointer("/message/text").and_then(Value::as_str) {
        Some(t) if !t.trim().is_empty() => t.to_owned(),
        _ => return wire::invalid("/message/text", "a comment needs text"),
    };
    if text.chars().count() > MAX_TEXT {
        return wire::invalid("/message/text", "length exceeds 1250 characters");
    }
    let id = (FIRST_COMMENT_ID + cx.st.seq()).to_string();
    let post_id = urn.rsplit(':').next().unwrap_or_default();
    let comment = Comment {
        urn: format!("urn:li:comment:(urn:li:activity:{post_id},{id})"),
        id,
        object: urn,
        actor: actor.to_owned(),
        text,
        created_at: cx.now,
    };
    let reply = Reply::json(201, comment_json(&comment)).header("x-restli-id", comment.urn.clone());
    cx.st.comments.push(comment);
    reply
}
