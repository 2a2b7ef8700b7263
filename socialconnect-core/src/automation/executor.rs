//! What a platform crate implements so its actions can be scheduled: [`ActionExecutor`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::action::StoredAction;
use super::store::{ActionStore, ActionWrite};
use crate::error::{Error, Result};
use crate::hub::Session;
use crate::id::{PlatformId, Purpose};

/// How much earlier than an attempt's start a platform may date what the attempt made
/// (clocks differ): reconciliation looks for it from [`ActionRun::made_since`] on.
pub const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(5);

/// Decodes a stored payload as `T`, an [`InvalidInput`](crate::ErrorKind::InvalidInput) error
/// when it does not fit. Executors use it in [`ActionExecutor::check`] (with
/// `#[serde(deny_unknown_fields)]` payload types, so a misspelt field is refused when the
/// action is scheduled, not posted empty).
pub fn decode_payload<T: serde::de::DeserializeOwned>(payload: &serde_json::Value) -> Result<T> {
    T::deserialize(payload).map_err(|e| Error::invalid_input(format!("the action's payload: {e}")))
}

/// A platform crate's typed payload for one kind of action: what a host builds and
/// [`ActionRequest::of`](crate::ActionRequest::of) schedules.
pub trait ActionPayload: serde::Serialize + serde::de::DeserializeOwned {
    /// The kind this is the payload of (`facebook.page_post`).
    const KIND: &'static str;
}

/// What reconciling an attempt whose outcome was unknown found on the platform.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reconciliation {
    /// The platform shows it happened: the action is done with this result.
    Happened {
        /// The result, as [`ActionExecutor::run`] would have returned it.
        result: serde_json::Value,
    },
    /// The platform shows it did not happen: it may be sent again.
    NotHappened,
    /// The platform cannot tell: a person must decide.
    Unknown {
        /// What could not be told (no personal data: it is shown to operators).
        reason: String,
    },
}

/// Runs one platform's kinds of action (publishing a post, replying to a comment, taking an
/// analytics snapshot). Registered on the hub with
/// [`SocialConnectBuilder::executor`](crate::SocialConnectBuilder::executor).
///
/// The runner calls [`run`](Self::run) only after the action's gates passed (consent for its
/// purpose, the age gate, the connection's state, the notice re-consent) and with a session
/// opened for that purpose. A write whose outcome is unknown must surface as
/// [`MaybeSent`](crate::ErrorKind::MaybeSent) (the session's writes already do): the runner
/// then never sends it blindly again but calls [`reconcile`](Self::reconcile).
#[async_trait]
pub trait ActionExecutor: Send + Sync {
    /// The platform whose actions it runs.
    fn platform(&self) -> PlatformId;

    /// The kinds it runs (`meta.page_post`).
    fn kinds(&self) -> &'static [&'static str];

    /// The purpose a kind serves (publishing, analytics), or `None` for a kind it does not run.
    fn purpose(&self, kind: &str) -> Option<Purpose>;

    /// Checks a payload when the action is scheduled, so a malformed one is refused then and
    /// not when it comes to run.
    fn check(&self, kind: &str, payload: &serde_json::Value) -> Result<()>;

    /// Runs the action once. Record what reconciliation will need before the write that
    /// may go unanswered ([`ActionRun::checkpoint`]).
    async fn run(&self, run: &mut ActionRun<'_>) -> Result<serde_json::Value>;

    /// Finds out whether the attempt started at [`ActionRun::attempt_started`] (whose
    /// outcome was unknown, or whose process died) happened.
    async fn reconcile(&self, run: &mut ActionRun<'_>) -> Result<Reconciliation>;
}

/// One run of an action: its session, its payload and progress, and the way to record
/// progress while keeping the claim.
pub struct ActionRun<'a> {
    pub(crate) session: &'a Session,
    pub(crate) action: &'a mut StoredAction,
    pub(crate) store: &'a Arc<dyn ActionStore>,
    pub(crate) owner: Uuid,
    pub(crate) ttl: Duration,
    pub(crate) now: DateTime<Utc>,
}

impl std::fmt::Debug for ActionRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionRun")
            .field("id", &self.action.id)
            .field("kind", &self.action.kind)
            .finish_non_exhaustive()
    }
}

impl<'a> ActionRun<'a> {
    /// The session, opened for the action's purpose on its connection.
    pub fn session(&self) -> &'a Session {
        self.session
    }

    /// The action's kind.
    pub fn kind(&self) -> &str {
        &self.action.kind
    }

    /// The action's payload.
    pub fn payload(&self) -> &serde_json::Value {
        &self.action.payload
    }

    /// What this occurrence recorded so far with [`ActionRun::checkpoint`].
    pub fn progress(&self) -> Option<&serde_json::Value> {
        self.action.progress.as_ref()
    }

    /// When the attempt being run (or reconciled) started.
    pub fn attempt_started(&self) -> DateTime<Utc> {
        self.action.attempt_started.unwrap_or(self.now)
    }

    /// The payload decoded as `T`; an [`InvalidInput`](crate::ErrorKind::InvalidInput) error
    /// when it does not fit (a payload changed by hand in the store, a kind renamed).
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        decode_payload(&self.action.payload)
    }

    /// From when a platform's record of this attempt may be dated: its start less
    /// [`CLOCK_SLACK`].
    pub fn made_since(&self) -> DateTime<Utc> {
        self.attempt_started() - CLOCK_SLACK
    }

    /// Stores `progress` for this occurrence before going on (the claim is renewed). Fails
    /// with [`Storage`](crate::ErrorKind::Storage) when the claim was lost (another instance
    /// took the action after this one's claim lapsed) or the action is gone: stop then.
    pub async fn checkpoint(&mut self, progress: serde_json::Value) -> Result<()> {
        let previous = self.action.progress.replace(progress);
        let saved = self
            .store
            .save_action(
                self.action,
                ActionWrite::Keep {
                    owner: self.owner,
                    ttl: self.ttl,
                },
            )
            .await;
        match saved {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.action.progress = previous;
                Err(Error::storage_msg(
                    "the action's claim was lost or the action is gone",
                ))
            }
            Err(e) => {
                self.action.progress = previous;
                Err(e)
            }
        }
    }
}
