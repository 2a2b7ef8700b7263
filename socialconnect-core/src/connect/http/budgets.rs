//! Shared rate budgets: the countable limits (documented windows, the app's and a connection's
//! steady rate, daily budgets) admitted through a store every instance shares, so N instances
//! together stay under a limit instead of N times it.
//!
//! A window of `calls` per `per` is held as `calls` slots per key. A call takes a free slot (one
//! whose last use ended at least `per` ago) and stamps it "in use"; when the response is in,
//! [`RateBudgets::settle`] stamps it with that moment, the latest the platform can have counted
//! the call. Each slot is therefore used at most once in any stretch of `per` as the platform
//! sees it, so no stretch of `per` holds more than `calls` calls — with the whole allowance
//! available at once, as platforms count it (a sliding window), and not a fixed window's
//! double allowance across a boundary. Windows are counted 2 % longer than documented, a margin
//! for the clocks of the instances and the platform, which are not one clock.
//!
//! The store that implements [`RateBudgets`] is the one authority: when it cannot answer, the
//! call fails closed with its error (kind [`Storage`](crate::ErrorKind::Storage)) rather than
//! falling back to limits counted in this process, which would let every instance spend the
//! whole limit.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::error::{Error, PlatformError, Result};
use crate::id::{ConnectionId, PlatformId};

use super::daily::{DailyBudget, until_next_midnight};
use super::operation::covers;
use super::ratelimit::{PlatformLimits, Window};

/// A window is counted `1 / SKEW_MARGIN_DIVISOR` longer than documented (2 %).
const SKEW_MARGIN_DIVISOR: u32 = 50;

/// Names one shared budget: the platform, whose allowance it is (the app, or one connection),
/// and which limit. Holds no token and no personal id beyond the connection id the store
/// already keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetKey(String);

impl BudgetKey {
    /// The key of `limit` (a short name of the limit and its numbers, so a changed limit
    /// starts afresh) for `holder` on `platform`.
    pub fn new(platform: &PlatformId, holder: BudgetHolder<'_>, limit: &str) -> Self {
        let holder = match holder {
            BudgetHolder::App(app) => format!("app:{app}"),
            BudgetHolder::Connection(c) => format!("conn:{c}"),
        };
        Self(format!("{}|{holder}|{limit}", platform.as_str()))
    }

    /// The key of `platform`'s pause: what it asked every caller to wait for (`Retry-After`
    /// on a 429 or 503, usage headers near the limit).
    pub fn pause(platform: &PlatformId) -> Self {
        Self(format!("{}|pause", platform.as_str()))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BudgetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose allowance a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetHolder<'a> {
    /// The whole app (client id), whichever connection calls.
    App(&'a str),
    /// One connection (the platforms' per-user limits).
    Connection(ConnectionId),
}

/// A slot taken by [`RateBudgets::admit`], to be given back to [`RateBudgets::settle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTicket {
    slot: u32,
    held_until_us: i64,
}

impl SlotTicket {
    /// Slot `slot`, stamped in use until `held_until_us` (microseconds since the Unix epoch).
    pub fn new(slot: u32, held_until_us: i64) -> Self {
        Self {
            slot,
            held_until_us,
        }
    }

    /// The slot's index, below the window's `calls`.
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// The stamp the slot was taken with (microseconds since the Unix epoch): settling changes
    /// the slot only while it still carries this stamp.
    pub fn held_until_us(&self) -> i64 {
        self.held_until_us
    }
}

/// The answer of [`RateBudgets::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// The call may go; settle the ticket once its response is in.
    Admitted(SlotTicket),
    /// Every slot is in use; the earliest frees in this long (or sooner, when a call in flight
    /// settles).
    RetryAfter(Duration),
}

/// Rate budgets shared by every instance: implemented by a store all of them reach (the
/// encrypted store on PostgreSQL, or on one SQLite file), set with
/// [`HttpClientBuilder::shared_budgets`](super::HttpClientBuilder::shared_budgets).
///
/// Each method is atomic on its own: two instances never take the same slot, and a daily count
/// never passes its limit.
#[async_trait]
pub trait RateBudgets: Send + Sync + 'static {
    /// Takes a free slot of `key`'s `window` (one last used at least `window.per` before
    /// `now`), stamping it in use until `now + hold`, or says when the earliest one frees.
    async fn admit(
        &self,
        key: &BudgetKey,
        window: &Window,
        now: SystemTime,
        hold: Duration,
    ) -> Result<Admission>;

    /// Marks the call of `ticket` as finished at `done`: its slot frees `window.per` after
    /// that. Does nothing when the slot carries another stamp by now.
    async fn settle(&self, key: &BudgetKey, ticket: &SlotTicket, done: SystemTime) -> Result<()>;

    /// Counts one call on `day` (UTC) against `key`'s budget of `limit` a day: `true` when
    /// counted, `false` (counting nothing) when `limit` calls are counted already.
    async fn charge_day(&self, key: &BudgetKey, limit: u32, day: NaiveDate) -> Result<bool>;

    /// Records that every instance is to pause the calls of `key` ([`BudgetKey::pause`]) until
    /// `until`; an earlier time than the one recorded changes nothing. The default shares
    /// nothing.
    async fn pause(&self, key: &BudgetKey, until: SystemTime) -> Result<()> {
        let _ = (key, until);
        Ok(())
    }

    /// The pause recorded for `key`, if any (it may be over already). The default: none.
    async fn paused_until(&self, key: &BudgetKey) -> Result<Option<SystemTime>> {
        let _ = key;
        Ok(None)
    }
}

/// Microseconds since the Unix epoch (0 before it, saturating far after).
pub fn unix_micros(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A time from microseconds since the Unix epoch (the epoch for a negative value).
pub fn from_unix_micros(us: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_micros(us.max(0).unsigned_abs())
}

/// Tells every instance about a pause of `platform` for `wait`, in the background (the caller
/// may not be async); a failure is logged: each instance still pauses itself.
pub(crate) fn share_pause(budgets: &Arc<dyn RateBudgets>, platform: &PlatformId, wait: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (budgets, key) = (Arc::clone(budgets), BudgetKey::pause(platform));
    let until = SystemTime::now() + wait;
    runtime.spawn(async move {
        if let Err(e) = budgets.pause(&key, until).await {
            tracing::warn!(error.kind = %e.kind().as_str(), "a platform pause was not shared");
        }
    });
}

/// How much longer `platform` is paused by any instance.
pub(crate) async fn shared_pause(
    budgets: &dyn RateBudgets,
    platform: &PlatformId,
) -> Result<Duration> {
    let until = budgets.paused_until(&BudgetKey::pause(platform)).await?;
    Ok(until
        .and_then(|u| u.duration_since(SystemTime::now()).ok())
        .unwrap_or_default())
}

/// The windows that apply to one call, with their keys.
fn windows(
    platform: &PlatformId,
    limits: &PlatformLimits,
    app: &str,
    connection: Option<ConnectionId>,
    operation: &str,
) -> Vec<(BudgetKey, Window)> {
    let app_holder = BudgetHolder::App(app);
    let numbers = |w: &Window| format!("{}/{}ms", w.calls, w.per.as_millis());
    let mut out = Vec::new();
    if let Some(rate) = limits.per_app {
        let w = Window::new(rate.per_second.get(), Duration::from_secs(1));
        out.push((
            BudgetKey::new(platform, app_holder, &format!("rate:{}", numbers(&w))),
            w,
        ));
    }
    if let (Some(rate), Some(c)) = (limits.per_connection, connection) {
        let w = Window::new(rate.per_second.get(), Duration::from_secs(1));
        let holder = BudgetHolder::Connection(c);
        out.push((
            BudgetKey::new(platform, holder, &format!("rate:{}", numbers(&w))),
            w,
        ));
    }
    let per_user = limits.per_operation.iter().map(|w| (w, false));
    let per_app = limits.per_app_operation.iter().map(|w| (w, true));
    for ((pattern, window), counted_per_app) in per_user.chain(per_app) {
        if !covers(pattern, operation) {
            continue;
        }
        let holder = match connection {
            Some(c) if !counted_per_app => BudgetHolder::Connection(c),
            _ => app_holder,
        };
        let name = format!("op:{pattern}:{}", numbers(window));
        out.push((BudgetKey::new(platform, holder, &name), *window));
    }
    // The longest window first: a wait on a later one is shorter than the holds before it.
    out.sort_by_key(|(_, w)| std::cmp::Reverse(w.per));
    out
}

/// The daily budgets that apply to one call, with their keys and limits.
fn days<'a>(
    platform: &PlatformId,
    budgets: &'a [DailyBudget],
    app: &str,
    connection: Option<ConnectionId>,
    operation: &str,
) -> Vec<(BudgetKey, u32, &'a DailyBudget, bool)> {
    let mut out = Vec::new();
    for b in budgets.iter().filter(|b| covers(&b.operation, operation)) {
        let name = format!("day:{}", b.operation);
        if let Some(limit) = b.per_app {
            let key = BudgetKey::new(platform, BudgetHolder::App(app), &name);
            out.push((key, limit.get(), b, true));
        }
        if let (Some(limit), Some(c)) = (b.per_connection, connection) {
            let key = BudgetKey::new(platform, BudgetHolder::Connection(c), &name);
            out.push((key, limit.get(), b, false));
        }
    }
    out
}

/// The slots one attempt holds, settled once its response is in.
#[derive(Debug, Default)]
pub(crate) struct Held(Vec<(BudgetKey, SlotTicket)>);

/// Admits one attempt through `budgets`: charges the daily budgets (refusing when one is
/// spent), then takes a slot of every window that applies, waiting while they are all in use.
pub(crate) async fn admit(
    budgets: &dyn RateBudgets,
    platform: &PlatformId,
    limits: &PlatformLimits,
    app: Option<&str>,
    connection: Option<ConnectionId>,
    operation: &str,
    timeout: Duration,
) -> Result<Held> {
    let app = app.unwrap_or_default();
    let today = chrono::Utc::now();
    // A refusal after an earlier budget counted leaves that count one high: never over.
    for (key, limit, budget, per_app) in days(platform, &limits.per_day, app, connection, operation)
    {
        if !budgets.charge_day(&key, limit, today.date_naive()).await? {
            let whose = if per_app {
                "the app"
            } else {
                "this connection"
            };
            return Err(Error::Throttled {
                retry_after: Some(until_next_midnight(today)),
                platform: Some(Box::new(PlatformError::new(
                    Some(platform.clone()),
                    format!(
                        "daily budget of {limit} `{}` calls for {whose} spent (counted across \
                         instances; resets at midnight UTC)",
                        budget.operation
                    ),
                ))),
            });
        }
    }
    let windows = windows(platform, limits, app, connection, operation);
    // Held past any wait on the later windows and the request itself, unless settled sooner.
    let hold = windows.iter().map(|(_, w)| w.per).sum::<Duration>() + timeout;
    let mut held = Held::default();
    for (key, window) in windows {
        // Counted 2 % longer: the instances' clocks, and the platform's, are not one clock.
        let window = Window {
            per: window.per + window.per / SKEW_MARGIN_DIVISOR,
            ..window
        };
        loop {
            match budgets
                .admit(&key, &window, SystemTime::now(), hold)
                .await?
            {
                Admission::Admitted(ticket) => {
                    held.0.push((key, ticket));
                    break;
                }
                Admission::RetryAfter(wait) => {
                    // A slot in flight frees as soon as its call settles: look again by then.
                    let poll = (window.per / window.calls.get()).max(Duration::from_millis(1));
                    tokio::time::sleep(wait.min(poll).max(Duration::from_millis(1))).await;
                }
            }
        }
    }
    Ok(held)
}

/// Settles every slot `held` took. A failure leaves the slot held until its stamp, which
/// only costs allowance; it is logged, not returned, since the call itself is done.
pub(crate) async fn settle(budgets: &dyn RateBudgets, held: Held) {
    let done = SystemTime::now();
    for (key, ticket) in held.0 {
        if let Err(e) = budgets.settle(&key, &ticket, done).await {
            tracing::warn!(error.kind = %e.kind().as_str(), "a shared rate slot was not settled");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_platform_holder_and_limit() {
        let c = ConnectionId::generate();
        let k = BudgetKey::new(
            &PlatformId::TIKTOK,
            BudgetHolder::Connection(c),
            "op:x:6/60000ms",
        );
        assert_eq!(k.as_str(), format!("tiktok|conn:{c}|op:x:6/60000ms"));
        let limits = PlatformLimits::default()
            .with_operation("video.", Window::per_minute(6))
            .with_app_operation("video.list", Window::new(600, Duration::from_secs(60)))
            .with_operation("post.", Window::per_minute(2));
        let w = windows(&PlatformId::TIKTOK, &limits, "app", Some(c), "video.list");
        let names: Vec<&str> = w.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("tiktok|conn:{c}|op:video.:6/60000ms"),
                "tiktok|app:app|op:video.list:600/60000ms".to_owned(),
            ]
        );
    }
}
