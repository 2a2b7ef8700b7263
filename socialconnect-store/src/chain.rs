//! The consent ledger's hash chain over stored rows.
//!
//! Each row's `row_digest` covers its plaintext columns and its sealed bytes; `hash` links the
//! digest to the previous row's hash. Erasing a subject turns its rows into tombstones that keep
//! `row_digest`, `prev_hash` and `hash`, so the chain of everyone else still verifies while
//! nothing of the erased subject remains.

use sha2::{Digest, Sha256};
use socialconnect_core::consent::ChainReport;

use crate::backend::{ConsentRow, NewConsentRow};

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

fn opt_i64(h: &mut Sha256, v: Option<i64>) {
    match v {
        Some(v) => {
            h.update([1]);
            h.update(v.to_be_bytes());
        }
        None => h.update([0]),
    }
}

/// Digest of a row's content (plaintext columns and sealed bytes).
#[allow(clippy::too_many_arguments)] // mirrors the row's columns one to one
fn digest_of(
    subject_ref: &[u8; 32],
    purpose: &str,
    platform: &str,
    action: &str,
    recorded_at: i64,
    expires_at: Option<i64>,
    dek_id: &str,
    sealed: &[u8],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"socialconnect-consent-row-v1\0");
    field(&mut h, subject_ref);
    field(&mut h, purpose.as_bytes());
    field(&mut h, platform.as_bytes());
    field(&mut h, action.as_bytes());
    h.update(recorded_at.to_be_bytes());
    opt_i64(&mut h, expires_at);
    field(&mut h, dek_id.as_bytes());
    field(&mut h, sealed);
    h.finalize().into()
}

/// The digest of a row about to be appended.
pub(crate) fn row_digest(row: &NewConsentRow) -> [u8; 32] {
    digest_of(
        &row.subject_ref,
        &row.purpose,
        &row.platform,
        &row.action,
        row.recorded_at,
        row.expires_at,
        &row.dek_id,
        &row.sealed,
    )
}

/// The chain hash of row `seq` with digest `digest` after `prev_hash`.
pub(crate) fn link(prev_hash: &[u8; 32], seq: i64, digest: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"socialconnect-consent-link-v1\0");
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(digest);
    h.finalize().into()
}

/// Recomputes a stored row's digest; `None` for a tombstone (nothing left to recompute from).
fn stored_digest(row: &ConsentRow) -> Option<[u8; 32]> {
    Some(digest_of(
        row.subject_ref.as_ref()?,
        row.purpose.as_deref()?,
        row.platform.as_deref()?,
        row.action.as_deref()?,
        row.recorded_at?,
        row.expires_at,
        row.dek_id.as_deref()?,
        row.sealed.as_deref()?,
    ))
}

/// Incremental verifier: feed rows in `seq` order, batch by batch.
#[derive(Debug)]
pub(crate) struct ChainVerifier {
    prev_hash: [u8; 32],
    checked: u64,
    first_broken: Option<u64>,
}

impl ChainVerifier {
    pub(crate) fn new() -> Self {
        Self {
            prev_hash: [0; 32],
            checked: 0,
            first_broken: None,
        }
    }

    /// Checks the next row; returns false once a break was found (stop feeding).
    pub(crate) fn feed(&mut self, row: &ConsentRow) -> bool {
        if self.first_broken.is_some() {
            return false;
        }
        self.checked += 1;
        let is_tombstone = row.sealed.is_none();
        let digest_ok = is_tombstone || stored_digest(row) == Some(row.row_digest);
        let ok = digest_ok
            && row.prev_hash == self.prev_hash
            && link(&row.prev_hash, row.seq, &row.row_digest) == row.hash;
        if !ok {
            self.first_broken = Some(u64::try_from(row.seq).unwrap_or(0));
            return false;
        }
        self.prev_hash = row.hash;
        true
    }

    pub(crate) fn report(&self) -> ChainReport {
        ChainReport {
            checked: self.checked,
            first_broken: self.first_broken,
        }
    }
}
