//! LinkedIn's webhooks: the `challengeCode` validation and `X-LI-Signature` deliveries.

use async_trait::async_trait;
use axum::http::HeaderMap;
use socialconnect_core::webhook::{ChallengeReply, DeliveryLog};
use socialconnect_core::{Error, Result};
use socialconnect_linkedin::webhook::LinkedInWebhooks;

use super::{Received, WebhookEvent, WebhookReceiver};

/// LinkedIn deliveries at `/webhooks/linkedin`, deduplicated on `notificationId`.
pub struct LinkedInReceiver {
    inner: LinkedInWebhooks,
}

impl std::fmt::Debug for LinkedInReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkedInReceiver { .. }")
    }
}

impl LinkedInReceiver {
    /// Deliveries checked by `webhooks`.
    pub fn new(webhooks: LinkedInWebhooks) -> Self {
        Self { inner: webhooks }
    }
}

#[async_trait]
impl WebhookReceiver for LinkedInReceiver {
    fn platform(&self) -> &str {
        "linkedin"
    }

    fn handshake(&self, query: &str) -> Option<ChallengeReply> {
        Some(self.inner.challenge(query))
    }

    async fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        deliveries: &dyn DeliveryLog,
    ) -> Result<Received> {
        // A body that is authentic but not a notification batch (HTML, broken JSON, a
        // notification without its id) fails with a decode error, whose kind is `Platform`;
        // it is the sender's input, refused 400, not a 503 that would make LinkedIn resend
        // it every 5 minutes for 8 hours. The delivery log's own errors stay as they are.
        let fresh = self
            .inner
            .handle(headers, body, deliveries)
            .await
            .map_err(|e| match e {
                Error::Decode(_) => {
                    Error::invalid_input(format!("not a LinkedIn notification batch: {e}"))
                }
                e => e,
            })?;
        let recorded = fresh
            .iter()
            .map(|n| ("linkedin".to_owned(), n.notification_id.clone()))
            .collect();
        Ok(Received {
            events: fresh
                .into_iter()
                .map(|n| WebhookEvent::LinkedIn(Box::new(n)))
                .collect(),
            recorded,
        })
    }
}
