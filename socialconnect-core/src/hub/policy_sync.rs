//! The hub's privacy-notice versions and declared legal bases, kept in step with the consent
//! ledger's so that every hub sharing a ledger (every instance on one database) enforces the
//! same versions, asks the same users to re-consent, and processes the same purposes under
//! contract or legitimate interest.
//!
//! A hub writes the versions and declarations it was built with to the ledger where the
//! ledger has none for them yet ([`ConsentLedger::store_notice`], [`ConsentLedger::store_declaration`]),
//! and each version it publishes or declaration it changes; it reads the ledger's back when
//! collecting consent, when publishing or declaring, and on a permission check once the sync
//! interval (default 5 s) has passed since the last read. A change another instance made is
//! therefore followed here within that interval.
//!
//! The ledger's word stands: the first stored content of a notice version, and the register's
//! entry for a purpose — including a retraction, which stays recorded so that an instance
//! still built with the old declaration does not bring it back. A hub configured otherwise logs
//! an error and follows the ledger.
//!
//! [`ConsentLedger::store_notice`]: crate::consent::ConsentLedger::store_notice
//! [`ConsentLedger::store_declaration`]: crate::consent::ConsentLedger::store_declaration

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use chrono::DateTime;

use super::{HubInner, SocialConnect};
use crate::access_log::UsageEntry;
use crate::consent::{DeclaredBasis, LegalBasis, NoticeVersion};
use crate::error::{Error, Result};
use crate::id::Purpose;

/// How often a permission check reads the ledger's notices and declarations at most, by
/// default.
pub(crate) const DEFAULT_NOTICE_SYNC: Duration = Duration::from_secs(5);

/// The notices a hub knows (sorted by `effective_at`), the declarations it follows, and when
/// it last read the ledger's.
#[derive(Debug)]
pub(crate) struct PolicyRegistry {
    list: RwLock<Vec<NoticeVersion>>,
    declared: RwLock<HashMap<Purpose, DeclaredBasis>>,
    /// What the builder declared: written to the ledger where it has no entry yet.
    own_declared: HashMap<Purpose, DeclaredBasis>,
    interval: Duration,
    last_sync: Mutex<Option<Instant>>,
    /// Whether this hub's own versions are in the ledger yet.
    pushed: AtomicBool,
}

impl PolicyRegistry {
    pub(crate) fn new(
        list: Vec<NoticeVersion>,
        declared: HashMap<Purpose, DeclaredBasis>,
        interval: Duration,
    ) -> Self {
        Self {
            list: RwLock::new(list),
            declared: RwLock::new(declared.clone()),
            own_declared: declared,
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

    /// The declaration this hub follows for `purpose` (a poisoned lock: none, failing closed).
    pub(crate) fn declared(&self, purpose: Purpose) -> Option<DeclaredBasis> {
        self.declared.read().ok()?.get(&purpose).cloned()
    }

    /// Whether `purpose` is declared (a poisoned lock: no).
    pub(crate) fn is_declared(&self, purpose: Purpose) -> bool {
        self.declared.read().is_ok_and(|d| d.contains_key(&purpose))
    }

    /// Sets (or, with `None`, removes) this hub's declaration for `purpose`.
    fn set_declared(&self, purpose: Purpose, declared: Option<DeclaredBasis>) {
        if let Ok(mut map) = self.declared.write() {
            match declared {
                Some(d) => map.insert(purpose, d),
                None => map.remove(&purpose),
            };
        }
    }

    /// Follows the ledger's register: its declarations, none for retracted purposes; this
    /// hub's own only for purposes the register has no entry for.
    fn follow_declarations(&self, stored: Vec<(Purpose, Option<DeclaredBasis>)>) {
        let mut next = self.own_declared.clone();
        for (purpose, entry) in stored {
            match (&entry, self.own_declared.get(&purpose)) {
                (Some(theirs), Some(ours)) if theirs != ours => tracing::error!(
                    purpose = %purpose,
                    "this hub declares a purpose otherwise than the ledger's register; following the ledger"
                ),
                (None, Some(_)) => tracing::warn!(
                    purpose = %purpose,
                    "this hub declares a purpose the ledger's register retracted; not processing it under that basis"
                ),
                _ => {}
            }
            match entry {
                Some(declared) => next.insert(purpose, declared),
                None => next.remove(&purpose),
            };
        }
        if let Ok(mut declared) = self.declared.write() {
            *declared = next;
        }
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
        let registry = &self.consent.registry;
        if !registry.claim_sync(force) {
            return;
        }
        if let Err(e) = self.try_sync_notices(registry).await {
            tracing::warn!(error = %e, "cannot read the ledger's notice versions; using this hub's");
        }
    }

    async fn try_sync_notices(&self, registry: &PolicyRegistry) -> Result<()> {
        if !registry.pushed.load(Ordering::Acquire) {
            let own: Vec<NoticeVersion> = registry.read().map(|l| l.clone()).unwrap_or_default();
            for notice in &own {
                self.ledger.store_notice(notice).await?;
            }
            for (purpose, declared) in &registry.own_declared {
                self.ledger
                    .store_declaration(*purpose, Some(declared), false)
                    .await?;
            }
            registry.pushed.store(true, Ordering::Release);
        }
        let stored = self.ledger.stored_notices().await?;
        registry.merge(stored.into_iter().map(normalized).collect());
        let declarations = self.ledger.stored_declarations().await?;
        // A ledger that keeps no register leaves this hub its own declarations.
        if !declarations.is_empty() {
            registry.follow_declarations(declarations);
        }
        Ok(())
    }
}

impl SocialConnect {
    /// Declares that `purpose` is processed under contract or legitimate interest, for every
    /// hub sharing the consent ledger (each follows within its sync interval), replacing the
    /// register's entry for it — a previous declaration or a retraction. Consent cannot be
    /// declared, and the justification must say something. Logged as the privileged operation
    /// `privileged.declare:<purpose>` by `actor`.
    pub async fn declare(
        &self,
        purpose: Purpose,
        basis: LegalBasis,
        justification: &str,
        actor: &str,
    ) -> Result<()> {
        if basis == LegalBasis::Consent {
            return Err(Error::invalid_input(
                "consent cannot be declared: it is given by each subject",
            ));
        }
        let justification = justification.trim();
        if justification.is_empty() || justification.len() > 2_000 {
            return Err(Error::invalid_input(
                "a declaration needs a justification of 1 to 2000 bytes",
            ));
        }
        let declared = DeclaredBasis {
            purpose,
            basis,
            justification: justification.to_owned(),
        };
        self.change_declaration(purpose, Some(&declared), "declare", actor)
            .await
    }

    /// Retracts the declaration of `purpose` for every hub sharing the consent ledger: from
    /// then on it needs each subject's consent. The retraction stays in the register, so a
    /// hub still built with the old declaration does not bring it back. Logged as the
    /// privileged operation `privileged.retract_declaration:<purpose>` by `actor`.
    pub async fn retract_declaration(&self, purpose: Purpose, actor: &str) -> Result<()> {
        self.change_declaration(purpose, None, "retract_declaration", actor)
            .await
    }

    async fn change_declaration(
        &self,
        purpose: Purpose,
        declared: Option<&DeclaredBasis>,
        operation: &str,
        actor: &str,
    ) -> Result<()> {
        // Our own declarations go first, so the replacement below is not undone by them.
        self.inner.sync_notices(true).await;
        self.inner
            .ledger
            .store_declaration(purpose, declared, true)
            .await?;
        self.inner.sync_notices(true).await;
        // A ledger without a register: this hub alone follows the change.
        if self.inner.ledger.stored_declarations().await?.is_empty() {
            self.inner
                .consent
                .registry
                .set_declared(purpose, declared.cloned());
        }
        self.log_quietly(UsageEntry::system(
            self.inner.clock.now(),
            format!("privileged.{operation}:{purpose}"),
            actor,
        ))
        .await;
        Ok(())
    }
}
