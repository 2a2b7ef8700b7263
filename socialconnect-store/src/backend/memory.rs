//! The in-process backend: sealed rows in maps behind one mutex. The same encryption as the
//! database backends, for tests; nothing survives the process.

mod actions;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::claim::ClaimTable;
use socialconnect_core::store::PutOutcome;
use socialconnect_core::{Error, Result};

use super::{
    AccountRef, ActionCondition, ActionKey, ActionListing, ActionRow, Backend, ConsentRow,
    ConsentStateRow, DeclarationRow, DeletionRow, DeletionStatusUpdate, ErasureCounts, MetaRow,
    NewConsentRow, NoticeRow, PendingRow, ProfileRow, ReceiptRow, Rewrap, SubjectKeyRow,
    SubjectRef, TokenRow, UsageRow,
};
use crate::backend::{DueClaim, RateSlot};
use crate::chain;

#[derive(Default)]
struct State {
    meta: HashMap<String, MetaRow>,
    subject_keys: BTreeMap<SubjectRef, SubjectKeyRow>,
    tokens: BTreeMap<String, TokenRow>,
    leases: HashMap<String, (String, i64)>,
    /// Claims of due refreshes (the SQL backends keep them in `sc_tokens` columns).
    claims: ClaimTable<String>,
    actions: actions::Actions,
    pending: HashMap<[u8; 32], PendingRow>,
    consent: Vec<ConsentRow>,
    consent_state: HashMap<(SubjectRef, String, String), ConsentStateRow>,
    usage: BTreeMap<u64, UsageRow>,
    notices: Vec<NoticeRow>,
    declarations: BTreeMap<String, DeclarationRow>,
    next_usage_id: u64,
    deletion_requests: BTreeMap<String, DeletionRow>,
    profiles: HashMap<SubjectRef, ProfileRow>,
    receipts: Vec<ReceiptRow>,
    api_keys: HashMap<ApiKeyId, ApiKeyRecord>,
    /// Webhook delivery key → last sighting (microseconds).
    deliveries: HashMap<[u8; 32], i64>,
    /// Rate budget key → each slot's `used_at`.
    rate_slots: HashMap<String, Vec<i64>>,
    /// Rate budget key → (day, calls).
    rate_days: HashMap<String, (i64, u32)>,
    /// Pause key → until (microseconds).
    rate_pauses: HashMap<String, i64>,
}

/// Microseconds to a time (the store hands the backend microseconds for API-key times).
fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| Error::invalid_input("time out of range"))
}

/// Seconds to a time (token times are seconds).
fn from_secs(s: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(s, 0).ok_or_else(|| Error::invalid_input("time out of range"))
}

/// A claimant's id as the store writes it (a UUID).
fn claim_owner(owner: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(owner).map_err(|_| Error::invalid_input("claim owner is not a UUID"))
}

/// Turns a consent row into a tombstone; returns whether it belonged to the subject.
fn tombstone(row: &mut ConsentRow, subject_ref: &SubjectRef) -> bool {
    if row.subject_ref.as_ref() != Some(subject_ref) {
        return false;
    }
    row.subject_ref = None;
    row.purpose = None;
    row.platform = None;
    row.action = None;
    row.recorded_at = None;
    row.expires_at = None;
    row.dek_id = None;
    row.sealed = None;
    true
}

/// Sealed rows in process memory.
#[derive(Default)]
pub(crate) struct MemoryBackend {
    state: Mutex<State>,
}

impl MemoryBackend {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every method leaves the state consistent before it can panic, so a poisoned lock
        // still guards valid data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>> {
        Ok(self.lock().meta.get(name).cloned())
    }

    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow> {
        let mut s = self.lock();
        Ok(s.meta.entry(row.name.clone()).or_insert(row).clone())
    }

    async fn rewrap_meta(
        &self,
        name: &str,
        expected_kek: &str,
        new_kek: &str,
        wrapped: Vec<u8>,
    ) -> Result<bool> {
        let mut s = self.lock();
        match s.meta.get_mut(name) {
            Some(row) if row.kek_id == expected_kek => {
                row.kek_id = new_kek.to_owned();
                row.wrapped = wrapped;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get_subject_key(&self, subject_ref: &SubjectRef) -> Result<Option<SubjectKeyRow>> {
        Ok(self.lock().subject_keys.get(subject_ref).cloned())
    }

    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow> {
        let mut s = self.lock();
        Ok(s.subject_keys.entry(row.subject_ref).or_insert(row).clone())
    }

    async fn subject_keys_not_wrapped_by(
        &self,
        kek_id: &str,
        after: Option<SubjectRef>,
        limit: u32,
    ) -> Result<Vec<SubjectKeyRow>> {
        let s = self.lock();
        let range = match after {
            Some(a) => s
                .subject_keys
                .range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => s.subject_keys.range::<SubjectRef, _>(..),
        };
        Ok(range
            .map(|(_, r)| r)
            .filter(|r| r.kek_id != kek_id)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn rewrap_subject_keys(&self, rewraps: Vec<Rewrap>) -> Result<u64> {
        let mut s = self.lock();
        let mut n = 0;
        for r in rewraps {
            if let Some(row) = s.subject_keys.get_mut(&r.subject_ref)
                && row.kek_id == r.expected_kek
            {
                row.kek_id = r.new_kek;
                row.wrapped = r.wrapped;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn count_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        let s = self.lock();
        let keys = s
            .subject_keys
            .values()
            .filter(|r| r.kek_id == kek_id)
            .count();
        let meta = s.meta.values().filter(|r| r.kek_id == kek_id).count();
        Ok((keys + meta) as u64)
    }

    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        let s = self.lock();
        let keys = s
            .subject_keys
            .values()
            .filter(|r| r.kek_id != kek_id)
            .count();
        let meta = s.meta.values().filter(|r| r.kek_id != kek_id).count();
        Ok((keys + meta) as u64)
    }

    async fn put_token(
        &self,
        mut row: TokenRow,
        expected_version: Option<i64>,
    ) -> Result<PutOutcome> {
        let mut s = self.lock();
        let current = s.tokens.get(&row.conn_id).map(|r| r.version);
        match (expected_version, current) {
            (Some(e), Some(c)) if e != c => return Ok(PutOutcome::Conflict(Some(c as u64))),
            (Some(_), None) => return Ok(PutOutcome::Conflict(None)),
            _ => {}
        }
        row.version = current.unwrap_or(0) + 1;
        row.status = "active".to_owned();
        row.status_since = None;
        let version = row.version as u64;
        s.tokens.insert(row.conn_id.clone(), row);
        Ok(PutOutcome::Written(version))
    }

    async fn get_token(&self, conn_id: &str) -> Result<Option<TokenRow>> {
        Ok(self.lock().tokens.get(conn_id).cloned())
    }

    async fn set_token_status(
        &self,
        conn_id: &str,
        status: &str,
        since: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let mut s = self.lock();
        match s.tokens.get_mut(conn_id) {
            Some(row) => {
                row.status = status.to_owned();
                row.status_since = since;
                row.updated_at = now;
                row.version += 1;
                // As the SQL backends do: nothing to refresh unless active, and a row made
                // active again is due at once.
                row.refresh_due_at = if status == "active" {
                    Some(row.refresh_due_at.unwrap_or(0))
                } else {
                    None
                };
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_token(&self, conn_id: &str) -> Result<bool> {
        let mut s = self.lock();
        s.leases.remove(conn_id);
        s.claims.forget(&conn_id.to_owned());
        Ok(s.tokens.remove(conn_id).is_some())
    }

    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>> {
        Ok(self
            .lock()
            .tokens
            .values()
            .filter(|r| &r.subject_ref == subject_ref)
            .map(|r| (r.conn_id.clone(), r.platform.clone()))
            .collect())
    }

    async fn tokens_by_account(&self, account_ref: &AccountRef) -> Result<Vec<TokenRow>> {
        Ok(self
            .lock()
            .tokens
            .values()
            .filter(|r| r.account_ref.as_ref() == Some(account_ref))
            .cloned()
            .collect())
    }

    async fn stale_tokens(&self, before: i64, after: &str, limit: u32) -> Result<Vec<TokenRow>> {
        Ok(self
            .lock()
            .tokens
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .map(|(_, r)| r)
            .filter(|r| {
                (r.status == "reconnect_required" || r.status == "revoked")
                    && r.status_since.is_some_and(|t| t < before)
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn token_page(&self, after: &str, limit: u32) -> Result<Vec<TokenRow>> {
        Ok(self
            .lock()
            .tokens
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .map(|(_, r)| r)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn try_lease(
        &self,
        conn_id: &str,
        owner: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool> {
        let mut s = self.lock();
        match s.leases.get(conn_id) {
            Some((_, exp)) if *exp > now => Ok(false),
            _ => {
                s.leases
                    .insert(conn_id.to_owned(), (owner.to_owned(), expires_at));
                Ok(true)
            }
        }
    }

    async fn release_lease(&self, conn_id: &str, owner: &str) -> Result<bool> {
        let mut s = self.lock();
        match s.leases.get(conn_id) {
            Some((o, _)) if o == owner => {
                s.leases.remove(conn_id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_action(&self, row: ActionRow) -> Result<()> {
        self.insert_action_row(row)
    }

    async fn get_action(&self, id: &ActionKey) -> Result<Option<ActionRow>> {
        Ok(self.get_action_row(id))
    }

    async fn save_action(&self, row: ActionRow, condition: ActionCondition) -> Result<bool> {
        self.save_action_row(row, condition)
    }

    async fn subject_actions(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionRow>> {
        Ok(self.subject_action_rows(subject_ref, after, limit))
    }

    async fn list_actions(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionListing>> {
        Ok(self.action_listing(state, platform, after, limit))
    }

    async fn claim_due_actions(&self, claim: DueClaim) -> Result<Vec<ActionRow>> {
        self.claim_action_rows(claim)
    }

    async fn release_action_claim(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        self.release_action(id, owner, hold_until)
    }

    async fn purge_finished_actions(&self, before: i64) -> Result<u64> {
        Ok(Self::purge_finished_in(&mut self.lock().actions, before))
    }

    async fn erase_actions_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        Ok(Self::erase_actions_in(
            &mut self.lock().actions,
            subject_ref,
        ))
    }

    async fn claim_due_tokens(
        &self,
        due_before: i64,
        now: i64,
        limit: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<TokenRow>> {
        let (due_before, now, until) = (from_secs(due_before)?, from_secs(now)?, from_secs(until)?);
        let owner = claim_owner(owner)?;
        let mut s = self.lock();
        let State { tokens, claims, .. } = &mut *s;
        let candidates = tokens.values().filter_map(|row| {
            let due = row
                .refresh_due_at
                .and_then(|t| DateTime::from_timestamp(t, 0))?;
            Some((row.conn_id.clone(), due))
        });
        let claimed = claims.claim(candidates, due_before, now, limit, owner, until);
        Ok(claimed
            .iter()
            .filter_map(|conn_id| tokens.get(conn_id).cloned())
            .collect())
    }

    async fn release_token_claim(
        &self,
        conn_id: &str,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let owner = claim_owner(owner)?;
        let hold = (hold_until > 0)
            .then(|| from_secs(hold_until))
            .transpose()?;
        let mut s = self.lock();
        if !s.tokens.contains_key(conn_id) {
            return Ok(false);
        }
        Ok(s.claims.release(&conn_id.to_owned(), owner, hold))
    }

    async fn set_token_due(&self, conn_id: &str, version: i64, due: Option<i64>) -> Result<()> {
        if let Some(row) = self.lock().tokens.get_mut(conn_id)
            && row.version == version
        {
            row.refresh_due_at = due;
        }
        Ok(())
    }

    async fn insert_pending(&self, row: PendingRow) -> Result<()> {
        let mut s = self.lock();
        if s.pending.contains_key(&row.state_hash) {
            return Err(Error::invalid_input("duplicate OAuth state"));
        }
        s.pending.insert(row.state_hash, row);
        Ok(())
    }

    async fn take_pending(&self, state_hash: &[u8; 32]) -> Result<Option<PendingRow>> {
        Ok(self.lock().pending.remove(state_hash))
    }

    async fn purge_pending(&self, now: i64) -> Result<u64> {
        let mut s = self.lock();
        let before = s.pending.len();
        s.pending.retain(|_, r| r.expires_at > now);
        Ok((before - s.pending.len()) as u64)
    }

    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let mut s = self.lock();
        let before = s.pending.len();
        s.pending.retain(|_, r| &r.subject_ref != subject_ref);
        Ok((before - s.pending.len()) as u64)
    }

    async fn append_consent(&self, row: NewConsentRow) -> Result<ConsentRow> {
        let mut s = self.lock();
        let (prev_hash, seq) = match s.consent.last() {
            Some(last) => (last.hash, last.seq + 1),
            None => ([0; 32], 1),
        };
        let digest = chain::row_digest(&row);
        let hash = chain::link(&prev_hash, seq, &digest);
        let stored = row.clone().stored(seq, digest, prev_hash, hash);
        s.consent.push(stored.clone());
        s.consent_state.insert(
            (row.subject_ref, row.purpose, row.platform),
            ConsentStateRow {
                seq,
                action: row.action,
                expires_at: row.expires_at,
                basis: Some(row.basis),
                notice_version: row.notice_version,
            },
        );
        Ok(stored)
    }

    async fn consent_state(
        &self,
        subject_ref: &SubjectRef,
        purpose: &str,
        platforms: &[&str],
    ) -> Result<Option<ConsentStateRow>> {
        let s = self.lock();
        Ok(platforms
            .iter()
            .filter_map(|p| {
                s.consent_state
                    .get(&(*subject_ref, purpose.to_owned(), (*p).to_owned()))
            })
            .max_by_key(|r| r.seq)
            .cloned())
    }

    async fn consent_of(&self, subject_ref: &SubjectRef) -> Result<Vec<ConsentRow>> {
        Ok(self
            .lock()
            .consent
            .iter()
            .filter(|r| r.subject_ref.as_ref() == Some(subject_ref))
            .cloned()
            .collect())
    }

    async fn consent_range(&self, after: i64, limit: u32) -> Result<Vec<ConsentRow>> {
        Ok(self
            .lock()
            .consent
            .iter()
            .filter(|r| r.seq > after)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn consent_notice_candidates(
        &self,
        current: &str,
        now: i64,
    ) -> Result<Vec<(SubjectRef, i64)>> {
        let s = self.lock();
        let mut out: Vec<(SubjectRef, i64)> = s
            .consent_state
            .iter()
            .filter(|(_, r)| {
                r.action == "grant"
                    && r.basis.as_deref().is_none_or(|b| b == "consent")
                    && r.notice_version.as_deref() != Some(current)
                    && r.expires_at.is_none_or(|e| e > now)
            })
            .map(|((sref, _, _), r)| (*sref, r.seq))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        Ok(out)
    }

    async fn erase_consent_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let mut s = self.lock();
        s.consent_state.retain(|(r, _, _), _| r != subject_ref);
        Ok(s.consent
            .iter_mut()
            .filter_map(|row| tombstone(row, subject_ref).then_some(()))
            .count() as u64)
    }

    async fn append_usage(&self, row: UsageRow) -> Result<()> {
        let mut s = self.lock();
        s.next_usage_id += 1;
        let id = s.next_usage_id;
        s.usage.insert(id, row);
        Ok(())
    }

    async fn take_rate_slot(
        &self,
        key: &str,
        calls: u32,
        free_before: i64,
        stamp: i64,
    ) -> Result<RateSlot> {
        let mut s = self.lock();
        let slots = s.rate_slots.entry(key.to_owned()).or_default();
        let calls = calls as usize;
        if slots.len() < calls {
            slots.resize(calls, 0);
        }
        let oldest = slots[..calls]
            .iter()
            .enumerate()
            .min_by_key(|(_, used)| **used)
            .map(|(i, used)| (i, *used));
        match oldest {
            Some((i, used)) if used <= free_before => {
                slots[i] = stamp;
                Ok(RateSlot::Taken(i as u32))
            }
            Some((_, used)) => Ok(RateSlot::Busy(used)),
            None => Err(Error::invalid_input("a window has at least one call")),
        }
    }

    async fn settle_rate_slot(&self, key: &str, slot: u32, held: i64, done: i64) -> Result<()> {
        let mut s = self.lock();
        if let Some(used) = s
            .rate_slots
            .get_mut(key)
            .and_then(|slots| slots.get_mut(slot as usize))
            .filter(|used| **used == held)
        {
            *used = done;
        }
        Ok(())
    }

    async fn charge_rate_day(&self, key: &str, day: i64, limit: u32) -> Result<bool> {
        let mut s = self.lock();
        let entry = s.rate_days.entry(key.to_owned()).or_insert((day, 0));
        // As the SQL does: a later day starts afresh, an earlier one counts on the later.
        if entry.0 < day {
            *entry = (day, 0);
        }
        if entry.1 >= limit {
            return Ok(false);
        }
        entry.1 += 1;
        Ok(true)
    }

    async fn set_rate_pause(&self, key: &str, until: i64) -> Result<()> {
        let mut s = self.lock();
        let entry = s.rate_pauses.entry(key.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
        Ok(())
    }

    async fn rate_pause(&self, key: &str) -> Result<Option<i64>> {
        Ok(self.lock().rate_pauses.get(key).copied())
    }

    async fn purge_rate_budgets(&self, slots_before: i64, days_before: i64) -> Result<u64> {
        let mut s = self.lock();
        let rows = |s: &State| {
            s.rate_slots.values().map(Vec::len).sum::<usize>()
                + s.rate_days.len()
                + s.rate_pauses.len()
        };
        let before = rows(&s);
        s.rate_slots
            .retain(|_, slots| slots.iter().any(|used| *used >= slots_before));
        s.rate_days.retain(|_, (day, _)| *day >= days_before);
        s.rate_pauses.retain(|_, until| *until >= slots_before);
        Ok((before - rows(&s)) as u64)
    }

    async fn insert_notice(&self, row: NoticeRow) -> Result<()> {
        let mut s = self.lock();
        if !s.notices.iter().any(|n| n.version == row.version) {
            s.notices.push(row);
        }
        Ok(())
    }

    async fn notices(&self) -> Result<Vec<NoticeRow>> {
        Ok(self.lock().notices.clone())
    }

    async fn put_declaration(&self, row: DeclarationRow, replace: bool) -> Result<()> {
        let mut s = self.lock();
        if replace || !s.declarations.contains_key(&row.purpose) {
            s.declarations.insert(row.purpose.clone(), row);
        }
        Ok(())
    }

    async fn declarations(&self) -> Result<Vec<DeclarationRow>> {
        Ok(self.lock().declarations.values().cloned().collect())
    }

    async fn append_usage_batch(&self, rows: Vec<UsageRow>) -> Result<()> {
        let mut s = self.lock();
        for row in rows {
            s.next_usage_id += 1;
            let id = s.next_usage_id;
            s.usage.insert(id, row);
        }
        Ok(())
    }

    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>> {
        let mut rows: Vec<UsageRow> = self
            .lock()
            .usage
            .values()
            .filter(|r| &r.subject_ref == subject_ref)
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.at);
        Ok(rows)
    }

    async fn usage_page(
        &self,
        subject_ref: &SubjectRef,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, UsageRow)>> {
        let start = u64::try_from(after).unwrap_or(0);
        Ok(self
            .lock()
            .usage
            .range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded))
            .filter(|(_, r)| &r.subject_ref == subject_ref)
            .take(limit as usize)
            .map(|(id, r)| (i64::try_from(*id).unwrap_or(i64::MAX), r.clone()))
            .collect())
    }

    async fn purge_usage_before(&self, cutoff: i64, _batch: u32) -> Result<u64> {
        let mut s = self.lock();
        let before = s.usage.len();
        s.usage.retain(|_, r| r.at >= cutoff);
        Ok((before - s.usage.len()) as u64)
    }

    async fn erase_usage_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let mut s = self.lock();
        let before = s.usage.len();
        s.usage.retain(|_, r| &r.subject_ref != subject_ref);
        Ok((before - s.usage.len()) as u64)
    }

    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()> {
        let mut s = self.lock();
        if s.deletion_requests.contains_key(&row.code) {
            return Err(Error::invalid_input("duplicate confirmation code"));
        }
        s.deletion_requests.insert(row.code.clone(), row);
        Ok(())
    }

    async fn get_deletion_request(&self, code: &str) -> Result<Option<DeletionRow>> {
        Ok(self.lock().deletion_requests.get(code).cloned())
    }

    async fn set_deletion_status(&self, code: &str, update: DeletionStatusUpdate) -> Result<bool> {
        let mut s = self.lock();
        let Some(row) = s.deletion_requests.get_mut(code) else {
            return Ok(false);
        };
        row.status = update.status;
        row.status_at = update.status_at;
        row.reason = update.reason;
        if update.clear_subject {
            row.subject_ref = None;
            row.dek_id = None;
            row.sealed = None;
        }
        Ok(true)
    }

    async fn pending_deletion_requests(&self) -> Result<Vec<DeletionRow>> {
        // The map is ordered by code, and the sort is stable: ties in time keep code order.
        let mut rows: Vec<DeletionRow> = self
            .lock()
            .deletion_requests
            .values()
            .filter(|r| r.status == "pending")
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.received_at);
        Ok(rows)
    }

    async fn put_profile(&self, row: ProfileRow) -> Result<()> {
        self.lock().profiles.insert(row.subject_ref, row);
        Ok(())
    }

    async fn get_profile(&self, subject_ref: &SubjectRef) -> Result<Option<ProfileRow>> {
        Ok(self.lock().profiles.get(subject_ref).cloned())
    }

    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool> {
        Ok(self.lock().profiles.remove(subject_ref).is_some())
    }

    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()> {
        self.lock().receipts.push(row);
        Ok(())
    }

    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>> {
        Ok(self
            .lock()
            .receipts
            .iter()
            .filter(|r| r.pseudonym == pseudonym)
            .cloned()
            .collect())
    }

    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<()> {
        let mut s = self.lock();
        if s.api_keys.contains_key(&record.key_id) {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        s.api_keys.insert(record.key_id, record);
        Ok(())
    }

    async fn get_api_key(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        Ok(self.lock().api_keys.get(key_id).cloned())
    }

    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()> {
        let at = from_micros(at)?;
        if let Some(r) = self.lock().api_keys.get_mut(key_id)
            && r.last_used_at.is_none_or(|t| t < at)
        {
            r.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool> {
        let at = from_micros(at)?;
        match self.lock().api_keys.get_mut(key_id) {
            Some(r) if r.revoked_at.is_none() => {
                r.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rotate_api_key(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: i64,
    ) -> Result<bool> {
        let grace_until = from_micros(grace_until)?;
        let mut s = self.lock();
        if s.api_keys.contains_key(&replacement.key_id) {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        let Some(record) = s.api_keys.get_mut(old) else {
            return Ok(false);
        };
        if record.revoked_at.is_some() || record.replaced_by.is_some() {
            return Ok(false);
        }
        record.replaced_by = Some(replacement.key_id);
        record.grace_until = Some(grace_until);
        s.api_keys.insert(replacement.key_id, replacement);
        Ok(true)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let mut all: Vec<ApiKeyRecord> = self.lock().api_keys.values().cloned().collect();
        all.sort_by_key(|r| (r.created_at, r.key_id));
        Ok(all)
    }

    async fn record_delivery(&self, key: [u8; 32], at: i64, forget_before: i64) -> Result<bool> {
        let mut s = self.lock();
        match s.deliveries.get(&key) {
            Some(&seen) if seen >= forget_before => Ok(false),
            _ => {
                s.deliveries.insert(key, at);
                Ok(true)
            }
        }
    }

    async fn forget_delivery(&self, key: [u8; 32]) -> Result<()> {
        self.lock().deliveries.remove(&key);
        Ok(())
    }

    async fn purge_deliveries(&self, cutoff: i64) -> Result<u64> {
        let mut s = self.lock();
        let before = s.deliveries.len();
        s.deliveries.retain(|_, seen| *seen >= cutoff);
        Ok((before - s.deliveries.len()) as u64)
    }

    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64> {
        let cutoff = from_micros(cutoff)?;
        let mut s = self.lock();
        let before = s.api_keys.len();
        s.api_keys
            .retain(|_, r| r.dead_since().is_none_or(|d| d > cutoff));
        Ok((before - s.api_keys.len()) as u64)
    }

    async fn erase_subject(&self, subject_ref: &SubjectRef) -> Result<ErasureCounts> {
        let mut s = self.lock();
        let mut counts = ErasureCounts::default();
        let conns: Vec<String> = s
            .tokens
            .values()
            .filter(|r| &r.subject_ref == subject_ref)
            .map(|r| r.conn_id.clone())
            .collect();
        for c in &conns {
            s.tokens.remove(c);
            s.claims.forget(c);
            if s.leases.remove(c).is_some() {
                counts.leases += 1;
            }
        }
        counts.tokens = conns.len() as u64;
        counts.actions = Self::erase_actions_in(&mut s.actions, subject_ref);
        let before = s.pending.len();
        s.pending.retain(|_, r| &r.subject_ref != subject_ref);
        counts.pending_states = (before - s.pending.len()) as u64;
        let before = s.usage.len();
        s.usage.retain(|_, r| &r.subject_ref != subject_ref);
        counts.usage_entries = (before - s.usage.len()) as u64;
        s.consent_state.retain(|(r, _, _), _| r != subject_ref);
        for row in s.consent.iter_mut() {
            if tombstone(row, subject_ref) {
                counts.consent_records += 1;
            }
        }
        if s.profiles.remove(subject_ref).is_some() {
            counts.profiles = 1;
        }
        for row in s.deletion_requests.values_mut() {
            if row.subject_ref.as_ref() == Some(subject_ref) {
                row.subject_ref = None;
                row.dek_id = None;
                row.sealed = None;
                counts.deletion_requests += 1;
            }
        }
        if s.subject_keys.remove(subject_ref).is_some() {
            counts.subject_keys = 1;
        }
        Ok(counts)
    }
}
