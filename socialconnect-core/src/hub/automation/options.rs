//! [`RunnerOptions`]: how an [`ActionRunner`](super::ActionRunner) works (shared by the
//! runner and the outcomes it records).

use std::time::Duration;

use uuid::Uuid;

/// How an [`ActionRunner`](super::ActionRunner) works. The defaults suit a host; tests
/// shorten the times.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunnerOptions {
    /// Actions claimed per pass (default 32).
    pub batch: u32,
    /// Actions run at once within a pass (default 8).
    pub concurrency: usize,
    /// How long a claim lasts without a checkpoint: an instance that dies loses its actions
    /// to another after this (default 5 minutes). Longer than any one attempt should take.
    pub claim_ttl: Duration,
    /// The pause between passes that found less than a full batch (default 1 s).
    pub idle_interval: Duration,
    /// Attempts at one occurrence before it fails for good (default 8).
    pub max_attempts: u32,
    /// The first back-off after a failure that may pass; doubled per attempt (default 30 s).
    pub first_backoff: Duration,
    /// The longest back-off (default 1 hour).
    pub max_backoff: Duration,
    /// How long after an attempt whose outcome was unknown it is reconciled (default 30 s:
    /// time for the platform to show what it did).
    pub reconcile_delay: Duration,
    /// This instance's claimant id (default: random per runner).
    pub owner: Uuid,
    /// Events buffered per subscriber before the slowest misses some (default 1024).
    pub event_capacity: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch: 32,
            concurrency: 8,
            claim_ttl: Duration::from_secs(300),
            idle_interval: Duration::from_secs(1),
            max_attempts: 8,
            first_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            reconcile_delay: Duration::from_secs(30),
            owner: Uuid::new_v4(),
            event_capacity: 1024,
        }
    }
}

impl RunnerOptions {
    /// Sets the batch size and the actions run at once.
    pub fn with_batch(mut self, batch: u32, concurrency: usize) -> Self {
        self.batch = batch.max(1);
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets the claim's lifetime.
    pub fn with_claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl = ttl;
        self
    }

    /// Sets the pause between passes that found less than a full batch.
    pub fn with_idle_interval(mut self, interval: Duration) -> Self {
        self.idle_interval = interval;
        self
    }

    /// Sets the attempts per occurrence and the back-off.
    pub fn with_retries(mut self, max_attempts: u32, first: Duration, max: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// Sets the delay before an unknown outcome is reconciled.
    pub fn with_reconcile_delay(mut self, delay: Duration) -> Self {
        self.reconcile_delay = delay;
        self
    }

    /// Sets the claimant id.
    pub fn with_owner(mut self, owner: Uuid) -> Self {
        self.owner = owner;
        self
    }
}
