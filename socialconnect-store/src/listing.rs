//! Listing every stored connection, across subjects, for operators: what a connection is and
//! where it stands, never its tokens.

use chrono::{DateTime, Utc};
use socialconnect_core::Result;
use socialconnect_core::id::{ConnectionId, ConnectionKey, Scope};
use socialconnect_core::store::ConnectionStatus;

use crate::store::{EncryptedStore, connection_key, from_secs, status_from_row};

/// One stored connection as an operator sees it: who, where, in what state, with which
/// scopes. It holds no token; `Debug` prints nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionSummary {
    /// The subject, platform and connection id.
    pub key: ConnectionKey,
    /// Active, reconnect-required or revoked.
    pub status: ConnectionStatus,
    /// The scopes granted.
    pub scopes: Vec<Scope>,
    /// When the row was last written.
    pub updated_at: DateTime<Utc>,
}

impl EncryptedStore {
    /// Up to `limit` stored connections with an id after `after` (from the start when
    /// `None`), ordered by connection id: page on by passing the last id returned; a page
    /// shorter than `limit` is the last. Each row is opened to read its subject id, so this is
    /// an operator's listing, not a hot path. Rows whose subject's data key is gone (an
    /// erasure in progress) or that name no subject (payload format 1) are skipped without
    /// counting against `limit`.
    pub async fn connection_page(
        &self,
        after: Option<&ConnectionId>,
        limit: u32,
    ) -> Result<Vec<ConnectionSummary>> {
        let limit = limit.max(1);
        let mut cursor = after.map(ToString::to_string).unwrap_or_default();
        let mut out = Vec::new();
        while out.len() < limit as usize {
            let want = limit - out.len() as u32;
            let rows = self.inner.backend.token_page(&cursor, want).await?;
            let Some(last) = rows.last() else { break };
            cursor = last.conn_id.clone();
            let fetched = rows.len();
            for row in rows {
                let Some((subject, tokens)) = self.open_scanned(&row).await? else {
                    continue;
                };
                out.push(ConnectionSummary {
                    key: connection_key(&subject, &row.conn_id, &row.platform)?,
                    status: status_from_row(&row.status, row.status_since)?,
                    scopes: tokens.scopes.clone(),
                    updated_at: from_secs(row.updated_at)?,
                });
            }
            if fetched < want as usize {
                break;
            }
        }
        Ok(out)
    }

    /// Every stored connection ([`EncryptedStore::connection_page`] until the end).
    pub async fn all_connections(&self) -> Result<Vec<ConnectionSummary>> {
        const PAGE: u32 = 500;
        let mut all: Vec<ConnectionSummary> = Vec::new();
        loop {
            let after = all.last().map(|c| c.key.connection);
            let page = self.connection_page(after.as_ref(), PAGE).await?;
            let last = page.len() < PAGE as usize;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    /// The schema version this build migrates every database to. Opening a store applies
    /// the missing migrations and refuses a database written by a newer release, so an open
    /// store is at exactly this version.
    pub fn schema_version() -> i64 {
        crate::backend::migrations::latest()
    }
}
