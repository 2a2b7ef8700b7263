//! [`ConsentLedger`] for [`EncryptedStore`]: each event sealed under its subject's key, plain
//! columns only for what the permission check needs, the chain over stored rows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use socialconnect_core::consent::{
    ChainReport, ConsentAction, ConsentEvent, ConsentLedger, ConsentReceipt, ConsentRecord,
};
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};
use socialconnect_core::{Error, Result};
use uuid::Uuid;

use crate::backend::{ConsentRow, NewConsentRow};
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

impl EncryptedStore {
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
        ))
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
        let wire = ConsentWire {
            receipt_id,
            event,
            recorded_at,
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
            })
            .await?;
        Ok(ConsentReceipt {
            receipt_id,
            seq: u64::try_from(row.seq)
                .map_err(|_| Error::storage_msg("negative consent sequence"))?,
            hash: row.hash,
        })
    }

    async fn permits(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sref = self.subject_ref(subject);
        let state = self
            .inner
            .backend
            .consent_state(&sref, purpose.as_str(), &[platform.as_str(), ""])
            .await?;
        Ok(match state {
            Some(s) if s.action == "grant" => match s.expires_at {
                Some(e) => from_secs(e)? > now,
                None => true,
            },
            _ => false,
        })
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
