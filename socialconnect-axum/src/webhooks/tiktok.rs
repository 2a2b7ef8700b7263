//! TikTok's webhooks: `TikTok-Signature` deliveries, with `authorization.removed` erased
//! through the hub before the answer.

use async_trait::async_trait;
use axum::http::HeaderMap;
use socialconnect_core::Result;
use socialconnect_core::webhook::{ChallengeReply, DeliveryLog};
use socialconnect_tiktok::webhook::{Delivered, TikTokWebhooks};

use super::{Received, WebhookEvent, WebhookReceiver};

/// TikTok deliveries at `/webhooks/tiktok`, handled by the crate's [`TikTokWebhooks`] (which
/// holds its own delivery log: the one given to `receive` is not used).
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
                if let Some(removal) = removal {
                    tracing::info!(?removal, "TikTok authorization removed: connections erased");
                }
                Ok(Received {
                    events: vec![WebhookEvent::TikTok(event)],
                    // Acted on already (a removal cannot be undone): never forgotten.
                    recorded: Vec::new(),
                })
            }
            _ => Ok(Received::default()),
        }
    }
}
