//! The state every route shares.

use std::collections::HashMap;
use std::sync::Arc;

use socialconnect_core::SocialConnect;
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::webhook::DeliveryLog;
use tokio::sync::mpsc;
use url::Url;

use crate::csrf::CsrfKey;
use crate::dsr::access::DataSubjectApi;
use crate::info::PrivacyInfo;
use crate::users::EndUsers;
use crate::webhooks::receiver::{WebhookEvent, WebhookReceiver};

pub(crate) struct App {
    pub(crate) hub: SocialConnect,
    pub(crate) base: Url,
    pub(crate) users: Arc<dyn EndUsers>,
    pub(crate) csrf: CsrfKey,
    /// Purposes offered on the consent form besides account connection.
    pub(crate) offered: Vec<Purpose>,
    /// Platforms the privacy page offers to connect.
    pub(crate) platforms: Vec<PlatformId>,
    pub(crate) info: PrivacyInfo,
    pub(crate) webhooks: HashMap<String, Arc<dyn WebhookReceiver>>,
    pub(crate) deliveries: Arc<dyn DeliveryLog>,
    pub(crate) events: Option<mpsc::Sender<WebhookEvent>>,
    #[cfg(feature = "meta")]
    pub(crate) meta: Option<socialconnect_meta::privacy::MetaPrivacy>,
    pub(crate) api: Option<DataSubjectApi>,
    /// Exports streaming now (see `export::MAX_EXPORTS`).
    pub(crate) exports: Arc<tokio::sync::Semaphore>,
}

impl App {
    pub(crate) fn webhook(&self, platform: &str) -> Option<&Arc<dyn WebhookReceiver>> {
        self.webhooks.get(platform)
    }

    /// A place for one more streaming export, or the 503 to answer while all are taken.
    pub(crate) fn export_permit(
        &self,
    ) -> std::result::Result<tokio::sync::OwnedSemaphorePermit, axum::response::Response> {
        self.exports.clone().try_acquire_owned().map_err(|_| {
            use axum::response::IntoResponse;
            let mut busy = (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "exports are busy: try again shortly",
            )
                .into_response();
            busy.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
            busy
        })
    }

    /// The absolute URL of one of the routes (`path` starts with `/`).
    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query(None);
        url
    }

    /// The path of one of the routes as a browser link (relative to the host root).
    pub(crate) fn link(&self, path: &str) -> String {
        let prefix = self.base.path().trim_end_matches('/');
        format!("{prefix}{path}")
    }
}
