//! [`TikTokWebhooks`]: deliveries handled against a hub, with `authorization.removed` as the
//! deauthorization and erasure trigger.
//!
//! TikTok identifies the user by the open id only, which is the account id of their TikTok
//! connection (the token response's `open_id`), so the hub finds the connections with
//! [`SocialConnect::find_connections`]. One open id may belong to connections of several of
//! the host's subjects (two host accounts linked the same TikTok account); each is handled.
//!
//! On `authorization.removed`, whatever the mode:
//! 1. the connections are marked revoked (the hub raises `TokenRevokedByPlatform` and refuses
//!    sessions on them), and
//! 2. deleted with their tokens, without a revoke call: TikTok has already revoked the token
//!    (its docs: "the access_token for the user will have been already revoked");
//! 3. the withdrawal of account connection on TikTok is recorded in the consent ledger, so the
//!    ledger says why processing stopped, unless the subject still has another TikTok account
//!    connected (consent is per subject and platform, not per connection);
//! 4. per subject, a deletion request for TikTok is recorded (the fact sheet's guidance:
//!    treat `authorization.removed` as the erasure trigger; TikTok's own deletion deadline
//!    wording is UNCONFIRMED). In [`DeletionMode::AutoErase`] it is completed at once: the
//!    hub holds nothing more of the subject's TikTok data than the connections just deleted.
//!    In [`DeletionMode::ReviewQueue`] it stays pending: the host erases what it keeps from
//!    TikTok outside the hub (cached videos, stats), then [`TikTokWebhooks::approve`]s it, or
//!    [`TikTokWebhooks::reject`]s it with a justification.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::HeaderMap;
use socialconnect_core::id::{PlatformId, SubjectId};
pub use socialconnect_core::platform_deletion::DeletionMode;
use socialconnect_core::platform_deletion::DeletionStatus;
use socialconnect_core::webhook::{Delivery, DeliveryLog};
use socialconnect_core::{Result, SocialConnect};

use super::{DELIVERY_PLATFORM, RemovalReason, TikTokEvent, WebhookEvent, WebhookVerifier};
use crate::client::TikTokConfig;

/// The actor recorded on the usage-log entries of connections deleted by the event.
const ACTOR: &str = "tiktok.authorization_removed";

/// The outcome of one delivery. Answer TikTok 200 for either.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Delivered {
    /// A redelivery of an event already handled: nothing was done.
    Repeat {
        /// The delivery id it was recognised by ([`WebhookEvent::delivery_id`]).
        delivery_id: String,
    },
    /// A first delivery.
    First {
        /// The event (boxed: it is far larger than a repeat's id).
        event: Box<WebhookEvent>,
        /// What `authorization.removed` changed; `None` for the other events.
        removal: Option<Removal>,
    },
}

/// What an `authorization.removed` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removal {
    /// Why TikTok ended the authorization.
    pub reason: RemovalReason,
    /// How many connections were deleted with their tokens.
    pub connections_removed: usize,
    /// The host's subjects whose connections they were.
    pub subjects: Vec<SubjectId>,
    /// The deletion requests recorded, one per subject (confirmation codes).
    pub deletion_requests: Vec<String>,
    /// The mode they were recorded in.
    pub mode: DeletionMode,
}

/// TikTok webhook deliveries handled against a hub: verified, deduplicated, and
/// `authorization.removed` acted on (see the module docs).
#[derive(Clone)]
pub struct TikTokWebhooks {
    hub: SocialConnect,
    verifier: WebhookVerifier,
    deliveries: Arc<dyn DeliveryLog>,
    mode: DeletionMode,
}

impl std::fmt::Debug for TikTokWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokWebhooks")
            .field("verifier", &self.verifier)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl TikTokWebhooks {
    /// Deliveries for the app in `config`, acted on in `hub`, repeats recognised through
    /// `deliveries` (core's `Deduper` in one process; a shared store across several). The
    /// hub needs a deletion-request store; timestamps are judged by the hub's clock.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](socialconnect_core::ErrorKind::Config) when the hub has no
    /// deletion-request store.
    pub fn new(
        hub: SocialConnect,
        config: &TikTokConfig,
        deliveries: Arc<dyn DeliveryLog>,
    ) -> Result<Self> {
        hub.deletion_requests()?;
        Ok(Self {
            hub,
            verifier: WebhookVerifier::new(config),
            deliveries,
            mode: DeletionMode::default(),
        })
    }

    /// Auto-erase (default) or review queue.
    pub fn with_mode(mut self, mode: DeletionMode) -> Self {
        self.mode = mode;
        self
    }

    /// Replaces the verifier (another tolerance or body limit).
    pub fn with_verifier(mut self, verifier: WebhookVerifier) -> Self {
        self.verifier = verifier;
        self
    }

    /// Forgets a first delivery whose event the host could not take on (its queue was full),
    /// so that TikTok's retry of `delivery_id` ([`WebhookEvent::delivery_id`]) is handled
    /// rather than dropped as a repeat. Never forget an `authorization.removed` that was acted
    /// on: acting again is harmless, but the removal is already done.
    ///
    /// # Errors
    ///
    /// The delivery log's error.
    pub async fn forget(&self, delivery_id: &str) -> Result<()> {
        self.deliveries.forget(DELIVERY_PLATFORM, delivery_id).await
    }

    /// Handles one delivery: verifies it ([`WebhookVerifier::verify_and_parse`] at the hub's
    /// clock), records it in the delivery log, and acts on `authorization.removed`. A repeat is
    /// [`Delivered::Repeat`] and changes nothing. When acting fails, the delivery is forgotten
    /// again so that TikTok's retry is handled rather than dropped.
    ///
    /// # Errors
    ///
    /// A [`WebhookRejection`](super::WebhookRejection) as a core error
    /// ([`response_status`](super::response_status) gives the HTTP status), or the error of
    /// the delivery log or the hub's stores.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<Delivered> {
        let now = self.hub.clock().now();
        let event = self.verifier.verify_and_parse(headers, body, now)?;
        let delivery_id = event.delivery_id();
        if self
            .deliveries
            .record(DELIVERY_PLATFORM, &delivery_id)
            .await?
            == Delivery::Repeat
        {
            tracing::debug!(event = event.name(), "TikTok webhook redelivery ignored");
            return Ok(Delivered::Repeat { delivery_id });
        }
        let acted = match &event.event {
            TikTokEvent::AuthorizationRemoved { reason } => self
                .authorization_removed(&event.user_openid, *reason)
                .await
                .map(Some),
            _ => Ok(None),
        };
        match acted {
            Ok(removal) => {
                tracing::info!(event = event.name(), "TikTok webhook handled");
                Ok(Delivered::First {
                    event: Box::new(event),
                    removal,
                })
            }
            Err(e) => {
                if let Err(forget) = self
                    .deliveries
                    .forget(DELIVERY_PLATFORM, &delivery_id)
                    .await
                {
                    tracing::error!(error = %forget, "cannot forget a failed TikTok delivery; its retry will be dropped");
                }
                Err(e)
            }
        }
    }

    async fn authorization_removed(&self, open_id: &str, reason: RemovalReason) -> Result<Removal> {
        let keys = self
            .hub
            .find_connections(&PlatformId::TIKTOK, open_id)
            .await?;
        let removed = self.hub.platform_ended_authorization(&keys, ACTOR).await?;
        let subjects: BTreeSet<SubjectId> = keys.iter().map(|k| k.subject.clone()).collect();
        let mut codes = Vec::with_capacity(subjects.len());
        for subject in &subjects {
            codes.push(
                self.hub
                    .record_platform_deletion(&PlatformId::TIKTOK, Some(subject.clone()), self.mode)
                    .await?,
            );
        }
        tracing::info!(
            connections = removed,
            reason = reason.code(),
            mode = ?self.mode,
            "TikTok authorization.removed handled"
        );
        Ok(Removal {
            reason,
            connections_removed: removed,
            subjects: subjects.into_iter().collect(),
            deletion_requests: codes,
            mode: self.mode,
        })
    }

    /// The status of a deletion request, for a status page. `None` for an unknown code.
    ///
    /// # Errors
    ///
    /// The deletion-request store's error.
    pub async fn status(&self, confirmation_code: &str) -> Result<Option<DeletionStatus>> {
        Ok(self
            .hub
            .platform_deletion(&[PlatformId::TIKTOK], confirmation_code)
            .await?
            .map(|r| r.status))
    }

    /// Approves a pending TikTok deletion request (review-queue mode) once the host erased
    /// what it keeps from TikTok outside the hub; the connections themselves went when the
    /// event arrived. A connection the subject made again since is left alone: it is a new
    /// authorization.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](socialconnect_core::ErrorKind::InvalidInput) when no
    /// pending TikTok request has this code; the store's error.
    pub async fn approve(&self, confirmation_code: &str) -> Result<()> {
        self.hub
            .complete_platform_deletion(&[PlatformId::TIKTOK], confirmation_code)
            .await
    }

    /// Rejects a pending TikTok deletion request with a justification the end user may be
    /// shown (no personal data; kept to 500 bytes).
    ///
    /// # Errors
    ///
    /// As [`approve`](Self::approve).
    pub async fn reject(&self, confirmation_code: &str, reason: &str) -> Result<()> {
        self.hub
            .reject_platform_deletion(&[PlatformId::TIKTOK], confirmation_code, reason)
            .await
    }
}
