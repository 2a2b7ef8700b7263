//! The hub's privacy-notice registry, kept in step with the consent ledger's stored notices so
//! that every hub sharing a ledger (every instance on one database) enforces the same
//! versions and asks the same users to re-consent.
//!
//! A hub writes the versions it was built with, and each one it publishes, to the ledger
//! ([`ConsentLedger::store_notice`](crate::consent::ConsentLedger::store_notice)); it reads the
//! ledger's versions back when collecting consent, when publishing, and on a permission check
//! once the sync interval (default 5 s) has passed since the last read. A version another
//! instance published is therefore enforced here within that interval — well inside any
//! notice's grace period, which is what enforcement waits for. The first stored content of a
//! version wins: a hub configured with other content for it logs an error and follows the
//! ledger.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use chrono::DateTime;

use super::HubInner;
use crate::consent::NoticeVersion;
use crate::error::Result;

/// How often a permission check reads the ledger's notices at most, by default.
pub(crate) const DEFAULT_NOTICE_SYNC: Duration = Duration::from_secs(5);

/// The notices a hub knows, sorted by `effective_at`, and when it last read the ledger's.
#[derive(Debug)]
pub(crate) struct NoticeRegistry {
    list: RwLock<Vec<NoticeVersion>>,
    interval: Duration,
    last_sync: Mutex<Option<Instant>>,
    /// Whether this hub's own versions are in the ledger yet.
    pushed: AtomicBool,
}

impl NoticeRegistry {
    pub(crate) fn new(list: Vec<NoticeVersion>, interval: Duration) -> Self {
        Self {
            list: RwLock::new(list),
            interval,
            last_sync: Mutex::new(None),
            pushed: AtomicBool::new(false),
        }
    }

    pub(crate) fn read(&self) -> LockResult<RwLockReadGuard<'_, Vec<NoticeVersion>>> {
        self.list.read()
    }

    pub(crate) fn write(&self) -> LockResult<RwLockWriteGuard<'_, Vec<NoticeVersion>>> {
        self.list.write()
    }

    /// Whether this caller should read the ledger now (and the others need not): always when
    /// `force`, else once per interval.
    fn claim_sync(&self, force: bool) -> bool {
        let mut last = self.last_sync.lock().unwrap_or_else(|p| p.into_inner());
        let due = force || last.is_none_or(|at| at.elapsed() >= self.interval);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Adds the stored versions this hub does not know. A stored version whose content differs
    /// from this hub's replaces it (the ledger's first word stands), with an error logged.
    fn merge(&self, stored: Vec<NoticeVersion>) {
        let Ok(mut list) = self.list.write() else {
            return;
        };
        let mut changed = false;
        for notice in stored {
            match list.iter_mut().find(|n| n.version == notice.version) {
                Some(known) if *known == notice => {}
                Some(known) => {
                    tracing::error!(
                        version = %notice.version,
                        "this hub registers a notice version with other content than the ledger's; following the ledger"
                    );
                    *known = notice;
                    changed = true;
                }
                None => {
                    list.push(notice);
                    changed = true;
                }
            }
        }
        if changed {
            list.sort_by_key(|n| n.effective_at);
        }
    }
}

/// `notice` with `effective_at` cut to microseconds, as stores keep times, so that a version
/// read back compares equal to the one written.
pub(crate) fn normalized(mut notice: NoticeVersion) -> NoticeVersion {
    if let Some(at) = DateTime::from_timestamp_micros(notice.effective_at.timestamp_micros()) {
        notice.effective_at = at;
    }
    notice
}

impl HubInner {
    /// Brings the notice registry in step with the ledger (see the module docs): at once when
    /// `force`, else when the interval has passed. A ledger that cannot be read leaves the
    /// registry as it is, with a warning, and is tried again after the interval.
    pub(super) async fn sync_notices(&self, force: bool) {
        let registry = &self.consent.notices;
        if !registry.claim_sync(force) {
            return;
        }
        if let Err(e) = self.try_sync_notices(registry).await {
            tracing::warn!(error = %e, "cannot read the ledger's notice versions; using this hub's");
        }
    }

    async fn try_sync_notices(&self, registry: &NoticeRegistry) -> Result<()> {
        if !registry.pushed.load(Ordering::Acquire) {
            let own: Vec<NoticeVersion> = registry.read().map(|l| l.clone()).unwrap_or_default();
            for notice in &own {
                self.ledger.store_notice(notice).await?;
            }
            registry.pushed.store(true, Ordering::Release);
        }
        let stored = self.ledger.stored_notices().await?;
        registry.merge(stored.into_iter().map(normalized).collect());
        Ok(())
    }
}
