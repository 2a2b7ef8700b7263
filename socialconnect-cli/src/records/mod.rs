//! The GDPR Art. 30 record of processing activities, generated from what the deployment and
//! the hub built from it actually configure: the controller, the enabled platforms as
//! recipients, each purpose with its legal basis and the OAuth scopes each platform uses for
//! it (`Platform::scopes_for` on the connectors the hub holds), the data categories the
//! encrypted store keeps, the retention periods the purge applies, the region, the key
//! provider and the children's age policy.
//!
//! A purpose some enabled platform has scopes for, but for which the deployment declares no
//! legal basis, is **flagged**: the hub has nothing to permit it on except an individual
//! consent record, and the record says so rather than leaving the gap unnoticed.

mod categories;
mod markdown;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use socialconnect_core::SocialConnect;
use socialconnect_core::consent::LegalBasis;
use socialconnect_core::id::Purpose;

use crate::deployment::Deployment;

pub use categories::DataCategory;

/// The record of processing activities (Art. 30(1)) for one deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordOfProcessing {
    /// When the record was generated.
    pub generated_at: DateTime<Utc>,
    /// Art. 30(1)(a): the controller and its contacts.
    pub controller: ControllerEntry,
    /// Art. 30(1)(b): the purposes, with basis, justification and scopes.
    pub purposes: Vec<PurposeEntry>,
    /// Art. 30(1)(c): the categories of personal data the store keeps.
    pub data_categories: Vec<DataCategory>,
    /// Art. 30(1)(d): the recipients (the enabled platforms).
    pub recipients: Vec<RecipientEntry>,
    /// The processors the host engages (`[[sub_processor]]` in the deployment file).
    pub sub_processors: Vec<SubProcessorEntry>,
    /// Art. 30(1)(e): where the data is stored, and what leaves it.
    pub transfers: TransferEntry,
    /// Art. 30(1)(f): time limits for erasure.
    pub retention: RetentionEntry,
    /// Art. 30(1)(g): the technical measures (key provider, encryption).
    pub security: SecurityEntry,
    /// The children's age policy the consent gate applies (Art. 8).
    pub age_policy: AgeEntry,
    /// The privacy notice version registered on the hub.
    pub notice: Option<NoticeEntry>,
    /// Problems found: purposes without a declared basis, the demo key.
    pub flags: Vec<String>,
}

/// The controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ControllerEntry {
    /// Name.
    pub name: String,
    /// Privacy contact email.
    pub email: String,
    /// Privacy contact (person or team).
    pub contact: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// The data protection officer.
    pub dpo: Option<String>,
    /// Where the privacy notice is published.
    pub policy_url: String,
    /// The supervisory authority complaints go to.
    pub authority_url: Option<String>,
}

/// One purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PurposeEntry {
    /// The purpose's stable name.
    pub purpose: String,
    /// `consent`, `contract`, `legitimate_interest`, or `None` when undeclared.
    pub basis: Option<String>,
    /// The declared justification.
    pub justification: Option<String>,
    /// How the hub's consent gate treats it.
    pub gate: String,
    /// Per platform id, the OAuth scopes its connector uses for this purpose.
    pub scopes: BTreeMap<String, Vec<String>>,
    /// Why the purpose is flagged, when it is.
    pub flag: Option<String>,
}

/// One recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecipientEntry {
    /// The platform id (`facebook`, `tiktok`, …).
    pub platform: String,
    /// The app's table in the deployment file (`meta`, `tiktok`, …).
    pub app: String,
    /// The app's public client id.
    pub client_id: String,
    /// What the platform receives.
    pub role: String,
}

/// A processor the host engages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubProcessorEntry {
    /// Who.
    pub name: String,
    /// What it does with the data.
    pub role: String,
    /// Where it processes.
    pub location: String,
    /// The transfer safeguard outside the EEA, when one applies.
    pub safeguard: Option<String>,
}

/// Where data is stored and what leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransferEntry {
    /// The configured region, sealed into every record written.
    pub region: Option<String>,
    /// What goes to each platform.
    pub outbound: String,
}

/// Time limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RetentionEntry {
    /// Usage-log entries are deleted after this many days.
    pub usage_log_days: i64,
    /// Connections needing reconnection or revoked are deleted after this many days.
    pub stale_connection_days: i64,
    /// Dead API keys are deleted after this many days (`None`: kept).
    pub dead_api_key_days: Option<i64>,
}

/// Technical measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SecurityEntry {
    /// The key provider.
    pub key_provider: String,
    /// How records are protected.
    pub encryption: String,
}

/// The age policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgeEntry {
    /// The minimum outside the EU/EEA where no country minimum is set.
    pub default_minimum: u8,
    /// Configured per-country minimums.
    pub overrides: BTreeMap<String, u8>,
    /// How the rest of the EU/EEA is treated.
    pub eea: String,
}

/// The notice version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NoticeEntry {
    /// Version label.
    pub version: String,
    /// Hash of its text.
    pub hash: String,
    /// When it takes effect.
    pub effective_at: DateTime<Utc>,
}

fn basis_name(b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => "consent",
        LegalBasis::Contract => "contract",
        _ => "legitimate_interest",
    }
}

impl RecordOfProcessing {
    /// Generates the record for `deployment` and the hub built from it (with
    /// [`Deployment::hub_builder`]): bases and scopes are read from the hub, so the record
    /// says what the hub enforces.
    pub fn generate(deployment: &Deployment, hub: &SocialConnect) -> Self {
        let platform_ids = deployment.platforms();
        let mut flags = Vec::new();
        let mut purposes = Vec::new();
        for purpose in Purpose::ALL {
            let mut scopes = BTreeMap::new();
            for id in &platform_ids {
                let Ok(platform) = hub.platform(id) else {
                    continue;
                };
                let names: Vec<String> = platform
                    .scopes_for(purpose)
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect();
                if !names.is_empty() {
                    scopes.insert(id.as_str().to_owned(), names);
                }
            }
            let (basis, justification) = match hub.declared_basis(purpose) {
                Some(d) => (Some(d.basis), Some(d.justification.clone())),
                None => match deployment.purpose(purpose) {
                    Some(p) if p.basis == LegalBasis::Consent => {
                        (Some(LegalBasis::Consent), Some(p.justification.clone()))
                    }
                    _ => (None, None),
                },
            };
            if basis.is_none() && scopes.is_empty() {
                continue;
            }
            let flag = basis.is_none().then(|| {
                format!(
                    "purpose `{purpose}`: scopes for it on {}, but the deployment declares no \
                     legal basis; the hub permits it only on an individual consent record",
                    scopes.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            if let Some(f) = &flag {
                flags.push(f.clone());
            }
            let gate = match basis {
                Some(LegalBasis::Consent) => {
                    "consent: refused for a subject until their consent is recorded"
                }
                Some(_) => "declared on the hub: permitted until the subject objects or withdraws",
                None => "undeclared: refused unless the subject's consent is recorded",
            };
            purposes.push(PurposeEntry {
                purpose: purpose.as_str().to_owned(),
                basis: basis.map(|b| basis_name(b).to_owned()),
                justification,
                gate: gate.to_owned(),
                scopes,
                flag,
            });
        }
        let key_provider = deployment.key_source().describe();
        if matches!(deployment.key_source(), crate::deployment::KeySource::Demo) {
            flags.push(
                "the store is protected by the public demo key: nothing it holds is confidential"
                    .to_owned(),
            );
        }
        let c = deployment.controller();
        let retention = hub.retention();
        let age = deployment.age();
        Self {
            generated_at: hub.clock().now(),
            controller: ControllerEntry {
                name: c.info.name.clone(),
                email: c.info.email.clone(),
                contact: c.info.contact.clone(),
                address: c.info.address.clone(),
                dpo: c.dpo.clone(),
                policy_url: c.info.policy_url.clone(),
                authority_url: c.authority_url.as_ref().map(ToString::to_string),
            },
            purposes,
            data_categories: categories::stored(),
            recipients: recipients(deployment),
            sub_processors: deployment
                .sub_processors()
                .iter()
                .map(|p| SubProcessorEntry {
                    name: p.name.clone(),
                    role: p.role.clone(),
                    location: p.location.clone(),
                    safeguard: p.safeguard.clone(),
                })
                .collect(),
            transfers: TransferEntry {
                region: hub.region().map(str::to_owned),
                outbound: "to each enabled platform's API, only when acting for a subject who \
                           connected it: the subject's tokens and the content and requests of \
                           the calls made for them"
                    .to_owned(),
            },
            retention: RetentionEntry {
                usage_log_days: retention.usage_log.num_days(),
                stale_connection_days: retention.stale_connections.num_days(),
                dead_api_key_days: deployment.dead_api_key_retention().map(|d| d.num_days()),
            },
            security: SecurityEntry {
                key_provider,
                encryption: "AES-256-GCM per record under a per-subject data key, data keys \
                             wrapped by the key provider; subjects stored as HMAC pseudonyms; \
                             erasure destroys the subject's data key"
                    .to_owned(),
            },
            age_policy: AgeEntry {
                default_minimum: age
                    .default_minimum
                    .unwrap_or(socialconnect_core::age::ABSOLUTE_MINIMUM_AGE),
                overrides: age.overrides.iter().cloned().collect(),
                eea: format!(
                    "EU/EEA states: their national Art. 8 age, {} where none is set",
                    socialconnect_core::age::GDPR_DEFAULT_MINIMUM_AGE
                ),
            },
            notice: hub
                .current_notice()
                .or(deployment.notice().cloned())
                .map(|n| NoticeEntry {
                    version: n.version,
                    hash: n.hash,
                    effective_at: n.effective_at,
                }),
            flags,
        }
    }

    /// Whether anything is flagged.
    pub fn is_flagged(&self) -> bool {
        !self.flags.is_empty()
    }

    /// The record as Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }
}

fn recipients(deployment: &Deployment) -> Vec<RecipientEntry> {
    deployment
        .platform_settings()
        .iter()
        .flat_map(|s| {
            s.ids().into_iter().map(|id| RecipientEntry {
                platform: id.as_str().to_owned(),
                app: s.name().to_owned(),
                client_id: s.client_id().to_owned(),
                role: "recipient: receives the API calls made for subjects who connected an \
                       account there"
                    .to_owned(),
            })
        })
        .collect()
}
