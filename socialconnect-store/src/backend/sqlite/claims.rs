//! Claiming due rows on SQLite (refreshes, scheduled actions): one `UPDATE … RETURNING` on the
//! writer connection inside `BEGIN IMMEDIATE`, which takes the database file's write lock up
//! front, so claimants (in this process, and processes sharing the file) are serialized and
//! never claim the same row.

use rusqlite::params;
use socialconnect_core::Result;

use super::{SqliteBackend, all, limit};
use crate::backend::decode::{self as rows, Source};
use crate::backend::sql::sqlite as sql;
use crate::backend::{ActionRow, DueClaim, TokenRow};

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
        let claim = DueClaim {
            due_before,
            now,
            limit: limit_to,
            owner: owner.to_owned(),
            until,
        };
        self.claim_rows(
            "claiming due connections",
            sql::CLAIM_DUE_TOKENS,
            claim,
            rows::token,
        )
        .await
    }

    /// See [`crate::backend::Backend::claim_due_actions`].
    pub(super) async fn claim_actions(&self, claim: DueClaim) -> Result<Vec<ActionRow>> {
        self.claim_rows(
            "claiming due actions",
            sql::CLAIM_DUE_ACTIONS,
            claim,
            rows::action,
        )
        .await
    }

    /// Runs a claim statement shaped by `claim_rows!` (`$1` owner, `$2` until, `$3` due
    /// before, `$4` now, `$5` limit) under the write lock.
    async fn claim_rows<T: Send + 'static>(
        &self,
        what: &'static str,
        statement: &'static str,
        claim: DueClaim,
        decode: fn(&dyn Source) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.pool
            .write(what, move |tx| {
                let DueClaim {
                    due_before,
                    now,
                    limit: n,
                    owner,
                    until,
                } = claim;
                all(
                    tx,
                    what,
                    statement,
                    params![owner, until, due_before, now, limit(n)],
                    decode,
                )
            })
            .await
    }
}
