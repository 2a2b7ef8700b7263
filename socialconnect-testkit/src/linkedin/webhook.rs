//! Signed organization social-action notifications, built for a test to hand to the code
//! under test (nothing is POSTed), and the expected answer to the `challengeCode` validation.

use serde_json::{Map, Value, json};

use crate::sim::hmac_sha256_hex;

/// The header a delivery's signature travels in.
pub const SIGNATURE_HEADER: &str = "X-LI-Signature";

/// The most notifications LinkedIn puts in one delivery.
pub const MAX_BATCH: usize = 10;

/// One `ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS` entry. The fields beyond `notificationId`
/// and `action` are only partly documented (UNCONFIRMED); each is sent only when set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// LinkedIn's id for the notification, the receiver's dedupe key (sent as a JSON number).
    pub notification_id: u64,
    /// `LIKE`, `COMMENT`, `SHARE`, `SHARE_MENTION`, `ADMIN_COMMENT`, `COMMENT_EDIT`,
    /// `COMMENT_DELETE`, or anything else.
    pub action: String,
    /// `organizationalEntity`: the organization notified.
    pub organization: Option<String>,
    /// `sourcePost`: the post acted on.
    pub source_post: Option<String>,
    /// `generatedActivity`: what the action created (the comment, the reshare).
    pub generated_activity: Option<String>,
    /// `actor`: who acted.
    pub actor: Option<String>,
    /// `lastModifiedAt` in unix milliseconds; the simulator's clock when unset.
    pub last_modified_at: Option<i64>,
}

impl Notification {
    /// A notification `notification_id` of `action`, other fields unset.
    pub fn new(notification_id: u64, action: impl Into<String>) -> Self {
        Self {
            notification_id,
            action: action.into(),
            organization: None,
            source_post: None,
            generated_activity: None,
            actor: None,
            last_modified_at: None,
        }
    }

    /// Sets `organizationalEntity`.
    pub fn organization(mut self, urn: impl Into<String>) -> Self {
        self.organization = Some(urn.into());
        self
    }

    /// Sets `sourcePost`.
    pub fn source_post(mut self, urn: impl Into<String>) -> Self {
        self.source_post = Some(urn.into());
        self
    }

    /// Sets `generatedActivity`.
    pub fn generated_activity(mut self, urn: impl Into<String>) -> Self {
        self.generated_activity = Some(urn.into());
        self
    }

    /// Sets `actor`.
    pub fn actor(mut self, urn: impl Into<String>) -> Self {
        self.actor = Some(urn.into());
        self
    }

    /// Sets `lastModifiedAt` (unix milliseconds).
    pub fn last_modified_at(mut self, millis: i64) -> Self {
        self.last_modified_at = Some(millis);
        self
    }

    fn to_json(&self, now_ms: i64) -> Value {
        let mut o = Map::new();
        o.insert("notificationId".into(), json!(self.notification_id));
        o.insert("action".into(), json!(self.action));
        for (key, value) in [
            ("organizationalEntity", &self.organization),
            ("sourcePost", &self.source_post),
            ("generatedActivity", &self.generated_activity),
            ("actor", &self.actor),
        ] {
            if let Some(v) = value {
                o.insert(key.into(), json!(v));
            }
        }
        o.insert(
            "lastModifiedAt".into(),
            json!(self.last_modified_at.unwrap_or(now_ms)),
        );
        Value::Object(o)
    }
}

/// A signed delivery: the raw body and the [`SIGNATURE_HEADER`] value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedNotifications {
    /// The raw JSON body, exactly the bytes that were signed.
    pub body: Vec<u8>,
    /// `hex(HMAC-SHA256(key = client secret, msg = "hmacsha256=" + body))`.
    pub signature: String,
}

/// The delivery of `notifications`, dated `now_ms` where a notification carries no date.
pub(crate) fn deliver(
    client_secret: &str,
    notifications: &[Notification],
    now_ms: i64,
) -> SignedNotifications {
    let list: Vec<Value> = notifications.iter().map(|n| n.to_json(now_ms)).collect();
    let body = json!({
        "type": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
        "notifications": list,
    })
    .to_string()
    .into_bytes();
    SignedNotifications {
        signature: hmac_sha256_hex(client_secret.as_bytes(), &[b"hmacsha256=", &body]),
        body,
    }
}

/// `hex(HMAC-SHA256(key = client secret, msg = challengeCode))`.
pub(crate) fn challenge_response(client_secret: &str, code: &str) -> String {
    hmac_sha256_hex(client_secret.as_bytes(), &[code.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_prefix_and_body_and_the_challenge_matches_the_vector() {
        let d = deliver("secret", &[Notification::new(7, "LIKE")], 1_701_000_000_000);
        let v: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(v["notifications"][0]["notificationId"], json!(7));
        assert_eq!(
            v["notifications"][0]["lastModifiedAt"],
            json!(1_701_000_000_000_i64)
        );
        let mut signed = b"hmacsha256=".to_vec();
        signed.extend_from_slice(&d.body);
        assert_eq!(d.signature, hmac_sha256_hex(b"secret", &[&signed]));
        // The vector core's HmacChallenge::LINKEDIN test takes from python3's hmac.
        assert_eq!(
            challenge_response("client-secret", "890e4665-4dfe-4ab1-b689-ed553bceeed1"),
            "cea0d9c7e11de18dbcd1a3810b6eacc31117b25c77707c1168990104add5b52f"
        );
    }
}
