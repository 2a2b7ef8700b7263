//! TikTok's webhooks: `TikTok-Signature` deliveries, with `authorization.removed` erased
//! through the hub before the answer.

use async_trait::async_trait;
use axum::http::HeaderMap;
use socialconnect_core::Result;
use socialconnect_core::webhook::{ChallengeReply, DeliveryLog};
use socialconnect_tiktok::webhook::{Delivered, TikTokWebhooks};

use super::{Received, WebhookEvent, WebhookReceiver};

/// TikTok deliveries at `/webhooks/tiktok`, handled by the crate's [`TikTokWebhooks`] (which
/// holds its own delivery log: the one given to `receive` and `forget` is not used).
pub struct TikTokReceiver {
    inner: TikTokWebhooks,
}

impl std::fmt::Debug for TikTokReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TikTokReceiver { .. }")
    }
}

impl TikTokReceiver {
    /// Deliveries handled by `webhooks`.
    pub fn new(webhooks: TikTokWebhooks) -> Self {
        Self { inner: webhooks }
    }
}

#[async_trait]
impl WebhookReceiver for TikTokReceiver {
    fn platform(&self) -> &str {
        "tiktok"
    }

    fn handshake(&self, _query: &str) -> Option<ChallengeReply> {
        None
    }

    async fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        _deliveries: &dyn DeliveryLog,
    ) -> Result<Received> {
        match self.inner.handle(headers, body).await? {
            Delivered::Repeat { .. } => Ok(Received::default()),
            Delivered::First { event, removal } => {
                // A removal was acted on before the answer: it is never forgotten. Any other
                // event only reaches the host through the queue, so it is forgotten again
                // when the queue cannot take it.
                let recorded = match removal {
                    Some(removal) => {
                        tracing::info!(
                            ?removal,
                            "TikTok authorization removed: connections erased"
                        );
                        Vec::new()
                    }
                    None => vec![("tiktok".to_owned(), event.delivery_id())],
                };
                Ok(Received {
                    events: vec![WebhookEvent::TikTok(event)],
                    recorded,
                })
            }
            _ => Ok(Received::default()),
        }
    }

    async fn forget(&self, received: &Received, _deliveries: &dyn DeliveryLog) -> Result<()> {
        for (_, delivery_id) in &received.recorded {
            self.inner.forget(delivery_id).await?;
        }
        Ok(())
    }
}
