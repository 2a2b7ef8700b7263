//! `POST /rest/posts` (validated field by field, little text included) and
//! `DELETE /rest/posts/{urn}`.

use serde_json::{Map, Value};

use super::model::Post;
use super::state::{Cx, FIRST_POST_ID};
use super::wire;
use crate::sim::Reply;

/// The top-level fields a post may carry; any other is refused as LinkedIn refuses it.
const FIELDS: [&str; 12] = [
    "author",
    "commentary",
    "visibility",
    "distribution",
    "lifecycleState",
    "isReshareDisabledByAuthor",
    "content",
    "contentLandingPage",
    "contentCallToActionLabel",
    "lifecycleStateInfo",
    "reshareContext",
    "container",
];

/// The longest commentary, in characters.
const MAX_COMMENTARY: usize = 3000;

fn required() -> &'static str {
    "field is required but not found and has no default value"
}

/// `POST /rest/posts`: `201`, an empty body and the post's URN in `x-restli-id`.
pub(crate) fn create(cx: &mut Cx<'_>) -> Reply {
    let Ok(Some(Value::Object(body))) = cx.call.json() else {
        return wire::bad_request("the body must be a JSON object");
    };
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return wire::invalid(
            &format!("/{unknown}"),
            "unrecognized field found but not allowed",
        );
    }
    let Some(author) = body.get("author").and_then(Value::as_str) else {
        return wire::invalid("/author", required());
    };
    if !matches!(wire::urn_entity(author), Some("person" | "organization")) {
        return wire::invalid(
            "/author",
            &format!("{author} does not match urn:li:person:{{id}} or urn:li:organization:{{id}}"),
        );
    }
    if let Err(reply) = cx.may_write_as(author, "CREATE") {
        return reply.unwrap_or_else(|| wire::invalid("/author", "not a person or organization"));
    }
    let commentary = match body.get("commentary") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return wire::invalid("/commentary", "must be a string"),
        None => return wire::invalid("/commentary", required()),
    };
    if commentary.chars().count() > MAX_COMMENTARY {
        return wire::invalid("/commentary", "length exceeds 3000 characters");
    }
    if let Some(problem) = little_text_problem(&commentary) {
        return wire::invalid("/commentary", &problem);
    }
    let visibility = match enum_field(
        &body,
        "visibility",
        &["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"],
    ) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    if let Err(reply) = check_distribution(body.get("distribution")) {
        return reply;
    }
    let lifecycle_state = match enum_field(&body, "lifecycleState", &["PUBLISHED", "DRAFT"]) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let reshare_disabled = match body.get("isReshareDisabledByAuthor") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return wire::invalid("/isReshareDisabledByAuthor", "must be a boolean"),
    };
    let media = match content_media(body.get("content")) {
        Ok(m) => m,
        Err(reply) => return reply,
    };
    for (at, id) in &media {
        if let Some(problem) = cx.st.media_problem(cx.cfg, id, author) {
            return wire::invalid(at, &problem);
        }
    }
    let id = FIRST_POST_ID + cx.st.seq();
    let urn = if media.is_empty() {
        format!("urn:li:share:{id}")
    } else {
        format!("urn:li:ugcPost:{id}")
    };
    cx.st.posts.push(Post {
        urn: urn.clone(),
        author: author.to_owned(),
        commentary,
        visibility,
        lifecycle_state,
        media: media.into_iter().map(|(_, id)| id).collect(),
        reshare_disabled,
        created_at: cx.now,
    });
    Reply::empty(201).header("x-restli-id", urn)
}

/// `DELETE /rest/posts/{urn}`: `204`; `404` for a post the simulator does not hold.
pub(crate) fn delete(cx: &mut Cx<'_>, segment: &str) -> Reply {
    let urn = match wire::path_urn(segment) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let Some(post) = cx.st.post(&urn) else {
        return wire::not_found();
    };
    if let Err(reply) = cx.may_write_as(&post.author.clone(), "DELETE") {
        return reply.unwrap_or_else(wire::not_found);
    }
    cx.st.posts.retain(|p| p.urn != urn);
    cx.st.comments.retain(|c| c.object != urn);
    Reply::empty(204)
}

fn enum_field(body: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<String, Reply> {
    let at = format!("/{name}");
    match body.get(name) {
        None => Err(wire::invalid(&at, required())),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Some(other) => Err(wire::invalid(
            &at,
            &format!("{other} is not one of {}", allowed.join(", ")),
        )),
    }
}

fn check_distribution(value: Option<&Value>) -> Result<(), Reply> {
    let Some(value) = value else {
        return Err(wire::invalid("/distribution", required()));
    };
    let Some(d) = value.as_object() else {
        return Err(wire::invalid("/distribution", "must be a record"));
    };
    match d.get("feedDistribution").and_then(Value::as_str) {
        Some("MAIN_FEED" | "NONE") => {}
        Some(other) => {
            return Err(wire::invalid(
                "/distribution/feedDistribution",
                &format!("{other} is not one of MAIN_FEED, NONE"),
            ));
        }
        None => return Err(wire::invalid("/distribution/feedDistribution", required())),
    }
    for list in ["targetEntities", "thirdPartyDistributionChannels"] {
        if d.get(list).is_some_and(|v| !v.is_array()) {
            return Err(wire::invalid(
                &format!("/distribution/{list}"),
                "must be an array",
            ));
        }
    }
    Ok(())
}

/// The media URNs of `content`, each with its JSON path: `{media: {id}}` or
/// `{multiImage: {images: [{id}, …]}}` (2 to 20 images).
fn content_media(content: Option<&Value>) -> Result<Vec<(String, String)>, Reply> {
    let Some(content) = content else {
        return Ok(Vec::new());
    };
    let Some(c) = content.as_object().filter(|c| c.len() == 1) else {
        return Err(wire::invalid(
            "/content",
            "must be a union of exactly one member",
        ));
    };
    if let Some(media) = c.get("media") {
        let Some(id) = media.get("id").and_then(Value::as_str) else {
            return Err(wire::invalid("/content/media/id", required()));
        };
        return Ok(vec![("/content/media/id".to_owned(), id.to_owned())]);
    }
    if let Some(multi) = c.get("multiImage") {
        let Some(images) = multi.get("images").and_then(Value::as_array) else {
            return Err(wire::invalid("/content/multiImage/images", required()));
        };
        if !(2..=20).contains(&images.len()) {
            return Err(wire::invalid(
                "/content/multiImage/images",
                "a multi-image post carries 2 to 20 images",
            ));
        }
        return images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                let at = format!("/content/multiImage/images/{i}/id");
                match image.get("id").and_then(Value::as_str) {
                    Some(id) if wire::urn_entity(id) == Some("image") => Ok((at, id.to_owned())),
                    Some(id) => Err(wire::invalid(&at, &format!("{id} is not an image URN"))),
                    None => Err(wire::invalid(&at, required())),
                }
            })
            .collect();
    }
    let kind = c.keys().next().map_or("", String::as_str);
    Err(wire::invalid(
        &format!("/content/{kind}"),
        "content kind not served by the simulator (media and multiImage are)",
    ))
}

/// Why `text` is not valid little text, if it is not: a reserved character
/// (`\ | { } @ [ ] ( ) < > # * _ ~`) outside a backslash escape, a mention
/// `@[Name](urn:li:…)` or a hashtag template `{hashtag|\#|tag}`. LinkedIn itself drops the text
/// after such a character without saying so; the simulator refuses it so the mistake shows.
pub(crate) fn little_text_problem(text: &str) -> Option<String> {
    const RESERVED: &str = "\\|{}@[]()<>#*_~";
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                if i + 1 >= chars.len() {
                    return Some("a trailing backslash escapes nothing".to_owned());
                }
                i += 2;
                continue;
            }
            '@' if chars.get(i + 1) == Some(&'[') => match mention_end(&chars, i + 2) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => return Some(format!("a malformed mention at character {i}")),
            },
            '{' => {
                let rest: String = chars[i..].iter().collect();
                if let Some(tag) = rest.strip_prefix("{hashtag|\\#|")
                    && let Some(close) = tag.find('}')
                {
                    i += "{hashtag|\\#|".chars().count() + tag[..close].chars().count() + 1;
                    continue;
                }
                return Some(format!("an unescaped `{{` at character {i}"));
            }
            c if RESERVED.contains(c) => {
                return Some(format!(
                    "an unescaped reserved character `{c}` at character {i} (little text escapes it with a backslash)"
                ));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index after a mention whose name starts at `from` (after `@[`): the name up to an
/// unescaped `]`, then `(urn:li:…)`.
fn mention_end(chars: &[char], from: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() && chars[i] != ']' {
        i += if chars[i] == '\\' { 2 } else { 1 };
    }
    if i >= chars.len() || chars.get(i + 1) != Some(&'(') {
        return None;
    }
    let start = i + 2;
    let close = start + chars[start..].iter().position(|&c| c == ')')?;
    let urn: String = chars[start..close].iter().collect();
    wire::urn_entity(&urn)?;
    Some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_text_takes_escapes_mentions_and_hashtags() {
        for ok in [
            "plain text, with punctuation: yes!",
            r"escaped \(parens\) and \#tag and a\\b",
            "hello @[Sim Bakery](urn:li:organization:2414183) there",
            r"@[A \] name](urn:li:person:x)",
            r"{hashtag|\#|rust} rocks",
        ] {
            assert_eq!(little_text_problem(ok), None, "{ok}");
        }
        for bad in [
            "raw (parens)",
            "a #tag",
            "snake_case",
            r"trailing \",
            "@[broken mention",
            "@[Name](not-a-urn)",
            "{hashtag|#|rust}",
        ] {
            assert!(little_text_problem(bad).is_some(), "{bad}");
        }
    }
}
