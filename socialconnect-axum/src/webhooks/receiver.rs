//! The receiver trait a platform's webhook endpoint implements, and what it hands on.

use async_trait::async_trait;
use axum::http::HeaderMap;
use socialconnect_core::Result;
use socialconnect_core::webhook::{ChallengeReply, DeliveryLog};
use tokio::sync::mpsc;

/// One verified, first-seen webhook event, typed by its platform crate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// A Meta (Pages, Instagram, WhatsApp) event.
    #[cfg(feature = "meta")]
    Meta(Box<socialconnect_meta::model::webhook::MetaEvent>),
    /// A TikTok event (an `authorization.removed` has already been acted on).
    #[cfg(feature = "tiktok")]
    TikTok(Box<socialconnect_tiktok::webhook::WebhookEvent>),
    /// A LinkedIn organization social-action notification.
    #[cfg(feature = "linkedin")]
    LinkedIn(Box<socialconnect_linkedin::webhook::Notification>),
}

/// A platform's webhook endpoint: its handshake and its verified deliveries.
#[async_trait]
pub trait WebhookReceiver: Send + Sync + 'static {
    /// The path segment: `/webhooks/{platform}`.
    fn platform(&self) -> &str;

    /// Answers a `GET` subscription handshake from its raw query string; `None` when the
    /// platform has none (the route then answers 405).
    fn handshake(&self, query: &str) -> Option<ChallengeReply>;

    /// Verifies a delivery over its raw body and returns its events not seen before
    /// (recorded in `deliveries`). A repeat returns no events.
    ///
    /// # Errors
    ///
    /// `Crypto` for a bad or missing signature, `InvalidInput` for a body the platform would
    /// not send, or the delivery log's or hub's error.
    async fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        deliveries: &dyn DeliveryLog,
    ) -> Result<Received>;

    /// Forgets what `received` recorded, when the host's queue could not take its events, so
    /// the platform's retry is handled instead of dropped as a repeat. By default forgets
    /// [`Received::recorded`] in `deliveries`; a receiver keeping its own log overrides it.
    ///
    /// # Errors
    ///
    /// The delivery log's error.
    async fn forget(&self, received: &Received, deliveries: &dyn DeliveryLog) -> Result<()> {
        for (platform, id) in &received.recorded {
            deliveries.forget(platform, id).await?;
        }
        Ok(())
    }
}

/// What [`WebhookReceiver::receive`] found.
#[derive(Debug, Default)]
pub struct Received {
    /// First-seen events, in delivery order.
    pub events: Vec<WebhookEvent>,
    /// Delivery-log keys (platform, delivery id) recorded for them, forgotten again through
    /// [`WebhookReceiver::forget`] if they cannot be queued.
    pub recorded: Vec<(String, String)>,
}

/// The host's end of the event queue.
pub type WebhookEvents = mpsc::Receiver<WebhookEvent>;
