//! [`SweepOptions`]: how a refresh sweep paces itself.

use std::time::Duration;

use uuid::Uuid;

/// How a [`RefreshSweep`](super::RefreshSweep) works; every field has a default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SweepOptions {
    /// Refresh access tokens that expire within this window (default 15 minutes). Keep it
    /// above the hub's [`RefreshPolicy::margin`](crate::RefreshPolicy) so the sweep refreshes
    /// before a session would have to.
    pub window: Duration,
    /// Connections claimed per batch (default 100).
    pub batch: u32,
    /// Refreshes in flight at once within a batch (default 8). The hub's HTTP client still
    /// paces each platform under its rate limits; this only bounds the sweep's share.
    pub concurrency: usize,
    /// The pause after a pass that found less than a full batch (default 30 s).
    pub idle_interval: Duration,
    /// How long a claim lasts (default 5 minutes): a sweeper that dies leaves its claims to
    /// others after this. Keep it well above `jitter` plus a refresh's time.
    pub claim_ttl: Duration,
    /// A random delay of up to this before each refresh (default 2 s), so the connections of
    /// one batch do not all hit a platform at the same instant.
    pub jitter: Duration,
    /// The first back-off after a failed refresh (default 1 minute); it doubles per failure of
    /// the same connection in a row, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest back-off (default 6 hours).
    pub max_backoff: Duration,
    /// Raise [`SweepEvent::ReconnectSoon`](super::SweepEvent) this long before a grant ends
    /// (default 14 days).
    pub reconnect_lead: Duration,
    /// Re-exchange a grant that has no refresh token (Meta's long-lived user tokens) only when
    /// the connection was used within this window (default 30 days; `None`: always). "Used"
    /// means a usage-log entry for the connection other than the SDK's own token upkeep
    /// (operations named `oauth.…`).
    pub active_within: Option<Duration>,
    /// This sweeper's claim owner (default a random UUID; one per instance).
    pub owner: Uuid,
    /// Events buffered for slow subscribers (default 1024); a subscriber further behind
    /// misses the oldest (see [`tokio::sync::broadcast`]).
    pub event_capacity: usize,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            batch: 100,
            concurrency: 8,
            idle_interval: Duration::from_secs(30),
            claim_ttl: Duration::from_secs(5 * 60),
            jitter: Duration::from_secs(2),
            backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(6 * 3600),
            reconnect_lead: Duration::from_secs(14 * 86_400),
            active_within: Some(Duration::from_secs(30 * 86_400)),
            owner: Uuid::new_v4(),
            event_capacity: 1024,
        }
    }
}

impl SweepOptions {
    /// Sets the refresh window.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets the batch size (at least 1) and the refreshes in flight (at least 1).
    pub fn with_batch(mut self, batch: u32, concurrency: usize) -> Self {
        self.batch = batch.max(1);
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets the pause between passes when there is little to do.
    pub fn with_idle_interval(mut self, interval: Duration) -> Self {
        self.idle_interval = interval;
        self
    }

    /// Sets the claim length.
    pub fn with_claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl = ttl;
        self
    }

    /// Sets the random delay before each refresh (zero: none).
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the first and the longest back-off.
    pub fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Sets how long before a grant's end the sweep warns.
    pub fn with_reconnect_lead(mut self, lead: Duration) -> Self {
        self.reconnect_lead = lead;
        self
    }

    /// Sets the activity window for re-exchanged grants (`None`: re-exchange whatever).
    pub fn with_active_within(mut self, within: Option<Duration>) -> Self {
        self.active_within = within;
        self
    }

    /// Sets the claim owner.
    pub fn with_owner(mut self, owner: Uuid) -> Self {
        self.owner = owner;
        self
    }
}
