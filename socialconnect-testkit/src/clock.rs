//! A clock that only moves when the test moves it.

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, TimeZone, Utc};
use socialconnect_core::clock::Clock;

/// A [`Clock`] whose time stands still until the test calls [`advance`](Self::advance) or
/// [`set`](Self::set).
///
/// Share it as `Arc<ManualClock>`: the hub (or a simulator) keeps one handle as `Arc<dyn Clock>`,
/// the test keeps the other and moves time. Every method takes `&self` and is safe to call from
/// many threads at once.
///
/// Only "now" is manual: tokio timers (retry back-off, rate limiting) still run on real time.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use socialconnect_core::clock::Clock;
/// use socialconnect_testkit::ManualClock;
///
/// let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let clock = ManualClock::new(start);
/// clock.advance(Duration::hours(2));
/// assert_eq!(clock.now(), start + Duration::hours(2));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock that reads `start` until it is moved.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock by `by` (backwards when `by` is negative).
    ///
    /// # Panics
    ///
    /// When the result falls outside the range `chrono` can represent.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.lock();
        *now = now
            .checked_add_signed(by)
            .unwrap_or_else(|| panic!("ManualClock::advance({by}) overflows from {}", *now));
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.lock() = t;
    }

    // A panic in another test thread must not make every later reading panic too: the stored
    // instant is always a valid value, so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, DateTime<Utc>> {
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    /// A clock standing at 2026-01-01T00:00:00Z, so tests that do not care about the date are
    /// still deterministic.
    fn default() -> Self {
        Self::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .expect("a valid, unambiguous UTC instant"),
        )
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;

    use super::*;

    #[test]
    fn stands_still_until_moved() {
        let clock = ManualClock::default();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), t0 + Duration::seconds(90));
        clock.advance(Duration::seconds(-30));
        assert_eq!(clock.now(), t0 + Duration::seconds(60));
        clock.set(t0);
        assert_eq!(clock.now(), t0);
    }

    #[test]
    fn concurrent_advances_all_count() {
        let clock = Arc::new(ManualClock::default());
        let t0 = clock.now();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let clock = Arc::clone(&clock);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        clock.advance(Duration::milliseconds(1));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("advancing thread");
        }
        assert_eq!(clock.now(), t0 + Duration::seconds(8));
    }

    #[test]
    fn usable_as_dyn_clock() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
        assert_eq!(clock.now(), ManualClock::default().now());
    }
}
