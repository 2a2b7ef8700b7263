//! A key provider of random keys that live and die with the process, for tests.

use async_trait::async_trait;
use socialconnect_core::Result;
use socialconnect_core::keys::{DataKey, KeyId, KeyProvider, WrappedKey};

use super::LocalKeyring;

/// A [`LocalKeyring`] of freshly generated random keys, for tests.
///
/// Nothing wrapped under it can be opened once it is dropped, since its keys exist nowhere
/// else. Every constructor draws new keys, so two providers never share one: build a second with
/// [`MemoryKeyProvider::lookalike`] to check that data from one keyring does not open under
/// another.
#[derive(Debug)]
pub struct MemoryKeyProvider {
    keyring: LocalKeyring,
}

impl MemoryKeyProvider {
    /// One random key, id `test-1`, which is primary.
    pub fn new() -> Self {
        Self {
            keyring: LocalKeyring::random(
                &[KeyId("test-1".to_owned())],
                KeyId("test-1".to_owned()),
            )
            .unwrap_or_else(|_| unreachable!("`test-1` is a valid id")),
        }
    }

    /// One random key per id, with `primary` as the primary.
    ///
    /// # Errors
    ///
    /// [`socialconnect_core::Error::Config`] when `ids` is empty, an id is invalid or repeated,
    /// or `primary` is not among them.
    pub fn generate(ids: &[&str], primary: &str) -> Result<Self> {
        let ids: Vec<KeyId> = ids.iter().map(|id| KeyId((*id).to_owned())).collect();
        Ok(Self {
            keyring: LocalKeyring::random(&ids, KeyId(primary.to_owned()))?,
        })
    }

    /// A provider with the same ids and primary but new random keys: a wrong keyring that
    /// nonetheless knows every key id, so unwrapping reaches the authentication check.
    pub fn lookalike(&self) -> Self {
        Self {
            keyring: self.keyring.lookalike(),
        }
    }

    /// The same keys with another primary, as in a rotation.
    ///
    /// # Errors
    ///
    /// [`socialconnect_core::Error::Config`] when no key has that id.
    pub fn with_primary(self, primary: KeyId) -> Result<Self> {
        Ok(Self {
            keyring: self.keyring.with_primary(primary)?,
        })
    }

    /// The keyring inside.
    pub fn keyring(&self) -> &LocalKeyring {
        &self.keyring
    }
}

impl Default for MemoryKeyProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl KeyProvider for MemoryKeyProvider {
    fn primary(&self) -> KeyId {
        self.keyring.primary()
    }

    async fn wrap(&self, key_id: &KeyId, key: &DataKey, context: &[u8]) -> Result<WrappedKey> {
        self.keyring.wrap(key_id, key, context).await
    }

    async fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey> {
        self.keyring.unwrap(wrapped, context).await
    }
}
