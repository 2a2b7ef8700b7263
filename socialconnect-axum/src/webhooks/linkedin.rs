//! LinkedIn's webhooks: the `challengeCode` validation and `X-LI-Signature` deliveries.

use async_trait::async_trait;
use axum::http::HeaderMap;
use socialconnect_core::Result;
use socialconnect_core::webhook::{ChallengeReply, DeliveryLog};
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
        let fresh = self.inner.handle(headers, body, deliveries).await?;
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
