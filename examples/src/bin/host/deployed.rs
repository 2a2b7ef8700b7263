//! The host configured by a deployment file (`socialconnect_cli::Deployment`, the same file
//! the `socialconnect` CLI reads): the real platforms, the deployment's store and keys.

use std::sync::Arc;

use socialconnect_axum::PrivacyInfo;
use socialconnect_axum::webhooks::{
    LinkedInReceiver, MetaReceiver, TikTokReceiver, WebhookReceiver,
};
use socialconnect_cli::Deployment;
use socialconnect_core::id::PlatformId;
use socialconnect_core::secret::WebhookSecret;
use socialconnect_core::webhook::DeliveryLog;
use socialconnect_core::{Result, SocialConnect};
use socialconnect_linkedin::webhook::LinkedInWebhooks;
use socialconnect_meta::privacy::MetaPrivacy;
use socialconnect_tiktok::webhook::TikTokWebhooks;

use crate::Receivers;

/// What the privacy page says, from the deployment's controller.
pub(crate) fn privacy_info(deployment: &Deployment) -> PrivacyInfo {
    let controller = deployment.controller();
    let authority = controller
        .authority_url
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| "https://www.edpb.europa.eu/about-edpb/about-edpb/members_en".into());
    PrivacyInfo::new(
        controller.info.name.clone(),
        controller.info.email.clone(),
        "the data protection authority",
        authority,
    )
    .with_notice_url(controller.info.policy_url.clone())
    .with_storage(format!(
        "This deployment stores data in {}.",
        deployment.region().unwrap_or("an unspecified region")
    ))
}

/// The webhook receivers the deployment has secrets for, and Meta's privacy callbacks.
pub(crate) fn receivers(
    deployment: &Deployment,
    hub: &SocialConnect,
    status: url::Url,
    deliveries: Arc<dyn DeliveryLog>,
) -> Result<Receivers> {
    let mut webhooks: Vec<Arc<dyn WebhookReceiver>> = Vec::new();
    let mut meta = None;
    for settings in deployment.platform_settings() {
        if let Some(config) = settings.meta_config()? {
            if let Some(token) = settings.verify_token()? {
                // Deliveries are signed with the app secret unless the file names another.
                let secret = match settings.webhook_secret()? {
                    Some(secret) => secret,
                    None => WebhookSecret::new(settings.client_secret()?.expose_secret()),
                };
                webhooks.push(Arc::new(MetaReceiver::new(secret, token)));
            } else {
                tracing::warn!("no Meta verify token configured: /webhooks/meta is not served");
            }
            meta = Some(MetaPrivacy::new(hub.clone(), &config, status.clone())?);
        }
        if let Some(config) = settings.tiktok_config()? {
            webhooks.push(Arc::new(TikTokReceiver::new(TikTokWebhooks::new(
                hub.clone(),
                &config,
                deliveries.clone(),
            )?)));
        }
        if let Some(config) = settings.linkedin_config()? {
            webhooks.push(Arc::new(LinkedInReceiver::new(LinkedInWebhooks::new(
                &config,
            ))));
        }
    }
    Ok(Receivers { webhooks, meta })
}

/// The platforms offered on the privacy page: those the deployment enables.
pub(crate) fn platforms(deployment: &Deployment) -> Vec<PlatformId> {
    deployment.platforms()
}
