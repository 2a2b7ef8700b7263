//! `doctor`: checks a deployment can run — the file, the keys (and that they are not the
//! public demo key), the store and its schema, the platforms' secrets, and the pinned API
//! versions against their sunset tables.

use chrono::NaiveDate;
use serde::Serialize;
use socialconnect_core::connect::version::{self, ApiVersion, DEFAULT_MIN_DAYS_LEFT, PinError};
use socialconnect_store::EncryptedStore;

use crate::deployment::Deployment;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// Works, but needs attention soon.
    Warn,
    /// Does not work, or must not be run this way.
    Fail,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found (never a secret).
    pub detail: String,
}

/// Every check `doctor` ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorReport {
    /// The checks, in the order run.
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// True when no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Fail)
    }

    fn push(&mut self, name: impl Into<String>, status: CheckStatus, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status,
            detail: detail.into(),
        });
    }
}

/// Runs every check against `deployment` as of `today` (UTC date).
pub async fn diagnose(deployment: &Deployment, today: NaiveDate) -> DoctorReport {
    let mut r = DoctorReport { checks: Vec::new() };
    r.push("config", CheckStatus::Ok, "the deployment file is valid");
    let source = deployment.key_source().describe();
    match deployment.keyring() {
        Ok(k) if k.is_demo() => r.push(
            "keys",
            CheckStatus::Fail,
            format!(
                "{source} holds the public demo key: anything it protects is readable by anyone"
            ),
        ),
        Ok(k) => r.push(
            "keys",
            CheckStatus::Ok,
            format!(
                "{source}: {} key(s), primary `{}`",
                k.key_ids().len(),
                socialconnect_core::keys::KeyProvider::primary(&k)
            ),
        ),
        Err(e) => r.push("keys", CheckStatus::Fail, e.to_string()),
    }
    match deployment.open_store().await {
        Ok(store) => {
            r.push(
                "store",
                CheckStatus::Ok,
                format!(
                    "opened; schema version {}",
                    EncryptedStore::schema_version()
                ),
            );
            store.close().await;
        }
        Err(e) => r.push("store", CheckStatus::Fail, e.to_string()),
    }
    for settings in deployment.platform_settings() {
        for (var, what) in settings.secret_envs() {
            let name = format!("platforms.{}: {what}", settings.name());
            match socialconnect_core::connect::env::required(var) {
                Ok(_) => r.push(name, CheckStatus::Ok, format!("{var} is set")),
                Err(e) => r.push(name, CheckStatus::Fail, e.to_string()),
            }
        }
        pin_check(&mut r, settings.name(), settings.version_override(), today);
    }
    r
}

fn pin_check(r: &mut DoctorReport, app: &str, override_: Option<&str>, today: NaiveDate) {
    let (table, pinned): (&[ApiVersion], &str) = match app {
        "meta" => (
            socialconnect_meta::version::GRAPH_VERSIONS,
            socialconnect_meta::GRAPH_API_VERSION,
        ),
        "linkedin" => (
            socialconnect_linkedin::version::LINKEDIN_VERSIONS,
            socialconnect_linkedin::LINKEDIN_VERSION,
        ),
        _ => {
            r.push(
                format!("platforms.{app}: API version"),
                CheckStatus::Ok,
                "the crate pins no dated API version (the version is in the API path)",
            );
            return;
        }
    };
    let label = override_.unwrap_or(pinned);
    let name = format!("platforms.{app}: API version {label}");
    match version::check_pin(table, label, today, DEFAULT_MIN_DAYS_LEFT) {
        Ok(v) => {
            let end = match v.end_date() {
                Some(d) => format!(
                    "ends {d}{}",
                    if v.end_is_estimated() {
                        " (estimated)"
                    } else {
                        ""
                    }
                ),
                None => "no end announced".to_owned(),
            };
            r.push(name, CheckStatus::Ok, end);
        }
        Err(e @ PinError::NearEnd { days_left, .. }) => {
            let status = if days_left <= 0 {
                CheckStatus::Fail
            } else {
                CheckStatus::Warn
            };
            r.push(name, status, e.to_string());
        }
        Err(e) => r.push(name, CheckStatus::Warn, e.to_string()),
    }
}
