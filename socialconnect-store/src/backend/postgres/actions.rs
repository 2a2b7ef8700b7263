//! Scheduled actions on PostgreSQL (see [`crate::backend::Backend::insert_action`] and the
//! rest). Every write is one statement whose `WHERE` carries its condition; claims are in
//! `claims.rs`.

use socialconnect_core::{Error, Result};

use super::{PgBackend, affected, db, limit};
use crate::backend::decode as rows;
use crate::backend::sql::postgres as sql;
use crate::backend::{ActionCondition, ActionKey, ActionListing, ActionRow, SubjectRef};

impl PgBackend {
    pub(super) async fn insert_action_row(&self, row: ActionRow) -> Result<()> {
        let done = sqlx::query(sql::INSERT_ACTION)
            .bind(&row.action_id[..])
            .bind(&row.subject_ref[..])
            .bind(row.platform)
            .bind(row.conn_id)
            .bind(row.kind)
            .bind(row.state)
            .bind(row.due_at)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.dek_id)
            .bind(row.sealed)
            .execute(&self.pool)
            .await
            .map_err(db("storing an action"))?;
        if affected(&done) == 0 {
            return Err(Error::invalid_input(
                "an action with this id is already stored",
            ));
        }
        Ok(())
    }

    pub(super) async fn get_action_row(&self, id: &ActionKey) -> Result<Option<ActionRow>> {
        let found = sqlx::query(sql::GET_ACTION)
            .bind(&id[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an action"))?;
        found.as_ref().map(|row| rows::action(row)).transpose()
    }

    pub(super) async fn save_action_row(
        &self,
        row: ActionRow,
        condition: ActionCondition,
    ) -> Result<bool> {
        let statement = match &condition {
            ActionCondition::Unclaimed { .. } => sql::SAVE_ACTION_UNCLAIMED,
            ActionCondition::Keep { .. } => sql::SAVE_ACTION_KEEP,
            ActionCondition::Release { .. } => sql::SAVE_ACTION_RELEASE,
        };
        let query = sqlx::query(statement)
            .bind(&row.action_id[..])
            .bind(&row.subject_ref[..])
            .bind(&row.platform)
            .bind(&row.conn_id)
            .bind(&row.kind)
            .bind(&row.state)
            .bind(row.due_at)
            .bind(row.updated_at)
            .bind(&row.dek_id)
            .bind(&row.sealed);
        let query = match &condition {
            ActionCondition::Unclaimed { now } => query.bind(*now),
            ActionCondition::Keep { owner, now, until } => {
                query.bind(owner).bind(*now).bind(*until)
            }
            ActionCondition::Release { owner } => query.bind(owner),
        };
        let done = query
            .execute(&self.pool)
            .await
            .map_err(db("saving an action"))?;
        Ok(affected(&done) > 0)
    }

    pub(super) async fn subject_action_rows(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit_to: u32,
    ) -> Result<Vec<ActionRow>> {
        let after = after.map_or_else(Vec::new, |a| a.to_vec());
        let found = sqlx::query(sql::SUBJECT_ACTIONS)
            .bind(&subject_ref[..])
            .bind(after)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing a subject's actions"))?;
        found.iter().map(|row| rows::action(row)).collect()
    }

    pub(super) async fn action_listing(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit_to: u32,
    ) -> Result<Vec<ActionListing>> {
        let after = after.map_or_else(Vec::new, |a| a.to_vec());
        let found = sqlx::query(sql::LIST_ACTIONS)
            .bind(after)
            .bind(state.map(str::to_owned))
            .bind(platform.map(str::to_owned))
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing actions"))?;
        found.iter().map(|row| rows::action_listing(row)).collect()
    }

    pub(super) async fn release_action(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(sql::RELEASE_ACTION_CLAIM)
            .bind(&id[..])
            .bind(owner)
            .bind(hold_until)
            .execute(&self.pool)
            .await
            .map_err(db("releasing an action's claim"))?;
        Ok(affected(&done) > 0)
    }

    pub(super) async fn purge_finished_rows(&self, before: i64) -> Result<u64> {
        let done = sqlx::query(sql::PURGE_FINISHED_ACTIONS)
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db("purging ended actions"))?;
        Ok(affected(&done))
    }

    pub(super) async fn erase_action_rows(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let done = sqlx::query(sql::ERASE_ACTIONS)
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("erasing a subject's actions"))?;
        Ok(affected(&done))
    }
}
