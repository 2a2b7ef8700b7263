//! [`MemoryReceipts`]: erasure receipts in a vector, with a keyed pseudonym.

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::lock;
use crate::error::Result;
use crate::id::SubjectId;
use crate::receipt::{ErasureReceipt, ReceiptStore};

/// An in-process [`ReceiptStore`], for tests and prototypes.
///
/// # Privacy decisions
///
/// The pseudonym is the hex HMAC-SHA256 of the subject id under a 32-byte key drawn at random
/// when the store is created. The key never leaves the instance (`Debug` does not show it), so
/// the pseudonym cannot be reversed or recomputed by anyone reading the receipts, and it is
/// stable for the life of the instance: erasing the same subject twice yields the same
/// pseudonym, and the host can look a subject's receipts up by recomputing it. Since the key
/// dies with the process, a restarted instance computes different pseudonyms; a deployment uses
/// `socialconnect-store`, whose key lives with the key provider. [`MemoryReceipts::with_key`]
/// fixes the key for tests that need pseudonyms to survive a rebuild.
pub struct MemoryReceipts {
    key: Zeroizing<[u8; 32]>,
    receipts: Mutex<Vec<ErasureReceipt>>,
}

impl MemoryReceipts {
    /// An empty store with a fresh random pseudonym key.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        Self::with_key(key)
    }

    /// An empty store with a given pseudonym key.
    pub fn with_key(key: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(key),
            receipts: Mutex::new(Vec::new()),
        }
    }
}

impl Default for MemoryReceipts {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryReceipts {
    // Never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryReceipts");
        match self.receipts.lock() {
            Ok(r) => d.field("receipts", &r.len()),
            Err(_) => d.field("receipts", &"<poisoned>"),
        };
        d.finish_non_exhaustive()
    }
}

#[async_trait]
impl ReceiptStore for MemoryReceipts {
    fn pseudonym(&self, subject: &SubjectId) -> String {
        // `new_from_slice` cannot fail for HMAC: keys of any length are accepted.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_slice())
            .expect("HMAC accepts keys of any length");
        mac.update(subject.as_str().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    async fn record_erasure(&self, receipt: &ErasureReceipt) -> Result<()> {
        lock(&self.receipts)?.push(receipt.clone());
        Ok(())
    }

    async fn erasure_receipts(&self, subject_pseudonym: &str) -> Result<Vec<ErasureReceipt>> {
        Ok(lock(&self.receipts)?
            .iter()
            .filter(|r| r.subject_pseudonym == subject_pseudonym)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_stable_and_hex() {
        let a = MemoryReceipts::new();
        let b = MemoryReceipts::new();
        let me = SubjectId::new("me").unwrap();
        let p = a.pseudonym(&me);
        assert_eq!(p.len(), 64);
        assert!(p.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(p, a.pseudonym(&me));
        assert_ne!(p, a.pseudonym(&SubjectId::new("you").unwrap()));
        // Another key, another pseudonym: nothing can be recomputed without the key.
        assert_ne!(p, b.pseudonym(&me));
        assert_eq!(
            MemoryReceipts::with_key([7; 32]).pseudonym(&me),
            MemoryReceipts::with_key([7; 32]).pseudonym(&me)
        );
        assert!(!format!("{a:?}").contains("key"));
    }
}
