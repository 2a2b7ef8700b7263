//! [`AccessLog`] for [`EncryptedStore`]: the subject as a pseudonym; the connection, the end
//! user's IP and user agent, and the acting operator of a privileged operation sealed under the
//! subject's key.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use socialconnect_core::access_log::{AccessLog, ClientInfo, LogCursor, Outcome, UsageEntry};
use socialconnect_core::id::{ConnectionId, PlatformId, SubjectId};
use socialconnect_core::{Error, Result};

use crate::backend::{SubjectRef, UsageRow};
use crate::envelope::RecordKind;
use crate::store::EncryptedStore;

#[derive(Serialize, Deserialize)]
struct UsageWire {
    connection: Option<ConnectionId>,
    ip: Option<IpAddr>,
    user_agent: Option<String>,
    /// Absent in entries written before actors were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    /// Absent in entries written before regions were recorded, or without one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

/// The record id bound into a usage entry's associated data: its plain columns.
fn usage_record_id(row_at: i64, platform: &str, operation: &str) -> Vec<u8> {
    format!("{row_at}\0{platform}\0{operation}").into_bytes()
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl EncryptedStore {
    async fn open_usage(
        &self,
        subject: &SubjectId,
        sref: &SubjectRef,
        row: &UsageRow,
    ) -> Result<UsageEntry> {
        let record_id = usage_record_id(row.at, &row.platform, &row.operation);
        let plaintext = self
            .open(
                sref,
                RecordKind::Usage,
                &record_id,
                &row.dek_id,
                &row.sealed,
            )
            .await?;
        let w: UsageWire = serde_json::from_slice(&plaintext)
            .map_err(|_| Error::storage_msg("stored usage entry is malformed"))?;
        let at = DateTime::from_timestamp_micros(row.at)
            .ok_or_else(|| Error::storage_msg("stored usage time out of range"))?;
        let platform = PlatformId::new(row.platform.clone())
            .map_err(|_| Error::storage_msg("malformed platform id in storage"))?;
        let status = row
            .http_status
            .map(|s| {
                u16::try_from(s).map_err(|_| Error::storage_msg("stored HTTP status out of range"))
            })
            .transpose()?;
        let latency = Duration::from_micros(u64::try_from(row.latency_us).unwrap_or(0));
        let entry = UsageEntry::new(
            at,
            subject.clone(),
            platform,
            w.connection,
            row.operation.clone(),
            Outcome::parse(&row.outcome),
            status,
            latency,
            ClientInfo::new(w.ip, w.user_agent.as_deref()),
        )
        .with_region(w.region);
        Ok(match w.actor {
            Some(actor) => entry.with_actor(actor),
            None => entry,
        })
    }
}

impl EncryptedStore {
    /// The row `entry` is stored as, sealed under its subject's key.
    async fn usage_row(&self, entry: UsageEntry) -> Result<UsageRow> {
        let sref = self.subject_ref(&entry.subject);
        self.usage_row_of(sref, entry).await
    }

    /// [`EncryptedStore::usage_row`] with the subject's pseudonym already computed.
    async fn usage_row_of(&self, sref: SubjectRef, entry: UsageEntry) -> Result<UsageRow> {
        let at = micros(entry.at);
        let wire = UsageWire {
            connection: entry.connection,
            ip: entry.client.ip,
            user_agent: entry.client.user_agent.clone(),
            actor: entry.actor.clone(),
            region: self.region().map(str::to_owned),
        };
        let plaintext =
            serde_json::to_vec(&wire).map_err(|e| Error::storage("encoding a usage entry", e))?;
        let record_id = usage_record_id(at, entry.platform.as_str(), &entry.operation);
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Usage, &record_id, &plaintext)
            .await?;
        Ok(UsageRow {
            subject_ref: sref,
            at,
            platform: entry.platform.as_str().to_owned(),
            operation: entry.operation,
            outcome: entry.outcome.as_str().to_owned(),
            http_status: entry.http_status.map(i64::from),
            latency_us: i64::try_from(entry.latency.as_micros()).unwrap_or(i64::MAX),
            dek_id,
            sealed,
        })
    }
}

#[async_trait]
impl AccessLog for EncryptedStore {
    async fn append(&self, entry: UsageEntry) -> Result<()> {
        let row = self.usage_row(entry).await?;
        self.inner.backend.append_usage(row).await
    }

    /// Seals every entry (each on its own, under its subject's key), then writes them in one
    /// transaction. An entry that cannot be sealed (its subject's key unavailable) is left out
    /// and its error returned after the others are written: one subject's key trouble does not
    /// cost everyone else's entries. Each subject's pseudonym is computed once per batch.
    async fn append_batch(&self, entries: Vec<UsageEntry>) -> Result<()> {
        let mut rows = Vec::with_capacity(entries.len());
        let mut failed = None;
        let mut refs: Vec<(SubjectId, SubjectRef)> = Vec::new();
        for entry in entries {
            // A batch holds few subjects (one per concurrent caller): a short list beats a map.
            let sref = match refs.iter().find(|(s, _)| *s == entry.subject) {
                Some((_, sref)) => *sref,
                None => {
                    let sref = self.subject_ref(&entry.subject);
                    if refs.len() < 256 {
                        refs.push((entry.subject.clone(), sref));
                    }
                    sref
                }
            };
            match self.usage_row_of(sref, entry).await {
                Ok(row) => rows.push(row),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        self.inner.backend.append_usage_batch(rows).await?;
        failed.map_or(Ok(()), Err)
    }

    async fn entries(&self, subject: &SubjectId) -> Result<Vec<UsageEntry>> {
        let sref = self.subject_ref(subject);
        let rows = self.inner.backend.usage_of(&sref).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.open_usage(subject, &sref, row).await?);
        }
        Ok(out)
    }

    /// Pages in append order (`sc_usage_log.id`; the cursor is the last id returned), opening
    /// only the rows of the page.
    async fn entries_page(
        &self,
        subject: &SubjectId,
        after: Option<LogCursor>,
        limit: u32,
    ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)> {
        let sref = self.subject_ref(subject);
        let limit = limit.max(1);
        let after = after.map_or(Ok(0), |c| {
            i64::try_from(c.0).map_err(|_| Error::invalid_input("log cursor out of range"))
        })?;
        // One row more than asked tells whether another page follows.
        let mut rows = self
            .inner
            .backend
            .usage_page(&sref, after, limit.saturating_add(1))
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let mut out = Vec::with_capacity(rows.len());
        for (_, row) in &rows {
            out.push(self.open_usage(subject, &sref, row).await?);
        }
        let next = match rows.last() {
            Some((id, _)) if more => Some(LogCursor(
                u64::try_from(*id).map_err(|_| Error::storage_msg("negative usage-log id"))?,
            )),
            _ => None,
        };
        Ok((out, next))
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.inner
            .backend
            .purge_usage_before(micros(cutoff), self.inner.options.purge_batch)
            .await
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let sref = self.subject_ref(subject);
        self.inner.backend.erase_usage_of(&sref).await
    }
}
