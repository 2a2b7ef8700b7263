//! [`HostRoutes`]: the builder a host configures once and turns into an `axum::Router`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use socialconnect_core::SocialConnect;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::webhook::{Deduper, DeliveryLog};
use tokio::sync::mpsc;
use tower_http::limit::RequestBodyLimitLayer;
use url::Url;

use crate::csrf::CsrfKey;
use crate::dsr::DataSubjectApi;
use crate::info::PrivacyInfo;
use crate::state::App;
use crate::users::EndUsers;
use crate::webhooks::{WebhookEvents, WebhookReceiver};
use crate::{connect, dsr, privacy_page, webhooks};

/// The smallest webhook queue accepted. Size a real one above the largest batch a platform
/// sends (LinkedIn: 10 notifications; TikTok: one event; Meta: as many as fit the body limit).
pub const MIN_QUEUE: usize = 1;

/// Largest request body accepted by default (webhook batches are well under it).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The SocialConnect routes, configured with the hub and the host's choices.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use socialconnect_axum::{HostRoutes, EndUsers, CsrfKey, PrivacyInfo};
/// # fn demo(hub: socialconnect_core::SocialConnect, users: Arc<dyn EndUsers>) {
/// let routes = HostRoutes::new(
///     hub,
///     "https://app.example.com/social".parse().unwrap(),
///     users,
///     CsrfKey::random(),
///     PrivacyInfo::new("Example Ltd", "privacy@example.com", "ICO", "https://ico.org.uk/make-a-complaint/"),
/// );
/// let (routes, _events) = routes.webhook_events(1024);
/// let app = axum::Router::new().nest("/social", routes.router());
/// # let _ = app; }
/// ```
pub struct HostRoutes {
    hub: SocialConnect,
    base: Url,
    users: Arc<dyn EndUsers>,
    csrf: CsrfKey,
    info: PrivacyInfo,
    offered: Vec<Purpose>,
    platforms: Vec<PlatformId>,
    webhooks: HashMap<String, Arc<dyn WebhookReceiver>>,
    deliveries: Arc<dyn DeliveryLog>,
    events: Option<mpsc::Sender<webhooks::WebhookEvent>>,
    #[cfg(feature = "meta")]
    meta: Option<socialconnect_meta::privacy::MetaPrivacy>,
    api: Option<DataSubjectApi>,
    body_limit: usize,
}

impl std::fmt::Debug for HostRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostRoutes")
            .field("base", &self.base.as_str())
            .field("platforms", &self.platforms)
            .field("webhooks", &self.webhooks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl HostRoutes {
    /// Routes for `hub`, served at `base` (the public URL the router is mounted at, used for
    /// callback URLs), asking `users` who is signed in.
    pub fn new(
        hub: SocialConnect,
        base: Url,
        users: Arc<dyn EndUsers>,
        csrf: CsrfKey,
        info: PrivacyInfo,
    ) -> Self {
        Self {
            hub,
            base,
            users,
            csrf,
            info,
            offered: Vec::new(),
            platforms: Vec::new(),
            webhooks: HashMap::new(),
            deliveries: Arc::new(Deduper::new(100_000, Duration::from_secs(72 * 3600))),
            events: None,
            #[cfg(feature = "meta")]
            meta: None,
            api: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The platforms the privacy page offers to connect (each must be on the hub).
    pub fn platforms(mut self, platforms: impl IntoIterator<Item = PlatformId>) -> Self {
        self.platforms = platforms.into_iter().collect();
        self
    }

    /// The purposes the consent form asks for besides account connection (those under a
    /// declared basis are shown, not asked).
    pub fn purposes(mut self, purposes: impl IntoIterator<Item = Purpose>) -> Self {
        self.offered = purposes
            .into_iter()
            .filter(|p| *p != Purpose::AccountConnection)
            .collect();
        self
    }

    /// Receives a platform's webhooks at `/webhooks/{receiver.platform()}`.
    pub fn webhook(mut self, receiver: Arc<dyn WebhookReceiver>) -> Self {
        self.webhooks
            .insert(receiver.platform().to_owned(), receiver);
        self
    }

    /// Where deliveries are recorded for dedupe (default: an in-process [`Deduper`] of
    /// 100,000 ids for 72 hours). Several instances need a shared log: the encrypted store's
    /// `EncryptedStore::delivery_log` keeps sightings in the database they share.
    pub fn delivery_log(mut self, log: Arc<dyn DeliveryLog>) -> Self {
        self.deliveries = log;
        self
    }

    /// Hands verified events to the host through a queue of `capacity` (at least
    /// [`MIN_QUEUE`]); without it, events are verified, deduplicated, logged and dropped. A
    /// delivery is queued whole or refused with 503 for the platform to retry, so a batch
    /// larger than the capacity could never be accepted: keep it above the largest batch a
    /// platform sends. If the host drops its receiver, deliveries are acknowledged and their
    /// events dropped, with an error logged.
    pub fn webhook_events(mut self, capacity: usize) -> (Self, WebhookEvents) {
        let (tx, rx) = mpsc::channel(capacity.max(MIN_QUEUE));
        self.events = Some(tx);
        (self, rx)
    }

    /// Serves Meta's deauthorize and data-deletion callbacks and the deletion status page.
    /// The `MetaPrivacy` status URL should be this router's `/meta/deletion-status`.
    #[cfg(feature = "meta")]
    pub fn meta_privacy(mut self, privacy: socialconnect_meta::privacy::MetaPrivacy) -> Self {
        self.meta = Some(privacy);
        self
    }

    /// Serves the data-subject API under `/api/v1`.
    pub fn data_subject_api(mut self, api: DataSubjectApi) -> Self {
        self.api = Some(api);
        self
    }

    /// The largest request body accepted (default [`DEFAULT_BODY_LIMIT`]); larger ones are
    /// answered 413 before anything is read into memory or stored.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The URL of the deletion status page for Meta's callback, under `base`.
    pub fn deletion_status_url(base: &Url) -> Url {
        let mut url = base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/meta/deletion-status"));
        url
    }

    /// The router. Mount it at the path of `base` (or at the root when `base` has none).
    pub fn router(self) -> Router {
        let limit = self.body_limit;
        let app = Arc::new(App {
            hub: self.hub,
            base: self.base,
            users: self.users,
            csrf: self.csrf,
            offered: self.offered,
            platforms: self.platforms,
            info: self.info,
            webhooks: self.webhooks,
            deliveries: self.deliveries,
            events: self.events,
            #[cfg(feature = "meta")]
            meta: self.meta,
            api: self.api,
            exports: Arc::new(tokio::sync::Semaphore::new(crate::export::MAX_EXPORTS)),
        });
        let router = Router::new()
            .route(
                "/connect/{platform}",
                get(connect::start).post(connect::consent),
            )
            .route("/callback/{platform}", get(connect::callback))
            .route(
                "/webhooks/{platform}",
                get(webhooks::handshake).post(webhooks::deliver),
            )
            .route("/privacy", get(privacy_page::show))
            .route("/privacy/withdraw", post(privacy_page::withdraw))
            .route("/privacy/reconsent", post(privacy_page::reconsent))
            .route("/privacy/export", post(privacy_page::export))
            .route("/privacy/delete", post(privacy_page::delete))
            .route("/privacy/actions/cancel", post(crate::scheduled::cancel));
        #[cfg(feature = "meta")]
        let router = router
            .route("/meta/deauthorize", post(crate::meta_privacy::deauthorize))
            .route(
                "/meta/data-deletion",
                post(crate::meta_privacy::data_deletion),
            )
            .route("/meta/deletion-status", get(crate::meta_privacy::status));
        // The API has the same limit, and its 413 as JSON like every other answer of it
        // (outside the limit, whether the length was declared or found while reading).
        let api = dsr::routes()
            .layer(DefaultBodyLimit::max(limit))
            .layer(RequestBodyLimitLayer::new(limit))
            .layer(axum::middleware::from_fn(dsr::oversized_as_json));
        router
            .layer(DefaultBodyLimit::max(limit))
            .layer(RequestBodyLimitLayer::new(limit))
            .nest("/api/v1", api)
            .with_state(app)
    }
}
