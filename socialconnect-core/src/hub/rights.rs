//! Data-subject rights on the hub: export (access and portability, GDPR Art. 15 and 20),
//! rectification (Art. 16) and erasure (Art. 17), each logged as a privileged operation, and
//! the consent ledger's integrity check.
//!
//! The privacy decisions are documented on the public methods ([`SocialConnect::export`],
//! [`SocialConnect::rectify`], [`SocialConnect::erase`]) so they appear in the rendered docs.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::SocialConnect;
use crate::access_log::{ClientInfo, LogCursor, Outcome, UsageEntry};
use crate::alert::Alert;
use crate::consent::ChainReport;
use crate::error::{Error, Result};
use crate::id::{PlatformId, SubjectId};
use crate::platform::Revocation;
use crate::platform_deletion::DeletionStatus;
use crate::profile::SubjectProfile;
use crate::receipt::ErasureReceipt;
use crate::store::ErasureReport;
use crate::token::Expiry;

/// The export format's name and version.
pub const EXPORT_FORMAT: &str = "socialconnect.subject-export";
/// The export format version. Version 2 added `region` (on the document and on every record),
/// `profile`, `deletion_requests`, the consent receipts' fields and `privileged` on usage
/// entries. Version 3 added `actions` (the subject's scheduled actions, with their payloads).
pub const EXPORT_VERSION: u32 = 3;

/// How many usage-log entries an export reads at a time.
pub(crate) const EXPORT_PAGE: u32 = 1000;

// The log entry of an erasure is filed under the system subject, so that it is not filed under
// the erased subject.
use crate::access_log::{SDK_PLATFORM, SYSTEM_SUBJECT as ERASED_SUBJECT};

/// The former name of [`Revocation`] in erasure outcomes (its `Completed` is now
/// [`Revocation::Revoked`], its `Unsupported` [`Revocation::NotOffered`]).
#[deprecated(since = "0.2.0", note = "use `Revocation`")]
pub type UpstreamRevocation = Revocation;

/// The result of [`SocialConnect::erase`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErasureOutcome {
    /// Per connection's platform, what revocation achieved.
    pub upstream: Vec<(PlatformId, Revocation)>,
    /// What the stores removed, per kind.
    pub report: ErasureReport,
    /// The receipt stored for this erasure; `None` when the hub has no receipt store.
    pub receipt: Option<ErasureReceipt>,
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
    region: Option<&'a str>,
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

fn json<W: Write>(out: &mut W, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(out, value).map_err(|e| Error::storage("writing the export", e))
}

/// Writes `,` before every element but the first of a JSON array.
fn separator<W: Write>(out: &mut W, first: &mut bool) -> Result<()> {
    if !std::mem::take(first) {
        out.write_all(b",").map_err(io)?;
    }
    Ok(())
}

/// The receipt's text for an upstream outcome: the error kind only, never a platform message.
/// The words are those receipts have always carried (`completed`, `unsupported`), so receipts
/// written before and after the outcome types were merged read alike.
fn receipt_text(outcome: &Revocation, kind: Option<&'static str>) -> String {
    match outcome {
        Revocation::Revoked => "completed".to_owned(),
        Revocation::NotOffered => "unsupported".to_owned(),
        Revocation::Failed { .. } => format!("failed: {}", kind.unwrap_or("unknown")),
    }
}

fn sdk_platform() -> PlatformId {
    PlatformId::new(SDK_PLATFORM).expect("a valid platform id literal")
}

/// Profile fields are bounded and free of control characters, like the ids.
fn check_profile_field(what: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.len() > 320 || v.chars().any(char::is_control) => Err(Error::invalid_input(
            format!("{what} must be at most 320 bytes without control characters"),
        )),
        _ => Ok(()),
    }
}

impl SocialConnect {
    /// The region the deployment stores its data in, as configured on the builder.
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// Writes everything SocialConnect holds about `subject` as one JSON document, on behalf
    /// of `actor` (the operator or system id the host supplies).
    ///
    /// The document is `{"format", "version", "exported_at", "region", "subject", "profile",
    /// "connections", "consent", "usage_log", "actions", "deletion_requests"}`: the connections
    /// (platform, account id, scopes, status, dates), the profile the host keeps (email,
    /// username), the consent history with each record's receipt id and chain hashes, the usage
    /// log, the scheduled actions (payload, schedule, state, last result; empty without an
    /// action store), and the subject's pending deletion requests. Tokens never appear in it.
    ///
    /// # Privacy decisions
    ///
    /// - **Streamed, never stored.** The document is written to `out` element by element, and
    ///   the usage log is read 1000 entries at a time with
    ///   [`AccessLog::entries_page`](crate::access_log::AccessLog::entries_page), so memory does
    ///   not grow with a subject's million log entries and no export file lingers anywhere
    ///   SocialConnect controls.
    /// - **Transfers.** The deployment region
    ///   ([`SocialConnectBuilder::region`](super::SocialConnectBuilder::region)) is given once
    ///   for the document and again on every record, so the subject sees where each record is
    ///   held (`null` when the host configured none). A connection, consent record or usage
    ///   entry whose store kept the region it was written in (the encrypted store's
    ///   `StoreOptions::with_region`) shows that region instead, so records written before a
    ///   move keep theirs.
    /// - **Who accessed, not which operator.** Usage entries of privileged operations (an
    ///   earlier export, a rectification) are marked `"privileged": true` without the actor:
    ///   operator ids are the staff's personal data; the host can answer a follow-up from its
    ///   own log.
    /// - **Logged.** The export itself is logged under the subject as `privileged.export`, with
    ///   `actor` in [`UsageEntry::actor`] and the SDK's own platform id `"socialconnect"` (no
    ///   platform was called), after the document is written, with its outcome. A log write
    ///   failure does not fail the export, which has already happened; it is reported through
    ///   `tracing` at error level.
    /// - **Deletion requests.** The
    ///   [`DeletionRequestStore`](crate::platform_deletion::DeletionRequestStore) has no per-subject
    ///   query, so the export lists the subject's requests found among the
    ///   [`pending_requests`](crate::platform_deletion::DeletionRequestStore::pending_requests).
    ///   Completed requests drop the subject id (the subject is gone by then) and cannot be
    ///   attributed; rejected ones are not listed.
    pub async fn export(
        &self,
        subject: &SubjectId,
        actor: &str,
        mut out: impl Write,
    ) -> Result<()> {
        let at = self.inner.clock.now();
        let started = Instant::now();
        let result = self.write_export(subject, &mut out).await;
        self.log_privileged(
            subject.clone(),
            "privileged.export",
            actor,
            &result,
            at,
            started.elapsed(),
        )
        .await;
        result
    }

    async fn write_export<W: Write>(&self, subject: &SubjectId, out: &mut W) -> Result<()> {
        let now = self.inner.clock.now();
        let region = self.inner.region.as_deref();
        write!(
            out,
            "{{\"format\":\"{EXPORT_FORMAT}\",\"version\":{EXPORT_VERSION},\"exported_at\":{},\"region\":{},\"subject\":{},\"profile\":",
            serde_json::to_string(&now.to_rfc3339()).unwrap_or_default(),
            serde_json::to_string(&region).unwrap_or_default(),
            serde_json::to_string(subject.as_str()).unwrap_or_default(),
        )
        .map_err(io)?;
        let profile = match &self.inner.profiles {
            Some(store) => store.profile(subject).await?,
            None => None,
        };
        match profile {
            Some(p) => json(
                out,
                &serde_json::json!({
                    "email": p.email,
                    "username": p.username,
                    "updated_at": p.updated_at.map(|t| t.to_rfc3339()),
                    "region": region,
                }),
            )?,
            None => out.write_all(b"null").map_err(io)?,
        }

        out.write_all(b",\"connections\":[").map_err(io)?;
        let mut first = true;
        for key in self.inner.tokens.connections(subject).await? {
            let Some(stored) = self.inner.tokens.get(&key).await? else {
                continue;
            };
            let t = &stored.tokens;
            separator(out, &mut first)?;
            json(
                out,
                &ConnectionOut {
                    platform: key.platform.as_str(),
                    connection_id: key.connection.to_string(),
                    account_id: t.account_id.as_deref(),
                    scopes: t.scopes.iter().map(|s| s.as_str()).collect(),
                    status: stored.status.as_str(),
                    access_expires: expiry_text(&t.access_expires),
                    issued_at: t.issued_at.to_rfc3339(),
                    updated_at: stored.updated_at.to_rfc3339(),
                    region: stored.region.as_deref().or(region),
                },
            )?;
        }

        // A subject's consent history is a handful of records; it is read whole.
        out.write_all(b"],\"consent\":[").map_err(io)?;
        let mut first = true;
        for record in self.inner.ledger.history(subject).await? {
            separator(out, &mut first)?;
            let e = &record.event;
            json(
                out,
                &serde_json::json!({
                    "seq": record.seq,
                    "receipt_id": record.receipt_id,
                    "hash": hex::encode(record.hash),
                    "prev_hash": hex::encode(record.prev_hash),
                    "purpose": e.purpose,
                    "platform": e.platform,
                    "legal_basis": e.basis,
                    "action": e.action,
                    "scopes": e.scopes,
                    "notice_version": e.notice_version,
                    "notice_hash": e.notice_hash,
                    "jurisdiction": e.jurisdiction,
                    "collection_method": e.method,
                    "source": e.source,
                    "withdraws": e.withdraws,
                    "age_verification": e.age_verification,
                    "collected_at": e.collected_at.to_rfc3339(),
                    "recorded_at": record.recorded_at.to_rfc3339(),
                    "expires_at": e.expires_at.map(|t| t.to_rfc3339()),
                    "region": record.region.as_deref().or(region),
                }),
            )?;
        }

        out.write_all(b"],\"usage_log\":[").map_err(io)?;
        let mut first = true;
        let mut cursor: Option<LogCursor> = None;
        loop {
            let (page, next) = self
                .inner
                .log
                .entries_page(subject, cursor, EXPORT_PAGE)
                .await?;
            for e in &page {
                separator(out, &mut first)?;
                json(
                    out,
                    &serde_json::json!({
                        "at": e.at.to_rfc3339(),
                        "platform": e.platform,
                        "connection_id": e.connection,
                        "operation": e.operation,
                        "outcome": e.outcome.as_str(),
                        "http_status": e.http_status,
                        "latency_ms": u64::try_from(e.latency.as_millis()).unwrap_or(u64::MAX),
                        "ip": e.client.ip,
                        "user_agent": e.client.user_agent,
                        "privileged": e.actor.is_some(),
                        "region": e.region.as_deref().or(region),
                    }),
                )?;
            }
            match next {
                None => break,
                // A cursor that does not move forward would repeat pages for ever.
                Some(n) if cursor.is_some_and(|c| n <= c) || page.is_empty() => {
                    return Err(Error::storage_msg(
                        "the usage log returned a cursor that does not advance",
                    ));
                }
                Some(n) => cursor = Some(n),
            }
        }

        out.write_all(b"],\"actions\":[").map_err(io)?;
        if self.inner.actions.is_some() {
            let mut first = true;
            for a in self.subject_actions(subject).await? {
                separator(out, &mut first)?;
                json(
                    out,
                    &serde_json::json!({
                        "id": a.id,
                        "platform": a.key.platform,
                        "connection_id": a.key.connection,
                        "purpose": a.purpose,
                        "kind": a.kind,
                        "payload": a.payload,
                        "schedule": a.schedule,
                        "state": a.state,
                        "due_at": a.due_at.map(|t| t.to_rfc3339()),
                        "runs": a.runs,
                        "last_result": a.last_result,
                        "created_at": a.created_at.to_rfc3339(),
                        "updated_at": a.updated_at.to_rfc3339(),
                        "region": region,
                    }),
                )?;
            }
        }

        out.write_all(b"],\"deletion_requests\":[").map_err(io)?;
        if let Some(store) = &self.inner.deletions {
            let mut first = true;
            for r in store.pending_requests().await? {
                if r.subject.as_ref() != Some(subject) {
                    continue;
                }
                separator(out, &mut first)?;
                json(
                    out,
                    &serde_json::json!({
                        "confirmation_code": r.confirmation_code,
                        "platform": r.platform,
                        "received_at": r.received_at.to_rfc3339(),
                        "status": r.status.as_str(),
                        "region": region,
                    }),
                )?;
            }
        }
        out.write_all(b"]}").map_err(io)?;
        out.flush().map_err(io)
    }

    /// Replaces the account information the hub keeps about `subject` (email, username) with
    /// `profile`, on behalf of `actor`. A field left `None` is cleared. Fails with a config
    /// error when the hub has no [profile store](super::SocialConnectBuilder::profiles), and
    /// with invalid input when a field is longer than 320 bytes or holds control characters.
    ///
    /// # Privacy decisions
    ///
    /// The rectification is recorded as a `privileged.rectify` usage-log entry under the
    /// subject with `actor`, and with none of the values, old or new: a log of emails would be
    /// a second copy of what was just corrected, outside the profile store's encryption.
    pub async fn rectify(
        &self,
        subject: &SubjectId,
        mut profile: SubjectProfile,
        actor: &str,
    ) -> Result<()> {
        let store = self
            .inner
            .profiles
            .as_ref()
            .ok_or_else(|| Error::config("no profile store configured on the hub"))?;
        check_profile_field("email", profile.email.as_deref())?;
        check_profile_field("username", profile.username.as_deref())?;
        let at = self.inner.clock.now();
        let started = Instant::now();
        profile.updated_at = Some(at);
        let result = store.put_profile(subject, &profile).await;
        self.log_privileged(
            subject.clone(),
            "privileged.rectify",
            actor,
            &result,
            at,
            started.elapsed(),
        )
        .await;
        result
    }

    /// Erases `subject` on behalf of `actor`.
    ///
    /// 1. Revokes each connection upstream where the platform supports it, recording per
    ///    platform a [`Revocation`] (`Revoked`, `NotOffered` or `Failed`); each failure raises
    ///    [`Alert::ErasureUpstreamRevokeFailed`].
    /// 2. Removes the subject from the token store (the encrypted store erases every record
    ///    kind there and destroys the subject's data key), the pending-state store, the usage
    ///    log, the consent ledger and the profile store, and closes the subject's pending
    ///    deletion requests as completed (which drops the subject id from them). A kind the
    ///    token store already counted is not erased a second time.
    /// 3. Stores an [`ErasureReceipt`] (when the hub has a receipt store) and returns it.
    /// 4. Logs the erasure (see below).
    ///
    /// # Privacy decisions
    ///
    /// - **Only a receipt remains**: a keyed pseudonym of the subject (the host can recompute
    ///   it to show the erasure happened; nobody can recover the id from it), the counts
    ///   removed per kind, and per platform what the revocation achieved. A failed revocation
    ///   is kept as its error kind only (`failed: transient`), never the platform's message,
    ///   which could echo account details and would be kept indefinitely. Without a
    ///   [receipt store](super::SocialConnectBuilder::receipts) the erasure still runs but
    ///   leaves no receipt.
    /// - **The erasure's log entry is not filed under the subject**, since that would re-create
    ///   a record about the person just erased. It is filed under the sentinel subject
    ///   `"erased-subject"`, with the receipt's pseudonym in the operation name
    ///   (`privileged.erase:<pseudonym>`, or `privileged.erase` without a receipt store) so the
    ///   host can match it to the receipt, and `actor` in the actor field. Like every log entry
    ///   it expires with the retention policy; the receipt does not.
    /// - **Idempotent, and every call leaves a receipt.** A second call finds nothing, revokes
    ///   nothing and reports zero counts, and still stores a receipt with those zero counts:
    ///   each erasure request the host carries out is provable, including a repeat that found
    ///   the subject already gone.
    /// - **Local data goes even when the platform refuses.** A failed upstream revocation does
    ///   not stop the local erasure; the alert tells an operator to follow up with the
    ///   platform.
    pub async fn erase(&self, subject: &SubjectId, actor: &str) -> Result<ErasureOutcome> {
        let at = self.inner.clock.now();
        let started = Instant::now();
        let result = self.erase_subject(subject).await;
        let operation = match self.inner.receipts.as_ref() {
            Some(store) => format!("privileged.erase:{}", store.pseudonym(subject)),
            None => "privileged.erase".to_owned(),
        };
        match SubjectId::new(ERASED_SUBJECT) {
            Ok(sentinel) => {
                self.log_privileged(sentinel, operation, actor, &result, at, started.elapsed())
                    .await;
            }
            Err(e) => tracing::error!(error = %e, "cannot log the erasure"),
        }
        result
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<ErasureOutcome> {
        let now = self.inner.clock.now();
        let mut upstream = Vec::new();
        let mut failure_kinds = Vec::new();
        for key in self.inner.tokens.connections(subject).await? {
            let mut kind = None;
            let outcome = match (
                self.inner.platforms.get(&key.platform),
                self.inner.tokens.get(&key).await?,
            ) {
                (Some(platform), Some(stored)) => match platform.revoke(&stored.tokens).await {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        tracing::warn!(platform = %key.platform, error = %e, "upstream revocation failed during erasure");
                        kind = Some(super::kind_name(e.kind()));
                        Revocation::Failed {
                            reason: e.to_string(),
                        }
                    }
                },
                (None, _) => {
                    kind = Some("config");
                    Revocation::Failed {
                        reason: "platform not registered with this hub".to_owned(),
                    }
                }
                (_, None) => continue,
            };
            if matches!(outcome, Revocation::Failed { .. }) {
                self.inner
                    .alerts
                    .raise(&Alert::ErasureUpstreamRevokeFailed {
                        platform: key.platform.clone(),
                    });
            }
            self.inner.refresher.invalidate(&key);
            failure_kinds.push(kind);
            upstream.push((key.platform.clone(), outcome));
        }

        let mut report = self.inner.tokens.erase_subject(subject).await?;
        // A store that holds every kind (the encrypted store) already erased and counted
        // these; the others are asked themselves.
        if !report.counts.contains_key("pending_states") {
            let n = self.inner.pending.erase_subject(subject).await?;
            report.add("pending_states", n);
        }
        if !report.counts.contains_key("usage_entries") {
            let n = self.inner.log.erase_subject(subject).await?;
            report.add("usage_entries", n);
        }
        if !report.counts.contains_key("consent_records") {
            let n = self.inner.ledger.erase_subject(subject).await?;
            report.add("consent_records", n);
        }
        if let Some(actions) = &self.inner.actions
            && !report.counts.contains_key("actions")
        {
            let n = actions.erase_subject_actions(subject).await?;
            report.add("actions", n);
        }
        if let Some(profiles) = &self.inner.profiles
            && !report.counts.contains_key("profiles")
        {
            let n = u64::from(profiles.erase_profile(subject).await?);
            report.add("profiles", n);
        }
        if let Some(deletions) = &self.inner.deletions
            && !report.counts.contains_key("deletion_requests")
        {
            let mut n = 0;
            for r in deletions.pending_requests().await? {
                if r.subject.as_ref() == Some(subject)
                    && deletions
                        .set_request_status(
                            &r.confirmation_code,
                            DeletionStatus::Completed { at: now },
                        )
                        .await?
                {
                    n += 1;
                }
            }
            report.add("deletion_requests", n);
        }

        let receipt = match &self.inner.receipts {
            Some(store) => {
                let receipt = ErasureReceipt {
                    subject_pseudonym: store.pseudonym(subject),
                    erased_at: now,
                    counts: report.counts.clone(),
                    upstream: upstream
                        .iter()
                        .zip(&failure_kinds)
                        .map(|((platform, outcome), kind)| {
                            (platform.to_string(), receipt_text(outcome, *kind))
                        })
                        .collect(),
                };
                store.record_erasure(&receipt).await?;
                Some(receipt)
            }
            None => None,
        };
        Ok(ErasureOutcome {
            upstream,
            report,
            receipt,
        })
    }

    /// Verifies the consent ledger's hash chain and raises [`Alert::ConsentChainBroken`] when
    /// it does not verify. Run it on a schedule: a broken chain means the ledger was edited
    /// outside SocialConnect, and the consent history an export or an audit relies on can no
    /// longer be trusted.
    pub async fn verify_consent_chain(&self) -> Result<ChainReport> {
        let report = self.inner.ledger.verify_chain().await?;
        if let Some(seq) = report.first_broken {
            self.inner.alerts.raise(&Alert::ConsentChainBroken {
                first_broken_seq: seq,
            });
        }
        Ok(report)
    }

    async fn log_privileged<T>(
        &self,
        subject: SubjectId,
        operation: impl Into<String>,
        actor: &str,
        result: &Result<T>,
        at: chrono::DateTime<chrono::Utc>,
        latency: Duration,
    ) {
        let outcome = match result {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure(super::kind_name(e.kind())),
        };
        self.log_quietly(
            UsageEntry::new(
                at,
                subject,
                sdk_platform(),
                None,
                operation,
                outcome,
                None,
                latency,
                ClientInfo::default(),
            )
            .with_actor(actor),
        )
        .await;
    }
}
