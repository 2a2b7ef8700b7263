//! Polling a platform's processing status with a budget: Instagram media containers, TikTok
//! publish status, Pinterest and LinkedIn media status.
//!
//! A platform crate supplies one `check` function that asks for the status once and
//! classifies it as a [`PollStep`]: done (with the result), failed (with the platform's
//! status, which carries its reason), or pending (optionally with the delay the server
//! suggested). [`poll`] repeats it under a [`PollBudget`] — at most so many attempts and so much
//! total waiting, with an interval that backs off — and returns a [`PollOutcome`] that says
//! which of the three ended it: a budget that runs out is an outcome with the last status
//! seen, not an error, so a host can store the pending id and look again later.
//!
//! An error from `check` (a failed request) ends the polling and is returned as is: the HTTP
//! client has already retried what was safe to retry.
//!
//! ```
//! use std::time::Duration;
//! use socialconnect_core::connect::poll::{poll, PollBudget, PollOutcome, PollStep};
//!
//! # async fn demo() -> socialconnect_core::Result<()> {
//! let budget = PollBudget::new(Duration::from_secs(1))
//!     .max_attempts(10)
//!     .max_wait(Duration::from_secs(60));
//! let outcome = poll(&budget, |attempt| async move {
//!     Ok(if attempt < 3 {
//!         PollStep::Pending { status: "PROCESSING_UPLOAD", retry_after: None }
//!     } else {
//!         PollStep::Done("PUBLISH_COMPLETE")
//!     })
//! })
//! .await?;
//! assert!(matches!(outcome, PollOutcome::Done { value: "PUBLISH_COMPLETE", attempts: 3, .. }));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(demo()).unwrap();
//! ```

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Result;

/// What one status check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollStep<T, S> {
    /// Finished successfully, with the result (a media id, a post id).
    Done(T),
    /// Finished unsuccessfully; the status carries the platform's reason
    /// (TikTok `fail_reason`, Instagram `status` text).
    Failed(S),
    /// Still processing.
    Pending {
        /// The status as reported (kept for the outcome when the budget runs out).
        status: S,
        /// A delay the server asked for (`Retry-After`, a `retry_in` field), honoured when
        /// longer than the interval.
        retry_after: Option<Duration>,
    },
}

/// How polling ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollOutcome<T, S> {
    /// The check reported success.
    Done {
        /// The result.
        value: T,
        /// Checks made, this one included.
        attempts: u32,
    },
    /// The check reported failure.
    Failed {
        /// The platform's status, with its reason.
        status: S,
        /// Checks made, this one included.
        attempts: u32,
    },
    /// The budget ran out while the status was still pending.
    Exhausted {
        /// The last pending status seen.
        last: S,
        /// Checks made.
        attempts: u32,
        /// Time spent, waiting included.
        elapsed: Duration,
    },
}

/// Bounds on one polling loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollBudget {
    interval: Duration,
    multiplier: u32,
    max_interval: Duration,
    max_attempts: u32,
    max_wait: Duration,
}

impl PollBudget {
    /// Waits `interval` between checks at first; by default it doubles after each pending
    /// check up to 30 s, for at most 20 checks and 10 minutes in all.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            multiplier: 2,
            max_interval: Duration::from_secs(30).max(interval),
            max_attempts: 20,
            max_wait: Duration::from_secs(600),
        }
    }

    /// The interval is multiplied by `multiplier` after each pending check (1: a fixed
    /// interval).
    pub fn backoff(mut self, multiplier: u32, max_interval: Duration) -> Self {
        self.multiplier = multiplier.max(1);
        self.max_interval = max_interval;
        self
    }

    /// At most `attempts` checks (at least one).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// At most `wait` spent in all. A wait that would end past it is not started: polling
    /// ends at once with [`PollOutcome::Exhausted`].
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The wait before check `attempt + 1` (counting from 1) when the server suggested
    /// nothing.
    fn interval_after(&self, attempt: u32) -> Duration {
        let factor = self
            .multiplier
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.interval
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.max_interval)
    }
}

/// Calls `check` (with the attempt number, from 1) until it reports done or failed, or the
/// budget runs out. The first check runs at once.
///
/// # Errors
///
/// The first error `check` returns.
pub async fn poll<T, S, F, Fut>(budget: &PollBudget, mut check: F) -> Result<PollOutcome<T, S>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<PollStep<T, S>>>,
{
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let (status, retry_after) = match check(attempt).await? {
            PollStep::Done(value) => {
                return Ok(PollOutcome::Done {
                    value,
                    attempts: attempt,
                });
            }
            PollStep::Failed(status) => {
                return Ok(PollOutcome::Failed {
                    status,
                    attempts: attempt,
                });
            }
            PollStep::Pending {
                status,
                retry_after,
            } => (status, retry_after),
        };
        let wait = budget
            .interval_after(attempt)
            .max(retry_after.unwrap_or_default());
        let elapsed = started.elapsed();
        let over_time = elapsed
            .checked_add(wait)
            .is_none_or(|end| end > budget.max_wait);
        if attempt >= budget.max_attempts || over_time {
            tracing::debug!(attempts = attempt, "polling budget exhausted");
            return Ok(PollOutcome::Exhausted {
                last: status,
                attempts: attempt,
                elapsed,
            });
        }
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::{Error, ErrorKind};

    type Step = Result<PollStep<u32, &'static str>>;
    type Calls = Arc<Mutex<Vec<Duration>>>;
    type Check = Box<dyn FnMut(u32) -> std::future::Ready<Step>>;

    /// A check that answers from a script and records when each call happened.
    fn scripted(steps: Vec<Step>) -> (Calls, Check) {
        let start = Instant::now();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let log = calls.clone();
        let mut steps = steps.into_iter();
        let check = move |_attempt| {
            log.lock().unwrap().push(start.elapsed());
            std::future::ready(steps.next().expect("no check beyond the script"))
        };
        (calls, Box::new(check))
    }

    fn pending(status: &'static str) -> Step {
        Ok(PollStep::Pending {
            status,
            retry_after: None,
        })
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn backs_off_until_done() {
        let (calls, check) = scripted(vec![
            pending("PROCESSING_UPLOAD"),
            pending("PROCESSING_UPLOAD"),
            pending("PROCESSING_DOWNLOAD"),
            Ok(PollStep::Done(42)),
        ]);
        let out = poll(&PollBudget::new(secs(1)), check).await.unwrap();
        assert_eq!(
            out,
            PollOutcome::Done {
                value: 42,
                attempts: 4
            }
        );
        // 0, +1, +2, +4.
        assert_eq!(*calls.lock().unwrap(), [secs(0), secs(1), secs(3), secs(7)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_carries_its_status() {
        let (_, check) = scripted(vec![
            pending("PROCESSING_UPLOAD"),
            Ok(PollStep::Failed("FAILED: file_format_check_failed")),
        ]);
        let out = poll(&PollBudget::new(secs(1)), check).await.unwrap();
        assert_eq!(
            out,
            PollOutcome::Failed {
                status: "FAILED: file_format_check_failed",
                attempts: 2
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_run_out_with_the_last_status() {
        let (calls, check) = scripted((0..3).map(|_| pending("IN_PROGRESS")).collect());
        let budget = PollBudget::new(secs(2)).backoff(1, secs(2)).max_attempts(3);
        let out = poll(&budget, check).await.unwrap();
        assert_eq!(
            out,
            PollOutcome::Exhausted {
                last: "IN_PROGRESS",
                attempts: 3,
                elapsed: secs(4)
            }
        );
        assert_eq!(*calls.lock().unwrap(), [secs(0), secs(2), secs(4)]);
    }

    #[tokio::test(start_paused = true)]
    async fn total_wait_is_never_overrun() {
        // 1 + 2 + 4 = 7 s spent; the next wait (8 s) would end at 15 s > 10 s, so it stops at 7.
        let (calls, check) = scripted((0..4).map(|_| pending("P")).collect());
        let budget = PollBudget::new(secs(1))
            .max_attempts(100)
            .max_wait(secs(10));
        let out = poll(&budget, check).await.unwrap();
        assert_eq!(
            out,
            PollOutcome::Exhausted {
                last: "P",
                attempts: 4,
                elapsed: secs(7)
            }
        );
        assert_eq!(calls.lock().unwrap().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_suggested_delay_is_honoured_and_budgeted() {
        let (calls, check) = scripted(vec![
            Ok(PollStep::Pending {
                status: "P",
                retry_after: Some(secs(5)),
            }),
            // Shorter than the interval: the interval wins.
            Ok(PollStep::Pending {
                status: "P",
                retry_after: Some(Duration::from_millis(10)),
            }),
            // Beyond the remaining budget: not waited for.
            Ok(PollStep::Pending {
                status: "Q",
                retry_after: Some(secs(3600)),
            }),
        ]);
        let budget = PollBudget::new(secs(1))
            .backoff(1, secs(1))
            .max_wait(secs(60));
        let out = poll(&budget, check).await.unwrap();
        assert_eq!(
            out,
            PollOutcome::Exhausted {
                last: "Q",
                attempts: 3,
                elapsed: secs(6)
            }
        );
        assert_eq!(*calls.lock().unwrap(), [secs(0), secs(5), secs(6)]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_ends_polling() {
        let (_, check) = scripted(vec![pending("P"), Err(Error::transient("502"))]);
        let err = poll(&PollBudget::new(secs(1)), check).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient);
    }

    #[tokio::test(start_paused = true)]
    async fn the_interval_is_capped_and_never_overflows() {
        let budget = PollBudget::new(secs(1)).backoff(10, secs(30));
        assert_eq!(budget.interval_after(1), secs(1));
        assert_eq!(budget.interval_after(2), secs(10));
        assert_eq!(budget.interval_after(3), secs(30));
        assert_eq!(budget.interval_after(u32::MAX), secs(30));
        let huge = PollBudget::new(Duration::MAX).max_wait(Duration::MAX);
        assert_eq!(huge.interval_after(5), Duration::MAX);
        // A first check that is done needs no waiting at all, even with a zero budget.
        let (_, check) = scripted(vec![Ok(PollStep::Done(1))]);
        let out = poll(&PollBudget::new(secs(1)).max_wait(Duration::ZERO), check)
            .await
            .unwrap();
        assert!(matches!(
            out,
            PollOutcome::Done {
                value: 1,
                attempts: 1
            }
        ));
    }
}
