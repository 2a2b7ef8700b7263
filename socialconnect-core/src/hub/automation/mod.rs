//! The hub's scheduled actions: scheduling, listing, rescheduling, cancelling and retrying
//! them ([`SocialConnect::schedule_action`] and its siblings), and the [`ActionRunner`] that
//! runs them when due.

mod options;
mod outcome;
mod runner;

use chrono::{DateTime, Utc};

pub use options::RunnerOptions;
pub use runner::{ActionRunner, ActionRunnerHandle, RunReport};

use super::SocialConnect;
use crate::automation::{
    ActionId, ActionState, ActionStore, ActionWrite, CancelReason, REFRESH_KIND, Schedule,
    StoredAction,
};
use crate::error::{Error, Result};
use crate::id::{ConnectionKey, Purpose, SubjectId};

/// How many of a subject's actions are read per page.
const PAGE: u32 = 500;

/// What to schedule: an action of a platform executor's `kind` with its `payload`, on a
/// connection, from `not_before` on, once or on a [`Schedule`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionRequest {
    /// The connection to act through.
    pub key: ConnectionKey,
    /// The executor's kind (`meta.page_post`), or [`REFRESH_KIND`].
    pub kind: String,
    /// The executor's input.
    pub payload: serde_json::Value,
    /// When it recurs (default: once).
    pub schedule: Schedule,
    /// The earliest instant it runs: the first occurrence is the schedule's first at or
    /// after it.
    pub not_before: DateTime<Utc>,
}

impl ActionRequest {
    /// A one-off action at `at`.
    pub fn new(
        key: ConnectionKey,
        kind: impl Into<String>,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            key,
            kind: kind.into(),
            payload,
            schedule: Schedule::once(),
            not_before: at,
        }
    }

    /// A one-off action of a platform crate's typed payload, at `at`.
    pub fn of<P: crate::automation::ActionPayload>(
        key: ConnectionKey,
        payload: &P,
        at: DateTime<Utc>,
    ) -> Result<Self> {
        let json = serde_json::to_value(payload)
            .map_err(|e| Error::invalid_input(format!("the action's payload: {e}")))?;
        Ok(Self::new(key, P::KIND, json, at))
    }

    /// Recurs on `schedule` (first occurrence at or after the request's instant).
    pub fn recurring(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }
}

/// What happened to a scheduled action, as the runner streams it ([`ActionRunner::subscribe`]).
/// Carries ids, keys, times and results, never payloads or tokens.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ActionEvent {
    /// An occurrence ran (or reconciliation found it had).
    Completed {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// The executor's result (the post id, the snapshot).
        result: serde_json::Value,
        /// When it runs next, for a recurring action.
        next: Option<DateTime<Utc>>,
    },
    /// An attempt failed for a reason that may pass; it runs again at `retry_at`.
    Retrying {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// The failure's kind.
        kind: crate::ErrorKind,
        /// When it is tried again.
        retry_at: DateTime<Utc>,
    },
    /// The attempt's outcome is unknown: at `reconcile_at` the platform is asked whether it
    /// happened before anything is sent again.
    Reconciling {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// When.
        reconcile_at: DateTime<Utc>,
    },
    /// Cancelled when it came to run.
    Cancelled {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// Why.
        reason: CancelReason,
    },
    /// The connection needs the end user to connect again: this action (and the
    /// connection's other pending ones) wait until they do. Tell the end user.
    Paused {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
    },
    /// Reconciliation could not tell whether the last attempt happened: a person must decide.
    NeedsPerson {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// What is unknown.
        reason: String,
    },
    /// The occurrence failed for good (retrying will not help, or the retries ran out).
    Failed {
        /// The action.
        id: ActionId,
        /// Its connection.
        key: ConnectionKey,
        /// The failure's kind.
        kind: crate::ErrorKind,
        /// When a recurring action runs next.
        next: Option<DateTime<Utc>>,
    },
}

impl SocialConnect {
    fn action_store(&self) -> Result<&std::sync::Arc<dyn ActionStore>> {
        self.inner
            .actions
            .as_ref()
            .ok_or_else(|| Error::config("no action store configured on the hub"))
    }

    /// The purpose `kind` serves on the key's platform, checked against the executors.
    fn action_purpose(&self, key: &ConnectionKey, kind: &str) -> Result<Purpose> {
        if kind == REFRESH_KIND {
            return Ok(Purpose::AccountConnection);
        }
        let executor = self.inner.executors.get(&key.platform).ok_or_else(|| {
            Error::config(format!(
                "no action executor registered for {}",
                key.platform
            ))
        })?;
        executor.purpose(kind).ok_or_else(|| {
            Error::invalid_input(format!("{} runs no action of kind `{kind}`", key.platform))
        })
    }

    /// Schedules an action. Checked now as well as when it runs: the connection must exist,
    /// the platform's executor must run the kind and accept the payload, and the ledger must
    /// permit the kind's purpose (else `ConsentRequired`: nothing is stored). Returns the
    /// stored action (its id, its first due time).
    pub async fn schedule_action(&self, request: ActionRequest) -> Result<StoredAction> {
        let store = self.action_store()?;
        let purpose = self.action_purpose(&request.key, &request.kind)?;
        if request.kind != REFRESH_KIND
            && let Some(executor) = self.inner.executors.get(&request.key.platform)
        {
            executor.check(&request.kind, &request.payload)?;
        }
        if self.inner.tokens.get(&request.key).await?.is_none() {
            return Err(Error::NotFound { what: "connection" });
        }
        self.inner
            .require_session_consent(&request.key, purpose)
            .await?;
        let now = self.inner.clock.now();
        let due = request.schedule.first_at_or_after(request.not_before)?;
        let action = StoredAction::new(
            request.key,
            purpose,
            request.kind,
            request.payload,
            request.schedule,
            due,
            now,
        );
        store.insert_action(&action).await?;
        tracing::info!(action = %action.id, platform = %action.key.platform, kind = %action.kind, due = %due, "action scheduled");
        Ok(action)
    }

    /// The action with this id, when it belongs to `subject`. Another subject's action is
    /// `NotFound` too, so ids cannot be probed across subjects.
    pub async fn action(&self, subject: &SubjectId, id: ActionId) -> Result<StoredAction> {
        match self.action_store()?.action(&id).await? {
            Some(a) if a.key.subject == *subject => Ok(a),
            _ => Err(Error::NotFound {
                what: "scheduled action",
            }),
        }
    }

    /// Every action of `subject`, pending and past, oldest first.
    pub async fn subject_actions(&self, subject: &SubjectId) -> Result<Vec<StoredAction>> {
        let store = self.action_store()?;
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = store.subject_actions(subject, after, PAGE).await?;
            let full = page.len() >= PAGE as usize;
            after = page.last().map(|a| a.id);
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// Applies `change` to the subject's action while no instance runs it. `Conflict` when an
    /// instance is running it (try again) or `change` refuses the action's state.
    async fn edit_action(
        &self,
        subject: &SubjectId,
        id: ActionId,
        change: impl FnOnce(&mut StoredAction, DateTime<Utc>) -> Result<()>,
    ) -> Result<StoredAction> {
        let mut action = self.action(subject, id).await?;
        let now = self.inner.clock.now();
        change(&mut action, now)?;
        action.updated_at = now;
        if self
            .action_store()?
            .save_action(&action, ActionWrite::Unclaimed)
            .await?
        {
            Ok(action)
        } else {
            Err(Error::Conflict {
                message: "the action is running now; read it again".into(),
            })
        }
    }

    /// Cancels a pending or paused action of `subject`. `Conflict` when it already ended or is
    /// running at this moment.
    pub async fn cancel_action(&self, subject: &SubjectId, id: ActionId) -> Result<StoredAction> {
        self.edit_action(subject, id, |a, _| {
            if a.state.is_final() {
                return Err(Error::Conflict {
                    message: format!("the action is {}", a.state.as_str()),
                });
            }
            a.state = ActionState::Cancelled {
                reason: CancelReason::ByHost,
            };
            a.due_at = None;
            Ok(())
        })
        .await
    }

    /// Moves a pending or paused action's current occurrence to `at` (the schedule steps on
    /// from there). `Conflict` when it already ended or is running at this moment.
    pub async fn reschedule_action(
        &self,
        subject: &SubjectId,
        id: ActionId,
        at: DateTime<Utc>,
    ) -> Result<StoredAction> {
        self.edit_action(subject, id, |a, _| {
            if a.state.is_final() {
                return Err(Error::Conflict {
                    message: format!("the action is {}", a.state.as_str()),
                });
            }
            a.occurrence_due = at;
            if a.state.is_pending() {
                a.due_at = Some(at);
            }
            Ok(())
        })
        .await
    }

    /// Runs a failed, paused or needs-a-person action again now. For one that needed a
    /// person, calling this says the person found the last attempt did not happen: it is sent
    /// again. `Conflict` for any other state.
    pub async fn retry_action(&self, subject: &SubjectId, id: ActionId) -> Result<StoredAction> {
        self.edit_action(subject, id, |a, now| {
            match a.state {
                ActionState::Failed { .. } | ActionState::NeedsPerson { .. } => {
                    a.attempt_started = None;
                    a.attempts = 0;
                }
                ActionState::Paused => {}
                _ => {
                    return Err(Error::Conflict {
                        message: format!("the action is {}", a.state.as_str()),
                    });
                }
            }
            a.state = ActionState::Scheduled;
            a.due_at = Some(now);
            Ok(())
        })
        .await
    }

    /// Sets the connection's pending actions to [`ActionState::Paused`] (its token is no
    /// longer accepted). Actions being run by an instance are left to it. Returns the ids
    /// paused.
    pub(crate) async fn pause_actions(&self, key: &ConnectionKey) -> Result<Vec<ActionId>> {
        self.move_actions(key, ActionState::is_pending, |a, _| {
            a.state = ActionState::Paused;
            a.due_at = None;
        })
        .await
    }

    /// Resumes the connection's paused actions (the end user connected again): each is due
    /// at its occurrence's time, or now when that has passed. Returns the ids resumed.
    pub(crate) async fn resume_actions(&self, key: &ConnectionKey) -> Result<Vec<ActionId>> {
        if self.inner.actions.is_none() {
            return Ok(Vec::new());
        }
        self.move_actions(
            key,
            |s| *s == ActionState::Paused,
            |a, now| {
                a.state = ActionState::Scheduled;
                a.due_at = Some(a.occurrence_due.max(now));
            },
        )
        .await
    }

    async fn move_actions(
        &self,
        key: &ConnectionKey,
        select: impl Fn(&ActionState) -> bool,
        change: impl Fn(&mut StoredAction, DateTime<Utc>),
    ) -> Result<Vec<ActionId>> {
        let store = self.action_store()?;
        let now = self.inner.clock.now();
        let mut moved = Vec::new();
        for mut a in self.subject_actions(&key.subject).await? {
            if a.key != *key || !select(&a.state) {
                continue;
            }
            change(&mut a, now);
            a.updated_at = now;
            if store.save_action(&a, ActionWrite::Unclaimed).await? {
                moved.push(a.id);
            }
        }
        Ok(moved)
    }
}
