//! Signed webhook deliveries, built for a test to hand to the code under test (nothing is
//! POSTed): the JSON envelope with `content` as a JSON string, and the `TikTok-Signature`
//! header over `t + "." + body`.

use serde_json::{Value, json};

/// The header a delivery's signature travels in.
pub const SIGNATURE_HEADER: &str = "TikTok-Signature";

/// A webhook event: its name and its `content` (serialised into a JSON string on delivery).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event name, e.g. `authorization.removed`.
    pub event: String,
    /// The event's content object.
    pub content: Value,
}

impl WebhookEvent {
    /// Any event, with `content` as given.
    pub fn new(event: impl Into<String>, content: Value) -> Self {
        Self {
            event: event.into(),
            content,
        }
    }

    /// `authorization.removed` with `content.reason`: 0 unknown, 1 the user disconnected, 2 the
    /// account was deleted, 3 the age changed, 4 banned, 5 the developer revoked.
    pub fn authorization_removed(reason: u8) -> Self {
        Self::new("authorization.removed", json!({ "reason": reason }))
    }

    /// `video.publish.completed` for `share_id`. UNCONFIRMED: the content's fields (TikTok's
    /// events page shows a `share_id`; later posting events may carry a `publish_id`).
    pub fn video_publish_completed(share_id: &str) -> Self {
        Self::new("video.publish.completed", json!({ "share_id": share_id }))
    }

    /// `video.upload.failed` for `share_id`. UNCONFIRMED: the content's fields, as above.
    pub fn video_upload_failed(share_id: &str) -> Self {
        Self::new("video.upload.failed", json!({ "share_id": share_id }))
    }

    /// `portability.download.ready` with `content` as given (its fields are UNCONFIRMED).
    pub fn portability_download_ready(content: Value) -> Self {
        Self::new("portability.download.ready", content)
    }
}

/// A signed delivery: the raw body and the `TikTok-Signature` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The raw JSON body, exactly the bytes that were signed.
    pub body: Vec<u8>,
    /// The header value, `t=<unix seconds>,s=<hex HMAC-SHA256>`.
    pub signature: String,
    /// The signature's timestamp.
    pub timestamp: i64,
}

/// The delivery of `event` for `user_openid`, created and signed at `timestamp`.
pub(crate) fn deliver(
    client_key: &str,
    client_secret: &str,
    user_openid: &str,
    event: &WebhookEvent,
    timestamp: i64,
) -> WebhookDelivery {
    let body = json!({
        "client_key": client_key,
        "event": event.event,
        "create_time": timestamp,
        "user_openid": user_openid,
        "content": event.content.to_string(),
    })
    .to_string()
    .into_bytes();
    WebhookDelivery {
        signature: format!("t={timestamp},s={}", sign(client_secret, timestamp, &body)),
        body,
        timestamp,
    }
}

/// `hex(HMAC-SHA256(key = client_secret, msg = t + "." + body))`.
fn sign(client_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    crate::sim::hmac_sha256_hex(client_secret.as_bytes(), &[t.as_bytes(), b".", body])
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn content_is_a_json_string_and_the_signature_covers_t_dot_body() {
        let d = deliver(
            "key",
            "secret",
            "act.1",
            &WebhookEvent::authorization_removed(1),
            1_615_338_610,
        );
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(v["content"], json!("{\"reason\":1}"));
        assert_eq!(v["create_time"], json!(1_615_338_610));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(format!("1615338610.{}", String::from_utf8(d.body).unwrap()).as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(d.signature, format!("t=1615338610,s={expected}"));
    }
}
