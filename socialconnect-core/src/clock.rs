//! Time, injectable so tests can move it.

use std::fmt::Debug;

use chrono::{DateTime, Utc};

/// The source of "now" for expiry checks, state TTLs and log timestamps.
///
/// The hub takes one in its builder; tests pass a manual clock (see `socialconnect-testkit`).
/// Waiting (retry back-off, rate limiting) always uses tokio's timer, not this clock.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
