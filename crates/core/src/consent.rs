//! The consent ledger: an append-only, hash-chained record of the legal basis for each purpose.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Result;
use crate::id::{PlatformId, Purpose, SubjectId};

/// The GDPR Art. 6 basis a purpose is processed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LegalBasis {
    /// Art. 6(1)(a): the subject consented.
    Consent,
    /// Art. 6(1)(b): needed to perform a contract with the subject.
    Contract,
    /// Art. 6(1)(f): the host's legitimate interest.
    LegitimateInterest,
}

/// Whether an event grants or withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    /// Consent given (or basis established).
    Grant,
    /// Consent withdrawn.
    Withdraw,
}

/// How the consent was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CollectionMethod {
    /// A form or dialog on the host's website.
    WebForm,
    /// A screen in the host's mobile app.
    MobileApp,
    /// The host's API, on the end user's explicit action.
    Api,
    /// Imported from an earlier system.
    Import,
    /// Reported by the platform (Meta's deauthorize or data-deletion callback).
    PlatformCallback,
}

/// Where a consent came from: the end user's request, as the host saw it. Stored encrypted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentSource {
    /// The end user's IP address.
    pub ip: Option<std::net::IpAddr>,
    /// The end user's user agent (at most 512 bytes are kept).
    pub user_agent: Option<String>,
}

/// One thing to write to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentEvent {
    /// Whose.
    pub subject: SubjectId,
    /// For what.
    pub purpose: Purpose,
    /// On which platform; `None` means every platform.
    pub platform: Option<PlatformId>,
    /// Under which legal basis.
    pub basis: LegalBasis,
    /// Grant or withdraw.
    pub action: ConsentAction,
    /// The version of the privacy notice shown, when there was one.
    pub notice_version: Option<String>,
    /// When the host collected it.
    pub collected_at: DateTime<Utc>,
    /// When a grant lapses by itself, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The OAuth scopes the purpose needs on the platform.
    #[serde(default)]
    pub scopes: Vec<crate::id::Scope>,
    /// A hash of the notice text shown (the host's choice of algorithm, e.g. `sha256:<hex>`).
    #[serde(default)]
    pub notice_hash: Option<String>,
    /// The end user's jurisdiction (ISO 3166-1 alpha-2), as given to the age gate.
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// How the consent was collected.
    #[serde(default)]
    pub method: Option<CollectionMethod>,
    /// The end user's request that carried it.
    #[serde(default)]
    pub source: Option<ConsentSource>,
    /// For a withdrawal: the receipt of the grant it withdraws.
    #[serde(default)]
    pub withdraws: Option<Uuid>,
    /// How the end user's age was established (`birth_date` or `age_band`); never the age
    /// or date itself.
    #[serde(default)]
    pub age_verification: Option<String>,
}

impl ConsentEvent {
    /// A consent grant for `purpose` on `platform` (or every platform), collected at `at`.
    pub fn grant(
        subject: SubjectId,
        purpose: Purpose,
        platform: Option<PlatformId>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            subject,
            purpose,
            platform,
            basis: LegalBasis::Consent,
            action: ConsentAction::Grant,
            notice_version: None,
            collected_at: at,
            expires_at: None,
            scopes: Vec::new(),
            notice_hash: None,
            jurisdiction: None,
            method: None,
            source: None,
            withdraws: None,
            age_verification: None,
        }
    }

    /// A withdrawal of `purpose` on `platform` (or every platform), at `at`.
    pub fn withdraw(
        subject: SubjectId,
        purpose: Purpose,
        platform: Option<PlatformId>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            action: ConsentAction::Withdraw,
            ..Self::grant(subject, purpose, platform, at)
        }
    }

    /// Sets the notice version.
    pub fn with_notice_version(mut self, version: impl Into<String>) -> Self {
        self.notice_version = Some(version.into());
        self
    }

    /// Sets the legal basis.
    pub fn with_basis(mut self, basis: LegalBasis) -> Self {
        self.basis = basis;
        self
    }

    /// Sets the notice version and the hash of its text.
    pub fn with_notice(mut self, version: impl Into<String>, hash: impl Into<String>) -> Self {
        self.notice_version = Some(version.into());
        self.notice_hash = Some(hash.into());
        self
    }

    /// Sets the scopes the purpose needs.
    pub fn with_scopes(mut self, scopes: Vec<crate::id::Scope>) -> Self {
        self.scopes = scopes;
        self
    }

    /// Sets the jurisdiction.
    pub fn with_jurisdiction(mut self, code: impl Into<String>) -> Self {
        self.jurisdiction = Some(code.into());
        self
    }

    /// Sets the collection method.
    pub fn with_method(mut self, method: CollectionMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// Sets the source request.
    pub fn with_source(mut self, source: ConsentSource) -> Self {
        self.source = Some(source);
        self
    }

    /// Marks a withdrawal as withdrawing the grant with this receipt.
    pub fn withdrawing(mut self, receipt: Uuid) -> Self {
        self.withdraws = Some(receipt);
        self
    }

    /// Records how age was established (`birth_date` or `age_band`).
    pub fn with_age_verification(mut self, how: impl Into<String>) -> Self {
        self.age_verification = Some(how.into());
        self
    }

    /// Sets an expiry for a grant.
    pub fn with_expiry(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether this event, as the latest one for its purpose, permits processing at `now`.
    pub fn permits_at(&self, now: DateTime<Utc>) -> bool {
        self.action == ConsentAction::Grant && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A ledger entry: the event plus its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentRecord {
    /// Position in the ledger, from 1.
    pub seq: u64,
    /// Receipt id handed to the host.
    pub receipt_id: Uuid,
    /// The event.
    pub event: ConsentEvent,
    /// When the ledger wrote it.
    pub recorded_at: DateTime<Utc>,
    /// The previous record's hash (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over this record's content and `prev_hash`.
    pub hash: [u8; 32],
}

impl ConsentRecord {
    /// Builds the next record after `prev_hash`, computing its hash.
    pub fn chain(
        seq: u64,
        receipt_id: Uuid,
        event: ConsentEvent,
        recorded_at: DateTime<Utc>,
        prev_hash: [u8; 32],
    ) -> Self {
        let mut record = Self {
            seq,
            receipt_id,
            event,
            recorded_at,
            prev_hash,
            hash: [0; 32],
        };
        record.hash = record.compute_hash();
        record
    }

    /// Reassembles a record as a store kept it. Stores that chain their own row format (the
    /// encrypted store hashes sealed bytes, so erasure can leave tombstones) report their own
    /// `prev_hash` and `hash` here; [`ConsentRecord::compute_hash`] then does not apply.
    pub fn from_parts(
        seq: u64,
        receipt_id: Uuid,
        event: ConsentEvent,
        recorded_at: DateTime<Utc>,
        prev_hash: [u8; 32],
        hash: [u8; 32],
    ) -> Self {
        Self {
            seq,
            receipt_id,
            event,
            recorded_at,
            prev_hash,
            hash,
        }
    }

    /// Recomputes the hash from the content; equal to `hash` unless the record was altered.
    pub fn compute_hash(&self) -> [u8; 32] {
        #[derive(Serialize)]
        struct Canonical<'a> {
            seq: u64,
            receipt_id: &'a Uuid,
            event: &'a ConsentEvent,
            recorded_at: i64,
            recorded_at_nanos: u32,
        }
        let canonical = Canonical {
            seq: self.seq,
            receipt_id: &self.receipt_id,
            event: &self.event,
            recorded_at: self.recorded_at.timestamp(),
            recorded_at_nanos: self.recorded_at.timestamp_subsec_nanos(),
        };
        // Serializing these plain types cannot fail; an empty body would still chain safely.
        let body = serde_json::to_vec(&canonical).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"socialconnect-consent-v1\0");
        h.update(self.prev_hash);
        h.update(&body);
        h.finalize().into()
    }
}

/// What [`ConsentLedger::record`] hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentReceipt {
    /// The receipt id.
    pub receipt_id: Uuid,
    /// Ledger position.
    pub seq: u64,
    /// The record hash.
    pub hash: [u8; 32],
}

/// The result of checking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub checked: u64,
    /// The sequence number of the first record whose hash or link does not match, if any.
    pub first_broken: Option<u64>,
}

impl ChainReport {
    /// Checks `records` (in sequence order) link by link.
    pub fn verify<'a>(records: impl IntoIterator<Item = &'a ConsentRecord>) -> Self {
        let mut prev = [0u8; 32];
        let mut checked = 0;
        for r in records {
            checked += 1;
            if r.prev_hash != prev || r.compute_hash() != r.hash {
                return Self {
                    checked,
                    first_broken: Some(r.seq),
                };
            }
            prev = r.hash;
        }
        Self {
            checked,
            first_broken: None,
        }
    }
}

/// The current state of one (subject, purpose, platform-or-all): its latest event's decisive
/// fields, kept materialised so the permission check never scans history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsentState {
    /// Grant or withdraw.
    pub action: ConsentAction,
    /// The legal basis of that event.
    pub basis: LegalBasis,
    /// The notice version it rests on.
    pub notice_version: Option<String>,
    /// When a grant lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// The event's position in the ledger.
    pub seq: u64,
}

impl ConsentState {
    /// Assembles a state (for ledger implementations).
    pub fn new(
        action: ConsentAction,
        basis: LegalBasis,
        notice_version: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        seq: u64,
    ) -> Self {
        Self {
            action,
            basis,
            notice_version,
            expires_at,
            seq,
        }
    }

    /// Whether this state, taken alone, permits processing at `now`.
    pub fn permits_at(&self, now: DateTime<Utc>) -> bool {
        self.action == ConsentAction::Grant && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The consent ledger.
#[async_trait]
pub trait ConsentLedger: Send + Sync {
    /// Appends an event; returns its receipt.
    async fn record(&self, event: ConsentEvent) -> Result<ConsentReceipt>;

    /// Whether `subject`'s latest event for `purpose` that covers `platform` (one naming that
    /// platform, or one for every platform, whichever was recorded later) is a live grant at
    /// `now`. So a later "withdraw everywhere" overrides an earlier platform grant, and a later
    /// platform grant re-permits that platform alone.
    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// The decisive state for `purpose` on `platform`: the later recorded of the subject's
    /// latest platform-specific event and latest all-platforms event; `None` when neither
    /// exists.
    async fn state(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<Option<ConsentState>>;

    /// A subject's records, oldest first.
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>>;

    /// Verifies the whole chain.
    async fn verify_chain(&self) -> Result<ChainReport>;

    /// Subjects holding a live grant (any purpose) that rests on a notice version other than
    /// `current` (or on none): the people to ask again after a significant policy change.
    async fn subjects_on_other_notice(&self, current: &str) -> Result<Vec<SubjectId>>;

    /// Removes a subject from the ledger (erasure). A hash-chained ledger keeps tombstones so
    /// the chain of everyone else still verifies. Returns how many records were removed.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_detects_edits() {
        let s = SubjectId::new("s").unwrap();
        let now = Utc::now();
        let a = ConsentRecord::chain(
            1,
            Uuid::nil(),
            ConsentEvent::grant(s.clone(), Purpose::Analytics, None, now),
            now,
            [0; 32],
        );
        let b = ConsentRecord::chain(
            2,
            Uuid::nil(),
            ConsentEvent::withdraw(s, Purpose::Analytics, None, now),
            now,
            a.hash,
        );
        assert_eq!(ChainReport::verify([&a, &b]).first_broken, None);
        let mut edited = b.clone();
        edited.event.action = ConsentAction::Grant;
        assert_eq!(ChainReport::verify([&a, &edited]).first_broken, Some(2));
    }
}
