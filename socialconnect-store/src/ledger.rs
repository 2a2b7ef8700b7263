//! [`ConsentLedger`] for [`EncryptedStore`]: each event sealed under its subject's key, plain
//! columns only for what the permission check needs, the chain over stored rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use socialconnect_core::consent::{
    ChainReport, ConsentAction, ConsentEvent, ConsentLedger, ConsentReceipt, ConsentRecord,
    ConsentState, DeclaredBasis, LegalBasis, NoticeVersion,
};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::{Error, Result};
use uuid::Uuid;

use crate::backend::{
    ConsentRow, ConsentStateRow, DeclarationRow, NewConsentRow, NoticeRow, SubjectRef,
};
use crate::chain::ChainVerifier;
use crate::envelope::RecordKind;
use crate::store::{EncryptedStore, from_secs};

/// Rows read per batch while verifying the chain.
const VERIFY_BATCH: u32 = 1_000;

#[derive(Serialize, Deserialize)]
struct ConsentWire {
    receipt_id: Uuid,
    event: ConsentEvent,
    recorded_at: DateTime<Utc>,
    /// Absent in records written before regions were recorded, or without one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

/// The record id bound into a consent record's associated data: its plain columns, so a sealed
/// event moved to a row claiming another purpose, platform, action or time does not open.
fn consent_record_id(
    purpose: &str,
    platform: &str,
    action: &str,
    recorded_at: i64,
    expires_at: Option<i64>,
) -> Vec<u8> {
    format!(
        "{purpose}\0{platform}\0{action}\0{recorded_at}\0{}",
        expires_at.map(|e| e.to_string()).unwrap_or_default()
    )
    .into_bytes()
}

fn action_str(a: ConsentAction) -> &'static str {
    match a {
        ConsentAction::Grant => "grant",
        ConsentAction::Withdraw => "withdraw",
    }
}

fn parse_action(s: &str) -> Result<ConsentAction> {
    match s {
        "grant" => Ok(ConsentAction::Grant),
        "withdraw" => Ok(ConsentAction::Withdraw),
        _ => Err(Error::storage_msg("unknown consent action in storage")),
    }
}

/// The basis's stable snake_case name (its serde name), as the state table stores it.
fn basis_str(b: LegalBasis) -> Result<String> {
    match serde_json::to_value(b) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(Error::storage_msg("legal basis has no stable name")),
    }
}

fn parse_basis(s: &str) -> Result<LegalBasis> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Error::storage_msg("unknown legal basis in storage"))
}

impl EncryptedStore {
    /// Opens a stored consent row; `None` for a tombstone or when the subject's data key is
    /// gone (erased).
    async fn open_consent_row(
        &self,
        sref: &SubjectRef,
        row: &ConsentRow,
    ) -> Result<Option<ConsentRecord>> {
        let (Some(dek_id), Some(sealed)) = (&row.dek_id, &row.sealed) else {
            return Ok(None);
        };
        let (Some(purpose), Some(platform), Some(action), Some(recorded_at)) =
            (&row.purpose, &row.platform, &row.action, row.recorded_at)
        else {
            return Err(Error::storage_msg("consent row is missing columns"));
        };
        let record_id = consent_record_id(purpose, platform, action, recorded_at, row.expires_at);
        let Some(plaintext) = self
            .open_if_key(sref, RecordKind::Consent, &record_id, dek_id, sealed)
            .await?
        else {
            return Ok(None);
        };
        self.open_consent(row, &plaintext).map(Some)
    }

    /// The consent row with sequence number `seq`, opened, if it belongs to `sref`.
    async fn consent_record_at(
        &self,
        sref: &SubjectRef,
        seq: i64,
    ) -> Result<Option<ConsentRecord>> {
        let rows = self.inner.backend.consent_range(seq - 1, 1).await?;
        match rows.first() {
            Some(row) if row.seq == seq && row.subject_ref.as_ref() == Some(sref) => {
                self.open_consent_row(sref, row).await
            }
            _ => Ok(None),
        }
    }

    /// A state row as the trait's [`ConsentState`]. Rows materialised before schema 3 have no
    /// basis: it and the notice version are then read from the sealed event the row points to.
    async fn state_from_row(
        &self,
        sref: &SubjectRef,
        row: ConsentStateRow,
    ) -> Result<ConsentState> {
        let seq =
            u64::try_from(row.seq).map_err(|_| Error::storage_msg("negative consent sequence"))?;
        let action = parse_action(&row.action)?;
        let expires_at = row.expires_at.map(from_secs).transpose()?;
        let (basis, notice_version) = match row.basis {
            Some(basis) => (parse_basis(&basis)?, row.notice_version),
            None => {
                let record = self
                    .consent_record_at(sref, row.seq)
                    .await?
                    .ok_or_else(|| Error::storage_msg("consent state points at no record"))?;
                (record.event.basis, record.event.notice_version)
            }
        };
        Ok(ConsentState::new(
            action,
            basis,
            notice_version,
            expires_at,
            seq,
        ))
    }

    fn open_consent(&self, row: &ConsentRow, plaintext: &[u8]) -> Result<ConsentRecord> {
        let w: ConsentWire = serde_json::from_slice(plaintext)
            .map_err(|_| Error::storage_msg("stored consent record is malformed"))?;
        let seq =
            u64::try_from(row.seq).map_err(|_| Error::storage_msg("negative consent sequence"))?;
        Ok(ConsentRecord::from_parts(
            seq,
            w.receipt_id,
            w.event,
            w.recorded_at,
            row.prev_hash,
            row.hash,
        )
        .with_region(w.region))
    }
}

#[async_trait]
impl ConsentLedger for EncryptedStore {
    async fn record(&self, event: ConsentEvent) -> Result<ConsentReceipt> {
        let sref = self.subject_ref(&event.subject);
        let receipt_id = Uuid::now_v7();
        let recorded_at = self.now();
        let purpose = event.purpose.as_str().to_owned();
        let platform = event
            .platform
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let action = action_str(event.action).to_owned();
        let expires_at = event.expires_at.map(|t| t.timestamp());
        let basis = basis_str(event.basis)?;
        let notice_version = event.notice_version.clone();
        let subject = event.subject.clone();
        let wire = ConsentWire {
            receipt_id,
            event,
            recorded_at,
            region: self.region().map(str::to_owned),
        };
        let plaintext = serde_json::to_vec(&wire)
            .map_err(|e| Error::storage("encoding a consent record", e))?;
        let record_id = consent_record_id(
            &purpose,
            &platform,
            &action,
            recorded_at.timestamp(),
            expires_at,
        );
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Consent, &record_id, &plaintext)
            .await?;
        let row = self
            .inner
            .backend
            .append_consent(NewConsentRow {
                subject_ref: sref,
                purpose,
                platform,
                action,
                recorded_at: recorded_at.timestamp(),
                expires_at,
                dek_id,
                sealed,
                basis,
                notice_version,
            })
            .await;
        // Also after a failure: the append may have committed before the error surfaced.
        self.inner.consent_cache.invalidate(&subject);
        let row = row?;
        Ok(ConsentReceipt {
            receipt_id,
            seq: u64::try_from(row.seq)
                .map_err(|_| Error::storage_msg("negative consent sequence"))?,
            hash: row.hash,
        })
    }

    /// Answers from the materialised state through the consent cache (see
    /// [`StoreOptions::consent_cache_ttl`](crate::StoreOptions::consent_cache_ttl)): no
    /// decryption, and no database access while the entry is fresh.
    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(self
            .state(subject, purpose, platform)
            .await?
            .is_some_and(|s| s.permits_at(now)))
    }

    async fn state(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Result<Option<ConsentState>> {
        let cache = &self.inner.consent_cache;
        if let Some(hit) = cache.get(subject, purpose, platform) {
            return Ok(hit);
        }
        let epoch = cache.epoch();
        let sref = self.subject_ref(subject);
        let row = self
            .inner
            .backend
            .consent_state(&sref, purpose.as_str(), &[platform.as_str(), ""])
            .await?;
        let state = match row {
            Some(row) => Some(self.state_from_row(&sref, row).await?),
            None => None,
        };
        cache.put(epoch, subject, &sref, purpose, platform, state.clone());
        Ok(state)
    }

    /// Finds the candidates in the state table (no decryption), then opens the record each
    /// candidate row points at to recover the subject id, which only the sealed event holds.
    /// Subjects whose data key is gone are skipped. A grant past its expiry is not live.
    /// Notice versions live in `sc_notices` (plain: a notice is not personal data), shared by
    /// every process on the database.
    async fn store_notice(&self, notice: &NoticeVersion) -> Result<()> {
        self.inner
            .backend
            .insert_notice(NoticeRow {
                version: notice.version.clone(),
                hash: notice.hash.clone(),
                significant: notice.significant,
                effective_at: notice.effective_at.timestamp_micros(),
            })
            .await
    }

    async fn stored_notices(&self) -> Result<Vec<NoticeVersion>> {
        let rows = self.inner.backend.notices().await?;
        rows.into_iter()
            .map(|row| {
                let at = DateTime::from_timestamp_micros(row.effective_at)
                    .ok_or_else(|| Error::storage_msg("stored notice time out of range"))?;
                Ok(NoticeVersion::new(
                    row.version,
                    row.hash,
                    row.significant,
                    at,
                ))
            })
            .collect()
    }

    /// The register of declared bases lives in `sc_declarations` (plain: no personal data).
    async fn store_declaration(
        &self,
        purpose: Purpose,
        declared: Option<&DeclaredBasis>,
        replace: bool,
    ) -> Result<()> {
        let row = DeclarationRow {
            purpose: purpose.as_str().to_owned(),
            basis: declared.map(|d| basis_str(d.basis)).transpose()?,
            justification: declared.map(|d| d.justification.clone()),
            declared_at: self.now().timestamp_micros(),
        };
        self.inner.backend.put_declaration(row, replace).await
    }

    async fn stored_declarations(&self) -> Result<Vec<(Purpose, Option<DeclaredBasis>)>> {
        let rows = self.inner.backend.declarations().await?;
        rows.into_iter()
            .map(|row| {
                let purpose = Purpose::parse(&row.purpose)
                    .map_err(|_| Error::storage_msg("unknown purpose in sc_declarations"))?;
                let declared = match (row.basis, row.justification) {
                    (None, _) => None,
                    (Some(basis), justification) => Some(DeclaredBasis::new(
                        purpose,
                        parse_basis(&basis)?,
                        justification.unwrap_or_default(),
                    )),
                };
                Ok((purpose, declared))
            })
            .collect()
    }

    async fn subjects_on_other_notice(&self, current: &str) -> Result<Vec<SubjectId>> {
        let now = self.now();
        let candidates = self
            .inner
            .backend
            .consent_notice_candidates(current, now.timestamp())
            .await?;
        let mut out = Vec::new();
        let mut done: Option<SubjectRef> = None;
        for (sref, seq) in candidates {
            if done == Some(sref) {
                continue;
            }
            let Some(record) = self.consent_record_at(&sref, seq).await? else {
                continue;
            };
            let event = &record.event;
            // Rows from before schema 3 matched on unknown basis: check it here.
            let qualifies = event.action == ConsentAction::Grant
                && event.basis == LegalBasis::Consent
                && event.notice_version.as_deref() != Some(current)
                && event.expires_at.is_none_or(|e| e > now);
            // The pseudonym column is not authenticated; the sealed event is.
            if qualifies && self.subject_ref(&event.subject) == sref {
                out.push(event.subject.clone());
                done = Some(sref);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Tombstones the subject's records and deletes its current state in one transaction
    /// (the chain of everyone else still verifies); the data key is left to
    /// [`EncryptedStore::erase`].
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let sref = self.subject_ref(subject);
        let n = self.inner.backend.erase_consent_of(&sref).await;
        self.inner.consent_cache.invalidate(subject);
        n
    }

    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
        let sref = self.subject_ref(subject);
        let rows = self.inner.backend.consent_of(&sref).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let (Some(dek_id), Some(sealed)) = (&row.dek_id, &row.sealed) else {
                continue;
            };
            let (Some(purpose), Some(platform), Some(action), Some(recorded_at)) =
                (&row.purpose, &row.platform, &row.action, row.recorded_at)
            else {
                return Err(Error::storage_msg("consent row is missing columns"));
            };
            let record_id =
                consent_record_id(purpose, platform, action, recorded_at, row.expires_at);
            let plaintext = self
                .open(&sref, RecordKind::Consent, &record_id, dek_id, sealed)
                .await?;
            out.push(self.open_consent(row, &plaintext)?);
        }
        Ok(out)
    }

    async fn verify_chain(&self) -> Result<ChainReport> {
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        loop {
            let rows = self
                .inner
                .backend
                .consent_range(after, VERIFY_BATCH)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for row in &rows {
                if !verifier.feed(row) {
                    return Ok(verifier.report());
                }
            }
        }
        Ok(verifier.report())
    }
}
