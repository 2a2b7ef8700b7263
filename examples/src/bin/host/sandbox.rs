//! The sandbox the demo host runs against: the four platforms simulated on loopback, as the
//! quickstart does, so the whole service can be clicked through with no credentials.

use std::sync::Arc;

use socialconnect_axum::webhooks::{LinkedInReceiver, MetaReceiver, TikTokReceiver};
use socialconnect_core::automation::ActionExecutor;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::http::HttpClient;
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_core::webhook::DeliveryLog;
use socialconnect_core::{Result, SocialConnect};
use socialconnect_linkedin::webhook::LinkedInWebhooks;
use socialconnect_linkedin::{LinkedInActions, LinkedInClient, LinkedInConfig, LinkedInLogin};
use socialconnect_meta::privacy::MetaPrivacy;
use socialconnect_meta::{FacebookLogin, MetaActions, MetaClient, MetaConfig, MetaProduct};
use socialconnect_pinterest::{PinterestActions, PinterestClient, PinterestConfig};
use socialconnect_testkit::linkedin::LinkedInSimulator;
use socialconnect_testkit::meta::GraphSimulator;
use socialconnect_testkit::pinterest::PinterestSimulator;
use socialconnect_testkit::tiktok::TikTokSimulator;
use socialconnect_tiktok::webhook::TikTokWebhooks;
use socialconnect_tiktok::{TikTokActions, TikTokClient, TikTokConfig, TikTokLogin};

use crate::Receivers;

/// The verify token the simulated Meta app dashboard holds.
pub(crate) const META_VERIFY_TOKEN: &str = "sandbox-verify-token";

/// The running simulators and the platform configurations pointed at them.
pub(crate) struct Sandbox {
    pub(crate) meta: GraphSimulator,
    pub(crate) tiktok: TikTokSimulator,
    pub(crate) linkedin: LinkedInSimulator,
    pub(crate) pinterest: PinterestSimulator,
    meta_config: MetaConfig,
    tiktok_config: TikTokConfig,
    linkedin_config: LinkedInConfig,
    pinterest_config: PinterestConfig,
}

impl Sandbox {
    pub(crate) async fn start() -> Self {
        let meta = GraphSimulator::builder().start().await;
        let tiktok = TikTokSimulator::builder().videos(3).start().await;
        let linkedin = LinkedInSimulator::builder()
            .organization("2414183", "Sandbox Bakery", "ADMINISTRATOR", "APPROVED")
            .start()
            .await;
        let pinterest = PinterestSimulator::builder().boards(2).start().await;
        let meta_config = MetaConfig::new(meta.app_id(), ClientSecret::new(meta.app_secret()))
            .with_graph_base(meta.base_url())
            .with_dialog_base(meta.base_url());
        let tiktok_config = TikTokConfig::new(
            tiktok.client_key(),
            ClientSecret::new(tiktok.client_secret()),
        )
        .with_api_base(tiktok.base_url())
        .with_auth_base(tiktok.base_url());
        let linkedin_config = LinkedInConfig::new(
            linkedin.client_id(),
            ClientSecret::new(linkedin.client_secret()),
        )
        .with_api_base(linkedin.base_url())
        .with_auth_base(linkedin.base_url());
        let pinterest_config = PinterestConfig::new(
            pinterest.client_id(),
            ClientSecret::new(pinterest.client_secret()),
        )
        .with_api_base(pinterest.base_url())
        .with_auth_base(pinterest.base_url());
        Self {
            meta,
            tiktok,
            linkedin,
            pinterest,
            meta_config,
            tiktok_config,
            linkedin_config,
            pinterest_config,
        }
    }

    /// The hub's platform connectors.
    pub(crate) fn platforms(&self, http: &HttpClient) -> Result<Vec<Arc<dyn Platform>>> {
        let meta = MetaClient::new(self.meta_config.clone(), http.clone());
        let tiktok = TikTokClient::new(self.tiktok_config.clone(), http.clone());
        let linkedin = LinkedInClient::new(self.linkedin_config.clone(), http.clone());
        let pinterest = PinterestClient::new(self.pinterest_config.clone(), http.clone());
        Ok(vec![
            Arc::new(FacebookLogin::new(meta.clone(), MetaProduct::Facebook)?),
            Arc::new(FacebookLogin::new(meta, MetaProduct::Instagram)?),
            Arc::new(TikTokLogin::new(
                tiktok,
                http.clone(),
                Arc::new(SystemClock),
            )?),
            Arc::new(LinkedInLogin::new(&linkedin, Arc::new(SystemClock))?),
            Arc::new(pinterest.login(Arc::new(SystemClock))?),
        ])
    }

    /// The scheduled-action executors, one per platform.
    pub(crate) fn executors(&self, http: &HttpClient) -> Result<Vec<Arc<dyn ActionExecutor>>> {
        let meta = MetaClient::new(self.meta_config.clone(), http.clone());
        Ok(vec![
            Arc::new(MetaActions::new(meta.clone(), MetaProduct::Facebook)?),
            Arc::new(MetaActions::new(meta, MetaProduct::Instagram)?),
            Arc::new(TikTokActions::new(TikTokClient::new(
                self.tiktok_config.clone(),
                http.clone(),
            ))),
            Arc::new(LinkedInActions::new(LinkedInClient::new(
                self.linkedin_config.clone(),
                http.clone(),
            ))),
            Arc::new(PinterestActions::new(PinterestClient::new(
                self.pinterest_config.clone(),
                http.clone(),
            ))),
        ])
    }

    /// The webhook receivers and Meta's privacy callbacks, bound to `hub`.
    pub(crate) fn receivers(
        &self,
        hub: &SocialConnect,
        status: url::Url,
        deliveries: Arc<dyn DeliveryLog>,
    ) -> Result<Receivers> {
        Ok(Receivers {
            webhooks: vec![
                Arc::new(MetaReceiver::new(
                    WebhookSecret::new(self.meta.app_secret()),
                    WebhookSecret::new(META_VERIFY_TOKEN),
                )),
                Arc::new(TikTokReceiver::new(TikTokWebhooks::new(
                    hub.clone(),
                    &self.tiktok_config,
                    deliveries,
                )?)),
                Arc::new(LinkedInReceiver::new(LinkedInWebhooks::new(
                    &self.linkedin_config,
                ))),
            ],
            meta: Some(MetaPrivacy::new(hub.clone(), &self.meta_config, status)?),
        })
    }
}
