//! From the file's TOML shape to a checked [`Deployment`]: every error names the field.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use socialconnect_core::age::{AgePolicy, Jurisdiction};
use socialconnect_core::consent::{ControllerInfo, LegalBasis, NoticeVersion};
use socialconnect_core::id::Purpose;
use socialconnect_core::{Error, Result, RetentionPolicy};
use url::Url;

use super::checks::{env_name, field, reason, url_field};
use super::file::{self, DeploymentFile};
use super::platforms;
use super::{
    AgeSettings, Controller, DeclaredPurpose, Deployment, KeySource, StoreLocation, SubProcessor,
};

/// Parses `text`; relative paths are resolved against `base` when given.
pub(super) fn parse(text: &str, base: Option<&Path>) -> Result<Deployment> {
    let de = toml::Deserializer::parse(text).map_err(|e| syntax(text, &e))?;
    let raw: DeploymentFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = syntax(text, e.inner());
        if path.is_empty() || path == "." {
            inner
        } else {
            field(&path, &format!("({})", reason(&inner)))
        }
    })?;
    let region = match raw.region {
        Some(r) if r.is_empty() || r.len() > 64 || r.chars().any(char::is_control) => {
            return Err(field("region", "must be 1-64 bytes of printable text"));
        }
        other => other,
    };
    let redirect_base = raw
        .redirect_base
        .as_deref()
        .map(|u| url_field("redirect_base", u))
        .transpose()?;
    Ok(Deployment {
        region,
        redirect_base,
        store: store(raw.store, base)?,
        keys: keys(raw.keys, base)?,
        controller: controller(raw.controller)?,
        notice: raw.notice.map(notice).transpose()?,
        purposes: purposes(raw.purpose)?,
        retention: retention(&raw.retention)?,
        dead_api_key_retention: raw
            .retention
            .dead_api_key_days
            .map(|d| days("retention.dead_api_key_days", d))
            .transpose()?,
        age: age(raw.age)?,
        platforms: platforms::settings(raw.platforms)?,
        sub_processors: sub_processors(raw.sub_processor)?,
    })
}

fn sub_processors(raw: Vec<file::SubProcessorSection>) -> Result<Vec<SubProcessor>> {
    raw.into_iter()
        .enumerate()
        .map(|(i, p)| {
            let text = |name: &str, value: String| {
                if value.trim().is_empty()
                    || value.len() > 200
                    || value.chars().any(char::is_control)
                {
                    Err(field(
                        &format!("sub_processor[{i}].{name}"),
                        "must be 1-200 bytes of printable text",
                    ))
                } else {
                    Ok(value)
                }
            };
            Ok(SubProcessor {
                name: text("name", p.name)?,
                role: text("role", p.role)?,
                location: text("location", p.location)?,
                safeguard: p.safeguard.map(|v| text("safeguard", v)).transpose()?,
            })
        })
        .collect()
}

/// A TOML error as `line N: message`, without echoing the line (it could hold anything).
fn syntax(text: &str, e: &toml::de::Error) -> Error {
    // Counted over bytes: a span need not fall on a character boundary.
    let line = e.span().map(|s| {
        let end = s.start.min(text.len());
        text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    });
    let msg = e.message().trim_end();
    match line {
        Some(n) => Error::config(format!("line {n}: {msg}")),
        None => Error::config(msg.to_owned()),
    }
}

fn resolve(path: &str, base: Option<&Path>) -> PathBuf {
    let p = PathBuf::from(path);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

fn store(s: file::StoreSection, base: Option<&Path>) -> Result<StoreLocation> {
    match (s.url, s.url_env) {
        (Some(_), Some(_)) => Err(field("store", "takes `url` or `url_env`, not both")),
        (None, None) => Err(field("store", "needs `url` or `url_env`")),
        (None, Some(var)) => Ok(StoreLocation::PostgresFromEnv(env_name(
            "store.url_env",
            var,
        )?)),
        (Some(url), None) => {
            if let Some(path) = url.strip_prefix("sqlite://") {
                if path.is_empty() {
                    return Err(field("store.url", "names no SQLite file"));
                }
                Ok(StoreLocation::Sqlite(resolve(path, base)))
            } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                let parsed =
                    Url::parse(&url).map_err(|_| field("store.url", "is not a valid URL"))?;
                if parsed.password().is_some() {
                    return Err(field(
                        "store.url",
                        "holds a password: put the URL in an environment variable and name it \
                         with `store.url_env`",
                    ));
                }
                Ok(StoreLocation::Postgres(url))
            } else {
                Err(field(
                    "store.url",
                    "must start with sqlite:// or postgres://",
                ))
            }
        }
    }
}

fn keys(k: file::KeysSection, base: Option<&Path>) -> Result<KeySource> {
    match (k.file, k.env, k.demo) {
        (Some(f), None, false) => Ok(KeySource::File(resolve(&f, base))),
        (None, Some(v), false) => Ok(KeySource::Env(env_name("keys.env", v)?)),
        (None, None, true) => Ok(KeySource::Demo),
        _ => Err(field(
            "keys",
            "takes exactly one of `file`, `env`, `demo = true`",
        )),
    }
}

fn controller(c: file::ControllerSection) -> Result<Controller> {
    for (name, value) in [
        ("controller.name", &c.name),
        ("controller.email", &c.email),
        ("controller.policy_url", &c.policy_url),
    ] {
        if value.trim().is_empty() {
            return Err(field(name, "must not be empty"));
        }
    }
    url_field("controller.policy_url", &c.policy_url)?;
    let mut info = ControllerInfo::new(c.name, c.email, c.policy_url);
    if let Some(v) = c.contact {
        info = info.with_contact(v);
    }
    if let Some(v) = c.address {
        info = info.with_address(v);
    }
    if let Some(v) = c.jurisdiction {
        info = info.with_jurisdiction(v);
    }
    Ok(Controller {
        info,
        dpo: c.dpo,
        authority_url: c
            .authority_url
            .as_deref()
            .map(|u| url_field("controller.authority_url", u))
            .transpose()?,
    })
}

fn notice(n: file::NoticeSection) -> Result<NoticeVersion> {
    if n.version.trim().is_empty() {
        return Err(field("notice.version", "must not be empty"));
    }
    if n.hash.trim().is_empty() {
        return Err(field("notice.hash", "must not be empty"));
    }
    let published = DateTime::parse_from_rfc3339(&n.published)
        .map_err(|_| {
            field(
                "notice.published",
                "must be an RFC 3339 time in quotes (\"2026-11-01T00:00:00Z\")",
            )
        })?
        .with_timezone(&Utc);
    Ok(NoticeVersion::new(
        n.version,
        n.hash,
        n.significant,
        published,
    ))
}

fn purposes(list: Vec<file::PurposeSection>) -> Result<Vec<DeclaredPurpose>> {
    let mut out: Vec<DeclaredPurpose> = Vec::with_capacity(list.len());
    for (i, p) in list.into_iter().enumerate() {
        let at = |f: &str| format!("purpose[{i}].{f}");
        let purpose = Purpose::parse(&p.name).map_err(|_| {
            let known: Vec<&str> = Purpose::ALL.iter().map(Purpose::as_str).collect();
            field(
                &at("name"),
                &format!("is not a purpose; one of {}", known.join(", ")),
            )
        })?;
        let basis = match p.basis.as_str() {
            "consent" => LegalBasis::Consent,
            "contract" => LegalBasis::Contract,
            "legitimate_interest" => LegalBasis::LegitimateInterest,
            _ => {
                return Err(field(
                    &at("basis"),
                    "must be consent, contract or legitimate_interest",
                ));
            }
        };
        if p.justification.trim().is_empty() {
            return Err(field(&at("justification"), "must not be empty"));
        }
        if out.iter().any(|d| d.purpose == purpose) {
            return Err(field(&at("name"), "declares a purpose a second time"));
        }
        out.push(DeclaredPurpose {
            purpose,
            basis,
            justification: p.justification,
        });
    }
    Ok(out)
}

fn days(name: &str, d: u32) -> Result<TimeDelta> {
    if d == 0 {
        return Err(field(name, "must be at least 1 day"));
    }
    Ok(TimeDelta::days(i64::from(d)))
}

fn retention(r: &file::RetentionSection) -> Result<RetentionPolicy> {
    let mut policy = RetentionPolicy::default();
    if let Some(d) = r.usage_log_days {
        policy = policy.with_usage_log(days("retention.usage_log_days", d)?);
    }
    if let Some(d) = r.stale_connection_days {
        policy = policy.with_stale_connections(days("retention.stale_connection_days", d)?);
    }
    Ok(policy)
}

fn age(a: file::AgeSection) -> Result<AgeSettings> {
    let mut policy = AgePolicy::new();
    if let Some(m) = a.default_minimum {
        policy = policy
            .with_default_minimum(m)
            .map_err(|_| field("age.default_minimum", "must be within 13..=21"))?;
    }
    let mut overrides = Vec::new();
    for (code, m) in a.minimum {
        let name = format!("age.minimum.{code}");
        let j = Jurisdiction::new(&code)
            .map_err(|_| field(&name, "is not an ISO 3166-1 alpha-2 country code"))?;
        policy = policy
            .with_minimum(j, m)
            .map_err(|_| field(&name, "must be within 13..=21"))?;
        overrides.push((code, m));
    }
    Ok(AgeSettings {
        policy,
        default_minimum: a.default_minimum,
        overrides,
    })
}
