//! A scheduled action as it is stored: what to do, for whom, under which purpose, when, and
//! how far it got.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schedule::Schedule;
use crate::error::{Error, Result};
use crate::id::{ConnectionKey, Purpose};

/// The id of a scheduled action (a UUIDv7: ids sort by creation time).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActionId(Uuid);

impl ActionId {
    /// A new id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for ActionId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for ActionId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionId({})", self.0)
    }
}

impl FromStr for ActionId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| Error::invalid_input("an action id is a UUID"))
    }
}

/// Why an action was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CancelReason {
    /// When it came to run, the ledger no longer permitted its purpose (consent withdrawn,
    /// or the privacy notice changed and the subject has not consented again in time).
    ConsentWithdrawn {
        /// The purpose refused.
        purpose: Purpose,
    },
    /// The end user is below the minimum age for the service.
    AgeRestricted,
    /// The connection it acts through is gone (disconnected).
    ConnectionGone,
    /// The host (or an operator) cancelled it.
    ByHost,
}

impl CancelReason {
    /// A stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            CancelReason::ConsentWithdrawn { .. } => "consent_withdrawn",
            CancelReason::AgeRestricted => "age_restricted",
            CancelReason::ConnectionGone => "connection_gone",
            CancelReason::ByHost => "by_host",
        }
    }
}

/// Where an action stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionState {
    /// Waiting for its due time (or for its back-off after a failure that may pass).
    Scheduled,
    /// Its last attempt may have reached the platform: at its due time it is reconciled
    /// against the platform before anything is sent again.
    MaybeSent,
    /// Held while the connection needs the end user to connect again; resumed when they do.
    Paused,
    /// Done (the last occurrence, for a recurring action that ended).
    Done,
    /// Cancelled; it will not run.
    Cancelled {
        /// Why.
        #[serde(flatten)]
        reason: CancelReason,
    },
    /// Reconciliation could not tell whether the last attempt happened: a person must look
    /// (and then [retry](crate::SocialConnect::retry_action) or cancel it).
    NeedsPerson {
        /// What is unknown.
        reason: String,
    },
    /// Failed for good (a refusal retrying will not change, or retries exhausted).
    Failed {
        /// The last error's kind ([`ErrorKind::as_str`](crate::ErrorKind::as_str)).
        kind: String,
    },
}

impl ActionState {
    /// A stable snake_case name, stored in plain beside the sealed action (operators list
    /// actions by it).
    pub fn as_str(&self) -> &'static str {
        match self {
            ActionState::Scheduled => "scheduled",
            ActionState::MaybeSent => "maybe_sent",
            ActionState::Paused => "paused",
            ActionState::Done => "done",
            ActionState::Cancelled { .. } => "cancelled",
            ActionState::NeedsPerson { .. } => "needs_person",
            ActionState::Failed { .. } => "failed",
        }
    }

    /// Whether the action waits to run (it has a due time).
    pub fn is_pending(&self) -> bool {
        matches!(self, ActionState::Scheduled | ActionState::MaybeSent)
    }

    /// Whether it ended for good: done, cancelled or failed (what the retention purge
    /// removes once old; a needs-a-person action waits for its person instead).
    pub fn is_ended(&self) -> bool {
        matches!(
            self,
            ActionState::Done | ActionState::Cancelled { .. } | ActionState::Failed { .. }
        )
    }

    /// The plain names of the [ended](ActionState::is_ended) states.
    pub const ENDED: [&'static str; 3] = ["done", "cancelled", "failed"];

    /// Whether nothing more happens to it without the host.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ActionState::Done
                | ActionState::Cancelled { .. }
                | ActionState::NeedsPerson { .. }
                | ActionState::Failed { .. }
        )
    }
}

/// A scheduled action with everything the runner needs. Stores keep `due_at`, `state`, the
/// platform and the connection in plain columns (to claim and list by) and seal the whole
/// record under the subject's data key (the payload is personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredAction {
    /// Its id.
    pub id: ActionId,
    /// The connection it acts through (and so the subject it acts for).
    pub key: ConnectionKey,
    /// The purpose it serves: the ledger must permit it when it runs.
    pub purpose: Purpose,
    /// What to do, as the platform's executor names it (`meta.page_post`, `tiktok.video`).
    pub kind: String,
    /// The executor's input (the post text, the media URL).
    pub payload: serde_json::Value,
    /// When it recurs.
    pub schedule: Schedule,
    /// When the current occurrence is due (what the schedule steps on from).
    pub occurrence_due: DateTime<Utc>,
    /// When it is next claimed: the occurrence's due time, or later after a back-off. `None`
    /// unless the state [is pending](ActionState::is_pending).
    pub due_at: Option<DateTime<Utc>>,
    /// Where it stands.
    pub state: ActionState,
    /// Attempts at the current occurrence.
    pub attempts: u32,
    /// When the current occurrence's latest attempt started, written before anything is
    /// sent: an attempt with a start and no outcome (the process died) is reconciled before
    /// another is made.
    pub attempt_started: Option<DateTime<Utc>>,
    /// What the executor recorded while the occurrence ran (an upload's container id, a
    /// `publish_id`), for reconciliation and for resuming.
    pub progress: Option<serde_json::Value>,
    /// The last completed occurrence's result (the post id, the analytics snapshot).
    pub last_result: Option<serde_json::Value>,
    /// The last failure's kind, if the latest attempt failed.
    pub last_error: Option<String>,
    /// Occurrences completed.
    pub runs: u64,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl StoredAction {
    /// A new action in [`ActionState::Scheduled`], first due at `due`.
    #[allow(clippy::too_many_arguments)] // every field a new action needs; a builder would only move them
    pub fn new(
        key: ConnectionKey,
        purpose: Purpose,
        kind: impl Into<String>,
        payload: serde_json::Value,
        schedule: Schedule,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ActionId::new(),
            key,
            purpose,
            kind: kind.into(),
            payload,
            schedule,
            occurrence_due: due,
            due_at: Some(due),
            state: ActionState::Scheduled,
            attempts: 0,
            attempt_started: None,
            progress: None,
            last_result: None,
            last_error: None,
            runs: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// What an operator may see without opening the sealed record.
    pub fn summary(&self) -> ActionSummary {
        ActionSummary {
            id: self.id,
            platform: self.key.platform.clone(),
            connection: self.key.connection,
            kind: self.kind.clone(),
            state: self.state.as_str().to_owned(),
            due_at: self.due_at,
            updated_at: self.updated_at,
        }
    }
}

/// An action as an operator lists it: no subject, no payload (those are sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionSummary {
    /// Its id.
    pub id: ActionId,
    /// The platform.
    pub platform: crate::id::PlatformId,
    /// The connection it acts through.
    pub connection: crate::id::ConnectionId,
    /// Its kind.
    pub kind: String,
    /// Its state's name ([`ActionState::as_str`]).
    pub state: String,
    /// When it is next claimed.
    pub due_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ActionSummary {
    /// A summary from its parts, for stores that keep them in plain columns and list actions
    /// without opening the sealed record.
    pub fn new(
        id: ActionId,
        platform: crate::id::PlatformId,
        connection: crate::id::ConnectionId,
        kind: String,
        state: String,
        due_at: Option<DateTime<Utc>>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            platform,
            connection,
            kind,
            state,
            due_at,
            updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_json() {
        for state in [
            ActionState::Scheduled,
            ActionState::MaybeSent,
            ActionState::Paused,
            ActionState::Done,
            ActionState::Cancelled {
                reason: CancelReason::ConsentWithdrawn {
                    purpose: Purpose::Publishing,
                },
            },
            ActionState::Cancelled {
                reason: CancelReason::ByHost,
            },
            ActionState::NeedsPerson {
                reason: "no post found".into(),
            },
            ActionState::Failed {
                kind: "invalid_input".into(),
            },
        ] {
            let json = serde_json::to_value(&state).unwrap();
            assert_eq!(json["state"], state.as_str());
            assert_eq!(serde_json::from_value::<ActionState>(json).unwrap(), state);
        }
        assert!(serde_json::from_str::<ActionState>(r#"{"state":"exploded"}"#).is_err());
    }

    #[test]
    fn ids_parse_and_reject() {
        let id = ActionId::new();
        assert_eq!(id.to_string().parse::<ActionId>().unwrap(), id);
        assert_eq!(
            "nope".parse::<ActionId>().unwrap_err().kind(),
            crate::ErrorKind::InvalidInput
        );
    }
}
