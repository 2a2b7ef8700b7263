//! [`MemoryAccessLog`]: the usage log in a vector.

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::access_log::{AccessLog, LogCursor, UsageEntry};
use crate::error::Result;
use crate::id::SubjectId;

/// An in-process, **unencrypted** [`AccessLog`], for tests and prototypes.
///
/// Entries, including the end user's IP address and user agent, are kept as plain values in
/// memory.
#[derive(Default)]
pub struct MemoryAccessLog {
    entries: Mutex<Log>,
}

/// Entries by a sequence number that is their cursor.
#[derive(Default)]
struct Log {
    next: u64,
    rows: std::collections::BTreeMap<u64, UsageEntry>,
}

impl MemoryAccessLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryAccessLog {
    // Counts only: entries hold IP addresses and user agents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryAccessLog");
        match self.entries.lock() {
            Ok(log) => d.field("entries", &log.rows.len()),
            Err(_) => d.field("entries", &"<poisoned>"),
        };
        d.finish()
    }
}

#[async_trait]
impl AccessLog for MemoryAccessLog {
    async fn append(&self, entry: UsageEntry) -> Result<()> {
        let mut log = lock(&self.entries)?;
        log.next += 1;
        let id = log.next;
        log.rows.insert(id, entry);
        Ok(())
    }

    /// The subject's entries ordered by `at` (calls that finish out of order are appended out
    /// of order); entries with equal `at` stay in append order.
    async fn entries(&self, subject: &SubjectId) -> Result<Vec<UsageEntry>> {
        let mut mine: Vec<UsageEntry> = lock(&self.entries)?
            .rows
            .values()
            .filter(|e| e.subject == *subject)
            .cloned()
            .collect();
        mine.sort_by_key(|e| e.at);
        Ok(mine)
    }

    /// Pages in append order (the cursor is the append sequence number).
    async fn entries_page(
        &self,
        subject: &SubjectId,
        after: Option<LogCursor>,
        limit: u32,
    ) -> Result<(Vec<UsageEntry>, Option<LogCursor>)> {
        let log = lock(&self.entries)?;
        let start = after.map_or(0, |c| c.0);
        let mut out = Vec::new();
        let mut last = None;
        for (id, e) in log
            .rows
            .range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded))
        {
            if e.subject != *subject {
                continue;
            }
            if out.len() as u32 >= limit.max(1) {
                return Ok((out, last));
            }
            out.push(e.clone());
            last = Some(LogCursor(*id));
        }
        Ok((out, None))
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut log = lock(&self.entries)?;
        let before = log.rows.len();
        log.rows.retain(|_, e| e.at >= cutoff);
        Ok((before - log.rows.len()) as u64)
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let mut log = lock(&self.entries)?;
        let before = log.rows.len();
        log.rows.retain(|_, e| e.subject != *subject);
        Ok((before - log.rows.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::access_log::{ClientInfo, Outcome};
    use crate::id::PlatformId;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    fn entry(subject: &str, at: DateTime<Utc>, operation: &str) -> UsageEntry {
        UsageEntry::new(
            at,
            SubjectId::new(subject).unwrap(),
            PlatformId::FACEBOOK,
            None,
            operation,
            Outcome::Success,
            Some(200),
            Duration::from_millis(42),
            ClientInfo::new(Some("203.0.113.9".parse().unwrap()), Some("test-agent")),
        )
    }

    #[tokio::test]
    async fn entries_are_per_subject_and_oldest_first() {
        let log = MemoryAccessLog::new();
        log.append(entry("me", t(20), "pages.publish"))
            .await
            .unwrap();
        log.append(entry("you", t(5), "pages.list")).await.unwrap();
        log.append(entry("me", t(10), "oauth.refresh"))
            .await
            .unwrap();
        log.append(entry("me", t(20), "pages.read")).await.unwrap();
        let ops: Vec<String> = log
            .entries(&SubjectId::new("me").unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.operation)
            .collect();
        assert_eq!(ops, ["oauth.refresh", "pages.publish", "pages.read"]);
    }

    #[tokio::test]
    async fn purge_before_keeps_the_cutoff_instant() {
        let log = MemoryAccessLog::new();
        for secs in [0, 10, 20, 30] {
            log.append(entry("me", t(secs), "op")).await.unwrap();
        }
        assert_eq!(log.purge_before(t(0)).await.unwrap(), 0);
        assert_eq!(log.purge_before(t(20)).await.unwrap(), 2);
        assert_eq!(log.purge_before(t(20)).await.unwrap(), 0);
        let left: Vec<_> = log
            .entries(&SubjectId::new("me").unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.at)
            .collect();
        assert_eq!(left, [t(20), t(30)]);
    }

    #[tokio::test]
    async fn erase_subject_removes_only_theirs() {
        let log = MemoryAccessLog::new();
        log.append(entry("me", t(1), "a")).await.unwrap();
        log.append(entry("you", t(2), "b")).await.unwrap();
        log.append(entry("me", t(3), "c")).await.unwrap();
        let me = SubjectId::new("me").unwrap();
        assert_eq!(log.erase_subject(&me).await.unwrap(), 2);
        assert!(log.entries(&me).await.unwrap().is_empty());
        assert_eq!(
            log.entries(&SubjectId::new("you").unwrap())
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(format!("{log:?}"), "MemoryAccessLog { entries: 1 }");
    }
}
