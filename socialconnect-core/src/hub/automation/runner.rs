//! [`ActionRunner`]: claims due actions, gates them, runs them through their platform's
//! executor, and stores and announces what happened.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{broadcast, watch};

use super::ActionEvent;
use super::options::RunnerOptions;
use super::outcome::{self, Verdict};
use crate::SocialConnect;
use crate::automation::REFRESH_KIND;
use crate::automation::{
    ActionRun, ActionState, ActionStore, ActionWrite, Reconciliation, StoredAction,
};
use crate::error::{Error, Result};

/// What one pass did: counts of the actions it claimed, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// Actions claimed.
    pub claimed: usize,
    /// Occurrences that ran (or were found to have run).
    pub completed: usize,
    /// To be tried again later (including those to be reconciled).
    pub retrying: usize,
    /// Cancelled at run time (consent withdrawn, connection gone, age gate).
    pub cancelled: usize,
    /// Paused: the connection needs reconnecting.
    pub paused: usize,
    /// Failed for good, or handed to a person.
    pub failed: usize,
    /// Lost mid-run: the claim lapsed and another instance took the action, or it was
    /// erased meanwhile. Nothing was stored for it by this pass.
    pub lost: usize,
}

impl RunReport {
    fn add(&mut self, event: Option<&ActionEvent>) {
        match event {
            Some(ActionEvent::Completed { .. }) => self.completed += 1,
            Some(ActionEvent::Retrying { .. } | ActionEvent::Reconciling { .. }) => {
                self.retrying += 1;
            }
            Some(ActionEvent::Cancelled { .. }) => self.cancelled += 1,
            Some(ActionEvent::Paused { .. }) => self.paused += 1,
            Some(ActionEvent::Failed { .. } | ActionEvent::NeedsPerson { .. }) => self.failed += 1,
            None => self.lost += 1,
        }
    }
}

/// Runs a hub's due actions (cheap to clone). One per instance: instances sharing a store
/// share the due actions, each run by one of them. Drive it with [`ActionRunner::run_once`]
/// or [`ActionRunner::start`].
#[derive(Debug, Clone)]
pub struct ActionRunner {
    inner: Arc<RunnerInner>,
}

#[derive(Debug)]
struct RunnerInner {
    hub: SocialConnect,
    options: RunnerOptions,
    events: broadcast::Sender<ActionEvent>,
}

impl SocialConnect {
    /// A runner of this hub's scheduled actions (see [`ActionRunner`]). Fails with a config
    /// error when the hub has no [action store](crate::SocialConnectBuilder::actions).
    pub fn action_runner(&self, options: RunnerOptions) -> Result<ActionRunner> {
        self.action_store()?;
        let (events, _) = broadcast::channel(options.event_capacity.max(1));
        Ok(ActionRunner {
            inner: Arc::new(RunnerInner {
                hub: self.clone(),
                options,
                events,
            }),
        })
    }
}

impl ActionRunner {
    /// A receiver of the events raised from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ActionEvent> {
        self.inner.events.subscribe()
    }

    fn store(&self) -> Result<&Arc<dyn ActionStore>> {
        self.inner.hub.action_store()
    }

    /// One pass: claims the due actions (a batch), runs each, stores each outcome. Errors
    /// only when the claim itself fails.
    pub async fn run_once(&self) -> Result<RunReport> {
        let o = &self.inner.options;
        let now = self.inner.hub.inner.clock.now();
        let claimed = self
            .store()?
            .claim_due_actions(now, o.batch.max(1), o.owner, o.claim_ttl)
            .await?;
        let mut report = RunReport {
            claimed: claimed.len(),
            ..RunReport::default()
        };
        let events: Vec<Option<ActionEvent>> = futures_util::stream::iter(claimed)
            .map(|action| async move { self.handle(action).await })
            .buffer_unordered(o.concurrency.max(1))
            .collect()
            .await;
        for event in events {
            report.add(event.as_ref());
            if let Some(event) = event {
                let _ = self.inner.events.send(event);
            }
        }
        Ok(report)
    }

    /// Runs passes until [`ActionRunnerHandle::shutdown`]: back to back while batches come
    /// back full, then every [`RunnerOptions::idle_interval`]. A failed claim (the store is
    /// down) is logged and retried after the idle interval.
    pub fn start(&self) -> ActionRunnerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let runner = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let full = match runner.run_once().await {
                    Ok(report) => report.claimed >= runner.inner.options.batch as usize,
                    Err(e) => {
                        tracing::warn!(error = %e, "action runner: claiming due actions failed");
                        false
                    }
                };
                if *stopped.borrow() {
                    break;
                }
                if full {
                    continue;
                }
                let pause = runner.inner.options.idle_interval;
                if tokio::time::timeout(pause, stopped.changed()).await.is_ok() {
                    break;
                }
            }
        });
        ActionRunnerHandle { stop, task }
    }

    /// Runs one claimed action and stores the outcome. `None` when the action was lost
    /// (claim lapsed, erased) and nothing could be stored.
    async fn handle(&self, mut action: StoredAction) -> Option<ActionEvent> {
        let hub = &self.inner.hub;
        let o = &self.inner.options;
        let (event, verdict) = match self.attempt(&mut action).await {
            Ok(event) => (event, None),
            Err((error, reconciling)) => {
                let now = hub.inner.clock.now();
                let (event, verdict) = outcome::failed(&mut action, &error, reconciling, o, now);
                tracing::info!(action = %action.id, platform = %action.key.platform, error.kind = %error.kind().as_str(), state = action.state.as_str(), "action attempt failed");
                (event, Some(verdict))
            }
        };
        let store = self.store().ok()?;
        match store
            .save_action(&action, ActionWrite::Release { owner: o.owner })
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(action = %action.id, "action claim lost before its outcome was stored");
                return None;
            }
            Err(e) => {
                // The claim lapses and another pass sees the attempt started and unanswered:
                // it reconciles instead of sending again.
                tracing::error!(action = %action.id, error = %e, "storing an action's outcome failed");
                return None;
            }
        }
        if verdict == Some(Verdict::Pause) {
            match hub.pause_actions(&action.key).await {
                Ok(ids) => {
                    for id in ids {
                        let _ = self.inner.events.send(ActionEvent::Paused {
                            id,
                            key: action.key.clone(),
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "pausing a connection's actions failed"),
            }
        }
        Some(event)
    }

    /// Gates, reconciles when needed, and runs. `Err((error, reconciling))` for a failure.
    async fn attempt(&self, action: &mut StoredAction) -> Result<ActionEvent, (Error, bool)> {
        let hub = &self.inner.hub;
        let o = &self.inner.options;
        let store = self.store().map_err(|e| (e, false))?.clone();
        let reconciling =
            action.state == ActionState::MaybeSent || action.attempt_started.is_some();
        action.attempts = action.attempts.saturating_add(1);

        if action.kind == REFRESH_KIND {
            let refreshed = hub.refresh_now(&action.key).await.map_err(|e| (e, false))?;
            let now = hub.inner.clock.now();
            let result = serde_json::json!({
                "access_expires": match refreshed.access_expires {
                    crate::token::Expiry::At(at) => Some(at.to_rfc3339()),
                    _ => None,
                },
            });
            return Ok(outcome::completed(action, result, now));
        }

        // The gates a live call passes: consent for the purpose (and for holding the
        // connection), the notice re-consent and age gate behind it, the connection's state.
        let session = hub
            .session(&action.key, action.purpose)
            .await
            .map_err(|e| (e, reconciling))?;
        let executor = hub
            .inner
            .executors
            .get(&action.key.platform)
            .filter(|x| x.purpose(&action.kind).is_some())
            .cloned()
            .ok_or_else(|| {
                (
                    Error::config(format!(
                        "no executor for {} actions of kind `{}` on this instance",
                        action.key.platform, action.kind
                    )),
                    reconciling,
                )
            })?;
        let now = hub.inner.clock.now();
        let mut run = ActionRun {
            session: &session,
            action,
            store: &store,
            owner: o.owner,
            ttl: o.claim_ttl,
            now,
        };
        if reconciling {
            match executor.reconcile(&mut run).await {
                Ok(Reconciliation::Happened { result }) => {
                    tracing::info!(action = %run.action.id, "reconciled: the last attempt happened");
                    let now = hub.inner.clock.now();
                    return Ok(outcome::completed(run.action, result, now));
                }
                Ok(Reconciliation::Unknown { reason }) => {
                    let now = hub.inner.clock.now();
                    return Ok(outcome::needs_person(run.action, reason, now));
                }
                Ok(Reconciliation::NotHappened) => {
                    tracing::info!(action = %run.action.id, "reconciled: the last attempt did not happen; sending again");
                }
                Err(e) => return Err((e, true)),
            }
        }
        // Written before anything is sent: if this process dies mid-attempt, whoever claims
        // the action next reconciles instead of sending again.
        run.action.state = ActionState::Scheduled;
        run.action.attempt_started = Some(now);
        run.action.updated_at = now;
        match store
            .save_action(
                run.action,
                ActionWrite::Keep {
                    owner: o.owner,
                    ttl: o.claim_ttl,
                },
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return Err((
                    Error::storage_msg("the action's claim was lost before it ran"),
                    false,
                ));
            }
            Err(e) => return Err((e, false)),
        }
        match executor.run(&mut run).await {
            Ok(result) => {
                let now = hub.inner.clock.now();
                Ok(outcome::completed(run.action, result, now))
            }
            Err(e) => Err((e, false)),
        }
    }
}

/// A running [`ActionRunner`] (from [`ActionRunner::start`]).
#[derive(Debug)]
pub struct ActionRunnerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ActionRunnerHandle {
    /// Stops the runner and waits for it: the pass under way finishes first, so no attempt
    /// is abandoned between the platform's answer and the store write.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the action runner task ended abnormally");
        }
    }
}
