//! Shared rate budgets for [`EncryptedStore`]: plain rows in `sc_rate_slots`, `sc_rate_days`
//! and `sc_rate_pauses` (schema 7), shared by every process on the database. They are not personal
//! data: a key names a platform, an app or a connection id, and a limit.
//!
//! A window of `calls` per `per` is `calls` slot rows; a call takes a free one (last used at
//! least `per` ago) in one atomic statement and stamps it held, and its settle stamps the
//! time its response came. No slot is used twice within `per`, so no stretch of `per` holds
//! more than `calls` calls, however many processes take slots.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use socialconnect_core::http::{
    Admission, BudgetKey, RateBudgets, SlotTicket, Window, from_unix_micros, unix_micros,
};
use socialconnect_core::{Error, Result};

use crate::backend::RateSlot;
use crate::store::EncryptedStore;

/// The longest key stored: far above any the client builds (platform, app or connection id,
/// operation name and the limit's numbers).
const MAX_KEY_BYTES: usize = 512;

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn checked(key: &BudgetKey) -> Result<&str> {
    let key = key.as_str();
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_input(format!(
            "a rate budget key takes 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(key)
}

/// How long a rate budget's slots are kept unused: longer than any window a platform
/// documents (the longest are a day).
pub const RATE_SLOTS_KEPT: chrono::Duration = chrono::Duration::days(7);

impl EncryptedStore {
    /// Deletes the shared rate budgets nobody used lately: the slots of keys none of whose
    /// slots was used in [`RATE_SLOTS_KEPT`] before `now` (a window longer than that would
    /// start afresh), pauses over as long, and the daily counts of days before yesterday (UTC). Returns how many
    /// rows went. Run it with the host's other retention work; it changes no budget in use.
    pub async fn purge_rate_budgets(&self, now: DateTime<Utc>) -> Result<u64> {
        let slots_before = (now - RATE_SLOTS_KEPT).timestamp_micros();
        let yesterday = now.date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
        let days_before = i64::from(yesterday.num_days_from_ce());
        self.inner
            .backend
            .purge_rate_budgets(slots_before, days_before)
            .await
    }
}

/// Shared state, not personal data: see the module documentation. A host sets it with
/// [`HttpClientBuilder::shared_budgets`](socialconnect_core::http::HttpClientBuilder::shared_budgets).
#[async_trait]
impl RateBudgets for EncryptedStore {
    async fn admit(
        &self,
        key: &BudgetKey,
        window: &Window,
        now: SystemTime,
        hold: Duration,
    ) -> Result<Admission> {
        let key = checked(key)?;
        let now = unix_micros(now);
        let per = micros(window.per);
        let stamp = now.saturating_add(micros(hold));
        let found = self
            .inner
            .backend
            .take_rate_slot(key, window.calls.get(), now.saturating_sub(per), stamp)
            .await?;
        Ok(match found {
            RateSlot::Taken(slot) => Admission::Admitted(SlotTicket::new(slot, stamp)),
            RateSlot::Busy(earliest) => {
                let wait = earliest.saturating_add(per).saturating_sub(now).max(1);
                Admission::RetryAfter(Duration::from_micros(wait.unsigned_abs()))
            }
        })
    }

    async fn settle(&self, key: &BudgetKey, ticket: &SlotTicket, done: SystemTime) -> Result<()> {
        let key = checked(key)?;
        let held = ticket.held_until_us();
        let done = unix_micros(done);
        self.inner
            .backend
            .settle_rate_slot(key, ticket.slot(), held, done)
            .await
    }

    async fn pause(&self, key: &BudgetKey, until: SystemTime) -> Result<()> {
        let key = checked(key)?;
        self.inner
            .backend
            .set_rate_pause(key, unix_micros(until))
            .await
    }

    async fn paused_until(&self, key: &BudgetKey) -> Result<Option<SystemTime>> {
        let key = checked(key)?;
        let until = self.inner.backend.rate_pause(key).await?;
        Ok(until.map(from_unix_micros))
    }

    async fn charge_day(&self, key: &BudgetKey, limit: u32, day: NaiveDate) -> Result<bool> {
        let key = checked(key)?;
        let day = i64::from(day.num_days_from_ce());
        self.inner
            .backend
            .charge_rate_day(key, day, limit.max(1))
            .await
    }
}
