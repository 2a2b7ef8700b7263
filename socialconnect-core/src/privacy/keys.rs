//! Key-encryption keys, held by a [`KeyProvider`]: a local keyring, a KMS or a Vault transit engine.

use std::fmt;

use async_trait::async_trait;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Result;

/// Identifies one key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub String);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit data key in clear. Zeroized on drop; `Debug` shows nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// Wraps key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self(bytes)
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

/// A data key encrypted under a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Which key-encryption key wrapped it.
    pub key_id: KeyId,
    /// The provider's ciphertext.
    pub ciphertext: Vec<u8>,
}

/// Holds key-encryption keys and wraps / unwraps data keys with them.
///
/// Async so a remote KMS fits; the local keyring answers at once.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// The key new data keys are wrapped with.
    fn primary(&self) -> KeyId;

    /// Wraps `key` under the key-encryption key `key_id`, binding `context` (for example the
    /// subject's pseudonym) as associated data.
    async fn wrap(&self, key_id: &KeyId, key: &DataKey, context: &[u8]) -> Result<WrappedKey>;

    /// Unwraps a data key; fails with [`crate::ErrorKind::Crypto`] when the key id is unknown or
    /// the ciphertext or context do not match.
    async fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey>;
}
