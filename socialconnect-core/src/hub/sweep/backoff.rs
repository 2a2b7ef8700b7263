//! Back-off after failed refreshes: per connection, doubling per failure in a row.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::ErrorKind;
use crate::id::ConnectionKey;

/// The most connections remembered as failing; past this the count starts over (a platform
/// outage failing everything makes each connection's back-off restart from the first step,
/// which only makes the sweep try a little sooner).
const MAX_TRACKED: usize = 100_000;

/// Failures in a row per connection, in this process (another instance that claims the
/// connection after its hold starts from the first step).
#[derive(Debug, Default)]
pub(super) struct Backoff {
    failures: Mutex<HashMap<ConnectionKey, u32>>,
}

impl Backoff {
    /// Records a failure of `key` and returns how long to hold it back: `first` doubled per
    /// earlier failure in a row, at most `max`, with up to a fifth more at random (so the
    /// connections failing together do not come back together), and at least what the
    /// platform asked for when it throttled.
    pub(super) fn failed(
        &self,
        key: &ConnectionKey,
        kind: ErrorKind,
        first: Duration,
        max: Duration,
    ) -> Duration {
        let n = {
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if failures.len() >= MAX_TRACKED && !failures.contains_key(key) {
                failures.clear();
            }
            let n = failures.entry(key.clone()).or_default();
            *n = n.saturating_add(1);
            *n
        };
        backoff_delay(n, kind, first, max)
    }

    /// Forgets `key`'s failures (it refreshed, or needs reconnecting).
    pub(super) fn succeeded(&self, key: &ConnectionKey) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// The delay after the `n`th failure in a row (n >= 1): `first` doubled per earlier failure,
/// at most `max`, with up to a fifth more at random (so what failed together does not come
/// back together), and at least what the platform asked for when it throttled.
pub(crate) fn backoff_delay(n: u32, kind: ErrorKind, first: Duration, max: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(n.saturating_sub(1).min(31))
        .unwrap_or(u32::MAX);
    let base = first.saturating_mul(factor).min(max);
    let spread_ms = u64::try_from(base.as_millis() / 5).unwrap_or(u64::MAX);
    let extra = if spread_ms == 0 {
        Duration::ZERO
    } else {
        Duration::from_millis(rand::random_range(0..=spread_ms))
    };
    let delay = base + extra;
    match kind {
        ErrorKind::Throttled {
            retry_after: Some(wait),
        } => delay.max(wait),
        _ => delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::{ConnectionId, PlatformId, SubjectId};

    #[test]
    fn doubles_up_to_the_cap_and_respects_retry_after() {
        let key = ConnectionKey::new(
            SubjectId::new("s").unwrap(),
            PlatformId::LINKEDIN,
            ConnectionId::generate(),
        );
        let b = Backoff::default();
        let (first, max) = (Duration::from_secs(60), Duration::from_secs(300));
        let within = |d: Duration, base: u64| {
            d >= Duration::from_secs(base) && d <= Duration::from_secs(base + base / 5)
        };
        assert!(within(b.failed(&key, ErrorKind::Transient, first, max), 60));
        assert!(within(
            b.failed(&key, ErrorKind::Transient, first, max),
            120
        ));
        assert!(within(
            b.failed(&key, ErrorKind::Transient, first, max),
            240
        ));
        assert!(within(
            b.failed(&key, ErrorKind::Transient, first, max),
            300
        ));
        for _ in 0..40 {
            assert!(within(
                b.failed(&key, ErrorKind::Transient, first, max),
                300
            ));
        }
        b.succeeded(&key);
        let throttled = ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(
            b.failed(&key, throttled, first, max),
            Duration::from_secs(3600)
        );
    }
}
