//! Meta's webhooks: the `hub.challenge` handshake and `X-Hub-Signature-256` deliveries.

use async_trait::async_trait;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use socialconnect_core::Result;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::{ChallengeReply, Delivery, DeliveryLog, TokenChallenge};
use socialconnect_meta::webhook::{SIGNATURE_HEADER, verify_and_parse};

use super::{Received, WebhookEvent, WebhookReceiver};

/// Meta deliveries for one app, at `/webhooks/meta`.
///
/// Meta's batches carry no delivery id, and a retry resends the same bytes, so a delivery is
/// recognised as a repeat by the SHA-256 of its body.
pub struct MetaReceiver {
    app_secret: WebhookSecret,
    verify_token: WebhookSecret,
}

impl std::fmt::Debug for MetaReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetaReceiver { .. }")
    }
}

impl MetaReceiver {
    /// Deliveries signed with the app secret; the handshake answered for `verify_token`
    /// (the value set in the app dashboard).
    pub fn new(app_secret: WebhookSecret, verify_token: WebhookSecret) -> Self {
        Self {
            app_secret,
            verify_token,
        }
    }
}

#[async_trait]
impl WebhookReceiver for MetaReceiver {
    fn platform(&self) -> &str {
        "meta"
    }

    fn handshake(&self, query: &str) -> Option<ChallengeReply> {
        Some(TokenChallenge::META.answer(query, &self.verify_token))
    }

    async fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        deliveries: &dyn DeliveryLog,
    ) -> Result<Received> {
        let header = match headers.get(SIGNATURE_HEADER) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                socialconnect_core::Error::invalid_input("the signature header is not text")
            })?),
        };
        // A body that is authentic but not a Meta batch (HTML, broken JSON) fails with a
        // `Platform` decode error; it is the sender's input, refused 400 (as the crate's
        // `rejection_status`), not a 503 that would make Meta resend it for days.
        let batch = verify_and_parse(&self.app_secret, body, header).map_err(|e| {
            if e.kind() == socialconnect_core::ErrorKind::Platform {
                socialconnect_core::Error::invalid_input(format!("not a Meta webhook batch: {e}"))
            } else {
                e
            }
        })?;
        let id = hex::encode(Sha256::digest(body));
        if deliveries.record("meta", &id).await? == Delivery::Repeat {
            return Ok(Received::default());
        }
        Ok(Received {
            events: batch
                .events
                .into_iter()
                .map(|e| WebhookEvent::Meta(Box::new(e)))
                .collect(),
            recorded: vec![("meta".to_owned(), id)],
        })
    }
}
