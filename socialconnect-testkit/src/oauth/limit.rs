//! A rate limit the way platforms count one: at most `calls` accepted calls in any stretch of
//! `per` (a sliding window, on the simulator's arrival times), refused with 429 beyond.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A limit of `calls` per `per`, counted on the requests' arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArrivalLimit {
    pub(crate) calls: usize,
    pub(crate) per: Duration,
}

/// The calls accepted within the last window, and the refusals so far.
#[derive(Debug, Default)]
pub(crate) struct ArrivalWindow {
    accepted: VecDeque<Instant>,
    accepted_total: usize,
    refused: usize,
}

impl ArrivalWindow {
    /// Accepts a call arriving at `now` unless `limit.calls` were accepted in the `limit.per`
    /// before it; a refusal says how long until the earliest of them leaves the window.
    pub(crate) fn admit(&mut self, limit: ArrivalLimit, now: Instant) -> Result<(), Duration> {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= limit.per)
        {
            self.accepted.pop_front();
        }
        if self.accepted.len() >= limit.calls {
            self.refused += 1;
            let earliest = self.accepted.front().copied().unwrap_or(now);
            return Err(limit
                .per
                .saturating_sub(now.saturating_duration_since(earliest)));
        }
        self.accepted.push_back(now);
        self.accepted_total += 1;
        Ok(())
    }

    /// Calls accepted so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted_total
    }

    /// Calls refused so far.
    pub(crate) fn refused(&self) -> usize {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_calls_per_sliding_window() {
        let limit = ArrivalLimit {
            calls: 2,
            per: Duration::from_secs(10),
        };
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w = ArrivalWindow::default();
        assert!(w.admit(limit, t0).is_ok());
        assert!(w.admit(limit, t0 + s(4)).is_ok());
        assert_eq!(w.admit(limit, t0 + s(6)), Err(s(4)));
        // The first call leaves the window 10 s after it came: a slot, not the whole window.
        assert!(w.admit(limit, t0 + s(10)).is_ok());
        assert_eq!(w.admit(limit, t0 + s(13)), Err(s(1)));
        assert!(w.admit(limit, t0 + s(14)).is_ok());
        assert_eq!((w.accepted(), w.refused()), (4, 2));
    }
}
