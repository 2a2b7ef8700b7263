//! Daily call budgets: the host's own calls counted per UTC day, per app and per connection,
//! against budgets the host sets. For platforms that count calls per day and say nothing until
//! the count is spent (LinkedIn: per endpoint, per application and per member, reset at
//! midnight UTC, the numbers shown only in its developer portal). A call that would go over a
//! budget is refused before it is sent, as [`Error::Throttled`] until the next midnight UTC, so
//! the platform never sees it.
//!
//! The counts live in this process, so several instances each count their own share, unless
//! the client is given shared budgets
//! ([`HttpClientBuilder::shared_budgets`](super::HttpClientBuilder::shared_budgets)), which
//! count them for every instance together.

use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, PlatformError, Result};
use crate::id::{ConnectionId, PlatformId};

use super::operation::covers;

/// The most counters kept; past this, the counters of earlier days go first.
const MAX_COUNTERS: usize = 100_000;

/// A budget of calls per UTC day for the operations `operation` names: the empty name covers
/// every operation, a name ending in `.` every operation it prefixes (`posts.` →
/// `posts.create`, `posts.delete`), any other name only itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBudget {
    /// The operation name or prefix counted.
    pub operation: Cow<'static, str>,
    /// Calls a day across the whole app, whichever connection makes them.
    pub per_app: Option<NonZeroU32>,
    /// Calls a day for each connection (LinkedIn's "member" limit).
    pub per_connection: Option<NonZeroU32>,
}

impl DailyBudget {
    /// A budget for `operation` with no limit yet; add [`per_app`](Self::per_app) and
    /// [`per_connection`](Self::per_connection).
    pub fn new(operation: impl Into<Cow<'static, str>>) -> Self {
        Self {
            operation: operation.into(),
            per_app: None,
            per_connection: None,
        }
    }

    /// At most `calls` a day across the app (zero is raised to one).
    pub fn per_app(mut self, calls: u32) -> Self {
        self.per_app = Some(NonZeroU32::new(calls).unwrap_or(NonZeroU32::MIN));
        self
    }

    /// At most `calls` a day for each connection (zero is raised to one).
    pub fn per_connection(mut self, calls: u32) -> Self {
        self.per_connection = Some(NonZeroU32::new(calls).unwrap_or(NonZeroU32::MIN));
        self
    }
}

/// Today's count for one budget and holder, from [`HttpClient::daily_usage`](super::HttpClient::daily_usage).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DailyUsage {
    /// The budget's operation name or prefix.
    pub operation: String,
    /// The connection counted, or `None` for the app-wide count.
    pub connection: Option<ConnectionId>,
    /// Calls counted today (UTC).
    pub calls: u32,
    /// The budget they count against.
    pub budget: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    App(String),
    Connection(ConnectionId),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    platform: PlatformId,
    budget: usize,
    holder: Holder,
}

/// The counters behind every platform's daily budgets.
#[derive(Debug, Default)]
pub(crate) struct DailyCounters {
    counts: Mutex<HashMap<Key, (NaiveDate, u32)>>,
}

impl DailyCounters {
    /// Counts one call against every budget in `budgets` that covers `operation`, or refuses it
    /// (counting nothing) when one of them is spent for today.
    pub(crate) fn charge(
        &self,
        platform: &PlatformId,
        budgets: &[DailyBudget],
        app: Option<&str>,
        connection: Option<ConnectionId>,
        operation: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let today = now.date_naive();
        let applicable: Vec<(Key, u32, &DailyBudget)> = budgets
            .iter()
            .enumerate()
            .filter(|(_, b)| covers(&b.operation, operation))
            .flat_map(|(index, b)| {
                let app_key = b.per_app.map(|limit| {
                    let holder = Holder::App(app.unwrap_or_default().to_owned());
                    (key(platform, index, holder), limit.get(), b)
                });
                let conn_key = b.per_connection.zip(connection).map(|(limit, c)| {
                    (key(platform, index, Holder::Connection(c)), limit.get(), b)
                });
                app_key.into_iter().chain(conn_key)
            })
            .collect();
        if applicable.is_empty() {
            return Ok(());
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let used = |counts: &HashMap<Key, (NaiveDate, u32)>, k: &Key| match counts.get(k) {
            Some((day, n)) if *day == today => *n,
            _ => 0,
        };
        if let Some((k, limit, b)) = applicable
            .iter()
            .find(|(k, limit, _)| used(&counts, k) >= *limit)
        {
            let whose = match k.holder {
                Holder::App(_) => "the app",
                Holder::Connection(_) => "this connection",
            };
            return Err(Error::Throttled {
                retry_after: Some(until_next_midnight(now)),
                platform: Some(Box::new(PlatformError::new(
                    Some(platform.clone()),
                    format!(
                        "daily budget of {limit} `{}` calls for {whose} spent (counted by this \
                         client; resets at midnight UTC)",
                        b.operation
                    ),
                ))),
            });
        }
        if counts.len() >= MAX_COUNTERS {
            counts.retain(|_, (day, _)| *day == today);
        }
        for (k, _, _) in applicable {
            let entry = counts.entry(k).or_insert((today, 0));
            if entry.0 != today {
                *entry = (today, 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
        Ok(())
    }

    /// Today's counts for `platform`'s budgets.
    pub(crate) fn usage(
        &self,
        platform: &PlatformId,
        budgets: &[DailyBudget],
        now: DateTime<Utc>,
    ) -> Vec<DailyUsage> {
        let today = now.date_naive();
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut usage: Vec<DailyUsage> = counts
            .iter()
            .filter(|(k, (day, _))| &k.platform == platform && *day == today)
            .filter_map(|(k, (_, calls))| {
                let b = budgets.get(k.budget)?;
                let (connection, limit) = match k.holder {
                    Holder::App(_) => (None, b.per_app?),
                    Holder::Connection(c) => (Some(c), b.per_connection?),
                };
                Some(DailyUsage {
                    operation: b.operation.to_string(),
                    connection,
                    calls: *calls,
                    budget: limit.get(),
                })
            })
            .collect();
        usage.sort_by(|a, b| (&a.operation, a.connection).cmp(&(&b.operation, b.connection)));
        usage
    }
}

fn key(platform: &PlatformId, budget: usize, holder: Holder) -> Key {
    Key {
        platform: platform.clone(),
        budget,
        holder,
    }
}

/// The time from `now` to the next 00:00 UTC (at least one second): when a platform's daily
/// counts reset.
pub fn until_next_midnight(now: DateTime<Utc>) -> Duration {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    let midnight = tomorrow
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    (midnight - now)
        .to_std()
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap()
    }

    #[test]
    fn a_spent_app_budget_refuses_until_midnight_and_counts_nothing_more() {
        let budgets = [DailyBudget::new("posts.").per_app(2)];
        let c = DailyCounters::default();
        let li = PlatformId::LINKEDIN;
        for _ in 0..2 {
            c.charge(&li, &budgets, Some("app"), None, "posts.create", at(9, 0))
                .unwrap();
        }
        let err = c
            .charge(&li, &budgets, Some("app"), None, "posts.delete", at(9, 0))
            .unwrap_err();
        assert_eq!(
            err.kind(),
            crate::ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(15 * 3600))
            }
        );
        assert!(err.to_string().contains("throttled"), "{err}");
        // Another operation and another app are not counted against it.
        c.charge(&li, &budgets, Some("app"), None, "comments.list", at(9, 0))
            .unwrap();
        c.charge(&li, &budgets, Some("other"), None, "posts.create", at(9, 0))
            .unwrap();
        let usage = c.usage(&li, &budgets, at(9, 0));
        assert_eq!(usage.len(), 2, "{usage:?}");
        assert!(usage.iter().all(|u| u.budget == 2));
        // The next UTC day starts from zero.
        let tomorrow = at(9, 0) + chrono::Duration::days(1);
        c.charge(&li, &budgets, Some("app"), None, "posts.create", tomorrow)
            .unwrap();
        assert_eq!(c.usage(&li, &budgets, tomorrow)[0].calls, 1);
    }

    #[test]
    fn a_member_budget_counts_each_connection_and_a_refusal_counts_no_other_budget() {
        let budgets = [
            DailyBudget::new("posts.create").per_connection(1),
            DailyBudget::new("posts.").per_app(10),
        ];
        let c = DailyCounters::default();
        let li = PlatformId::LINKEDIN;
        let (a, b) = (ConnectionId::generate(), ConnectionId::generate());
        c.charge(
            &li,
            &budgets,
            Some("app"),
            Some(a),
            "posts.create",
            at(1, 0),
        )
        .unwrap();
        c.charge(
            &li,
            &budgets,
            Some("app"),
            Some(b),
            "posts.create",
            at(1, 0),
        )
        .unwrap();
        assert!(
            c.charge(
                &li,
                &budgets,
                Some("app"),
                Some(a),
                "posts.create",
                at(1, 0)
            )
            .is_err()
        );
        let app_count = c
            .usage(&li, &budgets, at(1, 0))
            .into_iter()
            .find(|u| u.connection.is_none())
            .unwrap();
        assert_eq!(app_count.calls, 2, "the refused call was not counted");
    }

    #[test]
    fn midnight_is_at_least_a_second_away() {
        let last = Utc.with_ymd_and_hms(2026, 12, 7, 23, 59, 59).unwrap();
        assert_eq!(until_next_midnight(last), Duration::from_secs(1));
        assert_eq!(
            until_next_midnight(at(0, 0)),
            Duration::from_secs(24 * 3600)
        );
    }
}
