//! The deployment file's TOML shape, as written: every table refuses unknown keys, so a typo
//! is an error rather than a silently ignored setting. Checked and turned into the domain
//! values by `deployment::validate`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeploymentFile {
    /// Where the data is stored (`eu-west-1`): sealed into records, named in exports.
    pub region: Option<String>,
    /// The host service's public base URL; callbacks are `{base}/callback/{platform}`.
    pub redirect_base: Option<String>,
    pub store: StoreSection,
    pub keys: KeysSection,
    pub controller: ControllerSection,
    pub notice: Option<NoticeSection>,
    #[serde(default)]
    pub purpose: Vec<PurposeSection>,
    #[serde(default)]
    pub retention: RetentionSection,
    #[serde(default)]
    pub age: AgeSection,
    #[serde(default)]
    pub platforms: PlatformsSection,
    /// The host's own processors (hosting, database, key management, email).
    #[serde(default)]
    pub sub_processor: Vec<SubProcessorSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubProcessorSection {
    pub name: String,
    /// What it does with the data (`hosting`, `database`, `email`, …).
    pub role: String,
    /// Where it processes (a region or country).
    pub location: String,
    /// The transfer safeguard outside the EEA (`SCCs`, `adequacy decision`, …).
    pub safeguard: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreSection {
    /// `sqlite:///abs/path.db`, `sqlite://relative.db` or `postgres://…` (no password).
    pub url: Option<String>,
    /// An environment variable holding the URL instead (a PostgreSQL URL with a password).
    pub url_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeysSection {
    /// A keyring file (mode 0600).
    pub file: Option<String>,
    /// An environment variable holding the keyring text.
    pub env: Option<String>,
    /// The public demo key: sandboxes only; `doctor` fails on it.
    #[serde(default)]
    pub demo: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControllerSection {
    pub name: String,
    pub email: String,
    pub policy_url: String,
    pub contact: Option<String>,
    pub address: Option<String>,
    pub jurisdiction: Option<String>,
    /// The data protection officer, when one is appointed.
    pub dpo: Option<String>,
    /// The supervisory authority complaints go to.
    pub authority_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeSection {
    pub version: String,
    pub hash: String,
    /// RFC 3339 time the version takes effect.
    pub published: String,
    #[serde(default)]
    pub significant: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PurposeSection {
    pub name: String,
    pub basis: String,
    pub justification: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionSection {
    pub usage_log_days: Option<u32>,
    pub stale_connection_days: Option<u32>,
    /// Revoked or expired API keys are deleted this long after they stopped working.
    pub dead_api_key_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgeSection {
    /// Outside the EU/EEA where no per-country minimum is set (default 13).
    pub default_minimum: Option<u8>,
    /// Per ISO country code.
    #[serde(default)]
    pub minimum: BTreeMap<String, u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlatformsSection {
    pub meta: Option<MetaSection>,
    pub tiktok: Option<TikTokSection>,
    pub linkedin: Option<LinkedInSection>,
    pub pinterest: Option<PinterestSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetaSection {
    pub client_id: String,
    pub client_secret_env: String,
    /// `facebook`, `instagram`, `whatsapp` (default: the first two).
    pub products: Option<Vec<String>>,
    pub graph_base: Option<String>,
    pub dialog_base: Option<String>,
    pub version: Option<String>,
    /// Webhook subscription verify token.
    pub verify_token_env: Option<String>,
    /// Webhook signing secret, when not the app secret.
    pub webhook_secret_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TikTokSection {
    pub client_id: String,
    pub client_secret_env: String,
    pub api_base: Option<String>,
    pub auth_base: Option<String>,
    /// `web`, `desktop` or `mobile`.
    pub app_kind: Option<String>,
    #[serde(default)]
    pub audited: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkedInSection {
    pub client_id: String,
    pub client_secret_env: String,
    pub api_base: Option<String>,
    pub auth_base: Option<String>,
    pub version: Option<String>,
    #[serde(default)]
    pub native_app: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinterestSection {
    pub client_id: String,
    pub client_secret_env: String,
    pub api_base: Option<String>,
    pub auth_base: Option<String>,
    #[serde(default)]
    pub legacy_refresh: bool,
}
