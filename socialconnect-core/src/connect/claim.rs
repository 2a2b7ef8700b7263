//! Claiming due work with a lease: the shape the refresh sweep uses on connections, kept
//! apart from them so other due work (scheduled actions) claims the same way.
//!
//! Each item has a due time. A claimant takes up to `limit` items due before a horizon that
//! nobody holds, and holds each until its lease lapses or it releases it; a release may keep
//! the item held until a later instant (a back-off). A SQL store keeps this as a due-time
//! column and `claim_owner` / `claim_until` columns on the item's row, claimed by one
//! `UPDATE … WHERE id IN (SELECT … ORDER BY due LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`;
//! [`ClaimTable`] is the same contract in memory, for in-process stores.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who holds an item, and until when. A hold without an owner is a back-off: nobody may claim
/// the item before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hold {
    owner: Option<Uuid>,
    until: DateTime<Utc>,
}

/// The claims and back-off holds on items keyed by `K`, in memory (for in-process stores).
/// The items and their due times stay with the caller, which passes them to
/// [`ClaimTable::claim`].
#[derive(Debug, Clone)]
pub struct ClaimTable<K> {
    holds: HashMap<K, Hold>,
}

impl<K> Default for ClaimTable<K> {
    fn default() -> Self {
        Self {
            holds: HashMap::new(),
        }
    }
}

impl<K: Clone + Eq + Hash + Ord> ClaimTable<K> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Claims for `owner` until `until` up to `limit` of `candidates` (item, due time) that
    /// are due at or before `due_before` and not held at `now`, earliest due first (ties by
    /// key). Returns the items claimed.
    pub fn claim(
        &mut self,
        candidates: impl IntoIterator<Item = (K, DateTime<Utc>)>,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        until: DateTime<Utc>,
    ) -> Vec<K> {
        let mut due: Vec<(DateTime<Utc>, K)> = candidates
            .into_iter()
            .filter(|(key, at)| *at <= due_before && !self.is_held(key, now))
            .map(|(key, at)| (at, key))
            .collect();
        due.sort();
        due.truncate(limit as usize);
        // Lapsed holds are dropped as items are claimed again, so the table stays bounded by
        // the items recently claimed or backed off.
        self.holds.retain(|_, hold| hold.until > now);
        due.into_iter()
            .map(|(_, key)| {
                self.holds.insert(
                    key.clone(),
                    Hold {
                        owner: Some(owner),
                        until,
                    },
                );
                key
            })
            .collect()
    }

    /// Whether `key` is claimed or backed off at `now`.
    pub fn is_held(&self, key: &K, now: DateTime<Utc>) -> bool {
        self.holds.get(key).is_some_and(|hold| hold.until > now)
    }

    /// Who holds `key`'s claim at `now` (`None` when unclaimed, lapsed, or only backed off).
    pub fn holder(&self, key: &K, now: DateTime<Utc>) -> Option<Uuid> {
        self.holds
            .get(key)
            .filter(|hold| hold.until > now)
            .and_then(|hold| hold.owner)
    }

    /// Extends `owner`'s claim on `key` until `until`. False, changing nothing, when `owner`
    /// does not hold it at `now` (it lapsed, or someone else holds it).
    pub fn renew(
        &mut self,
        key: &K,
        owner: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> bool {
        if self.holder(key, now) != Some(owner) {
            return false;
        }
        self.holds.insert(
            key.clone(),
            Hold {
                owner: Some(owner),
                until,
            },
        );
        true
    }

    /// Ends `owner`'s claim on `key`, holding it back until `hold_until` when given. False,
    /// changing nothing, when `owner` is not the recorded claimant.
    pub fn release(&mut self, key: &K, owner: Uuid, hold_until: Option<DateTime<Utc>>) -> bool {
        match self.holds.get(key) {
            Some(hold) if hold.owner == Some(owner) => {
                match hold_until {
                    Some(until) => {
                        self.holds.insert(key.clone(), Hold { owner: None, until });
                    }
                    None => {
                        self.holds.remove(key);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// Forgets `key` (the item was deleted).
    pub fn forget(&mut self, key: &K) {
        self.holds.remove(key);
    }

    /// Forgets every item `drop` selects (an erasure).
    pub fn forget_where(&mut self, mut drop: impl FnMut(&K) -> bool) {
        self.holds.retain(|key, _| !drop(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_ordered_and_released_with_holds() {
        let t0 = Utc::now();
        let s = chrono::Duration::seconds;
        let items = || vec![("c", t0 + s(30)), ("a", t0 + s(10)), ("b", t0 + s(20))];
        let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
        let mut table = ClaimTable::new();
        assert_eq!(
            table.claim(items(), t0 + s(25), t0, 10, one, t0 + s(60)),
            vec!["a", "b"]
        );
        // Claimed items are not claimed again, by anyone, while the claim lasts.
        assert_eq!(
            table.claim(items(), t0 + s(40), t0, 10, two, t0 + s(60)),
            vec!["c"]
        );
        assert!(!table.release(&"a", two, None), "not two's claim");
        assert!(table.release(&"a", one, Some(t0 + s(100))));
        assert!(!table.release(&"a", one, None), "the claim ended");
        // A lapsed claim is free again; a held item is not, until its hold ends.
        assert_eq!(
            table.claim(items(), t0 + s(40), t0 + s(61), 10, two, t0 + s(120)),
            vec!["b", "c"]
        );
        assert_eq!(
            table.claim(items(), t0 + s(40), t0 + s(101), 1, one, t0 + s(200)),
            vec!["a"]
        );
    }
}
