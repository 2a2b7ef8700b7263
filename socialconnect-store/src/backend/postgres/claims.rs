//! Claiming due refreshes on PostgreSQL: one `UPDATE … WHERE conn_id IN (SELECT … FOR UPDATE
//! SKIP LOCKED LIMIT n) RETURNING`, so claimants on every instance share the due rows without
//! waiting on each other's locks and without two of them claiming one row.

use socialconnect_core::Result;

use super::{PgBackend, affected, db, limit};
use crate::backend::TokenRow;
use crate::backend::decode as rows;
use crate::backend::sql::postgres as sql;

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
        let found = sqlx::query(sql::CLAIM_DUE_TOKENS_LOCKING)
            .bind(owner)
            .bind(until)
            .bind(due_before)
            .bind(now)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("claiming due connections"))?;
        found.iter().map(|row| rows::token(row)).collect()
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
