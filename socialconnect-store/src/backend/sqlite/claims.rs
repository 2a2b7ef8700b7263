//! Claiming due refreshes on SQLite: one `UPDATE … RETURNING` on the writer connection inside
//! `BEGIN IMMEDIATE`, which takes the database file's write lock up front, so claimants (in
//! this process, and processes sharing the file) are serialized and never claim the same row.

use rusqlite::params;
use socialconnect_core::Result;

use super::{SqliteBackend, all, limit};
use crate::backend::TokenRow;
use crate::backend::decode as rows;
use crate::backend::sql::sqlite as sql;

impl SqliteBackend {
    /// See [`crate::backend::Backend::claim_due_tokens`].
    pub(super) async fn claim_due(
        &self,
        due_before: i64,
        now: i64,
        limit_to: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<TokenRow>> {
        const WHAT: &str = "claiming due connections";
        let owner = owner.to_owned();
        self.pool
            .write(WHAT, move |tx| {
                all(
                    tx,
                    WHAT,
                    sql::CLAIM_DUE_TOKENS,
                    params![owner, until, due_before, now, limit(limit_to)],
                    rows::token,
                )
            })
            .await
    }
}
