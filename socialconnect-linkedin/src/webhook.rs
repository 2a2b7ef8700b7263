//! LinkedIn webhooks: the `challengeCode` validation, `X-LI-Signature` checks, and typed
//! organization social-action notifications, deduplicated on `notificationId`.
//!
//! - **Validation.** LinkedIn sends `GET ?challengeCode=<uuid>` and re-validates every two
//!   hours; [`LinkedInWebhooks::challenge`] answers `{challengeCode, challengeResponse}` with
//!   the HMAC-SHA256 of the code under the client secret (the kit's `HmacChallenge::LINKEDIN`).
//!   Answer within 3 s: it does no I/O.
//! - **Deliveries.** `X-LI-Signature` is the hex HMAC-SHA256 of `"hmacsha256=" + raw body`
//!   under the client secret, checked in constant time (the kit's `SignatureScheme::LINKEDIN`)
//!   before the body is parsed. A batch holds up to 10 notifications, redelivered every 5 min
//!   for 8 h until answered 2xx, so [`LinkedInWebhooks::handle`] returns only those whose
//!   `notificationId` the delivery log has not seen.
//!
//! The notification fields beyond `notificationId` and `action` are only partly documented
//! (UNCONFIRMED): each is optional and read tolerantly.

use http::HeaderMap;
use serde::Deserialize;
use socialconnect_core::connect::decode;
use socialconnect_core::connect::webhook::{ChallengeReply, HmacChallenge, SignatureScheme};
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{Delivery, DeliveryLog};
use socialconnect_core::{Error, Result};

use crate::client::LinkedInConfig;
use crate::urn::Urn;

/// Largest delivery body parsed (10 notifications are a few KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// The delivery-log namespace for LinkedIn notifications.
const DELIVERY_PLATFORM: &str = "linkedin";

/// What a member did to the organization's content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocialAction {
    /// A reaction.
    Like,
    /// A comment.
    Comment,
    /// A reshare.
    Share,
    /// A mention of the organization in a post.
    ShareMention,
    /// A comment by an administrator.
    AdminComment,
    /// A comment edited.
    CommentEdit,
    /// A comment deleted.
    CommentDelete,
    /// An action this crate does not know yet, kept by name.
    Other(String),
}

impl SocialAction {
    fn from_name(name: &str) -> Self {
        match name {
            "LIKE" => Self::Like,
            "COMMENT" => Self::Comment,
            "SHARE" => Self::Share,
            "SHARE_MENTION" => Self::ShareMention,
            "ADMIN_COMMENT" => Self::AdminComment,
            "COMMENT_EDIT" => Self::CommentEdit,
            "COMMENT_DELETE" => Self::CommentDelete,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One organization social-action notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// LinkedIn's id for the notification, the dedupe key.
    pub notification_id: String,
    /// What happened.
    pub action: SocialAction,
    /// The organization notified.
    pub organization: Option<Urn>,
    /// The post acted on.
    pub source_post: Option<String>,
    /// The activity the action created (the comment, the reshare).
    pub generated_activity: Option<String>,
    /// Who acted.
    pub actor: Option<String>,
    /// When, as LinkedIn dated it (unix milliseconds).
    pub last_modified_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct BatchWire {
    #[serde(default, deserialize_with = "decode::null_as_default")]
    notifications: Vec<NotificationWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationWire {
    #[serde(deserialize_with = "decode::id")]
    notification_id: String,
    #[serde(deserialize_with = "decode::bounded_string::<_, 64>")]
    action: String,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    organizational_entity: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    source_post: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    generated_activity: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_bounded_string::<_, 512>")]
    actor: Option<String>,
    #[serde(default, deserialize_with = "decode::opt_unix_millis")]
    last_modified_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// LinkedIn webhook handling for one app.
#[derive(Debug, Clone)]
pub struct LinkedInWebhooks {
    secret: WebhookSecret,
}

impl LinkedInWebhooks {
    /// Webhooks of the app in `config` (keyed by its client secret).
    pub fn new(config: &LinkedInConfig) -> Self {
        Self {
            secret: WebhookSecret::new(config.client_secret.expose_secret()),
        }
    }

    /// Answers LinkedIn's `GET ?challengeCode=…` validation (`query` is the raw query string).
    pub fn challenge(&self, query: &str) -> ChallengeReply {
        HmacChallenge::LINKEDIN.answer(query, &self.secret)
    }

    /// Verifies `X-LI-Signature` over the raw `body` and parses the batch.
    ///
    /// # Errors
    ///
    /// `Crypto` for a missing, malformed or wrong signature (`Config` for an empty secret),
    /// `InvalidInput` for an oversized body, `Decode` for a body that is not a notification
    /// batch (the error names the JSON path, never the body).
    pub fn verify_and_parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Notification>> {
        if body.len() > MAX_BODY {
            return Err(Error::invalid_input(
                "LinkedIn webhook body is over 256 KiB",
            ));
        }
        SignatureScheme::LINKEDIN.verify_headers(&self.secret, headers, body)?;
        let batch: BatchWire = Error::decode_json(body)?;
        Ok(batch
            .notifications
            .into_iter()
            .map(|w| Notification {
                notification_id: w.notification_id,
                action: SocialAction::from_name(&w.action),
                organization: w.organizational_entity.and_then(|u| Urn::parse(&u).ok()),
                source_post: w.source_post,
                generated_activity: w.generated_activity,
                actor: w.actor,
                last_modified_at: w.last_modified_at,
            })
            .collect())
    }

    /// [`verify_and_parse`](Self::verify_and_parse), then keeps only the notifications
    /// `deliveries` has not seen (a redelivered batch yields nothing new).
    ///
    /// # Errors
    ///
    /// As `verify_and_parse`, or the delivery log's error.
    pub async fn handle(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        deliveries: &dyn DeliveryLog,
    ) -> Result<Vec<Notification>> {
        let mut fresh: Vec<Notification> = Vec::new();
        for n in self.verify_and_parse(headers, body)? {
            match deliveries
                .record(DELIVERY_PLATFORM, &n.notification_id)
                .await
            {
                Ok(Delivery::First) => fresh.push(n),
                Ok(Delivery::Repeat) => {}
                Err(e) => {
                    // Nothing of a batch that failed part-way stays recorded: LinkedIn's
                    // retry must bring every notification back.
                    for done in &fresh {
                        if let Err(forget) = deliveries
                            .forget(DELIVERY_PLATFORM, &done.notification_id)
                            .await
                        {
                            tracing::error!(error = %forget, "cannot forget a LinkedIn delivery; its retry will be dropped");
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(fresh)
    }
}
