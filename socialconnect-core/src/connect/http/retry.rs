//! When to retry, how long to wait, and how much retrying the whole client may do.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// Retry settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// The first back-off; each retry doubles it (with full jitter).
    pub base_delay: Duration,
    /// The longest back-off.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited out: the call fails with
    /// `Throttled { retry_after }` so the host can reschedule.
    pub max_retry_after: Duration,
    /// Retry budget: tokens in the bucket.
    pub budget_capacity: u32,
    /// Tokens a retry takes (a timeout takes twice as many).
    pub retry_cost: u32,
    /// Tokens a success returns.
    pub success_refund: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget_capacity: 500,
            retry_cost: 5,
            success_refund: 1,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the attempt count (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets base and maximum back-off.
    pub fn with_delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Sets the longest `Retry-After` waited out inside a call.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the budget's capacity.
    pub fn with_budget(mut self, capacity: u32) -> Self {
        self.budget_capacity = capacity;
        self
    }

    /// The jittered back-off before retry number `retry` (1 for the first retry):
    /// uniformly random in `[0, min(max, base * 2^(retry-1))]` ("full jitter").
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let cap = exp.min(self.max_delay);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

/// A token bucket shared by every request of a client, so that when a platform is down, retries
/// stop instead of multiplying the load (a "retry storm").
#[derive(Debug)]
pub(crate) struct RetryBudget {
    capacity: u32,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            capacity,
            tokens: Mutex::new(capacity),
        }
    }

    /// Takes `cost` tokens if there are enough.
    pub(crate) fn try_withdraw(&self, cost: u32) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Returns `n` tokens, up to the capacity.
    pub(crate) fn refund(&self, n: u32) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *tokens = (*tokens + n).min(self.capacity);
    }

    #[cfg(test)]
    pub(crate) fn available(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads `Retry-After` in either form: delay-seconds or an HTTP-date (relative to `now`).
/// A date in the past gives zero; anything unparsable gives `None`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        // A day is far beyond any platform's real wait; cap so a hostile header cannot stall us.
        return Some(Duration::from_secs(secs.min(86_400)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(86_400)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parses_both_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(7))
        );

        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = now + Duration::from_secs(30);
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));

        h.insert("retry-after", httpdate::fmt_http_date(now).parse().unwrap());
        assert_eq!(retry_after(&h, later), Some(Duration::ZERO));

        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
        h.insert("retry-after", "99999999999".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn backoff_is_bounded_and_grows() {
        let p =
            RetryPolicy::default().with_delays(Duration::from_millis(100), Duration::from_secs(1));
        for retry in 1..40 {
            let d = p.backoff(retry);
            assert!(d <= Duration::from_secs(1));
            if retry == 1 {
                assert!(d <= Duration::from_millis(100));
            }
        }
    }

    #[test]
    fn budget_drains_and_refills() {
        let b = RetryBudget::new(10);
        assert!(b.try_withdraw(5));
        assert!(b.try_withdraw(5));
        assert!(!b.try_withdraw(5));
        b.refund(100);
        assert_eq!(b.available(), 10);
    }
}
