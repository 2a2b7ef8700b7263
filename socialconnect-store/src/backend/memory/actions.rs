//! Scheduled actions in the memory backend: rows in a map, claims in a [`ClaimTable`] (the
//! SQL backends keep them in `sc_actions` columns).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use socialconnect_core::automation::ActionState;
use socialconnect_core::claim::ClaimTable;
use socialconnect_core::{Error, Result};

use super::{MemoryBackend, claim_owner, from_micros};
use crate::backend::{ActionCondition, ActionKey, ActionListing, ActionRow, DueClaim, SubjectRef};

/// The actions and their claims.
#[derive(Default)]
pub(super) struct Actions {
    rows: BTreeMap<ActionKey, ActionRow>,
    claims: ClaimTable<ActionKey>,
}

/// The rows after `after`, in id order.
fn after_id(
    rows: &BTreeMap<ActionKey, ActionRow>,
    after: Option<ActionKey>,
) -> impl Iterator<Item = &ActionRow> {
    let start = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
    rows.range((start, std::ops::Bound::Unbounded))
        .map(|(_, row)| row)
}

impl MemoryBackend {
    pub(super) fn insert_action_row(&self, row: ActionRow) -> Result<()> {
        let mut s = self.lock();
        if s.actions.rows.contains_key(&row.action_id) {
            return Err(Error::invalid_input(
                "an action with this id is already stored",
            ));
        }
        s.actions.rows.insert(row.action_id, row);
        Ok(())
    }

    pub(super) fn get_action_row(&self, id: &ActionKey) -> Option<ActionRow> {
        self.lock().actions.rows.get(id).cloned()
    }

    pub(super) fn save_action_row(
        &self,
        row: ActionRow,
        condition: ActionCondition,
    ) -> Result<bool> {
        let mut s = self.lock();
        let Actions { rows, claims } = &mut s.actions;
        let Some(stored) = rows.get_mut(&row.action_id) else {
            return Ok(false);
        };
        if (&stored.subject_ref, &stored.platform, &stored.conn_id)
            != (&row.subject_ref, &row.platform, &row.conn_id)
        {
            return Ok(false);
        }
        let id = row.action_id;
        let allowed = match condition {
            ActionCondition::Unclaimed { now } => claims.holder(&id, from_micros(now)?).is_none(),
            ActionCondition::Keep { owner, now, until } => claims.renew(
                &id,
                claim_owner(&owner)?,
                from_micros(now)?,
                from_micros(until)?,
            ),
            ActionCondition::Release { owner } => claims.release(&id, claim_owner(&owner)?, None),
        };
        if allowed {
            let created_at = stored.created_at;
            *stored = ActionRow { created_at, ..row };
        }
        Ok(allowed)
    }

    pub(super) fn subject_action_rows(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Vec<ActionRow> {
        let s = self.lock();
        after_id(&s.actions.rows, after)
            .filter(|row| &row.subject_ref == subject_ref)
            .take(limit as usize)
            .cloned()
            .collect()
    }

    pub(super) fn action_listing(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Vec<ActionListing> {
        let s = self.lock();
        after_id(&s.actions.rows, after)
            .filter(|row| state.is_none_or(|st| row.state == st))
            .filter(|row| platform.is_none_or(|p| row.platform == p))
            .take(limit as usize)
            .map(|row| ActionListing {
                action_id: row.action_id,
                platform: row.platform.clone(),
                conn_id: row.conn_id.clone(),
                kind: row.kind.clone(),
                state: row.state.clone(),
                due_at: row.due_at,
                updated_at: row.updated_at,
            })
            .collect()
    }

    pub(super) fn claim_action_rows(&self, claim: DueClaim) -> Result<Vec<ActionRow>> {
        let owner = claim_owner(&claim.owner)?;
        let (due_before, now, until) = (
            from_micros(claim.due_before)?,
            from_micros(claim.now)?,
            from_micros(claim.until)?,
        );
        let mut s = self.lock();
        let Actions { rows, claims } = &mut s.actions;
        let candidates = rows.values().filter_map(|row| {
            let due: DateTime<Utc> = row.due_at.and_then(DateTime::from_timestamp_micros)?;
            Some((row.action_id, due))
        });
        let claimed = claims.claim(candidates, due_before, now, claim.limit, owner, until);
        Ok(claimed
            .iter()
            .filter_map(|id| rows.get(id).cloned())
            .collect())
    }

    pub(super) fn release_action(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let owner = claim_owner(owner)?;
        let hold = (hold_until > 0)
            .then(|| from_micros(hold_until))
            .transpose()?;
        let mut s = self.lock();
        if !s.actions.rows.contains_key(id) {
            return Ok(false);
        }
        Ok(s.actions.claims.release(id, owner, hold))
    }

    /// Removes the ended actions last updated before `before` (under the caller's lock).
    pub(super) fn purge_finished_in(actions: &mut Actions, before: i64) -> u64 {
        actions.remove_where(|row| {
            ActionState::ENDED.contains(&row.state.as_str()) && row.updated_at < before
        })
    }

    /// Removes the subject's actions and their claims (under the caller's lock).
    pub(super) fn erase_actions_in(actions: &mut Actions, subject_ref: &SubjectRef) -> u64 {
        actions.remove_where(|row| &row.subject_ref == subject_ref)
    }
}

impl Actions {
    /// Removes the rows `drop` selects, with their claims. Returns how many.
    fn remove_where(&mut self, drop: impl Fn(&ActionRow) -> bool) -> u64 {
        let before = self.rows.len();
        self.rows.retain(|_, row| !drop(row));
        let rows = &self.rows;
        self.claims.forget_where(|id| !rows.contains_key(id));
        (before - self.rows.len()) as u64
    }
}
