//! One deployment file for the `socialconnect` CLI and the host service: where the store is,
//! where the keys come from, who the controller is, which purposes rest on which legal basis,
//! how long data is kept, and which platforms are enabled.
//!
//! # The file
//!
//! ```toml
//! region = "eu-west-1"                          # sealed into records, named in exports
//! redirect_base = "https://connect.example.com" # callbacks: {base}/callback/{platform}
//!
//! [store]
//! url = "sqlite:///var/lib/socialconnect/sc.db" # or sqlite://relative/to/this/file.db,
//!                                               # or postgres://user@host/db (no password)
//! # url_env = "DATABASE_URL"                    # instead of `url`: a URL with a password
//!
//! [keys]
//! file = "/etc/socialconnect/keyring"           # mode 0600, `*id:base64key` lines
//! # env = "SOCIALCONNECT_KEYRING"               # or the keyring text in this variable
//! # demo = true                                 # the public demo key: sandboxes only
//!
//! [controller]
//! name = "Example GmbH"
//! email = "privacy@example.com"
//! policy_url = "https://example.com/privacy"
//! contact = "Data Protection Team"              # optional: contact, address,
//! authority_url = "https://www.bfdi.bund.de"    # jurisdiction, dpo, authority_url
//!
//! [notice]                                      # optional
//! version = "2026-11"
//! hash = "sha256:…"
//! published = "2026-11-01T00:00:00Z"
//! significant = false
//!
//! [[purpose]]                                   # one per purpose processed
//! name = "account_connection"                   # account_connection, publishing,
//! basis = "consent"                             # reading_content, analytics, messaging,
//! justification = "The user connects an account" # service_improvement, fraud_detection
//!
//! [[purpose]]
//! name = "fraud_detection"
//! basis = "legitimate_interest"                 # or contract: permitted without consent
//! justification = "Balancing test FD-2026-01"
//!
//! [retention]                                   # all optional
//! usage_log_days = 90
//! stale_connection_days = 30
//! dead_api_key_days = 30                        # `purge` also deletes dead API keys
//!
//! [age]                                         # optional
//! default_minimum = 13
//! minimum = { FR = 15 }
//!
//! [platforms.meta]                              # products: facebook, instagram, whatsapp
//! client_id = "1234567890"
//! client_secret_env = "META_APP_SECRET"         # secrets never in the file
//! products = ["facebook", "instagram"]
//! # graph_base, dialog_base, version, verify_token_env, webhook_secret_env
//!
//! [platforms.tiktok]                            # api_base, auth_base, app_kind, audited
//! client_id = "aw1b2c3d"                        # (webhooks signed with the client secret)
//! client_secret_env = "TIKTOK_CLIENT_SECRET"
//!
//! [platforms.linkedin]                          # api_base, auth_base, version, native_app
//! client_id = "86abc"                           # (webhooks signed with the client secret)
//! client_secret_env = "LINKEDIN_CLIENT_SECRET"
//!
//! [platforms.pinterest]                         # api_base, auth_base, legacy_refresh
//! client_id = "1500000"
//! client_secret_env = "PINTEREST_CLIENT_SECRET"
//!
//! [[sub_processor]]                             # optional, one per processor the host uses
//! name = "Example Cloud GmbH"
//! role = "hosting and the PostgreSQL database"
//! location = "eu-west-1"
//! # safeguard = "SCCs"                          # outside the EEA: the transfer safeguard
//! ```
//!
//! Unknown keys are refused. [`Deployment::from_toml`] checks everything it can without the
//! environment (shapes, URLs, purposes, bases, ages); secrets are read from their variables
//! only when something needs them ([`Deployment::hub_builder`], [`Deployment::open_store`]),
//! into `secrecy` types, and a missing one is a `Config` error naming the variable.

mod checks;
mod file;
mod platforms;
mod store;
mod validate;

use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use socialconnect_core::age::AgePolicy;
use socialconnect_core::consent::{ControllerInfo, LegalBasis, NoticeVersion};
use socialconnect_core::id::{PlatformId, Purpose};
use socialconnect_core::{Error, Result, RetentionPolicy};
use url::Url;

use checks::reason;
pub use platforms::PlatformSettings;

/// A parsed, validated deployment file. See the [module docs](self) for the format.
#[derive(Debug, Clone)]
pub struct Deployment {
    region: Option<String>,
    redirect_base: Option<Url>,
    store: StoreLocation,
    keys: KeySource,
    controller: Controller,
    notice: Option<NoticeVersion>,
    purposes: Vec<DeclaredPurpose>,
    retention: RetentionPolicy,
    dead_api_key_retention: Option<TimeDelta>,
    age: AgeSettings,
    platforms: Vec<PlatformSettings>,
    sub_processors: Vec<SubProcessor>,
}

/// A processor the host itself engages (hosting, database, key management, email), named in
/// the record of processing beside the platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubProcessor {
    /// Who.
    pub name: String,
    /// What it does with the data.
    pub role: String,
    /// Where it processes.
    pub location: String,
    /// The transfer safeguard outside the EEA, when one applies.
    pub safeguard: Option<String>,
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreLocation {
    /// An SQLite file (its key vault beside it, `<path>.keys`).
    Sqlite(PathBuf),
    /// A PostgreSQL URL written in the file (it carries no password).
    Postgres(String),
    /// A PostgreSQL URL read from this environment variable when the store is opened.
    PostgresFromEnv(String),
}

/// Where the key-encryption keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// A keyring file.
    File(PathBuf),
    /// The keyring text in an environment variable.
    Env(String),
    /// The public demo key (sandboxes only).
    Demo,
}

impl KeySource {
    /// A short description for reports (`keyring file /etc/…`), never key material.
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(p) => format!("local keyring from file {}", p.display()),
            KeySource::Env(v) => format!("local keyring from environment variable {v}"),
            KeySource::Demo => "the public demo key (INSECURE)".to_owned(),
        }
    }
}

/// The controller, as the deployment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Controller {
    /// Name, contact, email, address, policy URL, jurisdiction.
    pub info: ControllerInfo,
    /// The data protection officer, when appointed.
    pub dpo: Option<String>,
    /// The supervisory authority complaints go to.
    pub authority_url: Option<Url>,
}

/// A purpose the deployment processes, with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeclaredPurpose {
    /// The purpose.
    pub purpose: Purpose,
    /// Its Art. 6 basis. `Consent`: the hub permits it per subject only after a recorded
    /// consent; `Contract` / `LegitimateInterest`: declared on the hub, permitted until the
    /// subject objects.
    pub basis: LegalBasis,
    /// Why the basis applies.
    pub justification: String,
}

/// The children's age policy as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgeSettings {
    /// The policy the hub's age gate applies.
    pub policy: AgePolicy,
    /// The configured minimum outside the EU/EEA (`None`: the core default, 13).
    pub default_minimum: Option<u8>,
    /// The configured per-country minimums.
    pub overrides: Vec<(String, u8)>,
}

impl Deployment {
    /// Reads and validates a deployment file. Relative paths in it (an SQLite file, a keyring
    /// file) are taken relative to the file's directory.
    ///
    /// # Errors
    ///
    /// `Config` when the file cannot be read or is not a valid deployment (naming the field).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the deployment file {}: {}",
                path.display(),
                e.kind()
            ))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        validate::parse(&text, Some(base)).map_err(|e| {
            Error::config(format!(
                "deployment file {}: {}",
                path.display(),
                reason(&e)
            ))
        })
    }

    /// Parses and validates a deployment from TOML text. Relative paths are taken relative to
    /// the working directory.
    ///
    /// # Errors
    ///
    /// `Config` naming the bad field (a TOML syntax error names its line). Never panics.
    pub fn from_toml(text: &str) -> Result<Self> {
        validate::parse(text, None)
    }

    /// The enabled platforms' ids, in a stable order (Meta's products first, as configured).
    pub fn platforms(&self) -> Vec<PlatformId> {
        self.platforms.iter().flat_map(|p| p.ids()).collect()
    }

    /// The host's own processors, as the file lists them.
    pub fn sub_processors(&self) -> &[SubProcessor] {
        &self.sub_processors
    }

    /// The enabled platforms' settings.
    pub fn platform_settings(&self) -> &[PlatformSettings] {
        &self.platforms
    }

    /// The settings of the app serving `platform` (Meta's for `facebook`, `instagram` and
    /// `whatsapp`), when it is enabled: where a host's webhook route finds its secrets.
    pub fn settings_for(&self, platform: &PlatformId) -> Option<&PlatformSettings> {
        self.platforms.iter().find(|s| s.ids().contains(platform))
    }

    /// The host service's public base URL, when configured.
    pub fn redirect_base(&self) -> Option<&Url> {
        self.redirect_base.as_ref()
    }

    /// The callback URL for `platform`: `{redirect_base}/callback/{platform}`.
    pub fn callback_url(&self, platform: &PlatformId) -> Option<Url> {
        let base = self.redirect_base.as_ref()?;
        let mut url = base.clone();
        url.path_segments_mut()
            .ok()?
            .pop_if_empty()
            .push("callback")
            .push(platform.as_str());
        Some(url)
    }

    /// The region, when configured.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Where the store lives.
    pub fn store_location(&self) -> &StoreLocation {
        &self.store
    }

    /// Where the keys come from.
    pub fn key_source(&self) -> &KeySource {
        &self.keys
    }

    /// The controller.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The privacy notice version, when configured.
    pub fn notice(&self) -> Option<&NoticeVersion> {
        self.notice.as_ref()
    }

    /// The purposes with their declared legal bases, in file order.
    pub fn purposes(&self) -> &[DeclaredPurpose] {
        &self.purposes
    }

    /// The declaration for `purpose`, when the file makes one.
    pub fn purpose(&self, purpose: Purpose) -> Option<&DeclaredPurpose> {
        self.purposes.iter().find(|p| p.purpose == purpose)
    }

    /// The retention policy the hub's purge applies.
    pub fn retention(&self) -> &RetentionPolicy {
        &self.retention
    }

    /// How long dead (revoked, expired, superseded) API keys are kept before `purge` deletes
    /// them; `None`: they are kept.
    pub fn dead_api_key_retention(&self) -> Option<TimeDelta> {
        self.dead_api_key_retention
    }

    /// The children's age policy.
    pub fn age(&self) -> &AgeSettings {
        &self.age
    }
}
