//! [`MemoryActionStore`]: scheduled actions in process memory, claimed through a
//! [`ClaimTable`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::lock;
use crate::automation::{
    ActionFilter, ActionId, ActionStore, ActionSummary, ActionWrite, StoredAction,
};
use crate::claim::ClaimTable;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::id::SubjectId;

/// Scheduled actions in memory. Unencrypted, lost on restart and not shared between
/// processes: for tests and prototypes.
#[derive(Debug)]
pub struct MemoryActionStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    rows: BTreeMap<ActionId, StoredAction>,
    claims: ClaimTable<ActionId>,
}

impl State {
    /// Removes the actions `drop` selects, with their claims. Returns how many.
    fn remove_where(&mut self, drop: impl Fn(&StoredAction) -> bool) -> u64 {
        let before = self.rows.len();
        self.rows.retain(|_, a| !drop(a));
        let rows = &self.rows;
        self.claims.forget_where(|id| !rows.contains_key(id));
        (before - self.rows.len()) as u64
    }
}

impl Default for MemoryActionStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryActionStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose claims lapse by `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }
}

fn until(now: DateTime<Utc>, ttl: Duration) -> Result<DateTime<Utc>> {
    chrono::Duration::from_std(ttl)
        .ok()
        .filter(|ttl| *ttl > chrono::Duration::zero())
        .and_then(|ttl| now.checked_add_signed(ttl))
        .ok_or_else(|| Error::invalid_input("claim ttl must be positive and in range"))
}

fn page<T>(
    rows: &BTreeMap<ActionId, StoredAction>,
    after: Option<ActionId>,
    limit: u32,
    keep: impl Fn(&StoredAction) -> bool,
    map: impl Fn(&StoredAction) -> T,
) -> Vec<T> {
    let start = match after {
        Some(id) => std::ops::Bound::Excluded(id),
        None => std::ops::Bound::Unbounded,
    };
    rows.range((start, std::ops::Bound::Unbounded))
        .map(|(_, a)| a)
        .filter(|a| keep(a))
        .take(limit as usize)
        .map(map)
        .collect()
}

#[async_trait]
impl ActionStore for MemoryActionStore {
    async fn insert_action(&self, action: &StoredAction) -> Result<()> {
        let mut state = lock(&self.state)?;
        if state.rows.contains_key(&action.id) {
            return Err(Error::invalid_input(
                "an action with this id is already stored",
            ));
        }
        state.rows.insert(action.id, action.clone());
        Ok(())
    }

    async fn action(&self, id: &ActionId) -> Result<Option<StoredAction>> {
        Ok(lock(&self.state)?.rows.get(id).cloned())
    }

    async fn save_action(&self, action: &StoredAction, write: ActionWrite) -> Result<bool> {
        let now = self.clock.now();
        let mut state = lock(&self.state)?;
        let State { rows, claims } = &mut *state;
        let Some(row) = rows.get_mut(&action.id) else {
            return Ok(false);
        };
        if row.key != action.key {
            return Err(Error::invalid_input("an action's connection cannot change"));
        }
        let allowed = match write {
            ActionWrite::Unclaimed => claims.holder(&action.id, now).is_none(),
            ActionWrite::Keep { owner, ttl } => {
                claims.renew(&action.id, owner, now, until(now, ttl)?)
            }
            // The recorded claimant may release even after its claim lapsed, as long as
            // nobody claimed the action since.
            ActionWrite::Release { owner } => claims.release(&action.id, owner, None),
        };
        if allowed {
            *row = action.clone();
        }
        Ok(allowed)
    }

    async fn subject_actions(
        &self,
        subject: &SubjectId,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<StoredAction>> {
        let state = lock(&self.state)?;
        Ok(page(
            &state.rows,
            after,
            limit,
            |a| a.key.subject == *subject,
            Clone::clone,
        ))
    }

    async fn list_actions(
        &self,
        filter: &ActionFilter,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<ActionSummary>> {
        let state = lock(&self.state)?;
        Ok(page(
            &state.rows,
            after,
            limit,
            |a| {
                filter
                    .state
                    .as_deref()
                    .is_none_or(|s| a.state.as_str() == s)
                    && filter
                        .platform
                        .as_ref()
                        .is_none_or(|p| a.key.platform == *p)
            },
            StoredAction::summary,
        ))
    }

    async fn claim_due_actions(
        &self,
        due_before: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<StoredAction>> {
        let now = self.clock.now();
        let until = until(now, ttl)?;
        let mut state = lock(&self.state)?;
        let State { rows, claims } = &mut *state;
        let candidates = rows.values().filter_map(|a| {
            a.due_at
                .filter(|_| a.state.is_pending())
                .map(|at| (a.id, at))
        });
        let claimed = claims.claim(candidates, due_before, now, limit, owner, until);
        Ok(claimed
            .iter()
            .filter_map(|id| rows.get(id).cloned())
            .collect())
    }

    async fn purge_finished_actions(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = lock(&self.state)?;
        Ok(state.remove_where(|a| a.state.is_ended() && a.updated_at < before))
    }

    async fn erase_subject_actions(&self, subject: &SubjectId) -> Result<u64> {
        let mut state = lock(&self.state)?;
        Ok(state.remove_where(|a| a.key.subject == *subject))
    }
}
