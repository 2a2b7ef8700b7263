//! What an attempt's result does to an action: the state transitions, as pure functions of
//! the action, the result and the time (the runner stores and announces them).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ActionEvent;
use super::options::RunnerOptions;
use crate::automation::{ActionState, CancelReason, StoredAction};
use crate::error::{Error, ErrorKind, ReconnectReason};

/// How an error met while running (or gating, or reconciling) an action is handled.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    /// The attempt may have reached the platform: reconcile later.
    Reconcile,
    /// A failure that may pass: try again after a back-off.
    Retry,
    /// The connection needs the end user: pause the connection's actions.
    Pause,
    /// The action must not run any more.
    Cancel(CancelReason),
    /// Failed for good.
    Fail,
}

/// The verdict for `error`.
pub(super) fn verdict(error: &Error) -> Verdict {
    match error {
        Error::ConsentRequired { purpose, .. } => {
            Verdict::Cancel(CancelReason::ConsentWithdrawn { purpose: *purpose })
        }
        Error::ReconnectRequired {
            reason: ReconnectReason::NotConnected,
            ..
        } => Verdict::Cancel(CancelReason::ConnectionGone),
        _ => match error.kind() {
            ErrorKind::MaybeSent => Verdict::Reconcile,
            ErrorKind::Throttled { .. }
            | ErrorKind::Transient
            | ErrorKind::Storage
            | ErrorKind::Platform => Verdict::Retry,
            ErrorKind::ReconnectRequired => Verdict::Pause,
            ErrorKind::AgeRestricted => Verdict::Cancel(CancelReason::AgeRestricted),
            _ => Verdict::Fail,
        },
    }
}

/// The back-off before attempt `attempts + 1`: `first` doubled per attempt made, at most
/// `max`, with up to a fifth more at random, and at least what a throttling platform asked.
pub(super) fn backoff(attempts: u32, kind: ErrorKind, first: Duration, max: Duration) -> Duration {
    crate::hub::sweep::backoff_delay(attempts.max(1), kind, first, max)
}

fn delta(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now.checked_add_signed(delta(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The occurrence ended (ran, or failed for good): a recurring action moves to its next
/// occurrence, a one-off ends in `ended`. Returns the next due time.
fn end_occurrence(
    a: &mut StoredAction,
    now: DateTime<Utc>,
    ended: ActionState,
) -> Option<DateTime<Utc>> {
    a.attempts = 0;
    a.attempt_started = None;
    a.progress = None;
    let next = match a.schedule.next_after(a.occurrence_due, now) {
        Ok(next) => next,
        Err(e) => {
            tracing::warn!(action = %a.id, error = %e, "the schedule has no next occurrence it can compute; the action ends");
            None
        }
    };
    match next {
        Some(at) => {
            a.state = ActionState::Scheduled;
            a.occurrence_due = at;
            a.due_at = Some(at);
        }
        None => {
            a.state = ended;
            a.due_at = None;
        }
    }
    next
}

/// The occurrence happened with `result`.
pub(super) fn completed(
    a: &mut StoredAction,
    result: serde_json::Value,
    now: DateTime<Utc>,
) -> ActionEvent {
    a.runs = a.runs.saturating_add(1);
    a.last_result = Some(result.clone());
    a.last_error = None;
    let next = end_occurrence(a, now, ActionState::Done);
    a.updated_at = now;
    ActionEvent::Completed {
        id: a.id,
        key: a.key.clone(),
        result,
        next,
    }
}

/// Reconciliation could not tell.
pub(super) fn needs_person(
    a: &mut StoredAction,
    reason: String,
    now: DateTime<Utc>,
) -> ActionEvent {
    a.state = ActionState::NeedsPerson {
        reason: reason.clone(),
    };
    a.due_at = None;
    a.updated_at = now;
    ActionEvent::NeedsPerson {
        id: a.id,
        key: a.key.clone(),
        reason,
    }
}

/// An error met while gating, reconciling (`reconciling`) or running the action. Returns the
/// event and the verdict (the runner pauses the connection's other actions on `Pause`).
pub(super) fn failed(
    a: &mut StoredAction,
    error: &Error,
    reconciling: bool,
    options: &RunnerOptions,
    now: DateTime<Utc>,
) -> (ActionEvent, Verdict) {
    let kind = error.kind();
    a.last_error = Some(kind.as_str().to_owned());
    a.updated_at = now;
    let mut verdict = verdict(error);
    if verdict == Verdict::Retry && a.attempts >= options.max_attempts {
        verdict = Verdict::Fail;
    }
    // A failed reconciliation (the platform could not be asked) leaves the attempt's outcome
    // unknown: it stays to be reconciled, never failed into a resend, until the tries run
    // out and a person must decide.
    if reconciling && matches!(verdict, Verdict::Retry | Verdict::Fail | Verdict::Reconcile) {
        if verdict == Verdict::Fail {
            let reason = format!(
                "the platform could not be asked whether the last attempt happened ({})",
                kind.as_str()
            );
            return (needs_person(a, reason, now), Verdict::Fail);
        }
        let at = later(
            now,
            backoff(a.attempts, kind, options.first_backoff, options.max_backoff),
        );
        a.state = ActionState::MaybeSent;
        a.due_at = Some(at);
        return (
            ActionEvent::Reconciling {
                id: a.id,
                key: a.key.clone(),
                reconcile_at: at,
            },
            Verdict::Reconcile,
        );
    }
    let event = match &verdict {
        Verdict::Reconcile => {
            let at = later(now, options.reconcile_delay);
            a.state = ActionState::MaybeSent;
            a.due_at = Some(at);
            ActionEvent::Reconciling {
                id: a.id,
                key: a.key.clone(),
                reconcile_at: at,
            }
        }
        Verdict::Retry => {
            // The client reports every answer after which a write may have happened as
            // MaybeSent: any other failure means nothing was done, so the next attempt is a
            // fresh one (its progress, a finished upload say, is kept).
            a.attempt_started = None;
            let at = later(
                now,
                backoff(a.attempts, kind, options.first_backoff, options.max_backoff),
            );
            a.state = ActionState::Scheduled;
            a.due_at = Some(at);
            ActionEvent::Retrying {
                id: a.id,
                key: a.key.clone(),
                kind,
                retry_at: at,
            }
        }
        Verdict::Pause => {
            a.attempt_started = None;
            a.state = ActionState::Paused;
            a.due_at = None;
            ActionEvent::Paused {
                id: a.id,
                key: a.key.clone(),
            }
        }
        Verdict::Cancel(reason) => {
            a.state = ActionState::Cancelled {
                reason: reason.clone(),
            };
            a.due_at = None;
            ActionEvent::Cancelled {
                id: a.id,
                key: a.key.clone(),
                reason: reason.clone(),
            }
        }
        Verdict::Fail => {
            let next = end_occurrence(
                a,
                now,
                ActionState::Failed {
                    kind: kind.as_str().to_owned(),
                },
            );
            ActionEvent::Failed {
                id: a.id,
                key: a.key.clone(),
                kind,
                next,
            }
        }
    };
    (event, verdict)
}
