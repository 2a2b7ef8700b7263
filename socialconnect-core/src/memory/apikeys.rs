//! [`MemoryApiKeys`]: API key records in process memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::apikey::{ApiKeyId, ApiKeyRecord, ApiKeyStore};
use crate::error::{Error, Result};

/// API key records in a process-local map (unencrypted; tests and prototypes). Holds hashes
/// only, never a key.
#[derive(Debug, Default)]
pub struct MemoryApiKeys {
    // Keyed by id; UUID v7 ids make iteration order the issue order.
    state: Mutex<BTreeMap<ApiKeyId, ApiKeyRecord>>,
}

impl MemoryApiKeys {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeys {
    async fn insert(&self, record: ApiKeyRecord) -> Result<()> {
        let mut map = lock(&self.state)?;
        if map.contains_key(&record.key_id) {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        map.insert(record.key_id, record);
        Ok(())
    }

    async fn get(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        Ok(lock(&self.state)?.get(key_id).cloned())
    }

    async fn touch(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<()> {
        if let Some(r) = lock(&self.state)?.get_mut(key_id)
            && r.last_used_at.is_none_or(|t| t < at)
        {
            r.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn revoke(&self, key_id: &ApiKeyId, at: DateTime<Utc>) -> Result<bool> {
        match lock(&self.state)?.get_mut(key_id) {
            Some(r) if r.revoked_at.is_none() => {
                r.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rotate(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: DateTime<Utc>,
    ) -> Result<bool> {
        let mut map = lock(&self.state)?;
        if map.contains_key(&replacement.key_id) {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        let Some(record) = map.get_mut(old) else {
            return Ok(false);
        };
        if record.revoked_at.is_some() || record.replaced_by.is_some() {
            return Ok(false);
        }
        record.replaced_by = Some(replacement.key_id);
        record.grace_until = Some(grace_until);
        map.insert(replacement.key_id, replacement);
        Ok(true)
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>> {
        let mut all: Vec<_> = lock(&self.state)?.values().cloned().collect();
        all.sort_by_key(|r| (r.created_at, r.key_id));
        Ok(all)
    }

    async fn purge(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut map = lock(&self.state)?;
        let before = map.len();
        map.retain(|_, r| r.dead_since().is_none_or(|d| d > cutoff));
        Ok((before - map.len()) as u64)
    }
}
