//! Where scheduled actions are kept: the [`ActionStore`] trait.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::action::{ActionId, ActionSummary, StoredAction};
use crate::error::Result;
use crate::id::{PlatformId, SubjectId};

/// Who may write an action, and what becomes of the claim on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionWrite {
    /// A host's edit (cancel, reschedule, retry, pause): only while no claimant holds the
    /// action, so an edit never races a run.
    Unclaimed,
    /// The claimant records progress and keeps its claim (renewed for the claim's TTL from
    /// now, so a long run that checkpoints does not lose it).
    Keep {
        /// The claimant.
        owner: Uuid,
        /// How long the renewed claim lasts.
        ttl: Duration,
    },
    /// The claimant records the outcome and ends its claim.
    Release {
        /// The claimant.
        owner: Uuid,
    },
}

impl ActionWrite {
    /// The claimant named, if any.
    pub fn owner(&self) -> Option<Uuid> {
        match self {
            ActionWrite::Unclaimed => None,
            ActionWrite::Keep { owner, .. } | ActionWrite::Release { owner } => Some(*owner),
        }
    }
}

/// Which actions an operator lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionFilter {
    /// Only in this state ([`ActionState::as_str`](super::ActionState::as_str)).
    pub state: Option<String>,
    /// Only on this platform.
    pub platform: Option<PlatformId>,
}

impl ActionFilter {
    /// Every action.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only actions in `state` ([`ActionState::as_str`](super::ActionState::as_str)).
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Only actions on `platform`.
    pub fn with_platform(mut self, platform: PlatformId) -> Self {
        self.platform = Some(platform);
        self
    }
}

/// Durable scheduled actions.
///
/// An implementation keeps each action's due time, state, platform and connection where it
/// can find and list them, and the whole record where only the subject's key opens it (the
/// payload is personal data: erasure's crypto-shredding must cover it).
///
/// Claiming is the refresh sweep's contract ([`crate::claim`]): of concurrent claimants
/// (other processes too, for shared stores) each due action goes to at most one while its
/// claim lasts, and a claimant that crashes loses its claims when they lapse.
#[async_trait]
pub trait ActionStore: Send + Sync {
    /// Stores a new action. An action with the same id already stored is an
    /// [`InvalidInput`](crate::ErrorKind::InvalidInput) error, changing nothing.
    async fn insert_action(&self, action: &StoredAction) -> Result<()>;

    /// The action with this id.
    async fn action(&self, id: &ActionId) -> Result<Option<StoredAction>>;

    /// Writes `action` over the stored action with its id, under `write`'s condition (see
    /// [`ActionWrite`]); its `due_at` becomes when it can next be claimed. Returns false,
    /// changing nothing, when the condition does not hold or the action is gone (erased).
    async fn save_action(&self, action: &StoredAction, write: ActionWrite) -> Result<bool>;

    /// Up to `limit` of the subject's actions whose id is after `after`, in id order
    /// (creation order): page through with the last id seen.
    async fn subject_actions(
        &self,
        subject: &SubjectId,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<StoredAction>>;

    /// Up to `limit` actions matching `filter` whose id is after `after`, in id order, as
    /// operators see them (nothing sealed is opened).
    async fn list_actions(
        &self,
        filter: &ActionFilter,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<ActionSummary>>;

    /// Claims up to `limit` actions due at or before `due_before` that nobody holds at the
    /// store's current time, for `owner` until now + `ttl`, earliest due first.
    async fn claim_due_actions(
        &self,
        due_before: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<StoredAction>>;

    /// Removes every action of `subject`, claimed or not. Returns how many.
    async fn erase_subject_actions(&self, subject: &SubjectId) -> Result<u64>;

    /// Removes the actions that ended — [`done`](super::ActionState::Done),
    /// [`cancelled`](super::ActionState::Cancelled) or [`failed`](super::ActionState::Failed)
    /// — and last changed before `before` (the retention purge). Pending, paused and
    /// needs-a-person actions stay. Returns how many.
    async fn purge_finished_actions(&self, before: DateTime<Utc>) -> Result<u64>;
}
