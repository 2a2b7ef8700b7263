//! Pins: create (every `media_source` kind, checked), read, delete, and a board's pins.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::boards::{string_field, timestamp};
use super::model::{Pin, PinMedia, VideoCover};
use super::state::Cx;
use super::wire;
use crate::sim::Reply;

/// The field limits, in UTF-16 code units.
const LIMITS: [(&str, usize); 4] = [
    ("title", 100),
    ("description", 800),
    ("link", 2048),
    ("alt_text", 500),
];

/// A video's simulated duration in milliseconds, reported once the create answer is out.
const VIDEO_DURATION_MS: u64 = 15_000;

/// The `images` map of one image.
fn images(cx: &Cx<'_>, key: &str) -> Value {
    let size = |w: u32, h: u32, name: &str| json!({ "width": w, "height": h, "url": format!("{}i/{name}/{key}.jpg", cx.base) });
    json!({
        "150x150": size(150, 150, "150x150"),
        "400x300": size(400, 300, "400x300"),
        "600x": size(600, 900, "600x"),
        "1200x": size(1200, 1800, "1200x"),
    })
}

/// A pin as the API answers it; `fresh` for the create answer (a video's `duration` still
/// `null`).
pub(crate) fn pin_json(cx: &Cx<'_>, pin: &Pin, fresh: bool) -> Value {
    let media = match &pin.media {
        PinMedia::ImageUrl { .. } | PinMedia::ImageBase64 { .. } => {
            json!({ "media_type": "image", "images": images(cx, &pin.id) })
        }
        PinMedia::MultipleImageUrls { urls, .. } => carousel(cx, pin, urls.len()),
        PinMedia::MultipleImageBase64 { bytes, .. } => carousel(cx, pin, bytes.len()),
        PinMedia::Video { media_id, .. } => json!({
            "media_type": "video",
            "cover_image_url": format!("{}i/originals/cover-{media_id}.jpg", cx.base),
            "video_url": Value::Null,
            "duration": if fresh { Value::Null } else { json!(VIDEO_DURATION_MS) },
            "height": 1920,
            "width": 1080,
        }),
    };
    json!({
        "id": pin.id,
        "created_at": timestamp(pin.created_at),
        "link": pin.link,
        "title": pin.title,
        "description": pin.description,
        "alt_text": pin.alt_text,
        "board_id": pin.board_id,
        "board_section_id": pin.board_section_id,
        "board_owner": { "username": cx.cfg.username },
        "dominant_color": pin.dominant_color,
        "media": media,
    })
}

fn carousel(cx: &Cx<'_>, pin: &Pin, count: usize) -> Value {
    let items: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "title": Value::Null,
                "description": Value::Null,
                "link": Value::Null,
                "images": images(cx, &format!("{}-{i}", pin.id)),
            })
        })
        .collect();
    json!({
        "media_type": "multiple_images",
        "images": images(cx, &format!("{}-0", pin.id)),
        "items": items,
    })
}

/// `GET /v5/boards/{id}/pins` (`boards:read` and `pins:read`): paged pins, oldest first.
pub(crate) fn on_board(cx: &mut Cx<'_>, board: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:read", "pins:read"])?;
    if cx.st.board(board).is_none() {
        return Err(wire::board_not_found());
    }
    let pins: Vec<Pin> = cx.st.pins_on(board).into_iter().cloned().collect();
    let (start, end, bookmark) = cx.page(pins.len())?;
    let items: Vec<Value> = pins[start..end]
        .iter()
        .map(|p| pin_json(cx, p, false))
        .collect();
    Ok(Reply::ok(json!({ "items": items, "bookmark": bookmark })))
}

/// `GET /v5/pins/{id}` (`pins:read`); `pin_metrics=true` adds `pin_metrics`.
pub(crate) fn get(cx: &Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["pins:read"])?;
    let pin = cx.st.pin(id).ok_or_else(wire::pin_not_found)?;
    let mut body = pin_json(cx, pin, false);
    if cx.call.query_param("pin_metrics") == Some("true") {
        body["pin_metrics"] = json!({
            "90d": { "pin_click": 7, "impression": 120, "clickthrough": 3 },
            "lifetime_metrics": { "pin_click": 9, "impression": 180, "clickthrough": 4, "reaction": 2, "comment": 1 },
        });
    }
    Ok(Reply::ok(body))
}

/// `DELETE /v5/pins/{id}` (`pins:write`): `204`.
pub(crate) fn delete(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["pins:write"])?;
    if cx.st.pin(id).is_none() {
        return Err(wire::pin_not_found());
    }
    cx.st.pins.retain(|p| p.id != id);
    Ok(Reply::empty(204))
}

/// `POST /v5/pins` (`pins:write`) → `201` Pin.
pub(crate) fn create(cx: &mut Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["pins:write"])?;
    let body = cx.json_object()?;
    let board_id =
        string_field(&body, "board_id")?.ok_or_else(|| wire::invalid("board_id is required."))?;
    let board = cx.st.board(&board_id).ok_or_else(wire::board_not_found)?;
    let board_section_id = string_field(&body, "board_section_id")?;
    if let Some(section) = &board_section_id
        && !board.sections.iter().any(|s| &s.id == section)
    {
        return Err(wire::section_not_found());
    }
    for (field, max) in LIMITS {
        if let Some(text) = string_field(&body, field)?
            && wire::utf16_len(&text) > max
        {
            return Err(wire::invalid(format!(
                "Invalid {field}: at most {max} characters."
            )));
        }
    }
    let source = match body.get("media_source") {
        Some(Value::Object(source)) => source,
        _ => return Err(wire::invalid("media_source is required.")),
    };
    let media = media_source(cx, source)?;
    let pin = Pin {
        id: cx.st.pin_id(),
        board_id,
        board_section_id,
        title: string_field(&body, "title")?,
        description: string_field(&body, "description")?,
        link: string_field(&body, "link")?,
        alt_text: string_field(&body, "alt_text")?,
        dominant_color: string_field(&body, "dominant_color")?,
        created_at: cx.now,
        media,
    };
    let json = pin_json(cx, &pin, true);
    cx.st.pins.push(pin);
    Ok(Reply::json(201, json))
}

/// The decoded `media_source`, or the `400 {"code": 1}` naming what is wrong.
fn media_source(cx: &Cx<'_>, source: &Map<String, Value>) -> Result<PinMedia, Reply> {
    let kind = string_field(source, "source_type")?.unwrap_or_default();
    let index = match source.get("index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| wire::invalid("media_source.index must be a whole number."))?,
        ),
    };
    match kind.as_str() {
        "image_url" => Ok(PinMedia::ImageUrl {
            url: image_url(source, "media_source.url")?,
        }),
        "image_base64" => {
            let (content_type, bytes) = base64_image(source, "content_type", "data")?;
            Ok(PinMedia::ImageBase64 {
                content_type,
                bytes,
            })
        }
        "multiple_image_urls" => {
            let items = carousel_items(source, index)?;
            let urls = items
                .iter()
                .map(|item| {
                    if let Some(link) = string_field(item, "link")?
                        && wire::utf16_len(&link) > 2048
                    {
                        return Err(wire::invalid(
                            "Invalid items.link: at most 2048 characters.",
                        ));
                    }
                    image_url(item, "media_source.items.url")
                })
                .collect::<Result<_, _>>()?;
            Ok(PinMedia::MultipleImageUrls { urls, index })
        }
        "multiple_image_base64" => {
            let items = carousel_items(source, index)?;
            let bytes = items
                .iter()
                .map(|item| base64_image(item, "content_type", "data").map(|(_, n)| n))
                .collect::<Result<_, _>>()?;
            Ok(PinMedia::MultipleImageBase64 { bytes, index })
        }
        "video_id" => {
            let media_id = string_field(source, "media_id")?
                .ok_or_else(|| wire::invalid("media_source.media_id is required."))?;
            let polls = cx.cfg.media_processing_polls;
            match cx.st.media(&media_id).map(|m| m.status(polls)) {
                None => return Err(wire::invalid(format!("Invalid media_id {media_id}."))),
                Some("succeeded") => {}
                Some(status) => {
                    return Err(wire::invalid(format!(
                        "Media {media_id} is {status}, not succeeded."
                    )));
                }
            }
            let cover = if source.contains_key("cover_image_url") {
                VideoCover::Url(image_url(source, "media_source.cover_image_url")?)
            } else if source.contains_key("cover_image_data") {
                let (content_type, bytes) =
                    base64_image(source, "cover_image_content_type", "cover_image_data")?;
                VideoCover::Base64 {
                    content_type,
                    bytes,
                }
            } else if let Some(t) = source.get("cover_image_key_frame_time") {
                VideoCover::KeyFrameTime(t.as_f64().filter(|t| *t >= 0.0).ok_or_else(|| {
                    wire::invalid("cover_image_key_frame_time must be a number of seconds.")
                })?)
            } else {
                return Err(wire::invalid(
                    "A video pin needs cover_image_url, cover_image_content_type and \
                     cover_image_data, or cover_image_key_frame_time.",
                ));
            };
            Ok(PinMedia::Video { media_id, cover })
        }
        other => Err(wire::invalid(format!(
            "Invalid media_source.source_type `{other}`."
        ))),
    }
}

/// An absolute http(s) URL in field `url` of `object`.
fn image_url(object: &Map<String, Value>, what: &str) -> Result<String, Reply> {
    let field = what.rsplit('.').next().unwrap_or(what);
    let url = string_field(object, field)?
        .ok_or_else(|| wire::invalid(format!("{what} is required.")))?;
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(url),
        _ => Err(wire::invalid(format!("{what} is not a valid URL."))),
    }
}

/// A base64 image: the content type (`image/jpeg` or `image/png`) and the decoded length.
fn base64_image(
    object: &Map<String, Value>,
    type_field: &str,
    data_field: &str,
) -> Result<(String, usize), Reply> {
    let content_type = string_field(object, type_field)?.unwrap_or_default();
    if !matches!(content_type.as_str(), "image/jpeg" | "image/png") {
        return Err(wire::invalid(format!(
            "Invalid {type_field} `{content_type}`: image/jpeg or image/png."
        )));
    }
    let data = string_field(object, data_field)?
        .ok_or_else(|| wire::invalid(format!("{data_field} is required.")))?;
    match STANDARD.decode(data.trim()) {
        Ok(bytes) if !bytes.is_empty() => Ok((content_type, bytes.len())),
        _ => Err(wire::invalid(format!("{data_field} is not valid base64."))),
    }
}

/// A carousel's `items`: 2 to 5 objects, `index` within them.
fn carousel_items(
    source: &Map<String, Value>,
    index: Option<u64>,
) -> Result<Vec<Map<String, Value>>, Reply> {
    let items: Vec<Map<String, Value>> = match source.get("items") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_object().cloned())
            .collect::<Option<_>>()
            .ok_or_else(|| wire::invalid("media_source.items must be objects."))?,
        _ => return Err(wire::invalid("media_source.items is required.")),
    };
    if !(2..=5).contains(&items.len()) {
        return Err(wire::invalid(format!(
            "media_source.items must hold 2 to 5 images, not {}.",
            items.len()
        )));
    }
    if index.is_some_and(|i| i >= items.len() as u64) {
        return Err(wire::invalid("media_source.index is past the last item."));
    }
    Ok(items)
}
