//! [`PendingAuthStore`] for [`EncryptedStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use socialconnect_core::id::{PlatformId, Scope, SubjectId};
use socialconnect_core::secret::PkceVerifier;
use socialconnect_core::store::{PendingAuth, PendingAuthStore};
use socialconnect_core::{Error, Result};
use url::Url;

use crate::backend::PendingRow;
use crate::envelope::RecordKind;
use crate::store::EncryptedStore;

#[derive(Serialize)]
struct PendingWire<'a> {
    subject: &'a SubjectId,
    platform: &'a PlatformId,
    redirect_uri: &'a str,
    scopes: &'a [Scope],
    pkce_verifier: Option<&'a str>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The store's region, kept with the record (not surfaced: pending states live minutes).
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
}

#[derive(Deserialize)]
struct PendingWireOwned {
    subject: SubjectId,
    platform: PlatformId,
    redirect_uri: String,
    scopes: Vec<Scope>,
    pkce_verifier: Option<PkceVerifier>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[async_trait]
impl PendingAuthStore for EncryptedStore {
    async fn insert(&self, state_hash: [u8; 32], pending: PendingAuth) -> Result<()> {
        let sref = self.subject_ref(&pending.subject);
        let wire = PendingWire {
            subject: &pending.subject,
            platform: &pending.platform,
            redirect_uri: pending.redirect_uri.as_str(),
            scopes: &pending.scopes,
            pkce_verifier: pending.pkce_verifier.as_ref().map(|v| v.expose_secret()),
            created_at: pending.created_at,
            expires_at: pending.expires_at,
            region: self.region(),
        };
        let plaintext = zeroize::Zeroizing::new(
            serde_json::to_vec(&wire).map_err(|e| Error::storage("encoding a pending state", e))?,
        );
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Pending, &state_hash, &plaintext)
            .await?;
        self.inner
            .backend
            .insert_pending(PendingRow {
                state_hash,
                subject_ref: sref,
                expires_at: pending.expires_at.timestamp(),
                dek_id,
                sealed,
            })
            .await
    }

    async fn take(&self, state_hash: [u8; 32]) -> Result<Option<PendingAuth>> {
        let Some(row) = self.inner.backend.take_pending(&state_hash).await? else {
            return Ok(None);
        };
        // A state whose subject was erased meanwhile is gone with it.
        if self
            .inner
            .subjects
            .data_key(&row.subject_ref, false)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let plaintext = self
            .open(
                &row.subject_ref,
                RecordKind::Pending,
                &state_hash,
                &row.dek_id,
                &row.sealed,
            )
            .await?;
        let w: PendingWireOwned = serde_json::from_slice(&plaintext)
            .map_err(|_| Error::storage_msg("stored pending state is malformed"))?;
        let redirect_uri = Url::parse(&w.redirect_uri)
            .map_err(|_| Error::storage_msg("stored redirect URI is malformed"))?;
        Ok(Some(PendingAuth::new(
            w.subject,
            w.platform,
            redirect_uri,
            w.scopes,
            w.pkce_verifier,
            w.created_at,
            w.expires_at,
        )))
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        self.inner.backend.purge_pending(now.timestamp()).await
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let sref = self.subject_ref(subject);
        self.inner.backend.erase_pending_of(&sref).await
    }
}
