//! Data-subject rights on the hub: export (portability) and erasure.
//!
//! The export is a versioned JSON document of what SocialConnect holds about a subject —
//! connections (never a token), consent history, usage-log entries — written to any
//! `std::io::Write` element by element. Erasure revokes every connection upstream where the
//! platform allows it, then removes the subject from every store.

use std::io::Write;

use serde::Serialize;

use super::SocialConnect;
use crate::error::{Error, Result};
use crate::id::{PlatformId, SubjectId};
use crate::platform::RevokeOutcome;
use crate::store::ErasureReport;
use crate::token::Expiry;

/// The export format's name and version.
pub const EXPORT_FORMAT: &str = "socialconnect.subject-export";
/// The export format version.
pub const EXPORT_VERSION: u32 = 1;

/// What happened upstream for one connection during an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamRevocation {
    /// The platform revoked the authorization.
    Completed,
    /// Revocation failed; the local data was erased anyway.
    Failed {
        /// Why (no token in it).
        reason: String,
    },
    /// The platform offers no revocation.
    Unsupported,
}

/// The result of [`SocialConnect::erase`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErasureOutcome {
    /// Per connection's platform, what revocation achieved.
    pub upstream: Vec<(PlatformId, UpstreamRevocation)>,
    /// What the stores removed, per kind.
    pub report: ErasureReport,
}

#[derive(Serialize)]
struct ConnectionOut<'a> {
    platform: &'a str,
    connection_id: String,
    account_id: Option<&'a str>,
    scopes: Vec<&'a str>,
    status: &'static str,
    access_expires: Option<String>,
    issued_at: String,
    updated_at: String,
}

fn expiry_text(e: &Expiry) -> Option<String> {
    match e {
        Expiry::At(t) => Some(t.to_rfc3339()),
        Expiry::Never => Some("never".to_owned()),
        Expiry::Unknown => None,
    }
}

fn io(e: std::io::Error) -> Error {
    Error::storage("writing the export", e)
}

impl SocialConnect {
    /// Writes everything SocialConnect holds about `subject` as one JSON document
    /// (`{"format", "version", "exported_at", "subject", "connections", "consent",
    /// "usage_log"}`). Tokens never appear in it.
    pub async fn export(&self, subject: &SubjectId, mut out: impl Write) -> Result<()> {
        let now = self.inner.clock.now();
        write!(
            out,
            "{{\"format\":\"{EXPORT_FORMAT}\",\"version\":{EXPORT_VERSION},\"exported_at\":{},\"subject\":{},\"connections\":[",
            serde_json::to_string(&now.to_rfc3339()).unwrap_or_default(),
            serde_json::to_string(subject.as_str()).unwrap_or_default(),
        )
        .map_err(io)?;
        let keys = self.inner.tokens.connections(subject).await?;
        let mut first = true;
        for key in &keys {
            let Some(stored) = self.inner.tokens.get(key).await? else {
                continue;
            };
            let t = &stored.tokens;
            let item = ConnectionOut {
                platform: key.platform.as_str(),
                connection_id: key.connection.to_string(),
                account_id: t.account_id.as_deref(),
                scopes: t.scopes.iter().map(|s| s.as_str()).collect(),
                status: stored.status.as_str(),
                access_expires: expiry_text(&t.access_expires),
                issued_at: t.issued_at.to_rfc3339(),
                updated_at: stored.updated_at.to_rfc3339(),
            };
            if !first {
                out.write_all(b",").map_err(io)?;
            }
            first = false;
            serde_json::to_writer(&mut out, &item)
                .map_err(|e| Error::storage("writing the export", e))?;
        }
        out.write_all(b"],\"consent\":[").map_err(io)?;
        for (i, record) in self.inner.ledger.history(subject).await?.iter().enumerate() {
            if i > 0 {
                out.write_all(b",").map_err(io)?;
            }
            let item = serde_json::json!({
                "seq": record.seq,
                "receipt_id": record.receipt_id,
                "purpose": record.event.purpose,
                "platform": record.event.platform,
                "legal_basis": record.event.basis,
                "action": record.event.action,
                "notice_version": record.event.notice_version,
                "collected_at": record.event.collected_at.to_rfc3339(),
                "recorded_at": record.recorded_at.to_rfc3339(),
                "expires_at": record.event.expires_at.map(|t| t.to_rfc3339()),
            });
            serde_json::to_writer(&mut out, &item)
                .map_err(|e| Error::storage("writing the export", e))?;
        }
        out.write_all(b"],\"usage_log\":[").map_err(io)?;
        for (i, e) in self.inner.log.entries(subject).await?.iter().enumerate() {
            if i > 0 {
                out.write_all(b",").map_err(io)?;
            }
            let item = serde_json::json!({
                "at": e.at.to_rfc3339(),
                "platform": e.platform,
                "connection_id": e.connection,
                "operation": e.operation,
                "outcome": e.outcome.as_str(),
                "http_status": e.http_status,
                "latency_ms": e.latency.as_millis() as u64,
                "ip": e.client.ip,
                "user_agent": e.client.user_agent,
            });
            serde_json::to_writer(&mut out, &item)
                .map_err(|e| Error::storage("writing the export", e))?;
        }
        out.write_all(b"]}").map_err(io)?;
        out.flush().map_err(io)
    }

    /// Erases `subject`: revokes each connection upstream where the platform supports it
    /// (recording per platform `Completed`, `Failed` or `Unsupported`), then removes the
    /// subject from the token store (the encrypted store erases every record kind there and
    /// destroys the subject's data key), the pending-state store and the usage log.
    /// Idempotent: a second call finds nothing and reports zero counts.
    pub async fn erase(&self, subject: &SubjectId) -> Result<ErasureOutcome> {
        let mut upstream = Vec::new();
        for key in self.inner.tokens.connections(subject).await? {
            let outcome = match (
                self.inner.platforms.get(&key.platform),
                self.inner.tokens.get(&key).await?,
            ) {
                (Some(platform), Some(stored)) => match platform.revoke(&stored.tokens).await {
                    Ok(RevokeOutcome::Revoked) => UpstreamRevocation::Completed,
                    Ok(RevokeOutcome::Unsupported) => UpstreamRevocation::Unsupported,
                    Err(e) => {
                        tracing::warn!(platform = %key.platform, error = %e, "upstream revocation failed during erasure");
                        UpstreamRevocation::Failed {
                            reason: e.to_string(),
                        }
                    }
                },
                (None, _) => UpstreamRevocation::Failed {
                    reason: "platform not registered with this hub".to_owned(),
                },
                (_, None) => continue,
            };
            self.inner.refresher.invalidate(&key);
            upstream.push((key.platform.clone(), outcome));
        }
        let mut report = self.inner.tokens.erase_subject(subject).await?;
        let pending = self.inner.pending.erase_subject(subject).await?;
        let usage = self.inner.log.erase_subject(subject).await?;
        // A store that holds every kind (the encrypted store) already counted these.
        if !report.counts.contains_key("pending_states") {
            report.add("pending_states", pending);
        }
        if !report.counts.contains_key("usage_entries") {
            report.add("usage_entries", usage);
        }
        Ok(ErasureOutcome { upstream, report })
    }
}
