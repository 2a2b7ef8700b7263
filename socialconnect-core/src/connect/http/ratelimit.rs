//! Client-side rate limiting: a limiter per (platform, app) and per connection, documented
//! per-operation windows (TikTok's 6 post inits a minute), plus platform-announced pauses
//! ("blocked until") fed from `Retry-After` and usage headers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::error::Result;
use crate::id::{ConnectionId, PlatformId};

use super::daily::{DailyBudget, DailyCounters, DailyUsage};
use super::operation::covers;

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

/// A documented window: at most `calls` calls per `per`, spaced evenly once the window's
/// allowance is spent (so the platform never sees the call that would be refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Calls allowed in one window.
    pub calls: NonZeroU32,
    /// The window's length.
    pub per: Duration,
}

impl Window {
    /// `calls` per `per` (zero calls is raised to one; a zero window to one millisecond).
    pub fn new(calls: u32, per: Duration) -> Self {
        Self {
            calls: NonZeroU32::new(calls).unwrap_or(NonZeroU32::MIN),
            per: per.max(Duration::from_millis(1)),
        }
    }

    /// `calls` per minute, as platforms document them (TikTok: 6/min on post init).
    pub fn per_minute(calls: u32) -> Self {
        Self::new(calls, Duration::from_secs(60))
    }

    fn limiter(&self) -> DefaultDirectRateLimiter {
        let period = (self.per / self.calls.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(self.calls);
        RateLimiter::direct(quota)
    }
}

/// The limits for one platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformLimits {
    /// Across all calls made for one app (client id) on the platform.
    pub per_app: Option<RateLimit>,
    /// Across all calls made for one connection.
    pub per_connection: Option<RateLimit>,
    /// Documented windows keyed by the request's operation name
    /// ([`ApiRequest::operation`](super::ApiRequest::operation)): the empty name covers every operation, a name ending in `.` covers
    /// every operation it prefixes (`video.` → `video.list`, `video.query`), any other name
    /// only itself. Every matching window applies. Counted per connection when the request
    /// has one (platforms count these per user token), per app otherwise.
    pub per_operation: Vec<(Cow<'static, str>, Window)>,
    /// Documented windows keyed like [`per_operation`](Self::per_operation) but always counted
    /// across the whole app (TikTok's 600/min on Display API reads), whichever connection
    /// makes the call.
    pub per_app_operation: Vec<(Cow<'static, str>, Window)>,
    /// Budgets of calls per UTC day, per app and per connection, that the platform counts
    /// without saying (LinkedIn's day limits): a call over one is refused before it is sent.
    pub per_day: Vec<DailyBudget>,
}

impl PlatformLimits {
    /// Adds a documented window for `operation` (see [`PlatformLimits::per_operation`]).
    pub fn with_operation(
        mut self,
        operation: impl Into<Cow<'static, str>>,
        window: Window,
    ) -> Self {
        self.per_operation.push((operation.into(), window));
        self
    }

    /// Adds a documented window for `operation` counted per app (see
    /// [`PlatformLimits::per_app_operation`]).
    pub fn with_app_operation(
        mut self,
        operation: impl Into<Cow<'static, str>>,
        window: Window,
    ) -> Self {
        self.per_app_operation.push((operation.into(), window));
        self
    }

    /// Adds a daily budget (see [`PlatformLimits::per_day`]).
    pub fn with_daily(mut self, budget: DailyBudget) -> Self {
        self.per_day.push(budget);
        self
    }
}

/// Whose allowance an operation window counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    App(String),
    Connection(ConnectionId),
}

#[derive(Debug, Default)]
pub(crate) struct Limiters {
    config: HashMap<PlatformId, PlatformLimits>,
    apps: Mutex<HashMap<(PlatformId, String), Arc<DefaultDirectRateLimiter>>>,
    connections: Mutex<HashMap<(PlatformId, ConnectionId), Arc<DefaultDirectRateLimiter>>>,
    operations: Mutex<HashMap<(PlatformId, Holder, usize), Arc<DefaultDirectRateLimiter>>>,
    blocked_until: Mutex<HashMap<PlatformId, Instant>>,
    daily: DailyCounters,
}

impl Limiters {
    pub(crate) fn new(config: HashMap<PlatformId, PlatformLimits>) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The limits configured for `platform`.
    pub(crate) fn limits(&self, platform: &PlatformId) -> Option<&PlatformLimits> {
        self.config.get(platform)
    }

    /// Records that `platform` asked us to pause until `until`; the latest deadline wins.
    pub(crate) fn block_until(&self, platform: &PlatformId, until: Instant) {
        let mut map = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(platform.clone()).or_insert(until);
        if until > *entry {
            *entry = until;
        }
    }

    /// Counts one call against `platform`'s daily budgets, or refuses it when one is spent.
    pub(crate) fn charge_daily(
        &self,
        platform: Option<&PlatformId>,
        app: Option<&str>,
        connection: Option<ConnectionId>,
        operation: &str,
    ) -> Result<()> {
        let Some((platform, limits)) = platform.and_then(|p| Some((p, self.config.get(p)?))) else {
            return Ok(());
        };
        self.daily.charge(
            platform,
            &limits.per_day,
            app,
            connection,
            operation,
            chrono::Utc::now(),
        )
    }

    /// Today's counts against `platform`'s daily budgets.
    pub(crate) fn daily_usage(&self, platform: &PlatformId) -> Vec<DailyUsage> {
        self.config.get(platform).map_or_else(Vec::new, |limits| {
            self.daily
                .usage(platform, &limits.per_day, chrono::Utc::now())
        })
    }

    /// How long `platform` is still paused for.
    pub(crate) fn blocked_for(&self, platform: &PlatformId) -> Duration {
        let map = self.blocked_until.lock().unwrap_or_else(|p| p.into_inner());
        map.get(platform)
            .map(|until| until.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::ZERO)
    }

    /// Waits until the platform pause is over and every limiter that applies (app, connection,
    /// the operation's windows) admits one request.
    pub(crate) async fn acquire(
        &self,
        platform: Option<&PlatformId>,
        app: Option<&str>,
        connection: Option<ConnectionId>,
        operation: &str,
    ) {
        let Some(platform) = platform else { return };
        let pause = self.blocked_for(platform);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let Some(limits) = self.config.get(platform) else {
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
        let app_holder = || Holder::App(app.unwrap_or_default().to_owned());
        let per_user = limits.per_operation.iter().map(|w| (w, false));
        let per_app = limits.per_app_operation.iter().map(|w| (w, true));
        for (index, ((pattern, window), counted_per_app)) in per_user.chain(per_app).enumerate() {
            if !covers(pattern, operation) {
                continue;
            }
            let holder = match connection {
                Some(c) if !counted_per_app => Holder::Connection(c),
                _ => app_holder(),
            };
            let limiter = {
                let mut map = self.operations.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= MAX_CONNECTION_LIMITERS {
                    // As for connections: idle windows go and come back with a full allowance.
                    map.retain(|_, l| Arc::strong_count(l) > 1);
                }
                map.entry((platform.clone(), holder, index))
                    .or_insert_with(|| Arc::new(window.limiter()))
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
                per_operation: Vec::new(),
                per_app_operation: Vec::new(),
                per_day: Vec::new(),
            },
        );
        let l = Limiters::new(config);
        let start = std::time::Instant::now();
        for _ in 0..4 {
            l.acquire(Some(&PlatformId::FACEBOOK), Some("app"), None, "x")
                .await;
        }
        // Two in the burst, then two more at 20/s: at least ~50 ms each.
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn operation_windows_space_only_the_operations_they_cover() {
        let mut config = HashMap::new();
        config.insert(
            PlatformId::TIKTOK,
            PlatformLimits::default()
                .with_operation("post.init", Window::new(2, Duration::from_millis(300)))
                .with_operation("video.", Window::new(3, Duration::from_millis(300))),
        );
        let l = Limiters::new(config);
        let conn = ConnectionId::generate();
        let tiktok = Some(&PlatformId::TIKTOK);

        // Two inits fit the window; the third waits for a slot (300 ms / 2 = 150 ms).
        let start = std::time::Instant::now();
        for _ in 0..2 {
            l.acquire(tiktok, Some("app"), Some(conn), "post.init")
                .await;
        }
        assert!(start.elapsed() < Duration::from_millis(100));
        l.acquire(tiktok, Some("app"), Some(conn), "post.init")
            .await;
        assert!(start.elapsed() >= Duration::from_millis(120));

        // Other operations, and another connection, are not held back by it.
        let start = std::time::Instant::now();
        for _ in 0..3 {
            l.acquire(tiktok, Some("app"), Some(conn), "creator.info")
                .await;
        }
        l.acquire(
            tiktok,
            Some("app"),
            Some(ConnectionId::generate()),
            "post.init",
        )
        .await;
        // A prefix window covers every operation under it, together.
        l.acquire(tiktok, Some("app"), Some(conn), "video.list")
            .await;
        l.acquire(tiktok, Some("app"), Some(conn), "video.query")
            .await;
        l.acquire(tiktok, Some("app"), Some(conn), "video.list")
            .await;
        assert!(start.elapsed() < Duration::from_millis(100));
        l.acquire(tiktok, Some("app"), Some(conn), "video.query")
            .await;
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn an_app_window_counts_every_connection_together() {
        let mut config = HashMap::new();
        config.insert(
            PlatformId::TIKTOK,
            PlatformLimits::default()
                .with_app_operation("video.list", Window::new(2, Duration::from_millis(400))),
        );
        let l = Limiters::new(config);
        let tiktok = Some(&PlatformId::TIKTOK);
        let start = std::time::Instant::now();
        // Three users, one app: the third call waits for a slot (400 ms / 2 = 200 ms).
        for _ in 0..3 {
            l.acquire(
                tiktok,
                Some("app"),
                Some(ConnectionId::generate()),
                "video.list",
            )
            .await;
        }
        assert!(start.elapsed() >= Duration::from_millis(150));
    }

    #[test]
    fn windows_refuse_zeros() {
        let w = Window::new(0, Duration::ZERO);
        assert_eq!((w.calls.get(), w.per), (1, Duration::from_millis(1)));
        assert_eq!(Window::per_minute(6).per, Duration::from_secs(60));
        assert!(covers("video.", "video.list") && !covers("video.", "videos"));
        assert!(covers("post.init", "post.init") && !covers("post.init", "post.init2"));
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
