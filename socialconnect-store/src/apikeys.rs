//! [`ApiKeyStore`] for [`EncryptedStore`] over `sc_api_keys`.
//!
//! Nothing here is sealed: a row holds the key's public id and prefix, the SHA-256 hash the
//! presented key must match (as [`ApiKeys`](socialconnect_core::apikey::ApiKeys) computed it;
//! the key itself is never stored), scopes and times. None of it is personal data, and none of
//! it lets anyone produce a key that verifies. Times are stored to the microsecond; the store
//! truncates records to that precision on the way in, so every backend reads back what it was
//! given.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use socialconnect_core::Result;
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord, ApiKeyStore};

use crate::store::{EncryptedStore, micros_precision};

/// The record with every time at the stored precision.
fn normalised(mut r: ApiKeyRecord) -> Result<ApiKeyRecord> {
    let opt = |t: Option<DateTime<Utc>>| t.map(micros_precision).transpose();
    r.created_at = micros_precision(r.created_at)?;
    r.expires_at = opt(r.expires_at)?;
    r.last_used_at = opt(r.last_used_at)?;
    r.revoked_at = opt(r.revoked_at)?;
    r.grace_until = opt(r.grace_until)?;
    Ok(r)
}

#[async_trait]
impl ApiKeyStore for EncryptedStore {
    async fn insert(&self, record: ApiKeyRecord) -> Result<()> {
        self.inner.backend.insert_api_key(normalised(record)?).await
    }

    async fn get(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        self.inner.backend.get_api_key(key_id).await
    }

    async fn touch(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<()> {
        self.inner
            .backend
            .touch_api_key(key_id, at.timestamp_micros())
            .await
    }

    async fn revoke(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<bool> {
        self.inner
            .backend
            .revoke_api_key(key_id, at.timestamp_micros())
            .await
    }

    /// One transaction on the database backends: the replacement is inserted and the old key
    /// marked replaced only if it is still unrevoked and unrotated (a conditional `UPDATE`),
    /// so of two concurrent rotations exactly one wins.
    async fn rotate(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: DateTime<Utc>,
    ) -> Result<bool> {
        self.inner
            .backend
            .rotate_api_key(
                old,
                normalised(replacement)?,
                grace_until.timestamp_micros(),
            )
            .await
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>> {
        self.inner.backend.list_api_keys().await
    }

    async fn purge(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.inner
            .backend
            .purge_api_keys(cutoff.timestamp_micros())
            .await
    }
}
