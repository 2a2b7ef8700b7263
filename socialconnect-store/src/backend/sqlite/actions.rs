//! Scheduled actions on SQLite (see [`crate::backend::Backend::insert_action`] and the rest).
//! Every write is one statement whose `WHERE` carries its condition; claims are in
//! `claims.rs`.

use rusqlite::{ToSql, params};
use socialconnect_core::{Error, Result};

use super::{SqliteBackend, all, exec, limit};
use crate::backend::decode as rows;
use crate::backend::sql::sqlite as sql;
use crate::backend::{ActionCondition, ActionKey, ActionListing, ActionRow, SubjectRef};

impl SqliteBackend {
    pub(super) async fn insert_action_row(&self, row: ActionRow) -> Result<()> {
        const WHAT: &str = "storing an action";
        let n = self
            .pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    sql::INSERT_ACTION,
                    params![
                        &row.action_id[..],
                        &row.subject_ref[..],
                        row.platform,
                        row.conn_id,
                        row.kind,
                        row.state,
                        row.due_at,
                        row.created_at,
                        row.updated_at,
                        row.dek_id,
                        row.sealed,
                    ],
                )
            })
            .await?;
        if n == 0 {
            return Err(Error::invalid_input(
                "an action with this id is already stored",
            ));
        }
        Ok(())
    }

    pub(super) async fn get_action_row(&self, id: &ActionKey) -> Result<Option<ActionRow>> {
        self.find(
            "reading an action",
            sql::GET_ACTION,
            id.to_vec(),
            rows::action,
        )
        .await
    }

    pub(super) async fn save_action_row(
        &self,
        row: ActionRow,
        condition: ActionCondition,
    ) -> Result<bool> {
        const WHAT: &str = "saving an action";
        let n = self
            .pool
            .write(WHAT, move |tx| {
                let (id, subject) = (&row.action_id[..], &row.subject_ref[..]);
                let mut values: Vec<&dyn ToSql> = vec![
                    &id,
                    &subject,
                    &row.platform,
                    &row.conn_id,
                    &row.kind,
                    &row.state,
                    &row.due_at,
                    &row.updated_at,
                    &row.dek_id,
                    &row.sealed,
                ];
                let statement = match &condition {
                    ActionCondition::Unclaimed { now } => {
                        values.push(now);
                        sql::SAVE_ACTION_UNCLAIMED
                    }
                    ActionCondition::Keep { owner, now, until } => {
                        values.extend([owner as &dyn ToSql, now, until]);
                        sql::SAVE_ACTION_KEEP
                    }
                    ActionCondition::Release { owner } => {
                        values.push(owner);
                        sql::SAVE_ACTION_RELEASE
                    }
                };
                exec(tx, WHAT, statement, &values)
            })
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn subject_action_rows(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit_to: u32,
    ) -> Result<Vec<ActionRow>> {
        const WHAT: &str = "listing a subject's actions";
        let subject = *subject_ref;
        let after = after.map_or_else(Vec::new, |a| a.to_vec());
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::SUBJECT_ACTIONS,
                    params![&subject[..], after, limit(limit_to)],
                    rows::action,
                )
            })
            .await
    }

    pub(super) async fn action_listing(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit_to: u32,
    ) -> Result<Vec<ActionListing>> {
        const WHAT: &str = "listing actions";
        let (state, platform) = (state.map(str::to_owned), platform.map(str::to_owned));
        let after = after.map_or_else(Vec::new, |a| a.to_vec());
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::LIST_ACTIONS,
                    params![after, state, platform, limit(limit_to)],
                    rows::action_listing,
                )
            })
            .await
    }

    pub(super) async fn release_action(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let values = owned![id.to_vec(), owner.to_owned(), hold_until];
        let n = self
            .change(
                "releasing an action's claim",
                sql::RELEASE_ACTION_CLAIM,
                values,
            )
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn purge_finished_rows(&self, before: i64) -> Result<u64> {
        self.change(
            "purging ended actions",
            sql::PURGE_FINISHED_ACTIONS,
            owned![before],
        )
        .await
    }

    pub(super) async fn erase_action_rows(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let values = owned![subject_ref.to_vec()];
        self.change("erasing a subject's actions", sql::ERASE_ACTIONS, values)
            .await
    }
}
