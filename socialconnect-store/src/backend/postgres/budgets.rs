//! Shared rate budgets on PostgreSQL. A slot is taken with one `UPDATE … WHERE slot = (SELECT …
//! FOR UPDATE SKIP LOCKED)`: takers on every instance share a key's slots without waiting on
//! each other's locks and without two taking one slot. Only when none was free does a second
//! statement look at the key's slots: to create them (a key's first use) or to say when the
//! earliest frees.

use socialconnect_core::{Error, Result};

use super::{PgBackend, affected, db, limit};
use crate::backend::RateSlot;
use crate::backend::decode as rows;
use crate::backend::sql::postgres as sql;

impl PgBackend {
    /// See [`crate::backend::Backend::take_rate_slot`].
    pub(super) async fn take_slot(
        &self,
        key: &str,
        calls: u32,
        free_before: i64,
        stamp: i64,
    ) -> Result<RateSlot> {
        const WHAT: &str = "taking a rate slot";
        for first in [true, false] {
            let taken = sqlx::query(sql::TAKE_RATE_SLOT_LOCKING)
                .bind(key)
                .bind(limit(calls))
                .bind(free_before)
                .bind(stamp)
                .fetch_optional(&self.pool)
                .await
                .map_err(db(WHAT))?;
            if let Some(row) = taken {
                return rows::rate_slot(&row).map(RateSlot::Taken);
            }
            let row = sqlx::query(sql::RATE_SLOTS)
                .bind(key)
                .bind(limit(calls))
                .fetch_one(&self.pool)
                .await
                .map_err(db(WHAT))?;
            match rows::rate_slots(&row)? {
                (n, _) if n < u64::from(calls) && first => {
                    sqlx::query(sql::ENSURE_RATE_SLOTS)
                        .bind(key)
                        .bind(limit(calls))
                        .execute(&self.pool)
                        .await
                        .map_err(db("creating rate slots"))?;
                }
                (_, Some(earliest)) => return Ok(RateSlot::Busy(earliest)),
                (_, None) => break,
            }
        }
        Err(Error::storage_msg("a rate budget's slots are missing"))
    }

    /// See [`crate::backend::Backend::settle_rate_slot`].
    pub(super) async fn settle_slot(
        &self,
        key: &str,
        slot: u32,
        held: i64,
        done: i64,
    ) -> Result<()> {
        sqlx::query(sql::SETTLE_RATE_SLOT)
            .bind(key)
            .bind(i64::from(slot))
            .bind(held)
            .bind(done)
            .execute(&self.pool)
            .await
            .map_err(db("settling a rate slot"))?;
        Ok(())
    }

    /// See [`crate::backend::Backend::charge_rate_day`].
    pub(super) async fn charge_day(&self, key: &str, day: i64, limit_to: u32) -> Result<bool> {
        let row = sqlx::query(sql::CHARGE_RATE_DAY)
            .bind(key)
            .bind(day)
            .bind(limit(limit_to))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("counting a call against a daily budget"))?;
        row.map(|r| rows::rate_day(&r))
            .transpose()
            .map(|n| n.is_some())
    }

    /// See [`crate::backend::Backend::purge_rate_budgets`].
    pub(super) async fn purge_budgets(&self, slots_before: i64, days_before: i64) -> Result<u64> {
        const WHAT: &str = "purging idle rate budgets";
        let slots = sqlx::query(sql::PURGE_RATE_SLOTS)
            .bind(slots_before)
            .execute(&self.pool)
            .await
            .map_err(db(WHAT))?;
        let days = sqlx::query(sql::PURGE_RATE_DAYS)
            .bind(days_before)
            .execute(&self.pool)
            .await
            .map_err(db(WHAT))?;
        let pauses = sqlx::query(sql::PURGE_RATE_PAUSES)
            .bind(slots_before)
            .execute(&self.pool)
            .await
            .map_err(db(WHAT))?;
        Ok(affected(&slots) + affected(&days) + affected(&pauses))
    }

    /// See [`crate::backend::Backend::set_rate_pause`].
    pub(super) async fn set_pause(&self, key: &str, until: i64) -> Result<()> {
        sqlx::query(sql::SET_RATE_PAUSE)
            .bind(key)
            .bind(until)
            .execute(&self.pool)
            .await
            .map_err(db("recording a platform pause"))?;
        Ok(())
    }

    /// See [`crate::backend::Backend::rate_pause`].
    pub(super) async fn pause(&self, key: &str) -> Result<Option<i64>> {
        let row = sqlx::query(sql::RATE_PAUSE)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a platform pause"))?;
        row.map(|r| rows::rate_pause(&r)).transpose()
    }
}
