//! WhatsApp Cloud API: sending messages, marking them read, uploading media.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::{Value, json};

use super::state::{Ctx, Need, authenticate};
use super::wire::{ErrorField, Reply, invalid_param};

/// Message types the Cloud API sends besides `text` and `template`, each carried in a field
/// of its own name.
const OTHER_TYPES: &[&str] = &[
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
];

/// A WhatsApp error: the Graph envelope plus `error_data{messaging_product, details}`.
fn wa_error(details: &str) -> Reply {
    invalid_param(details).error_field(
        "error_data",
        json!({ "messaging_product": "whatsapp", "details": details }),
    )
}

fn check_product(cx: &Ctx<'_>) -> Result<(), Reply> {
    match cx.call.params.get("messaging_product").as_deref() {
        Some("whatsapp") => Ok(()),
        Some(_) => Err(wa_error("Param messaging_product must be `whatsapp`.")),
        None => Err(wa_error("The parameter messaging_product is required.")),
    }
}

/// `POST /{phone-number-id}/messages`: a send (text, template, media, …) or a mark-read.
pub(crate) fn messages(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Messaging);
    if let Err(e) = check_product(cx) {
        return e;
    }
    let p = &cx.call.params;
    if let Some(status) = p.get("status") {
        if status != "read" {
            return wa_error("Param status must be `read`.");
        }
        return match p.get("message_id") {
            Some(id) if id.starts_with("wamid.") => Reply::ok(json!({ "success": true })),
            _ => wa_error("The parameter message_id must be a WhatsApp message id (wamid.…)."),
        };
    }
    let Some(to) = p.get("to") else {
        return wa_error("The parameter to is required.");
    };
    let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
    let stray = to
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')')));
    if stray || !(8..=15).contains(&wa_id.len()) {
        return wa_error("Param to must be a phone number in international format.");
    }
    let json = p.json.clone().unwrap_or(Value::Null);
    let kind = p.get("type").unwrap_or_else(|| "text".to_owned());
    match kind.as_str() {
        "text" => {
            if json["text"]["body"].as_str().is_none_or(str::is_empty) {
                return wa_error("The parameter text['body'] is required.");
            }
        }
        "template" => {
            let t = &json["template"];
            if t["name"].as_str().is_none() || t["language"]["code"].as_str().is_none() {
                return wa_error(
                    "The parameters template['name'] and template['language']['code'] are \
                     required.",
                );
            }
        }
        other if OTHER_TYPES.contains(&other) => {
            if !json[other].is_object() && !json[other].is_array() {
                return wa_error(&format!("The parameter {other} is required."));
            }
        }
        other => return wa_error(&format!("Param type `{other}` is not a message type.")),
    }
    let seq = cx.st.new_wa_media_id();
    let wamid = format!(
        "wamid.HBgL{}",
        STANDARD_NO_PAD.encode(format!("{wa_id}\u{15}\u{2}\u{0}\u{11}\u{18}{seq}"))
    );
    Reply::ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": wa_id }],
        "messages": [{ "id": wamid }],
    }))
}

/// `POST /{phone-number-id}/media`: a multipart upload with `messaging_product` and `file`.
pub(crate) fn upload_media(cx: &mut Ctx<'_>) -> Reply {
    authenticate!(cx, Need::Messaging);
    if let Err(e) = check_product(cx) {
        return e;
    }
    if !cx.call.params.files.iter().any(|f| f == "file") {
        return wa_error("The parameter file is required (a multipart file part).");
    }
    let id = cx.st.new_wa_media_id();
    Reply::ok(json!({ "id": id }))
}
