//! [`TokenStore`] for [`EncryptedStore`].

use std::time::Duration;

use async_trait::async_trait;
use socialconnect_core::id::{ConnectionKey, SubjectId};
use socialconnect_core::store::{
    ConnectionStatus, ErasureReport, PutOutcome, RefreshLease, StoredTokens, TokenStore,
};
use socialconnect_core::token::TokenSet;
use socialconnect_core::{Error, Result};
use uuid::Uuid;

use crate::backend::TokenRow;
use crate::envelope::RecordKind;
use crate::store::{EncryptedStore, connection_key, from_secs, status_from_row};

#[async_trait]
impl TokenStore for EncryptedStore {
    async fn put(
        &self,
        key: &ConnectionKey,
        tokens: &TokenSet,
        expected_version: Option<u64>,
    ) -> Result<PutOutcome> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        let plaintext = tokens.to_secret_bytes()?;
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Token, conn_id.as_bytes(), &plaintext)
            .await?;
        let expected = expected_version
            .map(|v| i64::try_from(v).map_err(|_| Error::invalid_input("version out of range")))
            .transpose()?;
        let row = TokenRow {
            conn_id,
            subject_ref: sref,
            platform: key.platform.as_str().to_owned(),
            version: 0,
            status: "active".to_owned(),
            status_since: None,
            updated_at: self.now().timestamp(),
            dek_id,
            sealed,
        };
        self.inner.backend.put_token(row, expected).await
    }

    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredTokens>> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        let Some(row) = self.inner.backend.get_token(&conn_id).await? else {
            return Ok(None);
        };
        // The key names another subject or platform: not this caller's connection.
        if row.subject_ref != sref || row.platform != key.platform.as_str() {
            return Ok(None);
        }
        let plaintext = self
            .open(
                &sref,
                RecordKind::Token,
                conn_id.as_bytes(),
                &row.dek_id,
                &row.sealed,
            )
            .await?;
        let tokens = TokenSet::from_secret_bytes(&plaintext)?;
        let version = u64::try_from(row.version)
            .map_err(|_| Error::storage_msg("negative row version in storage"))?;
        Ok(Some(StoredTokens::new(
            tokens,
            version,
            status_from_row(&row.status, row.status_since)?,
            from_secs(row.updated_at)?,
        )))
    }

    async fn set_status(&self, key: &ConnectionKey, status: ConnectionStatus) -> Result<bool> {
        if self.get(key).await?.is_none() {
            return Ok(false);
        }
        self.inner
            .backend
            .set_token_status(
                &key.connection.to_string(),
                status.as_str(),
                status.since().map(|t| t.timestamp()),
                self.now().timestamp(),
            )
            .await
    }

    async fn delete(&self, key: &ConnectionKey) -> Result<bool> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        match self.inner.backend.get_token(&conn_id).await? {
            Some(row) if row.subject_ref == sref && row.platform == key.platform.as_str() => {
                self.inner.backend.delete_token(&conn_id).await
            }
            _ => Ok(false),
        }
    }

    async fn connections(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>> {
        let sref = self.subject_ref(subject);
        self.inner
            .backend
            .tokens_of(&sref)
            .await?
            .iter()
            .map(|(conn, platform)| connection_key(subject, conn, platform))
            .collect()
    }

    async fn try_lease(&self, key: &ConnectionKey, ttl: Duration) -> Result<Option<RefreshLease>> {
        let ttl = chrono::Duration::from_std(ttl)
            .ok()
            .filter(|t| *t > chrono::Duration::zero())
            .ok_or_else(|| Error::invalid_input("lease TTL must be positive and in range"))?;
        let now = self.now();
        let expires_at = now + ttl;
        let owner = Uuid::new_v4();
        let taken = self
            .inner
            .backend
            .try_lease(
                &key.connection.to_string(),
                &owner.to_string(),
                now.timestamp(),
                expires_at.timestamp(),
            )
            .await?;
        Ok(taken.then(|| RefreshLease {
            key: key.clone(),
            owner,
            expires_at,
        }))
    }

    async fn release(&self, lease: &RefreshLease) -> Result<bool> {
        self.inner
            .backend
            .release_lease(&lease.key.connection.to_string(), &lease.owner.to_string())
            .await
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<ErasureReport> {
        self.erase(subject).await
    }
}
