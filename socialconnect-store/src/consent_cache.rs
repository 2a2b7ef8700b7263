//! The consent-permission cache: the hot check answered from process memory.
//!
//! [`ConsentLedger::permits`](socialconnect_core::consent::ConsentLedger::permits) runs before
//! every platform call, so a database round trip there would dominate a cached token read.
//! Entries map (subject, purpose, platform) to the decisive [`ConsentState`] and live for
//! [`StoreOptions::consent_cache_ttl`](crate::StoreOptions::consent_cache_ttl).
//!
//! Consistency: a `record` or an erasure through this store (or any clone of it) drops the
//! subject's entries before it returns, and a lookup that raced with such a write never
//! caches what it read (an epoch counter, checked under the lock). A consent change written by
//! *another process* is seen here:
//!
//! - on PostgreSQL, as soon as its notification arrives: every consent write and erasure sends
//!   `NOTIFY sc_consent` with the subject's pseudonym in the same transaction (delivered at
//!   commit), and the store's listener drops that subject's entries ([`ConsentCache::invalidate_ref`]);
//!   when the listener's connection drops, everything is dropped, since notifications sent
//!   meanwhile are lost;
//! - otherwise (SQLite files shared by several processes), once the entry's TTL has run out.
//!
//! The TTL (default 1 s) stays the backstop on PostgreSQL too. Expiry of a grant is checked on
//! every call against the caller's `now`, so it needs no invalidation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use socialconnect_core::consent::ConsentState;
use socialconnect_core::id::{PlatformId, Purpose, SubjectId};

use crate::backend::SubjectRef;

/// Subjects kept at most; beyond, expired entries are dropped, then everything.
const MAX_SUBJECTS: usize = 100_000;

struct Entry {
    purpose: Purpose,
    platform: PlatformId,
    state: Option<ConsentState>,
    at: Instant,
}

/// (subject, purpose, platform) → decisive state, for a short TTL.
pub(crate) struct ConsentCache {
    ttl: Duration,
    /// Bumped by every invalidation; a loader caches only if it did not move meanwhile.
    epoch: AtomicU64,
    map: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// Per subject a short list: a subject has few purposes × platforms.
    subjects: HashMap<SubjectId, Vec<Entry>>,
    /// The subjects cached, by pseudonym: what another process's notification names.
    refs: HashMap<SubjectRef, SubjectId>,
}

impl std::fmt::Debug for ConsentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl ConsentCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            epoch: AtomicU64::new(0),
            map: Mutex::new(Entries::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every method leaves the map consistent before it can panic.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached state, if fresh: `Some(None)` is a cached "nothing recorded".
    pub(crate) fn get(
        &self,
        subject: &SubjectId,
        purpose: Purpose,
        platform: &PlatformId,
    ) -> Option<Option<ConsentState>> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.lock();
        let entry = map
            .subjects
            .get(subject)?
            .iter()
            .find(|e| e.purpose == purpose && e.platform == *platform)?;
        (entry.at.elapsed() < self.ttl).then(|| entry.state.clone())
    }

    /// The epoch to pass to [`ConsentCache::put`] after reading the database.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches `state` (of `subject`, whose pseudonym is `sref`) unless an invalidation happened
    /// since `epoch` was read.
    pub(crate) fn put(
        &self,
        epoch: u64,
        subject: &SubjectId,
        sref: &SubjectRef,
        purpose: Purpose,
        platform: &PlatformId,
        state: Option<ConsentState>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.lock();
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let map = &mut *map;
        if map.subjects.len() >= MAX_SUBJECTS && !map.subjects.contains_key(subject) {
            let ttl = self.ttl;
            map.subjects.retain(|_, entries| {
                entries.retain(|e| e.at.elapsed() < ttl);
                !entries.is_empty()
            });
            if map.subjects.len() >= MAX_SUBJECTS {
                map.subjects.clear();
            }
        }
        if map.refs.len() >= MAX_SUBJECTS {
            let subjects = &map.subjects;
            map.refs.retain(|_, s| subjects.contains_key(s));
        }
        map.refs.entry(*sref).or_insert_with(|| subject.clone());
        let entries = map.subjects.entry(subject.clone()).or_default();
        let at = Instant::now();
        match entries
            .iter_mut()
            .find(|e| e.purpose == purpose && e.platform == *platform)
        {
            Some(e) => {
                e.state = state;
                e.at = at;
            }
            None => entries.push(Entry {
                purpose,
                platform: platform.clone(),
                state,
                at,
            }),
        }
    }

    /// Drops the subject's entries (after a write that changed its consent).
    pub(crate) fn invalidate(&self, subject: &SubjectId) {
        // Bump first: a loader that read before the write and locks after us sees the new
        // epoch and does not cache; one that locked before us is removed here.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.lock().subjects.remove(subject);
    }

    /// Drops the entries of the subject whose pseudonym is `sref` (another process changed its
    /// consent).
    pub(crate) fn invalidate_ref(&self, sref: &SubjectRef) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut map = self.lock();
        if let Some(subject) = map.refs.remove(sref) {
            map.subjects.remove(&subject);
        }
    }

    /// Drops every entry (changes may have been missed).
    pub(crate) fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut map = self.lock();
        map.subjects.clear();
        map.refs.clear();
    }
}
