//! Meta webhook events: the tolerant wire shapes and the typed events built from them.
//!
//! The wire types (`pub(crate)`) mirror the documented payloads with every field that Meta may
//! leave out as an `Option`, ids that accept a JSON string or an integer, and timestamps that
//! accept unix seconds (integer or string) or a Graph datetime such as
//! `2021-07-04T19:50:58+0000`. The public types are what the webhook module's
//! `parse_events` returns.
//!
//! Sources: `meta.md` §6 (WhatsApp), §7 (Pages), §8b (data types). The Instagram `comments` and
//! `mentions` shapes and the exact keys of Page `feed` values per `item` are partly
//! UNCONFIRMED, so everything beyond an event's identity is optional here.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};

// ---------------------------------------------------------------------------------------------
// Public events
// ---------------------------------------------------------------------------------------------

/// One webhook delivery: the `object` it concerns and its events, flattened from every
/// `entry[].changes[]` (and, for WhatsApp, every message and status inside a change).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookBatch {
    /// The top-level `object`: `page`, `instagram`, `whatsapp_business_account`, or another.
    pub object: String,
    /// The events, in payload order.
    pub events: Vec<MetaEvent>,
}

/// One event from a Meta webhook.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetaEvent {
    /// A Page `feed` change: a post, comment, reaction… added, edited or removed.
    PageFeed(PageFeedChange),
    /// An Instagram `comments` change: a comment on one of the account's media.
    InstagramComment(InstagramComment),
    /// An Instagram `mentions` change: the account was @mentioned in a caption or comment.
    InstagramMention(InstagramMention),
    /// A WhatsApp inbound message (`messages` field, `value.messages[]`).
    WhatsAppMessage(WhatsAppMessage),
    /// A WhatsApp delivery status of a message this business sent (`value.statuses[]`).
    WhatsAppStatus(WhatsAppStatus),
    /// An object or field this crate does not model (yet), kept raw rather than rejected.
    Unknown(UnknownChange),
}

impl MetaEvent {
    /// The `entry[].id` the event came under: the Page id, the Instagram account id or the
    /// WhatsApp Business Account id; `None` only for unknown entries without an id.
    pub fn entry_id(&self) -> Option<&str> {
        match self {
            MetaEvent::PageFeed(e) => Some(&e.page_id),
            MetaEvent::InstagramComment(e) => Some(&e.account_id),
            MetaEvent::InstagramMention(e) => Some(&e.account_id),
            MetaEvent::WhatsAppMessage(e) => Some(&e.waba_id),
            MetaEvent::WhatsAppStatus(e) => Some(&e.waba_id),
            MetaEvent::Unknown(e) => e.entry_id.as_deref(),
        }
    }
}

/// A Page `feed` change (`object: "page"`, `changes[].field == "feed"`).
///
/// Which keys accompany which `item` is partly UNCONFIRMED (`meta.md` §7), so only `item` and
/// `verb` are required and the whole `value` is kept in [`PageFeedChange::raw`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PageFeedChange {
    /// The Page (`entry[].id`).
    pub page_id: String,
    /// When Meta sent the entry (`entry[].time`).
    pub time: Option<DateTime<Utc>>,
    /// What changed.
    pub item: FeedItem,
    /// How it changed.
    pub verb: FeedVerb,
    /// The post, as `"{page-id}_{post-id}"`.
    pub post_id: Option<String>,
    /// The comment, as `"{post-id}_{comment-id}"`, for comment items.
    pub comment_id: Option<String>,
    /// The post or comment a comment replies to.
    pub parent_id: Option<String>,
    /// Who acted.
    pub from: Option<PageActor>,
    /// The text of a post or comment.
    pub message: Option<String>,
    /// When the item was created.
    pub created_time: Option<DateTime<Utc>>,
    /// The reaction (`like`, `love`, …) for reaction items.
    pub reaction_type: Option<String>,
    /// The change's `value` exactly as received, for keys not modelled here.
    pub raw: serde_json::Value,
}

/// Who made a Page feed change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageActor {
    /// A user or Page id.
    pub id: String,
    /// Their display name, when sent.
    pub name: Option<String>,
}

/// The `item` of a Page feed change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedItem {
    /// `post`.
    Post,
    /// `status`.
    Status,
    /// `photo`.
    Photo,
    /// `video`.
    Video,
    /// `comment`.
    Comment,
    /// `reaction`.
    Reaction,
    /// `share`.
    Share,
    /// `like`.
    Like,
    /// Any other value, as sent.
    Other(String),
}

impl FeedItem {
    fn from_wire(s: String) -> Self {
        match s.as_str() {
            "post" => Self::Post,
            "status" => Self::Status,
            "photo" => Self::Photo,
            "video" => Self::Video,
            "comment" => Self::Comment,
            "reaction" => Self::Reaction,
            "share" => Self::Share,
            "like" => Self::Like,
            _ => Self::Other(s),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Post => "post",
            Self::Status => "status",
            Self::Photo => "photo",
            Self::Video => "video",
            Self::Comment => "comment",
            Self::Reaction => "reaction",
            Self::Share => "share",
            Self::Like => "like",
            Self::Other(s) => s,
        }
    }
}

/// The `verb` of a Page feed change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedVerb {
    /// `add`.
    Add,
    /// `edited` (Meta's field reference also lists `edit`; both map here).
    Edited,
    /// `remove`.
    Remove,
    /// `hide`.
    Hide,
    /// `unhide`.
    Unhide,
    /// Any other value, as sent.
    Other(String),
}

impl FeedVerb {
    fn from_wire(s: String) -> Self {
        match s.as_str() {
            "add" => Self::Add,
            "edited" | "edit" => Self::Edited,
            "remove" => Self::Remove,
            "hide" => Self::Hide,
            "unhide" => Self::Unhide,
            _ => Self::Other(s),
        }
    }

    /// The wire value (`edited` for [`FeedVerb::Edited`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Add => "add",
            Self::Edited => "edited",
            Self::Remove => "remove",
            Self::Hide => "hide",
            Self::Unhide => "unhide",
            Self::Other(s) => s,
        }
    }
}

/// An Instagram comment (`object: "instagram"`, `field: "comments"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstagramComment {
    /// The Instagram professional account (`entry[].id`).
    pub account_id: String,
    /// When Meta sent the entry (`entry[].time`).
    pub time: Option<DateTime<Utc>>,
    /// The comment.
    pub comment_id: String,
    /// Its text.
    pub text: Option<String>,
    /// Its author.
    pub from: Option<InstagramUser>,
    /// The media commented on.
    pub media_id: Option<String>,
    /// The media's product type (`FEED`, `REELS`, …), when sent.
    pub media_product_type: Option<String>,
    /// The comment this one replies to, when it is a reply.
    pub parent_id: Option<String>,
}

/// The author of an Instagram comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstagramUser {
    /// The Instagram-scoped user id.
    pub id: String,
    /// Their username, when sent.
    pub username: Option<String>,
}

/// An Instagram mention (`object: "instagram"`, `field: "mentions"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstagramMention {
    /// The Instagram professional account that was mentioned (`entry[].id`).
    pub account_id: String,
    /// When Meta sent the entry (`entry[].time`).
    pub time: Option<DateTime<Utc>>,
    /// The media whose caption, or one of whose comments, holds the mention.
    pub media_id: String,
    /// The comment holding the mention; `None` for a caption mention.
    pub comment_id: Option<String>,
}

/// The business phone number a WhatsApp change concerns (`value.metadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppMetadata {
    /// The phone number id used in Cloud API paths.
    pub phone_number_id: String,
    /// The number as displayed, e.g. `15550783881`.
    pub display_phone_number: Option<String>,
}

/// The sender's profile from `value.contacts[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppContact {
    /// Their WhatsApp id (normally the phone number in international form).
    pub wa_id: String,
    /// Their profile name.
    pub name: Option<String>,
}

/// An inbound WhatsApp message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WhatsAppMessage {
    /// The WhatsApp Business Account (`entry[].id`).
    pub waba_id: String,
    /// The receiving business number.
    pub metadata: WhatsAppMetadata,
    /// The sender's profile, when `value.contacts[]` has an entry for `from`.
    pub contact: Option<WhatsAppContact>,
    /// The message id (`wamid.…`, up to 128 characters).
    pub message_id: String,
    /// The sender's WhatsApp id.
    pub from: String,
    /// When the message was sent (`timestamp`, a string of unix seconds on the wire).
    pub timestamp: DateTime<Utc>,
    /// The group, for group messages.
    pub group_id: Option<String>,
    /// What the message replies to or was forwarded from (`context`), when sent.
    pub context: Option<WhatsAppContext>,
    /// What was sent.
    pub content: WhatsAppContent,
}

/// A WhatsApp message's `context`: the message it replies to, the product the user asked
/// about, or that it was forwarded.
///
/// Meta's text-message webhook reference documents two shapes: `{from, id, referred_product?}`
/// for a reply (or a "Message business" tap on a product), and `{forwarded}` or
/// `{frequently_forwarded}` (forwarded more than five times) for a forward. Every key is
/// optional here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WhatsAppContext {
    /// Who sent the message replied to (`context.from`): for a reply to the business's own
    /// message, the business's display phone number.
    pub from: Option<String>,
    /// The id of the message replied to (`context.id`, a `wamid.…`).
    pub message_id: Option<String>,
    /// `context.forwarded`: forwarded five times or fewer.
    pub forwarded: bool,
    /// `context.frequently_forwarded`: forwarded more than five times.
    pub frequently_forwarded: bool,
    /// `context.referred_product`: the catalog product the user was viewing.
    pub referred_product: Option<WhatsAppReferredProduct>,
}

/// `context.referred_product` of a WhatsApp message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppReferredProduct {
    /// The catalog id.
    pub catalog_id: Option<String>,
    /// The product's retailer id (the business's own SKU).
    pub product_retailer_id: Option<String>,
}

/// The content of an inbound WhatsApp message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WhatsAppContent {
    /// `type: "text"`.
    Text {
        /// The text.
        body: String,
    },
    /// Any other type (image, audio, interactive, reaction, …) or a text message without a
    /// body: the message object exactly as received.
    Other {
        /// The message's `type`.
        kind: String,
        /// The whole message object.
        raw: serde_json::Value,
    },
}

/// A delivery status of a WhatsApp message this business sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppStatus {
    /// The WhatsApp Business Account (`entry[].id`).
    pub waba_id: String,
    /// The sending business number.
    pub metadata: WhatsAppMetadata,
    /// The id of the message this status is about (`wamid.…`).
    pub message_id: String,
    /// The new status. `delivered` may be skipped when delivery and reading coincide.
    pub status: DeliveryStatus,
    /// When the status changed.
    pub timestamp: DateTime<Utc>,
    /// The recipient's WhatsApp id.
    pub recipient_id: Option<String>,
    /// The conversation the message was billed in, when sent.
    pub conversation: Option<WhatsAppConversation>,
    /// Pricing information, when sent.
    pub pricing: Option<WhatsAppPricing>,
    /// Why a `failed` message failed.
    pub errors: Vec<WhatsAppError>,
}

/// The `status` of a WhatsApp status update.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// `sent`.
    Sent,
    /// `delivered`.
    Delivered,
    /// `read`.
    Read,
    /// `failed`.
    Failed,
    /// Any other value, as sent.
    Other(String),
}

impl DeliveryStatus {
    fn from_wire(s: String) -> Self {
        match s.as_str() {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "failed" => Self::Failed,
            _ => Self::Other(s),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }
}

/// `statuses[].conversation`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppConversation {
    /// The conversation id.
    pub id: Option<String>,
    /// When the conversation window closes (`expiration_timestamp`).
    pub expires_at: Option<DateTime<Utc>>,
    /// Who opened it (`origin.type`: `user_initiated`, `marketing`, …).
    pub origin_type: Option<String>,
}

/// `statuses[].pricing`. The current `pricing_model` value (`CBP` in older samples, a
/// per-message model since) is UNCONFIRMED, so it stays a string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppPricing {
    /// Whether the message is billed.
    pub billable: Option<bool>,
    /// The pricing model.
    pub pricing_model: Option<String>,
    /// The pricing category.
    pub category: Option<String>,
}

/// One of `statuses[].errors[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhatsAppError {
    /// The error code (131047: the 24-hour window has passed).
    pub code: Option<i64>,
    /// A short title.
    pub title: Option<String>,
    /// A longer message.
    pub message: Option<String>,
    /// `error_data.details`.
    pub details: Option<String>,
}

/// A change this crate does not model, kept as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownChange {
    /// The top-level `object`.
    pub object: String,
    /// The `entry[].id`, when the entry has one.
    pub entry_id: Option<String>,
    /// The `changes[].field`; `None` for an entry that has no `changes` array (Messenger-style
    /// `messaging` entries, for example).
    pub field: Option<String>,
    /// The change's `value`, or the whole entry when `field` is `None`.
    pub value: serde_json::Value,
}

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

/// The outer envelope. Entries stay raw until `object` is known.
#[derive(Deserialize)]
pub(crate) struct WireEnvelope {
    pub(crate) object: String,
    pub(crate) entry: Vec<serde_json::Value>,
}

/// An entry of a known object.
#[derive(Deserialize)]
pub(crate) struct WireEntry {
    pub(crate) id: WireId,
    #[serde(default)]
    pub(crate) time: Option<WireEntryTime>,
    #[serde(default)]
    pub(crate) changes: Option<Vec<WireChange>>,
}

/// One `changes[]` item; its `value` is decoded once `field` is known.
#[derive(Deserialize)]
pub(crate) struct WireChange {
    pub(crate) field: String,
    #[serde(default)]
    pub(crate) value: serde_json::Value,
}

#[derive(Deserialize)]
pub(crate) struct WirePageFeed {
    item: String,
    verb: String,
    #[serde(default)]
    post_id: Option<WireId>,
    #[serde(default)]
    comment_id: Option<WireId>,
    #[serde(default)]
    parent_id: Option<WireId>,
    #[serde(default)]
    from: Option<WirePageActor>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created_time: Option<WireTime>,
    #[serde(default)]
    reaction_type: Option<String>,
}

#[derive(Deserialize)]
struct WirePageActor {
    id: WireId,
    #[serde(default)]
    name: Option<String>,
}

impl WirePageFeed {
    pub(crate) fn into_event(
        self,
        page_id: String,
        time: Option<DateTime<Utc>>,
        raw: serde_json::Value,
    ) -> PageFeedChange {
        PageFeedChange {
            page_id,
            time,
            item: FeedItem::from_wire(self.item),
            verb: FeedVerb::from_wire(self.verb),
            post_id: self.post_id.map(WireId::into_string),
            comment_id: self.comment_id.map(WireId::into_string),
            parent_id: self.parent_id.map(WireId::into_string),
            from: self.from.map(|f| PageActor {
                id: f.id.0,
                name: f.name,
            }),
            message: self.message,
            created_time: self.created_time.map(|t| t.0),
            reaction_type: self.reaction_type,
            raw,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireIgComment {
    id: WireId,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    from: Option<WireIgUser>,
    #[serde(default)]
    media: Option<WireIgMedia>,
    #[serde(default)]
    parent_id: Option<WireId>,
}

#[derive(Deserialize)]
struct WireIgUser {
    id: WireId,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Deserialize)]
struct WireIgMedia {
    #[serde(default)]
    id: Option<WireId>,
    #[serde(default)]
    media_product_type: Option<String>,
}

impl WireIgComment {
    pub(crate) fn into_event(
        self,
        account_id: String,
        time: Option<DateTime<Utc>>,
    ) -> InstagramComment {
        let (media_id, media_product_type) = match self.media {
            Some(m) => (m.id.map(WireId::into_string), m.media_product_type),
            None => (None, None),
        };
        InstagramComment {
            account_id,
            time,
            comment_id: self.id.0,
            text: self.text,
            from: self.from.map(|u| InstagramUser {
                id: u.id.0,
                username: u.username,
            }),
            media_id,
            media_product_type,
            parent_id: self.parent_id.map(WireId::into_string),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireIgMention {
    media_id: WireId,
    #[serde(default)]
    comment_id: Option<WireId>,
}

impl WireIgMention {
    pub(crate) fn into_event(
        self,
        account_id: String,
        time: Option<DateTime<Utc>>,
    ) -> InstagramMention {
        InstagramMention {
            account_id,
            time,
            media_id: self.media_id.0,
            comment_id: self.comment_id.map(WireId::into_string),
        }
    }
}

/// The `value` of a WhatsApp `messages` change. Messages stay raw so that non-text ones can be
/// handed over whole.
#[derive(Deserialize)]
pub(crate) struct WireWaValue {
    pub(crate) metadata: WireWaMetadata,
    #[serde(default)]
    pub(crate) contacts: Vec<WireWaContact>,
    #[serde(default)]
    pub(crate) messages: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) statuses: Vec<WireWaStatus>,
}

#[derive(Deserialize)]
pub(crate) struct WireWaMetadata {
    phone_number_id: WireId,
    #[serde(default)]
    display_phone_number: Option<WireId>,
}

impl WireWaMetadata {
    pub(crate) fn into_domain(self) -> WhatsAppMetadata {
        WhatsAppMetadata {
            phone_number_id: self.phone_number_id.0,
            display_phone_number: self.display_phone_number.map(WireId::into_string),
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireWaContact {
    #[serde(default)]
    profile: Option<WireWaProfile>,
    #[serde(default)]
    wa_id: Option<WireId>,
}

#[derive(Deserialize)]
struct WireWaProfile {
    #[serde(default)]
    name: Option<String>,
}

impl WireWaContact {
    /// The contact for sender `from`, if listed.
    pub(crate) fn find(contacts: &[WireWaContact], from: &str) -> Option<WhatsAppContact> {
        contacts
            .iter()
            .find(|c| c.wa_id.as_ref().is_some_and(|id| id.0 == from))
            .map(|c| WhatsAppContact {
                wa_id: from.to_owned(),
                name: c.profile.as_ref().and_then(|p| p.name.clone()),
            })
    }
}

#[derive(Deserialize)]
pub(crate) struct WireWaMessage {
    from: WireId,
    id: WireId,
    timestamp: WireTime,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<WireWaText>,
    #[serde(default)]
    group_id: Option<WireId>,
    #[serde(default)]
    context: Option<WireWaContext>,
}

#[derive(Deserialize)]
struct WireWaContext {
    #[serde(default)]
    from: Option<WireId>,
    #[serde(default)]
    id: Option<WireId>,
    #[serde(default)]
    forwarded: Option<WireBool>,
    #[serde(default)]
    frequently_forwarded: Option<WireBool>,
    #[serde(default)]
    referred_product: Option<WireWaReferredProduct>,
}

#[derive(Deserialize)]
struct WireWaReferredProduct {
    #[serde(default)]
    catalog_id: Option<WireId>,
    #[serde(default)]
    product_retailer_id: Option<WireId>,
}

impl WireWaContext {
    fn into_domain(self) -> WhatsAppContext {
        WhatsAppContext {
            from: self.from.map(WireId::into_string),
            message_id: self.id.map(WireId::into_string),
            forwarded: self.forwarded.is_some_and(|b| b.0),
            frequently_forwarded: self.frequently_forwarded.is_some_and(|b| b.0),
            referred_product: self.referred_product.map(|p| WhatsAppReferredProduct {
                catalog_id: p.catalog_id.map(WireId::into_string),
                product_retailer_id: p.product_retailer_id.map(WireId::into_string),
            }),
        }
    }
}

#[derive(Deserialize)]
struct WireWaText {
    #[serde(default)]
    body: Option<String>,
}

impl WireWaMessage {
    pub(crate) fn into_event(
        self,
        waba_id: String,
        metadata: WhatsAppMetadata,
        contacts: &[WireWaContact],
        raw: serde_json::Value,
    ) -> WhatsAppMessage {
        let from = self.from.0;
        let body = self.text.and_then(|t| t.body);
        let content = match (self.kind.as_str(), body) {
            ("text", Some(body)) => WhatsAppContent::Text { body },
            _ => WhatsAppContent::Other {
                kind: self.kind,
                raw,
            },
        };
        WhatsAppMessage {
            waba_id,
            metadata,
            contact: WireWaContact::find(contacts, &from),
            message_id: self.id.0,
            from,
            timestamp: self.timestamp.0,
            group_id: self.group_id.map(WireId::into_string),
            context: self.context.map(WireWaContext::into_domain),
            content,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct WireWaStatus {
    id: WireId,
    status: String,
    timestamp: WireTime,
    #[serde(default)]
    recipient_id: Option<WireId>,
    #[serde(default)]
    conversation: Option<WireWaConversation>,
    #[serde(default)]
    pricing: Option<WireWaPricing>,
    #[serde(default)]
    errors: Vec<WireWaError>,
}

#[derive(Deserialize)]
struct WireWaConversation {
    #[serde(default)]
    id: Option<WireId>,
    #[serde(default)]
    expiration_timestamp: Option<WireTime>,
    #[serde(default)]
    origin: Option<WireWaOrigin>,
}

#[derive(Deserialize)]
struct WireWaOrigin {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct WireWaPricing {
    #[serde(default)]
    billable: Option<WireBool>,
    #[serde(default)]
    pricing_model: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize)]
struct WireWaError {
    #[serde(default)]
    code: Option<WireInt>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_data: Option<WireWaErrorData>,
}

#[derive(Deserialize)]
struct WireWaErrorData {
    #[serde(default)]
    details: Option<String>,
}

impl WireWaStatus {
    pub(crate) fn into_event(self, waba_id: String, metadata: WhatsAppMetadata) -> WhatsAppStatus {
        WhatsAppStatus {
            waba_id,
            metadata,
            message_id: self.id.0,
            status: DeliveryStatus::from_wire(self.status),
            timestamp: self.timestamp.0,
            recipient_id: self.recipient_id.map(WireId::into_string),
            conversation: self.conversation.map(|c| WhatsAppConversation {
                id: c.id.map(WireId::into_string),
                expires_at: c.expiration_timestamp.map(|t| t.0),
                origin_type: c.origin.and_then(|o| o.kind),
            }),
            pricing: self.pricing.map(|p| WhatsAppPricing {
                billable: p.billable.map(|b| b.0),
                pricing_model: p.pricing_model,
                category: p.category,
            }),
            errors: self
                .errors
                .into_iter()
                .map(|e| WhatsAppError {
                    code: e.code.map(|c| c.0),
                    title: e.title,
                    message: e.message,
                    details: e.error_data.and_then(|d| d.details),
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tolerant scalars
// ---------------------------------------------------------------------------------------------

/// What a decode error says of a string it refused: never the string itself, which may be
/// an end user's text.
const REDACTED_STRING: &str = "a string (value not shown)";

/// An id sent as a JSON string or an integer, kept as decimal text.
///
/// Integers are taken through `u64`/`i64`, never `f64`; a number with a fraction or exponent
/// (or too large for 64 bits, which `serde_json` can only hold as a float) is rejected rather
/// than silently rounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireId(pub(crate) String);

impl WireId {
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        socialconnect_core::connect::decode::id(d).map(WireId)
    }
}

/// A timestamp: unix seconds as an integer or a decimal string, or a Graph datetime
/// (`2021-07-04T19:50:58+0000`, offset without a colon) or RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireTime(pub(crate) DateTime<Utc>);

impl WireTime {
    fn from_secs<E: de::Error>(secs: i64) -> Result<Self, E> {
        DateTime::from_timestamp(secs, 0)
            .map(WireTime)
            .ok_or_else(|| E::custom("timestamp out of range"))
    }
}

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = WireTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("unix seconds or a Graph datetime")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireTime, E> {
                WireTime::from_secs(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireTime, E> {
                let secs = i64::try_from(v).map_err(|_| E::custom("timestamp out of range"))?;
                WireTime::from_secs(secs)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireTime, E> {
                parse_time_text(v)
                    .map(WireTime)
                    .ok_or_else(|| E::invalid_value(Unexpected::Other(REDACTED_STRING), &self))
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

/// Parses unix seconds written as decimal text, a Graph datetime or RFC 3339.
pub(crate) fn parse_time_text(text: &str) -> Option<DateTime<Utc>> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0));
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `entry[].time`: unix seconds for Pages and Instagram. Messenger-style entries carry
/// milliseconds instead (UNCONFIRMED for `changes` entries), so a value too large to be
/// seconds before the year 5000 is read as milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireEntryTime(pub(crate) DateTime<Utc>);

/// 95617584000 is 5000-01-01T00:00:00Z in unix seconds.
const SECONDS_CEILING: i64 = 95_617_584_000;

impl<'de> Deserialize<'de> for WireEntryTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let WireTime(t) = WireTime::deserialize(d)?;
        let secs = t.timestamp();
        if secs >= SECONDS_CEILING {
            DateTime::from_timestamp_millis(secs)
                .map(WireEntryTime)
                .ok_or_else(|| de::Error::custom("timestamp out of range"))
        } else {
            Ok(WireEntryTime(t))
        }
    }
}

/// A boolean sent as `true`/`false` or as the strings `"true"`/`"false"` (Meta sends
/// `{"success": "true"}` elsewhere, `meta.md` §8b).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WireBool(bool);

impl<'de> Deserialize<'de> for WireBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BoolVisitor;
        impl Visitor<'_> for BoolVisitor {
            type Value = WireBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean or \"true\"/\"false\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<WireBool, E> {
                Ok(WireBool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireBool, E> {
                match v {
                    "true" => Ok(WireBool(true)),
                    "false" => Ok(WireBool(false)),
                    _ => Err(E::invalid_value(Unexpected::Other(REDACTED_STRING), &self)),
                }
            }
        }
        d.deserialize_any(BoolVisitor)
    }
}

/// An integer sent as a JSON integer or a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireInt(pub(crate) i64);

impl<'de> Deserialize<'de> for WireInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = WireInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a decimal string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireInt, E> {
                Ok(WireInt(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireInt, E> {
                i64::try_from(v)
                    .map(WireInt)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireInt, E> {
                v.parse()
                    .map(WireInt)
                    .map_err(|_| E::invalid_value(Unexpected::Other(REDACTED_STRING), &self))
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_accept_strings_and_integers_but_not_floats() {
        let id: WireId = serde_json::from_value(json!("17841400000000001234")).unwrap();
        assert_eq!(id.0, "17841400000000001234");
        let id: WireId = serde_json::from_str("17841400000000001234").unwrap();
        assert_eq!(id.0, "17841400000000001234");
        let id: WireId = serde_json::from_str("-5").unwrap();
        assert_eq!(id.0, "-5");
        assert!(serde_json::from_str::<WireId>("1.5").is_err());
        // Beyond u64: serde_json can only hold it as a float, which would round.
        assert!(serde_json::from_str::<WireId>("123456789012345678901234").is_err());
        assert!(serde_json::from_str::<WireId>("null").is_err());
        assert!(serde_json::from_str::<WireId>("{}").is_err());
    }

    #[test]
    fn times_accept_every_documented_form() {
        let want = DateTime::from_timestamp(1_625_428_258, 0).unwrap();
        for text in [
            "1625428258",
            "\"1625428258\"",
            "\"2021-07-04T19:50:58+0000\"",
            "\"2021-07-04T19:50:58+00:00\"",
            "\"2021-07-04T19:50:58Z\"",
            "\"2021-07-04T21:50:58+0200\"",
        ] {
            let t: WireTime = serde_json::from_str(text).unwrap();
            assert_eq!(t.0, want, "{text}");
        }
        for bad in [
            "1.5",
            "\"\"",
            "\"-\"",
            "\"soon\"",
            "\"99999999999999999999\"",
            "9223372036854775807",
            "18446744073709551615",
            "true",
        ] {
            assert!(serde_json::from_str::<WireTime>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_time_reads_milliseconds() {
        let t: WireEntryTime = serde_json::from_str("1458692752478").unwrap();
        assert_eq!(t.0.timestamp_millis(), 1_458_692_752_478);
        let t: WireEntryTime = serde_json::from_str("1458692752").unwrap();
        assert_eq!(t.0.timestamp(), 1_458_692_752);
    }

    #[test]
    fn bools_and_ints_are_tolerant() {
        assert!(serde_json::from_str::<WireBool>("\"true\"").unwrap().0);
        assert!(!serde_json::from_str::<WireBool>("false").unwrap().0);
        assert!(serde_json::from_str::<WireBool>("\"yes\"").is_err());
        assert_eq!(serde_json::from_str::<WireInt>("\"-2\"").unwrap().0, -2);
        assert_eq!(
            serde_json::from_str::<WireInt>("131047").unwrap().0,
            131_047
        );
        assert!(serde_json::from_str::<WireInt>("18446744073709551615").is_err());
    }
}
