//! Erasure receipts: proof that a subject was erased, kept without keeping the person.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::SubjectId;

/// What remains after an erasure: a keyed pseudonym of the subject (the host can recompute it
/// from the subject id to show the erasure happened; nobody can recover the id from it), when,
/// what was removed, and what each platform's revocation achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErasureReceipt {
    /// Hex HMAC-SHA256 of the subject id under a key the key provider holds.
    pub subject_pseudonym: String,
    /// When the erasure ran.
    pub erased_at: DateTime<Utc>,
    /// Records removed, per kind.
    pub counts: BTreeMap<String, u64>,
    /// Per platform: `completed`, `failed: <reason>` or `unsupported`.
    pub upstream: Vec<(String, String)>,
}

/// Persistence of erasure receipts.
#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// The keyed pseudonym receipts use for `subject`.
    fn pseudonym(&self, subject: &SubjectId) -> String;

    /// Stores a receipt.
    async fn record_erasure(&self, receipt: &ErasureReceipt) -> Result<()>;

    /// The receipts for a pseudonym, oldest first.
    async fn erasure_receipts(&self, subject_pseudonym: &str) -> Result<Vec<ErasureReceipt>>;
}
