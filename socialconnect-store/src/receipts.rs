//! [`ReceiptStore`] for [`EncryptedStore`]: erasure receipts, kept in clear because they hold
//! no personal data, and kept across erasures (they are the proof one happened).
//!
//! The subject appears only as [`ReceiptStore::pseudonym`]: HMAC-SHA256 under the store's
//! pseudonym key (itself wrapped by the key provider) in the domain `erasure-receipt\0`. The
//! host recomputes it from a subject id to find that subject's receipts; nobody can go from
//! the pseudonym back to the id, and it never equals the `subject_ref` the subject's rows were
//! stored under, so a receipt cannot be joined to a backup of those rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use socialconnect_core::id::SubjectId;
use socialconnect_core::receipt::{ErasureReceipt, ReceiptStore};
use socialconnect_core::{Error, Result};

use crate::backend::ReceiptRow;
use crate::store::EncryptedStore;

/// `sc_erasure_receipts.body`.
#[derive(Serialize, Deserialize)]
struct ReceiptBody {
    counts: BTreeMap<String, u64>,
    upstream: Vec<(String, String)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[async_trait]
impl ReceiptStore for EncryptedStore {
    fn pseudonym(&self, subject: &SubjectId) -> String {
        hex(&self.inner.subjects.receipt_pseudonym(subject))
    }

    async fn record_erasure(&self, receipt: &ErasureReceipt) -> Result<()> {
        let body = serde_json::to_string(&ReceiptBody {
            counts: receipt.counts.clone(),
            upstream: receipt.upstream.clone(),
        })
        .map_err(|e| Error::storage("encoding an erasure receipt", e))?;
        self.inner
            .backend
            .insert_receipt(ReceiptRow {
                pseudonym: receipt.subject_pseudonym.clone(),
                erased_at: receipt.erased_at.timestamp_micros(),
                body,
            })
            .await
    }

    /// Oldest first. `erased_at` reads back to the microsecond.
    async fn erasure_receipts(&self, subject_pseudonym: &str) -> Result<Vec<ErasureReceipt>> {
        let rows = self.inner.backend.receipts_of(subject_pseudonym).await?;
        rows.into_iter()
            .map(|row| {
                let malformed = || Error::storage_msg("stored erasure receipt is malformed");
                let body: ReceiptBody = serde_json::from_str(&row.body).map_err(|_| malformed())?;
                let erased_at = DateTime::from_timestamp_micros(row.erased_at)
                    .ok_or_else(|| Error::storage_msg("stored erasure time out of range"))?;
                // `ErasureReceipt` is non-exhaustive without a constructor; its serde form is
                // its public shape.
                serde_json::from_value(serde_json::json!({
                    "subject_pseudonym": row.pseudonym,
                    "erased_at": erased_at,
                    "counts": body.counts,
                    "upstream": body.upstream,
                }))
                .map_err(|_| malformed())
            })
            .collect()
    }
}
