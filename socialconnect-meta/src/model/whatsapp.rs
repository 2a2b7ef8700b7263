//! Wire types of the WhatsApp Cloud API `/{phone-number-id}/messages` and `/media` calls.

use serde::{Deserialize, Serialize};

use crate::model::de;

/// The body of `POST /{phone-number-id}/messages` for an outgoing message.
#[derive(Debug, Serialize)]
pub(crate) struct OutgoingWire<'a> {
    pub messaging_product: &'static str,
    pub recipient_type: &'static str,
    pub to: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<TextWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaRefWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<MediaRefWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<MediaRefWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<MediaRefWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sticker: Option<MediaRefWire<'a>>,
}

impl<'a> OutgoingWire<'a> {
    pub(crate) fn new(to: &'a str, kind: &'static str) -> Self {
        Self {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to,
            kind,
            text: None,
            template: None,
            image: None,
            video: None,
            audio: None,
            document: None,
            sticker: None,
        }
    }
}

/// `"text": {"preview_url", "body"}`.
#[derive(Debug, Serialize)]
pub(crate) struct TextWire<'a> {
    pub preview_url: bool,
    pub body: &'a str,
}

/// `"template": {"name", "language": {"code"}, "components": [...]}`.
#[derive(Debug, Serialize)]
pub(crate) struct TemplateWire<'a> {
    pub name: &'a str,
    pub language: LanguageWire<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub components: &'a [serde_json::Value],
}

/// `"language": {"code"}`.
#[derive(Debug, Serialize)]
pub(crate) struct LanguageWire<'a> {
    pub code: &'a str,
}

/// `{"id"}` or `{"link"}`, with an optional caption and file name.
#[derive(Debug, Serialize)]
pub(crate) struct MediaRefWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<&'a str>,
}

/// `{"messaging_product":"whatsapp","status":"read","message_id"}`.
#[derive(Debug, Serialize)]
pub(crate) struct MarkReadWire<'a> {
    pub messaging_product: &'static str,
    pub status: &'static str,
    pub message_id: &'a str,
}

/// The answer to a send: `contacts[{input, wa_id}]`, `messages[{id, message_status?}]`.
#[derive(Debug, Deserialize)]
pub(crate) struct SendResponseWire {
    #[serde(default)]
    pub contacts: Vec<ContactWire>,
    #[serde(default)]
    pub messages: Vec<SentWire>,
}

/// One recipient as sent and as WhatsApp normalized it.
#[derive(Debug, Deserialize)]
pub(crate) struct ContactWire {
    #[serde(default, deserialize_with = "de::opt_id")]
    pub input: Option<String>,
    #[serde(default, deserialize_with = "de::opt_id")]
    pub wa_id: Option<String>,
}

/// One accepted message; `message_status` appears on template sends (values UNCONFIRMED).
#[derive(Debug, Deserialize)]
pub(crate) struct SentWire {
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    #[serde(default)]
    pub message_status: Option<String>,
}

/// `{"success": true}`; some Graph edges send `"true"` as a string, so both are read.
#[derive(Debug, Deserialize)]
pub(crate) struct SuccessWire {
    #[serde(default)]
    pub success: Option<serde_json::Value>,
}

impl SuccessWire {
    pub(crate) fn is_success(&self) -> bool {
        matches!(&self.success, Some(serde_json::Value::Bool(true)))
            || matches!(&self.success, Some(serde_json::Value::String(s)) if s == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_body_has_the_documented_shape() {
        let mut w = OutgoingWire::new("15551234567", "text");
        w.text = Some(TextWire {
            preview_url: false,
            body: "hi",
        });
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"messaging_product":"whatsapp","recipient_type":"individual",
                "to":"15551234567","type":"text","text":{"preview_url":false,"body":"hi"}})
        );
        let s: SuccessWire = serde_json::from_str(r#"{"success":"true"}"#).unwrap();
        assert!(s.is_success());
    }
}
