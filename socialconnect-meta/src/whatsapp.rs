//! WhatsApp Business Cloud API: send text, template and media messages, mark messages read,
//! upload media.
//!
//! Every call goes to `/{phone-number-id}/…` of the business phone number and needs a session
//! opened for `Messaging`. Sends are never retried blindly: when the outcome is unknown the
//! error is `MaybeSent`, and resending may deliver the message twice.
//!
//! Media can be referenced by a public `link` or by the id of an upload made with
//! [`WhatsApp::upload_media`] (a `multipart/form-data` body built here).
//!
//! ```no_run
//! # async fn demo(client: &socialconnect_meta::MetaClient, session: &socialconnect_core::Session)
//! # -> socialconnect_core::Result<()> {
//! let sent = client
//!     .whatsapp(session)
//!     .send_text("106540352242922", "16505551234", "Your order has shipped", false)
//!     .await?;
//! assert!(sent.message_id().is_some());
//! # Ok(()) }
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use socialconnect_core::http::ApiRequest;
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, Result, Session};
use url::Url;

use crate::client::{MetaClient, segment};
use crate::model::pages::IdWire;
use crate::model::whatsapp::{
    LanguageWire, MarkReadWire, MediaRefWire, OutgoingWire, SendResponseWire, SuccessWire,
    TemplateWire, TextWire,
};
use crate::pages::{graph_id, require_purpose, text_param, web_url};

graph_id!(
    /// A WhatsApp message id (`wamid.…`, up to 128 characters).
    MessageId
);
graph_id!(
    /// The id of media uploaded to WhatsApp.
    WaMediaId
);

/// Longest text message body.
const MAX_TEXT: usize = 4_096;
/// Longest media caption.
const MAX_CAPTION: usize = 1_024;
/// Largest upload accepted here: WhatsApp's largest per-type limit (documents, 100 MB).
const MAX_UPLOAD: usize = 100 * 1024 * 1024;
/// Multipart boundaries; the second is used when a file happens to contain the first.
const BOUNDARIES: [(&str, &str); 2] = [
    (
        "sc-3f9a6c1e8b2d4f70a5e9c3b1d7f2a6e4",
        "multipart/form-data; boundary=sc-3f9a6c1e8b2d4f70a5e9c3b1d7f2a6e4",
    ),
    (
        "sc-b84e2d07c9f1a3e6d5b2c8a0f4e7d193",
        "multipart/form-data; boundary=sc-b84e2d07c9f1a3e6d5b2c8a0f4e7d193",
    ),
];

/// A recipient: a phone number in international format (digits, optionally `+`, spaces,
/// dashes, parentheses) or a WhatsApp id. WhatsApp normalizes it (see [`WaContact`]).
fn recipient(to: &str) -> Result<&str> {
    let ok = (1..=32).contains(&to.len())
        && to.bytes().any(|b| b.is_ascii_digit())
        && to
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b' ' | b'-' | b'(' | b')'));
    if ok {
        Ok(to)
    } else {
        Err(Error::invalid_input(
            "not a WhatsApp recipient phone number",
        ))
    }
}

/// A template message: an approved template by name and language, with its components.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    name: String,
    language: String,
    components: Vec<serde_json::Value>,
}

impl Template {
    /// The template `name` in `language_code` (`en_US`, say).
    pub fn new(name: impl Into<String>, language_code: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            language: language_code.into(),
            components: Vec::new(),
        }
    }

    /// Adds a component as WhatsApp takes it (`{"type": "header" | "body" | "button", …}`).
    pub fn with_component(mut self, component: serde_json::Value) -> Self {
        self.components.push(component);
        self
    }

    /// Adds a `body` component whose parameters are the given texts, in order.
    pub fn with_body_text<I, S>(self, texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parameters: Vec<serde_json::Value> = texts
            .into_iter()
            .map(|t| serde_json::json!({"type": "text", "text": t.into()}))
            .collect();
        self.with_component(serde_json::json!({"type": "body", "parameters": parameters}))
    }

    fn check(&self) -> Result<()> {
        let name_ok = (1..=512).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(Error::invalid_input("not a template name"));
        }
        let lang_ok = (2..=16).contains(&self.language.len())
            && self
                .language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !lang_ok {
            return Err(Error::invalid_input("not a template language code"));
        }
        if !self.components.iter().all(serde_json::Value::is_object) {
            return Err(Error::invalid_input(
                "a template component is a JSON object",
            ));
        }
        Ok(())
    }
}

/// What kind of media a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// `image`.
    Image,
    /// `video`.
    Video,
    /// `audio` (no caption).
    Audio,
    /// `document` (may carry a file name).
    Document,
    /// `sticker` (no caption).
    Sticker,
}

impl MediaKind {
    fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// Where the media of a message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaSource {
    /// Media uploaded earlier ([`WhatsApp::upload_media`]).
    Uploaded(WaMediaId),
    /// A public URL WhatsApp downloads.
    Link(Url),
}

/// A media message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    kind: MediaKind,
    source: MediaSource,
    caption: Option<String>,
    filename: Option<String>,
}

impl MediaMessage {
    /// A message of `kind` with media from `source`.
    pub fn new(kind: MediaKind, source: MediaSource) -> Self {
        Self {
            kind,
            source,
            caption: None,
            filename: None,
        }
    }

    /// A caption (images, videos and documents).
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// The file name shown for a document.
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    fn wire(&self) -> Result<MediaRefWire<'_>> {
        let (id, link) = match &self.source {
            MediaSource::Uploaded(id) => {
                if !(1..=256).contains(&id.as_str().len()) {
                    return Err(Error::invalid_input("not a media id"));
                }
                (Some(id.as_str()), None)
            }
            MediaSource::Link(url) => {
                web_url(url)?;
                (None, Some(url.as_str()))
            }
        };
        if let Some(c) = &self.caption {
            if matches!(self.kind, MediaKind::Audio | MediaKind::Sticker) {
                return Err(Error::invalid_input("audio and stickers take no caption"));
            }
            text_param("caption", c, MAX_CAPTION)?;
        }
        if let Some(f) = &self.filename {
            if self.kind != MediaKind::Document {
                return Err(Error::invalid_input("only documents take a file name"));
            }
            text_param("filename", f, 240)?;
        }
        Ok(MediaRefWire {
            id,
            link,
            caption: self.caption.as_deref(),
            filename: self.filename.as_deref(),
        })
    }
}

/// A file to upload to WhatsApp.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaUpload {
    mime_type: String,
    filename: String,
    bytes: Bytes,
}

impl std::fmt::Debug for MediaUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaUpload")
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl MediaUpload {
    /// A file with its MIME type (`image/jpeg`, `application/pdf`, …) and name.
    pub fn new(
        mime_type: impl Into<String>,
        filename: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self {
            mime_type: mime_type.into(),
            filename: filename.into(),
            bytes: bytes.into(),
        }
    }

    /// The `multipart/form-data` body and its content type.
    fn multipart(&self) -> Result<(&'static str, Bytes)> {
        let token = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
        };
        let mime_ok = self.mime_type.len() <= 127
            && self
                .mime_type
                .split_once('/')
                .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && token(t) && token(s));
        if !mime_ok {
            return Err(Error::invalid_input("not a MIME type"));
        }
        let name_ok = (1..=240).contains(&self.filename.len())
            && !self
                .filename
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\');
        if !name_ok {
            return Err(Error::invalid_input("not a usable file name"));
        }
        if self.bytes.is_empty() || self.bytes.len() > MAX_UPLOAD {
            return Err(Error::invalid_input("an upload is 1 byte to 100 MB"));
        }
        let (boundary, content_type) = BOUNDARIES
            .iter()
            .copied()
            .find(|(b, _)| !contains(&self.bytes, format!("--{b}").as_bytes()))
            .ok_or_else(|| Error::invalid_input("the file contains both multipart boundaries"))?;
        let mut body = BytesMut::with_capacity(self.bytes.len() + 512);
        let mut field = |name: &str, value: &str| {
            body.put_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        };
        field("messaging_product", "whatsapp");
        field("type", &self.mime_type);
        body.put_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                self.filename, self.mime_type
            )
            .as_bytes(),
        );
        body.put_slice(&self.bytes);
        body.put_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Ok((content_type, body.freeze()))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A recipient as sent and as WhatsApp normalized it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaContact {
    /// The number as sent.
    pub input: Option<String>,
    /// The WhatsApp id it resolved to.
    pub wa_id: Option<String>,
}

/// What WhatsApp said about an accepted template message (values UNCONFIRMED).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageStatus {
    /// `accepted`.
    Accepted,
    /// `held_for_quality_assessment`.
    HeldForQualityAssessment,
    /// `paused`.
    Paused,
    /// Anything else, as sent.
    Other(String),
}

impl MessageStatus {
    fn parse(s: String) -> Self {
        match s.as_str() {
            "accepted" => MessageStatus::Accepted,
            "held_for_quality_assessment" => MessageStatus::HeldForQualityAssessment,
            "paused" => MessageStatus::Paused,
            _ => MessageStatus::Other(s),
        }
    }
}

/// An accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedMessage {
    /// Its id; delivery and read statuses arrive by webhook under it.
    pub id: MessageId,
    /// Its status, on template sends.
    pub status: Option<MessageStatus>,
}

/// WhatsApp's answer to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The recipients.
    pub contacts: Vec<WaContact>,
    /// The accepted messages (one per send; never empty).
    pub messages: Vec<AcceptedMessage>,
}

impl SentMessage {
    /// The id of the (first) accepted message; a send answered without one is reported as
    /// `MaybeSent`, so this is `Some` on what [`WhatsApp`] returns.
    pub fn message_id(&self) -> Option<&MessageId> {
        self.messages.first().map(|m| &m.id)
    }
}

/// The WhatsApp Cloud API for one session, which must be opened for `Messaging` (otherwise
/// `ConsentRequired`, and nothing is sent).
#[derive(Debug, Clone, Copy)]
pub struct WhatsApp<'a> {
    client: &'a MetaClient,
    session: &'a Session,
}

impl MetaClient {
    /// The WhatsApp Cloud API through `session`.
    pub fn whatsapp<'a>(&'a self, session: &'a Session) -> WhatsApp<'a> {
        WhatsApp {
            client: self,
            session,
        }
    }
}

impl WhatsApp<'_> {
    async fn send(&self, phone_number_id: &str, body: &OutgoingWire<'_>) -> Result<SentMessage> {
        let url = self
            .client
            .graph_url(&format!("{}/messages", segment(phone_number_id)?))?;
        let req = ApiRequest::post(url).json(body)?.operation("whatsapp.send");
        let w: SendResponseWire = self.client.call_write(self.session, None, req).await?;
        if w.messages.is_empty() {
            // Accepted (2xx) yet without an id to track: resending could deliver it twice.
            return Err(Error::MaybeSent {
                message: "whatsapp.send: accepted without a message id".to_owned(),
            });
        }
        Ok(SentMessage {
            contacts: w
                .contacts
                .into_iter()
                .map(|c| WaContact {
                    input: c.input,
                    wa_id: c.wa_id,
                })
                .collect(),
            messages: w
                .messages
                .into_iter()
                .map(|m| AcceptedMessage {
                    id: MessageId::new(m.id),
                    status: m.message_status.map(MessageStatus::parse),
                })
                .collect(),
        })
    }

    /// Sends a text message (`POST /{phone-number-id}/messages`, `type=text`; operation
    /// `whatsapp.send`). `preview_url` asks WhatsApp to render a link preview. Outside the
    /// 24-hour customer-service window only templates are delivered.
    pub async fn send_text(
        &self,
        phone_number_id: &str,
        to: &str,
        body: &str,
        preview_url: bool,
    ) -> Result<SentMessage> {
        require_purpose(self.session, Purpose::Messaging)?;
        text_param("body", body, MAX_TEXT)?;
        let mut wire = OutgoingWire::new(recipient(to)?, "text");
        wire.text = Some(TextWire { preview_url, body });
        self.send(phone_number_id, &wire).await
    }

    /// Sends a template message (`type=template`; operation `whatsapp.send`).
    pub async fn send_template(
        &self,
        phone_number_id: &str,
        to: &str,
        template: &Template,
    ) -> Result<SentMessage> {
        require_purpose(self.session, Purpose::Messaging)?;
        template.check()?;
        let mut wire = OutgoingWire::new(recipient(to)?, "template");
        wire.template = Some(TemplateWire {
            name: &template.name,
            language: LanguageWire {
                code: &template.language,
            },
            components: &template.components,
        });
        self.send(phone_number_id, &wire).await
    }

    /// Sends an image, video, audio, document or sticker by uploaded id or by link
    /// (operation `whatsapp.send`).
    pub async fn send_media(
        &self,
        phone_number_id: &str,
        to: &str,
        media: &MediaMessage,
    ) -> Result<SentMessage> {
        require_purpose(self.session, Purpose::Messaging)?;
        let reference = media.wire()?;
        let mut wire = OutgoingWire::new(recipient(to)?, media.kind.as_str());
        let slot = match media.kind {
            MediaKind::Image => &mut wire.image,
            MediaKind::Video => &mut wire.video,
            MediaKind::Audio => &mut wire.audio,
            MediaKind::Document => &mut wire.document,
            MediaKind::Sticker => &mut wire.sticker,
        };
        *slot = Some(reference);
        self.send(phone_number_id, &wire).await
    }

    /// Marks an incoming message (and those before it) as read
    /// (`{"status": "read", "message_id": …}`; operation `whatsapp.read`). Repeating it is
    /// harmless, so it may be retried.
    pub async fn mark_read(&self, phone_number_id: &str, message_id: &str) -> Result<()> {
        require_purpose(self.session, Purpose::Messaging)?;
        if !(1..=256).contains(&message_id.len()) || message_id.chars().any(char::is_control) {
            return Err(Error::invalid_input("not a WhatsApp message id"));
        }
        let url = self
            .client
            .graph_url(&format!("{}/messages", segment(phone_number_id)?))?;
        let req = ApiRequest::post(url)
            .json(&MarkReadWire {
                messaging_product: "whatsapp",
                status: "read",
                message_id,
            })?
            .operation("whatsapp.read")
            .idempotent(true);
        let w: SuccessWire = self.client.call_json(self.session, None, req).await?;
        if w.is_success() {
            Ok(())
        } else {
            Err(Error::transient("whatsapp.read: not acknowledged"))
        }
    }

    /// Uploads a file (`POST /{phone-number-id}/media`, multipart; operation
    /// `whatsapp.media`) and returns its id, for [`MediaSource::Uploaded`]. Not retried: a
    /// repeated upload only leaves an unused copy, but an unknown outcome is still reported
    /// as `MaybeSent` like every write.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        file: &MediaUpload,
    ) -> Result<WaMediaId> {
        require_purpose(self.session, Purpose::Messaging)?;
        let (content_type, body) = file.multipart()?;
        let url = self
            .client
            .graph_url(&format!("{}/media", segment(phone_number_id)?))?;
        let req = ApiRequest::post(url)
            .bytes(content_type, body)
            .operation("whatsapp.media");
        let id: IdWire = self.client.call_write(self.session, None, req).await?;
        Ok(WaMediaId::new(id.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_body_has_the_fields_and_avoids_its_boundary() {
        let file = MediaUpload::new("image/jpeg", "cat.jpg", Bytes::from_static(b"\xff\xd8jpeg"));
        let (ct, body) = file.multipart().unwrap();
        assert!(ct.starts_with("multipart/form-data; boundary=sc-3f9a"));
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("name=\"messaging_product\"\r\n\r\nwhatsapp\r\n"));
        assert!(text.contains("name=\"file\"; filename=\"cat.jpg\"\r\nContent-Type: image/jpeg"));
        assert!(text.ends_with("--sc-3f9a6c1e8b2d4f70a5e9c3b1d7f2a6e4--\r\n"));

        let tricky = MediaUpload::new(
            "text/plain",
            "a.txt",
            Bytes::from("--sc-3f9a6c1e8b2d4f70a5e9c3b1d7f2a6e4"),
        );
        assert!(tricky.multipart().unwrap().0.contains("sc-b84e"));
        assert!(
            MediaUpload::new("jpeg", "a", Bytes::from_static(b"x"))
                .multipart()
                .is_err()
        );
        assert!(
            MediaUpload::new("image/jpeg", "a\"b", Bytes::from_static(b"x"))
                .multipart()
                .is_err()
        );
    }

    #[test]
    fn recipients_and_templates_are_checked() {
        assert!(recipient("+1 (650) 555-1234").is_ok());
        assert!(recipient("").is_err());
        assert!(recipient("abc").is_err());
        assert!(Template::new("order_shipped", "en_US").check().is_ok());
        assert!(Template::new("", "en_US").check().is_err());
        assert!(
            Template::new("x", "en_US")
                .with_component(serde_json::json!(1))
                .check()
                .is_err()
        );
    }

    #[test]
    fn media_options_fit_their_kind() {
        let link = MediaSource::Link(Url::parse("https://cdn.example.com/a.ogg").unwrap());
        assert!(
            MediaMessage::new(MediaKind::Audio, link.clone())
                .with_caption("x")
                .wire()
                .is_err()
        );
        assert!(
            MediaMessage::new(MediaKind::Image, link.clone())
                .with_filename("x")
                .wire()
                .is_err()
        );
        let doc = MediaMessage::new(MediaKind::Document, link).with_filename("a.pdf");
        assert_eq!(doc.wire().unwrap().filename, Some("a.pdf"));
    }
}
