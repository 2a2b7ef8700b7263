//! Shared rate budgets on SQLite: a slot is taken inside one write transaction (`BEGIN
//! IMMEDIATE` takes the file's write lock up front), so takers in this process and in
//! processes sharing the file are serialized and never take one slot.

use rusqlite::params;
use socialconnect_core::{Error, Result};

use super::{SqliteBackend, exec, limit, one};
use crate::backend::RateSlot;
use crate::backend::decode as rows;
use crate::backend::sql::sqlite as sql;

impl SqliteBackend {
    /// See [`crate::backend::Backend::take_rate_slot`].
    pub(super) async fn take_slot(
        &self,
        key: &str,
        calls: u32,
        free_before: i64,
        stamp: i64,
    ) -> Result<RateSlot> {
        const WHAT: &str = "taking a rate slot";
        let key = key.to_owned();
        let calls = limit(calls);
        self.pool
            .write(WHAT, move |tx| {
                let take = params![key, calls, free_before, stamp];
                if let Some(slot) = one(tx, WHAT, sql::TAKE_RATE_SLOT, take, rows::rate_slot)? {
                    return Ok(RateSlot::Taken(slot));
                }
                let state = params![key, calls];
                let found = one(tx, WHAT, sql::RATE_SLOTS, state, rows::rate_slots)?;
                if found.is_none_or(|(n, _)| n < calls.unsigned_abs()) {
                    exec(tx, WHAT, sql::ENSURE_RATE_SLOTS, params![key, calls])?;
                    if let Some(slot) = one(tx, WHAT, sql::TAKE_RATE_SLOT, take, rows::rate_slot)? {
                        return Ok(RateSlot::Taken(slot));
                    }
                }
                match one(tx, WHAT, sql::RATE_SLOTS, state, rows::rate_slots)? {
                    Some((_, Some(earliest))) => Ok(RateSlot::Busy(earliest)),
                    _ => Err(Error::storage_msg("a rate budget's slots are missing")),
                }
            })
            .await
    }

    /// See [`crate::backend::Backend::settle_rate_slot`].
    pub(super) async fn settle_slot(
        &self,
        key: &str,
        slot: u32,
        held: i64,
        done: i64,
    ) -> Result<()> {
        const WHAT: &str = "settling a rate slot";
        let key = key.to_owned();
        let slot = i64::from(slot);
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    sql::SETTLE_RATE_SLOT,
                    params![key, slot, held, done],
                )
            })
            .await?;
        Ok(())
    }

    /// See [`crate::backend::Backend::charge_rate_day`].
    pub(super) async fn charge_day(&self, key: &str, day: i64, limit_to: u32) -> Result<bool> {
        const WHAT: &str = "counting a call against a daily budget";
        let key = key.to_owned();
        let limit_to = limit(limit_to);
        let counted = self
            .pool
            .write(WHAT, move |tx| {
                let values = params![key, day, limit_to];
                one(tx, WHAT, sql::CHARGE_RATE_DAY, values, rows::rate_day)
            })
            .await?;
        Ok(counted.is_some())
    }

    /// See [`crate::backend::Backend::purge_rate_budgets`].
    pub(super) async fn purge_budgets(&self, slots_before: i64, days_before: i64) -> Result<u64> {
        const WHAT: &str = "purging idle rate budgets";
        self.pool
            .write(WHAT, move |tx| {
                let slots = exec(tx, WHAT, sql::PURGE_RATE_SLOTS, params![slots_before])?;
                let days = exec(tx, WHAT, sql::PURGE_RATE_DAYS, params![days_before])?;
                let pauses = exec(tx, WHAT, sql::PURGE_RATE_PAUSES, params![slots_before])?;
                Ok(slots + days + pauses)
            })
            .await
    }

    /// See [`crate::backend::Backend::set_rate_pause`].
    pub(super) async fn set_pause(&self, key: &str, until: i64) -> Result<()> {
        const WHAT: &str = "recording a platform pause";
        let key = key.to_owned();
        self.pool
            .write(WHAT, move |tx| {
                exec(tx, WHAT, sql::SET_RATE_PAUSE, params![key, until])
            })
            .await?;
        Ok(())
    }

    /// See [`crate::backend::Backend::rate_pause`].
    pub(super) async fn pause(&self, key: &str) -> Result<Option<i64>> {
        const WHAT: &str = "reading a platform pause";
        let key = key.to_owned();
        self.pool
            .read(WHAT, move |c| {
                one(c, WHAT, sql::RATE_PAUSE, params![key], rows::rate_pause)
            })
            .await
    }
}
