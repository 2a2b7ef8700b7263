//! Claiming due refreshes for [`EncryptedStore`]: the backend claims rows by their plain due
//! column; the store opens each to name its connection (the subject id is sealed).

use chrono::{DateTime, Utc};
use socialconnect_core::id::ConnectionKey;
use socialconnect_core::store::refresh_due_at;
use socialconnect_core::{Error, Result};
use uuid::Uuid;

use crate::backend::TokenRow;
use crate::store::{EncryptedStore, connection_key, status_from_row};

/// How long a row the store cannot open (its subject's key is gone mid-erasure, it names no
/// subject, or it was tampered with) is held back from claims, so it does not come back on
/// every pass. Due refreshes and scheduled actions alike.
pub(crate) const UNREADABLE_HOLD: chrono::Duration = chrono::Duration::hours(24);

/// A claim's TTL as a positive duration chrono can add.
pub(crate) fn claim_ttl(ttl: std::time::Duration) -> Result<chrono::Duration> {
    chrono::Duration::from_std(ttl)
        .ok()
        .filter(|t| *t > chrono::Duration::zero())
        .ok_or_else(|| Error::invalid_input("claim TTL must be positive and in range"))
}

/// `now + ttl`, or an error when that is out of range.
pub(crate) fn claim_until(now: DateTime<Utc>, ttl: std::time::Duration) -> Result<DateTime<Utc>> {
    now.checked_add_signed(claim_ttl(ttl)?)
        .ok_or_else(|| Error::invalid_input("claim TTL must be positive and in range"))
}

impl EncryptedStore {
    /// See [`socialconnect_core::store::TokenStore::claim_due`]. A row whose due column was
    /// not known (written before schema 5) is opened, given its real due time and let go
    /// when that is not due yet.
    pub(crate) async fn claim_due_rows(
        &self,
        due_before: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        ttl: std::time::Duration,
    ) -> Result<Vec<ConnectionKey>> {
        let now = self.now();
        let until = claim_until(now, ttl)?;
        let owner = owner.to_string();
        let rows = self
            .inner
            .backend
            .claim_due_tokens(
                due_before.timestamp(),
                now.timestamp(),
                limit,
                &owner,
                until.timestamp(),
            )
            .await?;
        // RETURNING follows no ORDER BY: earliest due first, as the trait promises.
        let mut rows = rows;
        rows.sort_by(|a, b| (a.refresh_due_at, &a.conn_id).cmp(&(b.refresh_due_at, &b.conn_id)));
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            match self.claimed_key(&row, due_before, &owner).await {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error.kind = %e.kind().as_str(), "a claimed connection could not be read; held back");
                    self.inner
                        .backend
                        .release_token_claim(
                            &row.conn_id,
                            &owner,
                            (now + UNREADABLE_HOLD).timestamp(),
                        )
                        .await?;
                }
            }
        }
        Ok(keys)
    }

    /// The key of a claimed row, or `None` when it was let go (not due after all).
    async fn claimed_key(
        &self,
        row: &TokenRow,
        due_before: DateTime<Utc>,
        owner: &str,
    ) -> Result<Option<ConnectionKey>> {
        let Some((subject, tokens)) = self.open_scanned(row).await? else {
            return Err(Error::storage_msg("a claimed token row cannot be opened"));
        };
        let status = status_from_row(&row.status, row.status_since)?;
        let due = refresh_due_at(&tokens, &status).map(|t| t.timestamp());
        if row.refresh_due_at != due {
            self.inner
                .backend
                .set_token_due(&row.conn_id, row.version, due)
                .await?;
            if due.is_none_or(|d| d > due_before.timestamp()) {
                self.inner
                    .backend
                    .release_token_claim(&row.conn_id, owner, 0)
                    .await?;
                return Ok(None);
            }
        }
        connection_key(&subject, &row.conn_id, &row.platform).map(Some)
    }

    /// See [`socialconnect_core::store::TokenStore::release_claim`].
    pub(crate) async fn release_claimed(
        &self,
        key: &ConnectionKey,
        owner: Uuid,
        hold_until: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let conn_id = key.connection.to_string();
        // Only the caller's own connection: the key must match the row's subject and platform.
        match self.inner.backend.get_token(&conn_id).await? {
            Some(row)
                if row.subject_ref == self.subject_ref(&key.subject)
                    && row.platform == key.platform.as_str() => {}
            _ => return Ok(false),
        }
        self.inner
            .backend
            .release_token_claim(
                &conn_id,
                &owner.to_string(),
                hold_until.map_or(0, |t| t.timestamp().max(1)),
            )
            .await
    }
}
