//! Client-side rate limiting: a limiter per (platform, app) and per connection, plus
//! platform-announced pauses ("blocked until") fed from `Retry-After` and usage headers.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::id::{ConnectionId, PlatformId};

/// The most per-connection limiters kept; past this the idle ones are dropped.
const MAX_CONNECTION_LIMITERS: usize = 10_000;

/// A steady rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second, on average.
    pub per_second: NonZeroU32,
    /// How many may go at once after a quiet period.
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `per_second` on average with bursts of `burst` (zeros are raised to one).
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    fn limiter(&self) -> DefaultDirectRateLimiter {
        RateLimiter::direct(Quota::per_second(self.per_second).allow_burst(self.burst))
    }
}

/// The limits for one platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlatformLimits {
    /// Across all calls made for one app (client id) on the platform.
    pub per_app: Option<RateLimit>,
    /// Across all calls made for one connection.
    pub per_connection: Option<RateLimit>,
}

#[derive(Debug, Default)]
pub(crate) struct Limiters {
    config: HashMap<PlatformId, PlatformLimits>,
    apps: Mutex<HashMap<(PlatformId, String), Arc<DefaultDirectRateLimiter>>>,
    connections: Mutex<HashMap<(PlatformId, ConnectionId), Arc<DefaultDirectRateLimiter>>>,
    blocked_until: Mutex<HashMap<PlatformId, Instant>>,
}

impl Limiters {
    pub(crate) fn new(config: HashMap<PlatformId, PlatformLimits>) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Records that `platform` asked us to pause until `until`; the latest deadline wins.
    pub(crate) fn block_until(&self, platform: &PlatformId, until: Instant) {
        let mut map = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(platform.clone()).or_insert(until);
        if until > *entry {
            *entry = until;
        }
    }

    /// How long `platform` is still paused for.
    pub(crate) fn blocked_for(&self, platform: &PlatformId) -> Duration {
        let map = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        map.get(platform)
            .map(|until| until.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::ZERO)
    }

    /// Waits until the platform pause is over and both limiters admit one request.
    pub(crate) async fn acquire(
        &self,
        platform: Option<&PlatformId>,
        app: Option<&str>,
        connection: Option<ConnectionId>,
    ) {
        let Some(platform) = platform else { return };
        let pause = self.blocked_for(platform);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let Some(limits) = self.config.get(platform).copied() else {
            return;
        };
        if let Some(limit) = limits.per_app {
            let key = (platform.clone(), app.unwrap_or_default().to_owned());
            let limiter = {
                let mut map = self.apps.lock().unwrap_or_else(|p| p.into_inner());
                map.entry(key)
                    .or_insert_with(|| Arc::new(limit.limiter()))
                    .clone()
            };
            limiter.until_ready().await;
        }
        if let (Some(limit), Some(conn)) = (limits.per_connection, connection) {
            let limiter = {
                let mut map = self.connections.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= MAX_CONNECTION_LIMITERS {
                    // Only limiters nobody is waiting on can go; a later call recreates them
                    // with a full burst, which is the state an idle connection would be in.
                    map.retain(|_, l| Arc::strong_count(l) > 1);
                }
                map.entry((platform.clone(), conn))
                    .or_insert_with(|| Arc::new(limit.limiter()))
                    .clone()
            };
            limiter.until_ready().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_then_wait() {
        let mut config = HashMap::new();
        config.insert(
            PlatformId::FACEBOOK,
            PlatformLimits {
                per_app: Some(RateLimit::new(20, 2)),
                per_connection: None,
            },
        );
        let l = Limiters::new(config);
        let start = std::time::Instant::now();
        for _ in 0..4 {
            l.acquire(Some(&PlatformId::FACEBOOK), Some("app"), None)
                .await;
        }
        // Two in the burst, then two more at 20/s: at least ~50 ms each.
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn block_until_keeps_latest() {
        let l = Limiters::default();
        let now = Instant::now();
        l.block_until(&PlatformId::TIKTOK, now + Duration::from_secs(5));
        l.block_until(&PlatformId::TIKTOK, now + Duration::from_secs(1));
        assert!(l.blocked_for(&PlatformId::TIKTOK) > Duration::from_secs(3));
        assert_eq!(l.blocked_for(&PlatformId::LINKEDIN), Duration::ZERO);
    }
}
