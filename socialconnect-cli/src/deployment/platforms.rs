//! The enabled platforms: their settings as configured, their apps' configs (secrets read
//! from the environment at that moment) and the connectors a hub holds.

use std::sync::Arc;

use socialconnect_core::Result;
use socialconnect_core::automation::ActionExecutor;
use socialconnect_core::clock::SystemClock;
use socialconnect_core::connect::env;
use socialconnect_core::http::HttpClient;
use socialconnect_core::id::PlatformId;
use socialconnect_core::platform::Platform;
use socialconnect_core::secret::{ClientSecret, WebhookSecret};
use socialconnect_linkedin::{LinkedInActions, LinkedInClient, LinkedInConfig, LinkedInLogin};
use socialconnect_meta::{FacebookLogin, MetaActions, MetaClient, MetaConfig, MetaProduct};
use socialconnect_pinterest::{PinterestActions, PinterestClient, PinterestConfig};
use socialconnect_tiktok::{AppKind, TikTokActions, TikTokClient, TikTokConfig, TikTokLogin};
use url::Url;

use super::checks::{env_name, field, url_field};
use super::file::PlatformsSection;

/// One enabled platform app, as the deployment file configures it. Holds no secret: only the
/// names of the environment variables that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSettings {
    app: App,
    client_id: String,
    client_secret_env: String,
    webhook_secret_env: Option<String>,
    verify_token_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum App {
    Meta {
        products: Vec<MetaProduct>,
        graph_base: Option<Url>,
        dialog_base: Option<Url>,
        version: Option<String>,
    },
    TikTok {
        api_base: Option<Url>,
        auth_base: Option<Url>,
        app_kind: AppKind,
        audited: bool,
    },
    LinkedIn {
        api_base: Option<Url>,
        auth_base: Option<Url>,
        version: Option<String>,
        native_app: bool,
    },
    Pinterest {
        api_base: Option<Url>,
        auth_base: Option<Url>,
        legacy_refresh: bool,
    },
}

impl PlatformSettings {
    /// The table's name in the file: `meta`, `tiktok`, `linkedin`, `pinterest`.
    pub fn name(&self) -> &'static str {
        match self.app {
            App::Meta { .. } => "meta",
            App::TikTok { .. } => "tiktok",
            App::LinkedIn { .. } => "linkedin",
            App::Pinterest { .. } => "pinterest",
        }
    }

    /// The platform ids this app serves (Meta: one per product).
    pub fn ids(&self) -> Vec<PlatformId> {
        match &self.app {
            App::Meta { products, .. } => products.iter().map(|p| meta_id(*p)).collect(),
            App::TikTok { .. } => vec![PlatformId::TIKTOK],
            App::LinkedIn { .. } => vec![PlatformId::LINKEDIN],
            App::Pinterest { .. } => vec![PlatformId::PINTEREST],
        }
    }

    /// The app's public client id (TikTok's client key).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The environment variable holding the client secret.
    pub fn client_secret_env(&self) -> &str {
        &self.client_secret_env
    }

    /// The client secret, read from its environment variable now.
    ///
    /// # Errors
    ///
    /// `Config` naming the variable when it is unset or blank.
    pub fn client_secret(&self) -> Result<ClientSecret> {
        env::required(&self.client_secret_env).map(ClientSecret::new)
    }

    /// Meta's webhook signing secret from `webhook_secret_env`, when configured (otherwise the
    /// app secret signs; TikTok and LinkedIn always sign with the client secret).
    ///
    /// # Errors
    ///
    /// `Config` naming the variable when it is configured but unset.
    pub fn webhook_secret(&self) -> Result<Option<WebhookSecret>> {
        read_optional(self.webhook_secret_env.as_deref())
    }

    /// The webhook subscription verify token from `verify_token_env` (Meta), when configured.
    ///
    /// # Errors
    ///
    /// `Config` naming the variable when it is configured but unset.
    pub fn verify_token(&self) -> Result<Option<WebhookSecret>> {
        read_optional(self.verify_token_env.as_deref())
    }

    /// Every environment variable this app reads, with what it holds.
    pub fn secret_envs(&self) -> Vec<(&str, &'static str)> {
        let mut out = vec![(self.client_secret_env.as_str(), "client secret")];
        if let Some(v) = &self.webhook_secret_env {
            out.push((v.as_str(), "webhook secret"));
        }
        if let Some(v) = &self.verify_token_env {
            out.push((v.as_str(), "webhook verify token"));
        }
        out
    }

    /// The API version override, when the file sets one (Meta Graph, `LinkedIn-Version`).
    pub fn version_override(&self) -> Option<&str> {
        match &self.app {
            App::Meta { version, .. } | App::LinkedIn { version, .. } => version.as_deref(),
            _ => None,
        }
    }

    /// The Meta app's config (secret read now); `None` for another platform.
    pub fn meta_config(&self) -> Result<Option<MetaConfig>> {
        let App::Meta {
            graph_base,
            dialog_base,
            version,
            ..
        } = &self.app
        else {
            return Ok(None);
        };
        let mut c = MetaConfig::new(&self.client_id, self.client_secret()?);
        if let Some(u) = graph_base {
            c = c.with_graph_base(u.clone());
        }
        if let Some(u) = dialog_base {
            c = c.with_dialog_base(u.clone());
        }
        if let Some(v) = version {
            c = c.with_version(v);
        }
        Ok(Some(c))
    }

    /// The TikTok app's config (secret read now); `None` for another platform.
    pub fn tiktok_config(&self) -> Result<Option<TikTokConfig>> {
        let App::TikTok {
            api_base,
            auth_base,
            app_kind,
            audited,
        } = &self.app
        else {
            return Ok(None);
        };
        let mut c = TikTokConfig::new(&self.client_id, self.client_secret()?)
            .with_app_kind(*app_kind)
            .with_audited(*audited);
        if let Some(u) = api_base {
            c = c.with_api_base(u.clone());
        }
        if let Some(u) = auth_base {
            c = c.with_auth_base(u.clone());
        }
        Ok(Some(c))
    }

    /// The LinkedIn app's config (secret read now); `None` for another platform.
    pub fn linkedin_config(&self) -> Result<Option<LinkedInConfig>> {
        let App::LinkedIn {
            api_base,
            auth_base,
            version,
            native_app,
        } = &self.app
        else {
            return Ok(None);
        };
        let mut c = LinkedInConfig::new(&self.client_id, self.client_secret()?)
            .with_native_app(*native_app);
        if let Some(u) = api_base {
            c = c.with_api_base(u.clone());
        }
        if let Some(u) = auth_base {
            c = c.with_auth_base(u.clone());
        }
        if let Some(v) = version {
            c = c.with_version(v)?;
        }
        Ok(Some(c))
    }

    /// The Pinterest app's config (secret read now); `None` for another platform.
    pub fn pinterest_config(&self) -> Result<Option<PinterestConfig>> {
        let App::Pinterest {
            api_base,
            auth_base,
            legacy_refresh,
        } = &self.app
        else {
            return Ok(None);
        };
        let mut c = PinterestConfig::new(&self.client_id, self.client_secret()?)
            .with_legacy_refresh(*legacy_refresh);
        if let Some(u) = api_base {
            c = c.with_api_base(u.clone());
        }
        if let Some(u) = auth_base {
            c = c.with_auth_base(u.clone());
        }
        Ok(Some(c))
    }

    /// The hub connectors for this app, sending through `http`.
    pub(crate) fn connectors(&self, http: &HttpClient) -> Result<Vec<Arc<dyn Platform>>> {
        let clock = Arc::new(SystemClock);
        let mut out: Vec<Arc<dyn Platform>> = Vec::new();
        if let (Some(c), App::Meta { products, .. }) = (self.meta_config()?, &self.app) {
            let client = MetaClient::new(c, http.clone());
            for p in products {
                out.push(Arc::new(FacebookLogin::new(client.clone(), *p)?));
            }
        }
        if let Some(c) = self.tiktok_config()? {
            let client = TikTokClient::new(c, http.clone());
            out.push(Arc::new(TikTokLogin::new(
                client,
                http.clone(),
                clock.clone(),
            )?));
        }
        if let Some(c) = self.linkedin_config()? {
            let client = LinkedInClient::new(c, http.clone());
            out.push(Arc::new(LinkedInLogin::new(&client, clock.clone())?));
        }
        if let Some(c) = self.pinterest_config()? {
            let client = PinterestClient::new(c, http.clone());
            out.push(Arc::new(client.login(clock.clone())?));
        }
        Ok(out)
    }

    /// The scheduled-action executors for this app, sending through `http` (WhatsApp runs
    /// none: its messages answer a user within 24 hours).
    pub(crate) fn executors(&self, http: &HttpClient) -> Result<Vec<Arc<dyn ActionExecutor>>> {
        let mut out: Vec<Arc<dyn ActionExecutor>> = Vec::new();
        if let (Some(c), App::Meta { products, .. }) = (self.meta_config()?, &self.app) {
            let client = MetaClient::new(c, http.clone());
            for p in products {
                if matches!(p, MetaProduct::Facebook | MetaProduct::Instagram) {
                    out.push(Arc::new(MetaActions::new(client.clone(), *p)?));
                }
            }
        }
        if let Some(c) = self.tiktok_config()? {
            out.push(Arc::new(TikTokActions::new(TikTokClient::new(
                c,
                http.clone(),
            ))));
        }
        if let Some(c) = self.linkedin_config()? {
            out.push(Arc::new(LinkedInActions::new(LinkedInClient::new(
                c,
                http.clone(),
            ))));
        }
        if let Some(c) = self.pinterest_config()? {
            out.push(Arc::new(PinterestActions::new(PinterestClient::new(
                c,
                http.clone(),
            ))));
        }
        Ok(out)
    }
}

fn meta_id(p: MetaProduct) -> PlatformId {
    match p {
        MetaProduct::Facebook => PlatformId::FACEBOOK,
        MetaProduct::Instagram => PlatformId::INSTAGRAM,
        _ => PlatformId::WHATSAPP,
    }
}

fn read_optional(var: Option<&str>) -> Result<Option<WebhookSecret>> {
    var.map(|v| env::required(v).map(WebhookSecret::new))
        .transpose()
}

fn base(name: &str, value: Option<String>) -> Result<Option<Url>> {
    value.as_deref().map(|u| url_field(name, u)).transpose()
}

fn opt_env(name: &str, value: Option<String>) -> Result<Option<String>> {
    value.map(|v| env_name(name, v)).transpose()
}

fn common(
    table: &str,
    client_id: String,
    secret_env: String,
    webhook: Option<String>,
    verify: Option<String>,
    app: App,
) -> Result<PlatformSettings> {
    if client_id.trim().is_empty() {
        return Err(field(&format!("{table}.client_id"), "must not be empty"));
    }
    Ok(PlatformSettings {
        app,
        client_id,
        client_secret_env: env_name(&format!("{table}.client_secret_env"), secret_env)?,
        webhook_secret_env: opt_env(&format!("{table}.webhook_secret_env"), webhook)?,
        verify_token_env: opt_env(&format!("{table}.verify_token_env"), verify)?,
    })
}

/// Checks the `[platforms.*]` tables.
pub(super) fn settings(p: PlatformsSection) -> Result<Vec<PlatformSettings>> {
    let mut out = Vec::new();
    if let Some(m) = p.meta {
        let t = "platforms.meta";
        let names = m
            .products
            .unwrap_or_else(|| vec!["facebook".to_owned(), "instagram".to_owned()]);
        let mut products = Vec::new();
        for name in &names {
            let product = match name.as_str() {
                "facebook" => MetaProduct::Facebook,
                "instagram" => MetaProduct::Instagram,
                "whatsapp" => MetaProduct::WhatsApp,
                _ => {
                    return Err(field(
                        &format!("{t}.products"),
                        "takes facebook, instagram and whatsapp",
                    ));
                }
            };
            if !products.contains(&product) {
                products.push(product);
            }
        }
        if products.is_empty() {
            return Err(field(&format!("{t}.products"), "must name a product"));
        }
        let app = App::Meta {
            products,
            graph_base: base(&format!("{t}.graph_base"), m.graph_base)?,
            dialog_base: base(&format!("{t}.dialog_base"), m.dialog_base)?,
            version: m.version,
        };
        out.push(common(
            t,
            m.client_id,
            m.client_secret_env,
            m.webhook_secret_env,
            m.verify_token_env,
            app,
        )?);
    }
    if let Some(s) = p.tiktok {
        let t = "platforms.tiktok";
        let app_kind = match s.app_kind.as_deref() {
            None | Some("web") => AppKind::Web,
            Some("desktop") => AppKind::Desktop,
            Some("mobile") => AppKind::Mobile,
            Some(_) => {
                return Err(field(
                    &format!("{t}.app_kind"),
                    "must be web, desktop or mobile",
                ));
            }
        };
        let app = App::TikTok {
            api_base: base(&format!("{t}.api_base"), s.api_base)?,
            auth_base: base(&format!("{t}.auth_base"), s.auth_base)?,
            app_kind,
            audited: s.audited,
        };
        out.push(common(
            t,
            s.client_id,
            s.client_secret_env,
            None,
            None,
            app,
        )?);
    }
    if let Some(s) = p.linkedin {
        let t = "platforms.linkedin";
        if let Some(v) = &s.version
            && !socialconnect_linkedin::version::is_well_formed(v)
        {
            return Err(field(
                &format!("{t}.version"),
                "must be YYYYMM, e.g. 202611",
            ));
        }
        let app = App::LinkedIn {
            api_base: base(&format!("{t}.api_base"), s.api_base)?,
            auth_base: base(&format!("{t}.auth_base"), s.auth_base)?,
            version: s.version,
            native_app: s.native_app,
        };
        out.push(common(
            t,
            s.client_id,
            s.client_secret_env,
            None,
            None,
            app,
        )?);
    }
    if let Some(s) = p.pinterest {
        let t = "platforms.pinterest";
        let app = App::Pinterest {
            api_base: base(&format!("{t}.api_base"), s.api_base)?,
            auth_base: base(&format!("{t}.auth_base"), s.auth_base)?,
            legacy_refresh: s.legacy_refresh,
        };
        out.push(common(
            t,
            s.client_id,
            s.client_secret_env,
            None,
            None,
            app,
        )?);
    }
    Ok(out)
}
