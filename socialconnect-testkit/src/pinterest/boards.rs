//! Boards and board sections.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::model::{Board, Section};
use super::state::{Cx, State};
use super::wire;
use crate::sim::Reply;

/// Pinterest's timestamp: `2026-12-07T07:03:12` (UTC, no offset).
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A board as the API answers it.
pub(crate) fn board_json(cx: &Cx<'_>, st: &State, board: &Board) -> Value {
    let pins = st.pins_on(&board.id);
    let modified = pins
        .iter()
        .map(|p| p.created_at)
        .max()
        .unwrap_or(board.created_at);
    let thumbs: Vec<String> = pins
        .iter()
        .take(4)
        .map(|p| format!("{}i/150x150/{}.jpg", cx.base, p.id))
        .collect();
    json!({
        "id": board.id,
        "name": board.name,
        "description": board.description,
        "privacy": board.privacy,
        "owner": { "username": cx.cfg.username },
        "created_at": timestamp(board.created_at),
        "board_pins_modified_at": timestamp(modified),
        "pin_count": pins.len(),
        "follower_count": 12,
        "collaborator_count": 0,
        "media": {
            "image_cover_url": thumbs.first().map(|_| format!("{}i/400x300/cover-{}.jpg", cx.base, board.id)),
            "pin_thumbnail_urls": thumbs,
        },
        "is_ads_only": false,
    })
}

/// `GET /v5/boards` (`boards:read`): paged, filtered by `privacy`. `PROTECTED` and `SECRET`
/// boards are listed only to a token with `boards:read_secret`.
pub(crate) fn list(cx: &mut Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["boards:read"])?;
    let privacy = cx.call.query_param("privacy").map(str::to_owned);
    if let Some(p) = &privacy
        && !wire::PRIVACIES.contains(&p.as_str())
    {
        return Err(wire::invalid(format!("Invalid privacy `{p}`.")));
    }
    let secret = cx.has("boards:read_secret");
    let visible: Vec<Board> = cx
        .st
        .boards
        .iter()
        .filter(|b| secret || b.privacy == "PUBLIC")
        .filter(|b| privacy.as_deref().is_none_or(|p| b.privacy == p))
        .cloned()
        .collect();
    let (start, end, bookmark) = cx.page(visible.len())?;
    let items: Vec<Value> = visible[start..end]
        .iter()
        .map(|b| board_json(cx, cx.st, b))
        .collect();
    Ok(Reply::ok(json!({ "items": items, "bookmark": bookmark })))
}

/// `GET /v5/boards/{id}` (`boards:read`).
pub(crate) fn get(cx: &Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:read"])?;
    let board = cx.st.board(id).ok_or_else(wire::board_not_found)?;
    Ok(Reply::ok(board_json(cx, cx.st, board)))
}

/// The optional `privacy` of a create or update body, checked.
fn privacy_of(body: &Map<String, Value>) -> Result<Option<String>, Reply> {
    match body.get("privacy") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) if wire::PRIVACIES.contains(&p.as_str()) => Ok(Some(p.clone())),
        Some(other) => Err(wire::invalid(format!(
            "Invalid privacy {other}: must be PUBLIC, PROTECTED or SECRET."
        ))),
    }
}

/// An optional string field, checked to be a string.
pub(crate) fn string_field(body: &Map<String, Value>, name: &str) -> Result<Option<String>, Reply> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wire::invalid(format!("{name} must be a string."))),
    }
}

/// A board or section name: present, not blank, at most 180 characters (UNCONFIRMED limit).
fn name_of(body: &Map<String, Value>) -> Result<Option<String>, Reply> {
    match string_field(body, "name")? {
        Some(n) if n.trim().is_empty() || wire::utf16_len(&n) > 180 => {
            Err(wire::invalid("name must be between 1 and 180 characters."))
        }
        other => Ok(other),
    }
}

/// `POST /v5/boards` (`boards:write`): `{name, description?, privacy?}` → `201` Board.
pub(crate) fn create(cx: &mut Cx<'_>) -> Result<Reply, Reply> {
    cx.need(&["boards:write"])?;
    let body = cx.json_object()?;
    let name = name_of(&body)?.ok_or_else(|| wire::invalid("name is required."))?;
    let description = string_field(&body, "description")?.unwrap_or_default();
    let privacy = privacy_of(&body)?.unwrap_or_else(|| "PUBLIC".to_owned());
    let id = cx.st.board_id();
    let board = Board {
        id,
        name,
        description,
        privacy,
        created_at: cx.now,
        sections: Vec::new(),
    };
    let json = board_json(cx, cx.st, &board);
    cx.st.boards.push(board);
    Ok(Reply::json(201, json))
}

/// `PATCH /v5/boards/{id}` (`boards:write`): `{name?, description?, privacy?}` → `200` Board.
pub(crate) fn update(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:write"])?;
    if cx.st.board(id).is_none() {
        return Err(wire::board_not_found());
    }
    let body = cx.json_object()?;
    let name = name_of(&body)?;
    let description = string_field(&body, "description")?;
    let privacy = privacy_of(&body)?;
    let board = cx.st.board_mut(id).ok_or_else(wire::board_not_found)?;
    if let Some(n) = name {
        board.name = n;
    }
    if let Some(d) = description {
        board.description = d;
    }
    if let Some(p) = privacy {
        board.privacy = p;
    }
    let board = board.clone();
    Ok(Reply::ok(board_json(cx, cx.st, &board)))
}

/// `DELETE /v5/boards/{id}` (`boards:write`): `204`; its pins and sections go with it.
pub(crate) fn delete(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:write"])?;
    if cx.st.board(id).is_none() {
        return Err(wire::board_not_found());
    }
    cx.st.boards.retain(|b| b.id != id);
    cx.st.pins.retain(|p| p.board_id != id);
    Ok(Reply::empty(204))
}

/// `GET /v5/boards/{id}/sections` (`boards:read`): paged `{id, name}`.
pub(crate) fn sections(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:read"])?;
    let sections = cx
        .st
        .board(id)
        .ok_or_else(wire::board_not_found)?
        .sections
        .clone();
    let (start, end, bookmark) = cx.page(sections.len())?;
    let items: Vec<Value> = sections[start..end]
        .iter()
        .map(|s| json!({ "id": s.id, "name": s.name }))
        .collect();
    Ok(Reply::ok(json!({ "items": items, "bookmark": bookmark })))
}

/// `POST /v5/boards/{id}/sections` (`boards:write`): `{name}` → `201 {id, name}`.
pub(crate) fn create_section(cx: &mut Cx<'_>, id: &str) -> Result<Reply, Reply> {
    cx.need(&["boards:write"])?;
    if cx.st.board(id).is_none() {
        return Err(wire::board_not_found());
    }
    let body = cx.json_object()?;
    let name = name_of(&body)?.ok_or_else(|| wire::invalid("name is required."))?;
    let section = Section {
        id: cx.st.section_id(),
        name,
    };
    let json = json!({ "id": section.id, "name": section.name });
    cx.st
        .board_mut(id)
        .ok_or_else(wire::board_not_found)?
        .sections
        .push(section);
    Ok(Reply::json(201, json))
}
