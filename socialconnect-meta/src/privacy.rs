//! Meta's privacy callbacks: **Deauthorize** (the user removed the app) and **Data Deletion
//! Request** (the user asked for their data to be deleted). No peer library ships these.
//!
//! Both arrive as a form POST holding a `signed_request`, verified here (HMAC-SHA256 with the
//! app secret, constant time, freshness window) before anything changes. Meta identifies the
//! user by the app-scoped Facebook user id, which is what every Meta connection's account id
//! is, so the subject is found through the stored connections.
//!
//! ```no_run
//! # async fn demo(privacy: socialconnect_meta::privacy::MetaPrivacy, body: &[u8]) -> socialconnect_core::Result<()> {
//! // POST /meta/data-deletion (application/x-www-form-urlencoded)
//! let response = privacy.data_deletion(body).await?;
//! let json = response.to_json(); // answer 200 with this body, Content-Type: application/json
//! # let _ = json; Ok(()) }
//! ```

use std::time::Duration;

use serde::Serialize;
use socialconnect_core::id::{ConnectionKey, PlatformId, SubjectId};
use socialconnect_core::platform_deletion::DeletionStatus;
use socialconnect_core::secret::ClientSecret;
use socialconnect_core::{Result, SocialConnect};
use url::Url;

use crate::client::MetaConfig;
use crate::signed_request::{
    DEFAULT_MAX_AGE, SignedRequest, from_form_body, verify_signed_request,
};

/// The platforms a Meta user's data lives under.
pub const META_PLATFORMS: [PlatformId; 3] = [
    PlatformId::FACEBOOK,
    PlatformId::INSTAGRAM,
    PlatformId::WHATSAPP,
];

pub use socialconnect_core::platform_deletion::DeletionMode;

/// The JSON Meta expects back from the data-deletion callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletionResponse {
    /// Where the user can follow the request (the host's status page, with the code).
    pub url: String,
    /// The code Meta shows the user.
    pub confirmation_code: String,
}

impl DeletionResponse {
    /// `{"url": "...", "confirmation_code": "..."}` (standard JSON, as Meta's PHP sample
    /// sends; the "JS object literal" variant some posts describe is UNCONFIRMED).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a deauthorize callback changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deauthorized {
    /// The Meta user.
    pub user_id: String,
    /// Connections whose tokens were deleted.
    pub connections_removed: usize,
}

/// The two callbacks, bound to a hub and an app.
#[derive(Clone)]
pub struct MetaPrivacy {
    hub: SocialConnect,
    app_secret: ClientSecret,
    status_url: Url,
    mode: DeletionMode,
    max_age: Duration,
}

impl std::fmt::Debug for MetaPrivacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaPrivacy")
            .field("status_url", &self.status_url.as_str())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl MetaPrivacy {
    /// Callbacks for the app in `config`; deletion status is shown at `status_url`, to which
    /// `?code=<confirmation code>` is appended. The hub needs a deletion-request store.
    pub fn new(hub: SocialConnect, config: &MetaConfig, status_url: Url) -> Result<Self> {
        hub.deletion_requests()?;
        Ok(Self {
            hub,
            app_secret: config.app_secret.clone(),
            status_url,
            mode: DeletionMode::default(),
            max_age: DEFAULT_MAX_AGE,
        })
    }

    /// Auto-erase (default) or review queue.
    pub fn with_mode(mut self, mode: DeletionMode) -> Self {
        self.mode = mode;
        self
    }

    /// How old a `signed_request` may be (default one hour).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn verify(&self, form_body: &[u8]) -> Result<SignedRequest> {
        let raw = from_form_body(form_body)?;
        Ok(verify_signed_request(
            &raw,
            &self.app_secret,
            self.hub.clock().now(),
            self.max_age,
        )?)
    }

    async fn connections_of_meta_user(&self, user_id: &str) -> Result<Vec<ConnectionKey>> {
        let mut keys = Vec::new();
        for p in &META_PLATFORMS {
            keys.extend(self.hub.find_connections(p, user_id).await?);
        }
        Ok(keys)
    }

    /// Handles the Deauthorize callback: marks the user's Meta connections revoked, deletes
    /// their tokens (Meta has already expired them) and records the withdrawal. Answer 200.
    pub async fn deauthorize(&self, form_body: &[u8]) -> Result<Deauthorized> {
        let request = self.verify(form_body)?;
        let keys = self.connections_of_meta_user(&request.user_id).await?;
        let removed = self
            .hub
            .platform_ended_authorization(&keys, "meta.deauthorize")
            .await?;
        tracing::info!(connections = removed, "Meta deauthorize callback handled");
        Ok(Deauthorized {
            user_id: request.user_id,
            connections_removed: removed,
        })
    }

    /// Handles the Data Deletion Request callback: records the request under a fresh
    /// confirmation code, erases the user's Meta connections (auto-erase mode) and returns the
    /// JSON Meta expects.
    pub async fn data_deletion(&self, form_body: &[u8]) -> Result<DeletionResponse> {
        let request = self.verify(form_body)?;
        let keys = self.connections_of_meta_user(&request.user_id).await?;
        let subject = keys.first().map(|k| k.subject.clone());
        let erase_now = subject.is_some() && self.mode == DeletionMode::AutoErase;
        // Recorded pending first, so a failed erasure leaves a request to retry, not nothing.
        let code = self
            .hub
            .record_platform_deletion(&PlatformId::FACEBOOK, subject, DeletionMode::ReviewQueue)
            .await?;
        if erase_now {
            self.erase(&code, &keys).await?;
        }
        let mut url = self.status_url.clone();
        url.query_pairs_mut().append_pair("code", &code);
        Ok(DeletionResponse {
            url: url.into(),
            confirmation_code: code,
        })
    }

    async fn erase(&self, code: &str, keys: &[ConnectionKey]) -> Result<()> {
        self.hub
            .erase_connections(keys, "meta.data_deletion")
            .await?;
        self.hub
            .complete_platform_deletion(&[PlatformId::FACEBOOK], code)
            .await
    }

    /// The status of a request, for the status page. `None` for an unknown code.
    pub async fn status(&self, confirmation_code: &str) -> Result<Option<DeletionStatus>> {
        Ok(self
            .hub
            .platform_deletion(&[PlatformId::FACEBOOK], confirmation_code)
            .await?
            .map(|r| r.status))
    }

    /// Approves a pending request (review-queue mode): erases the subject's Meta connections.
    pub async fn approve(&self, confirmation_code: &str) -> Result<()> {
        let request = self
            .hub
            .pending_platform_deletion(&[PlatformId::FACEBOOK], confirmation_code)
            .await?;
        let keys = match &request.subject {
            Some(subject) => self.meta_connections_of(subject).await?,
            None => Vec::new(),
        };
        self.erase(confirmation_code, &keys).await
    }

    /// Rejects a pending request with a justification the user will see (kept to 500 bytes).
    pub async fn reject(&self, confirmation_code: &str, reason: &str) -> Result<()> {
        self.hub
            .reject_platform_deletion(&[PlatformId::FACEBOOK], confirmation_code, reason)
            .await
    }

    async fn meta_connections_of(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>> {
        Ok(self
            .hub
            .connections(subject)
            .await?
            .into_iter()
            .filter(|k| META_PLATFORMS.contains(&k.platform))
            .collect())
    }
}
