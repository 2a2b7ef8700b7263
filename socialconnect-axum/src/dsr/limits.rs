//! Per-key rate limits and quotas for the data-subject API, on `governor`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

/// How much one API key may call: a rate (with a burst) and a daily quota.
///
/// Both are GCRA limits (`governor`): the quota allows `per_day` calls at once and refills at
/// `per_day` per 24 hours, so a key idle for a day may make up to about twice `per_day` calls
/// within the next rolling 24 hours. They are kept in this process: N instances allow N times
/// as much.
#[derive(Debug, Clone, Copy)]
pub struct ApiLimits {
    per_second: NonZeroU32,
    burst: NonZeroU32,
    per_day: NonZeroU32,
}

impl Default for ApiLimits {
    /// 5 calls a second with bursts of 20, and 10,000 calls a day, per key.
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(5).expect("non-zero"),
            burst: NonZeroU32::new(20).expect("non-zero"),
            per_day: NonZeroU32::new(10_000).expect("non-zero"),
        }
    }
}

impl ApiLimits {
    /// Limits of `per_second` calls (bursting to `burst`) and `per_day` calls per key.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32, per_day: NonZeroU32) -> Self {
        Self {
            per_second,
            burst,
            per_day,
        }
    }
}

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// The two limiters, keyed by API key id.
pub(crate) struct Limiters {
    rate: Keyed,
    quota: Keyed,
    clock: DefaultClock,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiters { .. }")
    }
}

impl Limiters {
    pub(crate) fn new(limits: ApiLimits) -> Self {
        let clock = DefaultClock::default();
        let rate = Quota::per_second(limits.per_second).allow_burst(limits.burst);
        let day = Quota::with_period(Duration::from_secs(86_400) / limits.per_day.get())
            .expect("a positive period")
            .allow_burst(limits.per_day);
        Self {
            rate: RateLimiter::new(rate, HashMapStateStore::default(), clock.clone()),
            quota: RateLimiter::new(day, HashMapStateStore::default(), clock.clone()),
            clock,
        }
    }

    /// Takes one call for `key`, or says how long until the next is allowed. The daily quota
    /// is only charged when the rate allows the call.
    pub(crate) fn check(&self, key: &str) -> Result<(), Duration> {
        let key = key.to_owned();
        let now = self.clock.now();
        self.rate
            .check_key(&key)
            .map_err(|wait| wait.wait_time_from(now))?;
        self.quota
            .check_key(&key)
            .map_err(|wait| wait.wait_time_from(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_quota_runs_out_per_key_and_says_when_it_comes_back() {
        let limits = Limiters::new(ApiLimits::new(
            NonZeroU32::new(100).unwrap(),
            NonZeroU32::new(100).unwrap(),
            NonZeroU32::new(3).unwrap(),
        ));
        for _ in 0..3 {
            limits.check("a").unwrap();
        }
        let wait = limits.check("a").unwrap_err();
        assert!(wait > Duration::from_secs(3600), "{wait:?}");
        limits.check("b").unwrap();
    }

    #[test]
    fn a_burst_beyond_the_rate_is_refused_briefly() {
        let limits = Limiters::new(ApiLimits::new(
            NonZeroU32::new(1).unwrap(),
            NonZeroU32::new(2).unwrap(),
            NonZeroU32::new(1000).unwrap(),
        ));
        limits.check("a").unwrap();
        limits.check("a").unwrap();
        let wait = limits.check("a").unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
    }
}
