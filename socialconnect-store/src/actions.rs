//! [`ActionStore`] for [`EncryptedStore`].
//!
//! An action row's sealed payload is JSON, `{"v":1,"region":…,"action":{…}}`: the whole
//! [`StoredAction`] (its subject, purpose, payload, progress and results) and, when the store
//! has one, its [region](crate::StoreOptions::region). It is sealed under the subject's data
//! key with the action id as the record id, so the associated data binds it to the action id
//! and the subject pseudonym: a sealed action copied into another row does not open. The
//! plain columns beside it (connection, kind, state name, due time, claim) are what claims and
//! listings read; every time there is in microseconds.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use socialconnect_core::automation::{
    ActionFilter, ActionId, ActionStore, ActionSummary, ActionWrite, StoredAction,
};
use socialconnect_core::id::{ConnectionId, PlatformId, SubjectId};
use socialconnect_core::{Error, Result};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::backend::{ActionCondition, ActionKey, ActionRow, DueClaim, SubjectRef};
use crate::claims::{UNREADABLE_HOLD, claim_until};
use crate::envelope::RecordKind;
use crate::store::EncryptedStore;

/// The payload format written.
const FORMAT: u8 = 1;

#[derive(Serialize)]
struct SealedOut<'a> {
    v: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    action: &'a StoredAction,
}

#[derive(Deserialize)]
struct SealedIn {
    v: u8,
    action: StoredAction,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::storage_msg("stored action time out of range"))
}

fn action_key(id: &ActionId) -> ActionKey {
    *id.as_uuid().as_bytes()
}

/// When the action can next be claimed, as the plain column holds it.
fn due_column(action: &StoredAction) -> Option<i64> {
    action
        .due_at
        .filter(|_| action.state.is_pending())
        .map(micros)
}

impl EncryptedStore {
    /// The action's row, sealed under its subject's key (created when `create`); `None` when
    /// the subject has no key and `create` is false.
    async fn seal_action(&self, action: &StoredAction, create: bool) -> Result<Option<ActionRow>> {
        let sref = self.subject_ref(&action.key.subject);
        let id = action_key(&action.id);
        let plaintext = Zeroizing::new(
            serde_json::to_vec(&SealedOut {
                v: FORMAT,
                region: self.region(),
                action,
            })
            .map_err(|_| Error::invalid_input("an action could not be serialized"))?,
        );
        let Some((dek_id, sealed)) = self
            .seal_with(&sref, RecordKind::Action, &id, &plaintext, create)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(ActionRow {
            action_id: id,
            subject_ref: sref,
            platform: action.key.platform.as_str().to_owned(),
            conn_id: action.key.connection.to_string(),
            kind: action.kind.clone(),
            state: action.state.as_str().to_owned(),
            due_at: due_column(action),
            created_at: micros(action.created_at),
            updated_at: micros(action.updated_at),
            dek_id,
            sealed,
        }))
    }

    /// Opens a row: a typed error when it does not open (its subject's key is gone, it was
    /// tampered with or moved) or names another action or connection than its row.
    async fn open_action(&self, row: ActionRow) -> Result<StoredAction> {
        let plaintext = self
            .open_owned(
                &row.subject_ref,
                RecordKind::Action,
                &row.action_id,
                &row.dek_id,
                row.sealed,
            )
            .await?;
        // serde's message may quote the payload: say only that it is malformed.
        let sealed: SealedIn = serde_json::from_slice(&plaintext)
            .map_err(|_| Error::storage_msg("a stored action is malformed"))?;
        if sealed.v != FORMAT {
            return Err(Error::storage_msg("a stored action has an unknown format"));
        }
        let action = sealed.action;
        if action_key(&action.id) != row.action_id
            || self.subject_ref(&action.key.subject) != row.subject_ref
            || action.key.platform.as_str() != row.platform
            || action.key.connection.to_string() != row.conn_id
        {
            return Err(Error::storage_msg(
                "a stored action names another action or connection than its row",
            ));
        }
        Ok(action)
    }

    /// Why a save wrote nothing: `false` (the condition did not hold, or the action is gone),
    /// or an error when the stored action acts through another connection.
    async fn unsaved(&self, action: &StoredAction, sref: &SubjectRef) -> Result<bool> {
        match self
            .inner
            .backend
            .get_action(&action_key(&action.id))
            .await?
        {
            Some(row)
                if (&row.subject_ref != sref
                    || row.platform != action.key.platform.as_str()
                    || row.conn_id != action.key.connection.to_string()) =>
            {
                Err(Error::invalid_input("an action's connection cannot change"))
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl ActionStore for EncryptedStore {
    async fn insert_action(&self, action: &StoredAction) -> Result<()> {
        let row = self
            .seal_action(action, true)
            .await?
            .ok_or_else(|| Error::Crypto("could not create a data key".to_owned()))?;
        self.inner.backend.insert_action(row).await
    }

    async fn action(&self, id: &ActionId) -> Result<Option<StoredAction>> {
        match self.inner.backend.get_action(&action_key(id)).await? {
            Some(row) => self.open_action(row).await.map(Some),
            None => Ok(None),
        }
    }

    /// One conditional `UPDATE`: the condition and the connection are in its `WHERE`.
    async fn save_action(&self, action: &StoredAction, write: ActionWrite) -> Result<bool> {
        let sref = self.subject_ref(&action.key.subject);
        let now = self.now();
        let condition = match write {
            ActionWrite::Unclaimed => ActionCondition::Unclaimed { now: micros(now) },
            ActionWrite::Keep { owner, ttl } => ActionCondition::Keep {
                owner: owner.to_string(),
                now: micros(now),
                until: micros(claim_until(now, ttl)?),
            },
            ActionWrite::Release { owner } => ActionCondition::Release {
                owner: owner.to_string(),
            },
        };
        // No key: no action of this subject is stored (nor should a key be made for it).
        let Some(row) = self.seal_action(action, false).await? else {
            return self.unsaved(action, &sref).await;
        };
        if self.inner.backend.save_action(row, condition).await? {
            return Ok(true);
        }
        self.unsaved(action, &sref).await
    }

    async fn subject_actions(
        &self,
        subject: &SubjectId,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<StoredAction>> {
        let sref = self.subject_ref(subject);
        let rows = self
            .inner
            .backend
            .subject_actions(&sref, after.as_ref().map(action_key), limit)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.open_action(row).await?);
        }
        Ok(out)
    }

    async fn list_actions(
        &self,
        filter: &ActionFilter,
        after: Option<ActionId>,
        limit: u32,
    ) -> Result<Vec<ActionSummary>> {
        let rows = self
            .inner
            .backend
            .list_actions(
                filter.state.as_deref(),
                filter.platform.as_ref().map(PlatformId::as_str),
                after.as_ref().map(action_key),
                limit,
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(ActionSummary::new(
                    ActionId::from(Uuid::from_bytes(row.action_id)),
                    PlatformId::new(row.platform)
                        .map_err(|_| Error::storage_msg("malformed platform id in storage"))?,
                    ConnectionId::parse(&row.conn_id)
                        .map_err(|_| Error::storage_msg("malformed connection id in storage"))?,
                    row.kind,
                    row.state,
                    row.due_at.map(from_micros).transpose()?,
                    from_micros(row.updated_at)?,
                ))
            })
            .collect()
    }

    /// Claims rows by their plain due column (one `UPDATE`; see the backends), then opens
    /// each; one that does not open is held back (as unreadable token rows are) instead of
    /// failing the claim.
    async fn claim_due_actions(
        &self,
        due_before: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<StoredAction>> {
        let now = self.now();
        let owner = owner.to_string();
        let mut rows = self
            .inner
            .backend
            .claim_due_actions(DueClaim {
                due_before: micros(due_before),
                now: micros(now),
                limit,
                owner: owner.clone(),
                until: micros(claim_until(now, ttl)?),
            })
            .await?;
        // RETURNING follows no ORDER BY: earliest due first (ties by id), as the trait promises.
        rows.sort_by_key(|row| (row.due_at, row.action_id));
        let mut actions = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.action_id;
            match self.open_action(row).await {
                Ok(action) => actions.push(action),
                Err(e) => {
                    tracing::warn!(error.kind = %e.kind().as_str(), "a claimed action could not be read; held back");
                    self.inner
                        .backend
                        .release_action_claim(&id, &owner, micros(now + UNREADABLE_HOLD))
                        .await?;
                }
            }
        }
        Ok(actions)
    }

    async fn purge_finished_actions(&self, before: DateTime<Utc>) -> Result<u64> {
        self.inner
            .backend
            .purge_finished_actions(micros(before))
            .await
    }

    async fn erase_subject_actions(&self, subject: &SubjectId) -> Result<u64> {
        let sref = self.subject_ref(subject);
        self.inner.backend.erase_actions_of(&sref).await
    }
}
