//! Claiming due rows on PostgreSQL (refreshes, scheduled actions): one `UPDATE … WHERE id IN
//! (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`, so claimants on every instance share
//! the due rows without waiting on each other's locks and without two of them claiming one
//! row.

use socialconnect_core::Result;
use sqlx::any::AnyRow;

use super::{PgBackend, affected, db, limit};
use crate::backend::decode as rows;
use crate::backend::sql::postgres as sql;
use crate::backend::{ActionRow, DueClaim, TokenRow};

impl PgBackend {
    /// See [`crate::backend::Backend::claim_due_tokens`].
    pub(super) async fn claim_due(
        &self,
        due_before: i64,
        now: i64,
        limit_to: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<TokenRow>> {
        let claim = DueClaim {
            due_before,
            now,
            limit: limit_to,
            owner: owner.to_owned(),
            until,
        };
        let found = self
            .claim_rows(
                "claiming due connections",
                sql::CLAIM_DUE_TOKENS_LOCKING,
                &claim,
            )
            .await?;
        found.iter().map(|row| rows::token(row)).collect()
    }

    /// See [`crate::backend::Backend::claim_due_actions`].
    pub(super) async fn claim_actions(&self, claim: DueClaim) -> Result<Vec<ActionRow>> {
        let found = self
            .claim_rows(
                "claiming due actions",
                sql::CLAIM_DUE_ACTIONS_LOCKING,
                &claim,
            )
            .await?;
        found.iter().map(|row| rows::action(row)).collect()
    }

    /// Runs a claim statement shaped by `claim_rows!` (`$1` owner, `$2` until, `$3` due
    /// before, `$4` now, `$5` limit).
    async fn claim_rows(
        &self,
        what: &'static str,
        statement: &'static str,
        claim: &DueClaim,
    ) -> Result<Vec<AnyRow>> {
        sqlx::query(statement)
            .bind(&claim.owner)
            .bind(claim.until)
            .bind(claim.due_before)
            .bind(claim.now)
            .bind(limit(claim.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db(what))
    }

    /// See [`crate::backend::Backend::release_token_claim`].
    pub(super) async fn release_claim(
        &self,
        conn_id: &str,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let done = sqlx::query(sql::RELEASE_TOKEN_CLAIM)
            .bind(conn_id)
            .bind(owner)
            .bind(hold_until)
            .execute(&self.pool)
            .await
            .map_err(db("releasing a claim"))?;
        Ok(affected(&done) > 0)
    }

    /// See [`crate::backend::Backend::set_token_due`].
    pub(super) async fn set_due(
        &self,
        conn_id: &str,
        version: i64,
        due: Option<i64>,
    ) -> Result<()> {
        sqlx::query(sql::SET_TOKEN_DUE)
            .bind(conn_id)
            .bind(due)
            .bind(version)
            .execute(&self.pool)
            .await
            .map_err(db("setting a connection's due time"))?;
        Ok(())
    }
}
