//! The embedded SQLite backend, on rusqlite: one database file, WAL, migrations applied on
//! open, every multi-row change in one transaction, no call blocking the async runtime (see
//! `pool.rs` for where each kind of call runs).
//!
//! Why rusqlite and not sqlx (which the PostgreSQL backend uses): measured in
//! `benches/store.rs`, a token read through sqlx's SQLite driver cost about ten times a
//! prepared rusqlite statement on the same file, almost all of it the driver's per-query
//! round trip to its worker thread, so the store could not come within 3× of the floor.

mod budgets;
mod claims;
mod conn;
mod decode;
mod pool;
mod readers;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{CachedStatement, Connection, ToSql, params};
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::store::PutOutcome;
use socialconnect_core::{Error, Result};

use self::conn::db;
use self::pool::Pool;
use crate::backend::DueClaim;
use crate::backend::RateSlot;
use crate::backend::decode::{self as rows, Columns, Source};
use crate::backend::sql::sqlite as sql;
use crate::backend::{
    AccountRef, ActionCondition, ActionKey, ActionListing, ActionRow, Backend, ConsentRow,
    ConsentStateRow, DeclarationRow, DeletionRow, DeletionStatusUpdate, ErasureCounts, MetaRow,
    NewConsentRow, NoticeRow, PendingRow, ProfileRow, ReceiptRow, Rewrap, SubjectKeyRow,
    SubjectRef, TokenRow, UsageRow,
};
use crate::chain;

/// Sealed rows in one SQLite file.
pub(crate) struct SqliteBackend {
    pool: Arc<Pool>,
}

impl fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteBackend").finish_non_exhaustive()
    }
}

impl SqliteBackend {
    /// Opens (creating when missing) the database at `path` and brings its schema up to date.
    /// The file is created with mode 0600 before SQLite touches it, and an existing file
    /// readable by group or others is tightened to 0600 (see `schema::prepare_file`).
    pub(crate) async fn open(path: &Path) -> Result<Self> {
        let path = path.to_owned();
        let pool = pool::blocking("opening the SQLite database", move || {
            let path = schema::prepare_file(&path)
                .map_err(|e| Error::storage("preparing the SQLite database file", e))?;
            Pool::open(path, schema::migrate)
        })
        .await?;
        Ok(Self {
            pool: Arc::new(pool),
        })
    }
}

/// Owned statement values for a call that runs on another thread: `owned![a, b]` is
/// `vec![Box::new(a), Box::new(b)]` as `Vec<Box<dyn ToSql + Send>>`.
macro_rules! owned {
    ($($value:expr),* $(,)?) => {
        vec![$(Box::new($value) as Box<dyn ToSql + Send>),*]
    };
}

// After `owned!`, which it uses.
mod actions;

impl SqliteBackend {
    /// The row `statement` finds by one key, decoded: a point lookup (see `pool.rs`).
    async fn find<T: Send + 'static>(
        &self,
        what: &'static str,
        statement: &'static str,
        key: impl ToSql + Send + 'static,
        decode: fn(&dyn Source) -> Result<T>,
    ) -> Result<Option<T>> {
        self.pool
            .lookup(what, move |c| one(c, what, statement, params![key], decode))
            .await
    }

    /// Every row `statement` selects by one key, decoded.
    async fn list<T: Send + 'static>(
        &self,
        what: &'static str,
        statement: &'static str,
        key: impl ToSql + Send + 'static,
        decode: fn(&dyn Source) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.pool
            .read(what, move |c| all(c, what, statement, params![key], decode))
            .await
    }

    /// Runs a one-statement change bound to `values` (see [`owned!`]); returns the rows it
    /// changed.
    async fn change(
        &self,
        what: &'static str,
        statement: &'static str,
        values: Vec<Box<dyn ToSql + Send>>,
    ) -> Result<u64> {
        self.pool
            .write(what, move |tx| {
                let values: Vec<&dyn ToSql> = values.iter().map(|v| &**v as &dyn ToSql).collect();
                exec(tx, what, statement, &values)
            })
            .await
    }
}

/// The parameter names the shared statements use, `$1` first (see `backend::sql`).
const PARAMETERS: [&str; 13] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13",
];

/// Prepares `statement` (cached) and binds `values` to `$1`, `$2`, … by name: SQLite numbers
/// named parameters by first appearance, not by the digits in their names.
fn prepare<'c>(
    conn: &'c Connection,
    what: &'static str,
    statement: &str,
    values: &[&dyn ToSql],
) -> Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(statement).map_err(db(what))?;
    if values.len() != stmt.parameter_count() || values.len() > PARAMETERS.len() {
        return Err(Error::storage_msg(format!(
            "{what}: the statement takes {} parameters, {} given",
            stmt.parameter_count(),
            values.len()
        )));
    }
    for (name, value) in PARAMETERS.iter().zip(values) {
        let index = stmt
            .parameter_index(name)
            .map_err(db(what))?
            .ok_or_else(|| Error::storage_msg(format!("{what}: the statement lacks {name}")))?;
        stmt.raw_bind_parameter(index, value).map_err(db(what))?;
    }
    Ok(stmt)
}

/// The first row `statement` returns, decoded.
fn one<T>(
    conn: &Connection,
    what: &'static str,
    statement: &str,
    values: &[&dyn ToSql],
    decode: impl FnOnce(&dyn Source) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = prepare(conn, what, statement, values)?;
    let mut found = stmt.raw_query();
    match found.next().map_err(db(what))? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

/// Every row `statement` returns, decoded.
fn all<T>(
    conn: &Connection,
    what: &'static str,
    statement: &str,
    values: &[&dyn ToSql],
    mut decode: impl FnMut(&dyn Source) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = prepare(conn, what, statement, values)?;
    let mut found = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = found.next().map_err(db(what))? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs one statement; returns the rows it changed.
fn exec(
    conn: &Connection,
    what: &'static str,
    statement: &str,
    values: &[&dyn ToSql],
) -> Result<u64> {
    let n = prepare(conn, what, statement, values)?
        .raw_execute()
        .map_err(db(what))?;
    Ok(n as u64)
}

/// How many of `remaining` (at least 1) usage rows the next INSERT takes: 64, or the largest
/// power of two below.
fn usage_chunk(remaining: usize) -> usize {
    let top = 1 << (usize::BITS - 1 - remaining.max(1).leading_zeros());
    top.min(sql::USAGE_ROWS_PER_INSERT)
}

/// Inserts `rows` (a chunk [`usage_chunk`] sized) with one multi-row statement, bound
/// positionally.
fn append_usage_rows(conn: &Connection, what: &'static str, rows: &[UsageRow]) -> Result<()> {
    let statement = sql::append_usage_rows(rows.len()).ok_or_else(|| {
        Error::storage_msg(format!("{what}: no statement for {} rows", rows.len()))
    })?;
    let mut stmt = conn.prepare_cached(statement).map_err(db(what))?;
    if stmt.parameter_count() != rows.len() * 9 {
        return Err(Error::storage_msg(format!(
            "{what}: the statement takes {} parameters, {} given",
            stmt.parameter_count(),
            rows.len() * 9
        )));
    }
    let mut index = 0;
    let mut bind = |value: &dyn ToSql| {
        index += 1;
        stmt.raw_bind_parameter(index, value).map_err(db(what))
    };
    for row in rows {
        bind(&&row.subject_ref[..])?;
        bind(&row.at)?;
        bind(&row.platform)?;
        bind(&row.operation)?;
        bind(&row.outcome)?;
        bind(&row.http_status)?;
        bind(&row.latency_us)?;
        bind(&row.dek_id)?;
        bind(&row.sealed)?;
    }
    let inserted = stmt.raw_execute().map_err(db(what))?;
    if inserted != rows.len() {
        return Err(Error::storage_msg(format!(
            "{what}: {inserted} of {} rows inserted",
            rows.len()
        )));
    }
    Ok(())
}

/// A `u32` limit as SQLite's 64-bit integer.
fn limit(n: u32) -> i64 {
    i64::from(n)
}

/// A time as the microseconds `sc_api_keys` stores.
fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// A count column named `n`.
fn count(row: &dyn Source) -> Result<u64> {
    Columns::new(row, "count").count("n")
}

/// A `version` column.
fn version(row: &dyn Source) -> Result<u64> {
    Ok(Columns::new(row, "sc_tokens")
        .version("version")?
        .unsigned_abs())
}

/// Inserts an API key; false when the id exists.
fn insert_api_key_in(conn: &Connection, r: &ApiKeyRecord, what: &'static str) -> Result<bool> {
    let n = exec(
        conn,
        what,
        sql::INSERT_API_KEY,
        params![
            r.key_id.to_string(),
            r.key_id.prefix(),
            &r.hash.as_bytes()[..],
            r.scopes.join(" "),
            micros(r.created_at),
            r.expires_at.map(micros),
            r.last_used_at.map(micros),
            r.revoked_at.map(micros),
            r.replaced_by.map(|id| id.to_string()),
            r.grace_until.map(micros),
        ],
    )?;
    Ok(n > 0)
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>> {
        self.find(
            "reading a store secret",
            sql::GET_META,
            name.to_owned(),
            rows::meta,
        )
        .await
    }

    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow> {
        const WHAT: &str = "storing a store secret";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    sql::INSERT_META,
                    params![row.name, row.kek_id, row.wrapped],
                )?;
                one(tx, WHAT, sql::GET_META, params![&row.name], rows::meta)?
                    .ok_or_else(|| Error::storage_msg("a store secret vanished while being stored"))
            })
            .await
    }

    async fn rewrap_meta(
        &self,
        name: &str,
        expected_kek: &str,
        new_kek: &str,
        wrapped: Vec<u8>,
    ) -> Result<bool> {
        let values = owned![
            name.to_owned(),
            expected_kek.to_owned(),
            new_kek.to_owned(),
            wrapped
        ];
        let n = self
            .change("rewrapping a store secret", sql::REWRAP_META, values)
            .await?;
        Ok(n > 0)
    }

    async fn get_subject_key(&self, subject_ref: &SubjectRef) -> Result<Option<SubjectKeyRow>> {
        self.find(
            "reading a subject key",
            sql::GET_SUBJECT_KEY,
            *subject_ref,
            rows::subject_key,
        )
        .await
    }

    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow> {
        const WHAT: &str = "storing a subject key";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    sql::INSERT_SUBJECT_KEY,
                    params![
                        &row.subject_ref[..],
                        row.dek_id,
                        row.kek_id,
                        row.wrapped,
                        row.created_at
                    ],
                )?;
                one(
                    tx,
                    WHAT,
                    sql::GET_SUBJECT_KEY,
                    params![&row.subject_ref[..]],
                    rows::subject_key,
                )?
                .ok_or_else(|| Error::storage_msg("a subject key vanished while being stored"))
            })
            .await
    }

    async fn subject_keys_not_wrapped_by(
        &self,
        kek_id: &str,
        after: Option<SubjectRef>,
        limit_to: u32,
    ) -> Result<Vec<SubjectKeyRow>> {
        const WHAT: &str = "listing subject keys to rewrap";
        let kek_id = kek_id.to_owned();
        self.pool
            .read(WHAT, move |c| {
                // An empty blob sorts before every pseudonym.
                let after = after.map_or_else(Vec::new, |a| a.to_vec());
                all(
                    c,
                    WHAT,
                    sql::SUBJECT_KEYS_NOT_WRAPPED_BY,
                    params![kek_id, after, limit(limit_to)],
                    rows::subject_key,
                )
            })
            .await
    }

    async fn rewrap_subject_keys(&self, rewraps: Vec<Rewrap>) -> Result<u64> {
        const WHAT: &str = "rewrapping subject keys";
        if rewraps.is_empty() {
            return Ok(0);
        }
        self.pool
            .write(WHAT, move |tx| {
                let mut applied = 0;
                for r in &rewraps {
                    applied += exec(
                        tx,
                        WHAT,
                        sql::REWRAP_SUBJECT_KEY,
                        params![&r.subject_ref[..], r.expected_kek, r.new_kek, r.wrapped],
                    )?;
                }
                Ok(applied)
            })
            .await
    }

    async fn count_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        const WHAT: &str = "counting keys wrapped by a key-encryption key";
        let kek_id = kek_id.to_owned();
        self.pool
            .read(WHAT, move |c| {
                one(c, WHAT, sql::COUNT_WRAPPED_BY, params![kek_id], count)
            })
            .await
            .map(Option::unwrap_or_default)
    }

    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        const WHAT: &str = "counting keys not wrapped by a key-encryption key";
        let kek_id = kek_id.to_owned();
        self.pool
            .read(WHAT, move |c| {
                one(c, WHAT, sql::COUNT_NOT_WRAPPED_BY, params![kek_id], count)
            })
            .await
            .map(Option::unwrap_or_default)
    }

    async fn put_token(&self, row: TokenRow, expected_version: Option<i64>) -> Result<PutOutcome> {
        const WHAT: &str = "writing a token row";
        self.pool
            .write(WHAT, move |tx| {
                let account = row.account_ref.as_ref().map(|r| &r[..]);
                let Some(expected) = expected_version else {
                    let written = one(
                        tx,
                        WHAT,
                        sql::UPSERT_TOKEN,
                        params![
                            row.conn_id,
                            &row.subject_ref[..],
                            row.platform,
                            row.status_since,
                            row.updated_at,
                            row.dek_id,
                            row.sealed,
                            account,
                            row.refresh_due_at
                        ],
                        version,
                    )?;
                    let version = written.ok_or_else(|| {
                        Error::storage_msg("writing a token row returned no version")
                    })?;
                    return Ok(PutOutcome::Written(version));
                };
                let written = one(
                    tx,
                    WHAT,
                    sql::UPDATE_TOKEN_IF_VERSION,
                    params![
                        row.conn_id,
                        expected,
                        &row.subject_ref[..],
                        row.platform,
                        row.status_since,
                        row.updated_at,
                        row.dek_id,
                        row.sealed,
                        account,
                        row.refresh_due_at
                    ],
                    version,
                )?;
                match written {
                    Some(version) => Ok(PutOutcome::Written(version)),
                    None => {
                        let current =
                            one(tx, WHAT, sql::TOKEN_VERSION, params![&row.conn_id], version)?;
                        Ok(PutOutcome::Conflict(current))
                    }
                }
            })
            .await
    }

    async fn get_token(&self, conn_id: &str) -> Result<Option<TokenRow>> {
        self.find(
            "reading a token row",
            sql::GET_TOKEN,
            conn_id.to_owned(),
            rows::token,
        )
        .await
    }

    async fn set_token_status(
        &self,
        conn_id: &str,
        status: &str,
        since: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let values = owned![conn_id.to_owned(), status.to_owned(), since, now];
        let n = self
            .change(
                "setting a connection's status",
                sql::SET_TOKEN_STATUS,
                values,
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_token(&self, conn_id: &str) -> Result<bool> {
        const WHAT: &str = "deleting a token row";
        let conn_id = conn_id.to_owned();
        self.pool
            .write(WHAT, move |tx| {
                exec(tx, WHAT, sql::DELETE_LEASE, params![&conn_id])?;
                let n = exec(tx, WHAT, sql::DELETE_TOKEN, params![&conn_id])?;
                Ok(n > 0)
            })
            .await
    }

    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>> {
        const WHAT: &str = "listing a subject's connections";
        let subject = *subject_ref;
        self.pool
            .read(WHAT, move |c| {
                all(c, WHAT, sql::TOKENS_OF, params![&subject[..]], |row| {
                    let c = Columns::new(row, "sc_tokens");
                    Ok((c.text("conn_id")?, c.text("platform")?))
                })
            })
            .await
    }

    async fn tokens_by_account(&self, account_ref: &AccountRef) -> Result<Vec<TokenRow>> {
        self.list(
            "finding connections by platform account",
            sql::TOKENS_BY_ACCOUNT,
            *account_ref,
            rows::token,
        )
        .await
    }

    async fn stale_tokens(&self, before: i64, after: &str, limit_to: u32) -> Result<Vec<TokenRow>> {
        const WHAT: &str = "listing stale connections";
        let after = after.to_owned();
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::STALE_TOKENS,
                    params![before, after, limit(limit_to)],
                    rows::token,
                )
            })
            .await
    }

    async fn token_page(&self, after: &str, limit_to: u32) -> Result<Vec<TokenRow>> {
        const WHAT: &str = "listing connections";
        let after = after.to_owned();
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::TOKEN_PAGE,
                    params![after, limit(limit_to)],
                    rows::token,
                )
            })
            .await
    }

    async fn try_lease(
        &self,
        conn_id: &str,
        owner: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool> {
        let values = owned![conn_id.to_owned(), owner.to_owned(), expires_at, now];
        let n = self
            .change("taking a refresh lease", sql::TRY_LEASE, values)
            .await?;
        Ok(n > 0)
    }

    async fn release_lease(&self, conn_id: &str, owner: &str) -> Result<bool> {
        let values = owned![conn_id.to_owned(), owner.to_owned()];
        let n = self
            .change("releasing a refresh lease", sql::RELEASE_LEASE, values)
            .await?;
        Ok(n > 0)
    }

    async fn insert_action(&self, row: ActionRow) -> Result<()> {
        self.insert_action_row(row).await
    }

    async fn get_action(&self, id: &ActionKey) -> Result<Option<ActionRow>> {
        self.get_action_row(id).await
    }

    async fn save_action(&self, row: ActionRow, condition: ActionCondition) -> Result<bool> {
        self.save_action_row(row, condition).await
    }

    async fn subject_actions(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionRow>> {
        self.subject_action_rows(subject_ref, after, limit).await
    }

    async fn list_actions(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionListing>> {
        self.action_listing(state, platform, after, limit).await
    }

    async fn claim_due_actions(&self, claim: DueClaim) -> Result<Vec<ActionRow>> {
        self.claim_actions(claim).await
    }

    async fn release_action_claim(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        self.release_action(id, owner, hold_until).await
    }

    async fn erase_actions_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        self.erase_action_rows(subject_ref).await
    }

    async fn purge_finished_actions(&self, before: i64) -> Result<u64> {
        self.purge_finished_rows(before).await
    }

    async fn claim_due_tokens(
        &self,
        due_before: i64,
        now: i64,
        limit: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<TokenRow>> {
        self.claim_due(due_before, now, limit, owner, until).await
    }

    async fn release_token_claim(
        &self,
        conn_id: &str,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool> {
        let values = owned![conn_id.to_owned(), owner.to_owned(), hold_until];
        let n = self
            .change("releasing a claim", sql::RELEASE_TOKEN_CLAIM, values)
            .await?;
        Ok(n > 0)
    }

    async fn set_token_due(&self, conn_id: &str, version: i64, due: Option<i64>) -> Result<()> {
        let values = owned![conn_id.to_owned(), due, version];
        self.change(
            "setting a connection's due time",
            sql::SET_TOKEN_DUE,
            values,
        )
        .await?;
        Ok(())
    }

    async fn insert_pending(&self, row: PendingRow) -> Result<()> {
        let values = owned![
            row.state_hash,
            row.subject_ref,
            row.expires_at,
            row.dek_id,
            row.sealed
        ];
        let n = self
            .change("storing a pending OAuth state", sql::INSERT_PENDING, values)
            .await?;
        if n == 0 {
            return Err(Error::invalid_input("this OAuth state is already pending"));
        }
        Ok(())
    }

    async fn take_pending(&self, state_hash: &[u8; 32]) -> Result<Option<PendingRow>> {
        const WHAT: &str = "taking a pending OAuth state";
        let hash = *state_hash;
        self.pool
            .write(WHAT, move |tx| {
                // DELETE … RETURNING: of two concurrent takers exactly one gets the row. The
                // row is gone even when it fails to decode (a malformed state is useless).
                all(tx, WHAT, sql::TAKE_PENDING, params![&hash[..]], |row| {
                    Ok(rows::pending(row))
                })
            })
            .await?
            .into_iter()
            .next()
            .transpose()
    }

    async fn purge_pending(&self, now: i64) -> Result<u64> {
        self.change(
            "purging expired OAuth states",
            sql::PURGE_PENDING,
            owned![now],
        )
        .await
    }

    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        self.change(
            "erasing a subject's pending OAuth states",
            sql::ERASE_PENDING,
            owned![*subject_ref],
        )
        .await
    }

    async fn append_consent(&self, row: NewConsentRow) -> Result<ConsentRow> {
        const WHAT: &str = "appending a consent record";
        let row_digest = chain::row_digest(&row);
        self.pool
            .write(WHAT, move |tx| {
                // The write lock is held (BEGIN IMMEDIATE), so appenders queue here and each
                // links to the previous one's hash.
                let (seq, prev_hash) = one(tx, WHAT, sql::CLAIM_CONSENT_SEQ, params![], |r| {
                    let c = Columns::new(r, "sc_consent_head");
                    Ok((c.int("seq")?, c.hash("hash")?))
                })?
                .ok_or_else(|| Error::storage_msg("the consent chain's head row is missing"))?;
                let hash = chain::link(&prev_hash, seq, &row_digest);
                exec(
                    tx,
                    WHAT,
                    sql::INSERT_CONSENT,
                    params![
                        seq,
                        &row.subject_ref[..],
                        row.purpose,
                        row.platform,
                        row.action,
                        row.recorded_at,
                        row.expires_at,
                        row.dek_id,
                        row.sealed,
                        &row_digest[..],
                        &prev_hash[..],
                        &hash[..]
                    ],
                )?;
                exec(tx, WHAT, sql::SET_CONSENT_HEAD, params![&hash[..]])?;
                exec(
                    tx,
                    WHAT,
                    sql::UPSERT_CONSENT_STATE,
                    params![
                        &row.subject_ref[..],
                        row.purpose,
                        row.platform,
                        seq,
                        row.action,
                        row.expires_at,
                        row.basis,
                        row.notice_version
                    ],
                )?;
                Ok(row.stored(seq, row_digest, prev_hash, hash))
            })
            .await
    }

    async fn consent_state(
        &self,
        subject_ref: &SubjectRef,
        purpose: &str,
        platforms: &[&str],
    ) -> Result<Option<ConsentStateRow>> {
        const WHAT: &str = "reading consent state";
        if platforms.is_empty() {
            return Ok(None);
        }
        let subject = *subject_ref;
        let purpose = purpose.to_owned();
        let platforms: Vec<String> = platforms.iter().map(|p| (*p).to_owned()).collect();
        self.pool
            .lookup(WHAT, move |c| {
                let statement = sql::consent_state(platforms.len());
                let subject: &[u8] = &subject;
                let mut values: Vec<&dyn ToSql> = vec![&subject, &purpose];
                values.extend(platforms.iter().map(|p| p as &dyn ToSql));
                one(c, WHAT, &statement, &values, rows::consent_state)
            })
            .await
    }

    async fn consent_of(&self, subject_ref: &SubjectRef) -> Result<Vec<ConsentRow>> {
        self.list(
            "reading a subject's consent records",
            sql::CONSENT_OF,
            *subject_ref,
            rows::consent,
        )
        .await
    }

    async fn consent_range(&self, after: i64, limit_to: u32) -> Result<Vec<ConsentRow>> {
        const WHAT: &str = "reading consent records";
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::CONSENT_RANGE,
                    params![after, limit(limit_to)],
                    rows::consent,
                )
            })
            .await
    }

    async fn consent_notice_candidates(
        &self,
        current: &str,
        now: i64,
    ) -> Result<Vec<(SubjectRef, i64)>> {
        const WHAT: &str = "listing consents resting on another notice";
        let current = current.to_owned();
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::CONSENT_NOTICE_CANDIDATES,
                    params![current, now],
                    |row| {
                        let c = Columns::new(row, "sc_consent_state");
                        Ok((c.hash("subject_ref")?, c.int("seq")?))
                    },
                )
            })
            .await
    }

    async fn erase_consent_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        const WHAT: &str = "erasing a subject's consent records";
        let subject = *subject_ref;
        self.pool
            .write(WHAT, move |tx| {
                exec(tx, WHAT, sql::ERASE_CONSENT_STATE, params![&subject[..]])?;
                exec(tx, WHAT, sql::TOMBSTONE_CONSENT, params![&subject[..]])
            })
            .await
    }

    async fn append_usage(&self, row: UsageRow) -> Result<()> {
        let values = owned![
            row.subject_ref,
            row.at,
            row.platform,
            row.operation,
            row.outcome,
            row.http_status,
            row.latency_us,
            row.dek_id,
            row.sealed
        ];
        self.change("appending a usage-log entry", sql::APPEND_USAGE, values)
            .await?;
        Ok(())
    }

    async fn take_rate_slot(
        &self,
        key: &str,
        calls: u32,
        free_before: i64,
        stamp: i64,
    ) -> Result<RateSlot> {
        self.take_slot(key, calls, free_before, stamp).await
    }

    async fn settle_rate_slot(&self, key: &str, slot: u32, held: i64, done: i64) -> Result<()> {
        self.settle_slot(key, slot, held, done).await
    }

    async fn charge_rate_day(&self, key: &str, day: i64, limit: u32) -> Result<bool> {
        self.charge_day(key, day, limit).await
    }

    async fn set_rate_pause(&self, key: &str, until: i64) -> Result<()> {
        self.set_pause(key, until).await
    }

    async fn rate_pause(&self, key: &str) -> Result<Option<i64>> {
        self.pause(key).await
    }

    async fn purge_rate_budgets(&self, slots_before: i64, days_before: i64) -> Result<u64> {
        self.purge_budgets(slots_before, days_before).await
    }

    async fn insert_notice(&self, row: NoticeRow) -> Result<()> {
        let values = owned![
            row.version,
            row.hash,
            i64::from(row.significant),
            row.effective_at
        ];
        self.change("storing a notice version", sql::INSERT_NOTICE, values)
            .await?;
        Ok(())
    }

    async fn put_declaration(&self, row: DeclarationRow, replace: bool) -> Result<()> {
        let statement = if replace {
            sql::REPLACE_DECLARATION
        } else {
            sql::INSERT_DECLARATION
        };
        let values = owned![row.purpose, row.basis, row.justification, row.declared_at];
        self.change("storing a declared basis", statement, values)
            .await?;
        Ok(())
    }

    async fn declarations(&self) -> Result<Vec<DeclarationRow>> {
        const WHAT: &str = "reading the declared bases";
        self.pool
            .read(WHAT, move |c| {
                all(c, WHAT, sql::DECLARATIONS, params![], rows::declaration)
            })
            .await
    }

    async fn notices(&self) -> Result<Vec<NoticeRow>> {
        const WHAT: &str = "reading the notice versions";
        self.pool
            .read(WHAT, move |c| {
                all(c, WHAT, sql::NOTICES, params![], rows::notice)
            })
            .await
    }

    /// One transaction of multi-row INSERTs: chunks of 64 rows, then the rest in falling powers
    /// of two (a batch of 100 is 64 + 32 + 4), so few statements run and few are cached.
    async fn append_usage_batch(&self, rows: Vec<UsageRow>) -> Result<()> {
        const WHAT: &str = "appending usage-log entries";
        if rows.is_empty() {
            return Ok(());
        }
        self.pool
            .write(WHAT, move |tx| {
                let mut rest = &rows[..];
                while !rest.is_empty() {
                    let n = usage_chunk(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    append_usage_rows(tx, WHAT, chunk)?;
                    rest = tail;
                }
                Ok(())
            })
            .await
    }

    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>> {
        self.list(
            "reading a subject's usage log",
            sql::USAGE_OF,
            *subject_ref,
            rows::usage,
        )
        .await
    }

    async fn usage_page(
        &self,
        subject_ref: &SubjectRef,
        after: i64,
        limit_to: u32,
    ) -> Result<Vec<(i64, UsageRow)>> {
        const WHAT: &str = "reading a page of a subject's usage log";
        let subject = *subject_ref;
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::USAGE_PAGE,
                    params![&subject[..], after, limit(limit_to)],
                    rows::usage_with_id,
                )
            })
            .await
    }

    async fn purge_usage_before(&self, cutoff: i64, batch: u32) -> Result<u64> {
        const WHAT: &str = "purging old usage-log entries";
        // Bounded batches keep each write transaction (and SQLite's write lock) short.
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let n = self
                .pool
                .write(WHAT, move |tx| {
                    exec(
                        tx,
                        WHAT,
                        sql::PURGE_USAGE_BATCH,
                        params![cutoff, limit(batch)],
                    )
                })
                .await?;
            total += n;
            if n < u64::from(batch) {
                return Ok(total);
            }
        }
    }

    async fn erase_usage_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        self.change(
            "erasing a subject's usage log",
            sql::ERASE_USAGE,
            owned![*subject_ref],
        )
        .await
    }

    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()> {
        let values = owned![
            row.code,
            row.platform,
            row.subject_ref,
            row.dek_id,
            row.sealed,
            row.received_at,
            row.status,
            row.status_at,
            row.reason
        ];
        let n = self
            .change(
                "storing a deletion request",
                sql::INSERT_DELETION_REQUEST,
                values,
            )
            .await?;
        if n == 0 {
            return Err(Error::invalid_input("duplicate confirmation code"));
        }
        Ok(())
    }

    async fn get_deletion_request(&self, code: &str) -> Result<Option<DeletionRow>> {
        self.find(
            "reading a deletion request",
            sql::GET_DELETION_REQUEST,
            code.to_owned(),
            rows::deletion_request,
        )
        .await
    }

    async fn set_deletion_status(&self, code: &str, update: DeletionStatusUpdate) -> Result<bool> {
        let statement = if update.clear_subject {
            sql::SET_DELETION_STATUS_CLEARING_SUBJECT
        } else {
            sql::SET_DELETION_STATUS
        };
        let values = owned![
            code.to_owned(),
            update.status,
            update.status_at,
            update.reason
        ];
        let n = self
            .change("setting a deletion request's status", statement, values)
            .await?;
        Ok(n > 0)
    }

    async fn pending_deletion_requests(&self) -> Result<Vec<DeletionRow>> {
        const WHAT: &str = "listing pending deletion requests";
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    sql::PENDING_DELETION_REQUESTS,
                    params![],
                    rows::deletion_request,
                )
            })
            .await
    }

    async fn put_profile(&self, row: ProfileRow) -> Result<()> {
        let values = owned![row.subject_ref, row.dek_id, row.sealed, row.updated_at];
        self.change("writing a profile", sql::PUT_PROFILE, values)
            .await?;
        Ok(())
    }

    async fn get_profile(&self, subject_ref: &SubjectRef) -> Result<Option<ProfileRow>> {
        self.find(
            "reading a profile",
            sql::GET_PROFILE,
            *subject_ref,
            rows::profile,
        )
        .await
    }

    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool> {
        Ok(self
            .change(
                "deleting a profile",
                sql::DELETE_PROFILE,
                owned![*subject_ref],
            )
            .await?
            > 0)
    }

    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()> {
        let values = owned![row.pseudonym, row.erased_at, row.body];
        self.change("storing an erasure receipt", sql::INSERT_RECEIPT, values)
            .await?;
        Ok(())
    }

    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>> {
        self.list(
            "reading erasure receipts",
            sql::RECEIPTS_OF,
            pseudonym.to_owned(),
            rows::receipt,
        )
        .await
    }

    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<()> {
        const WHAT: &str = "storing an API key";
        self.pool
            .write(WHAT, move |tx| {
                if !insert_api_key_in(tx, &record, WHAT)? {
                    return Err(Error::invalid_input("duplicate API key id"));
                }
                Ok(())
            })
            .await
    }

    async fn get_api_key(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        self.find(
            "reading an API key",
            sql::GET_API_KEY,
            key_id.to_string(),
            rows::api_key,
        )
        .await
    }

    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()> {
        let values = owned![key_id.to_string(), at];
        self.change("recording an API key's use", sql::TOUCH_API_KEY, values)
            .await?;
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool> {
        let values = owned![key_id.to_string(), at];
        let n = self
            .change("revoking an API key", sql::REVOKE_API_KEY, values)
            .await?;
        Ok(n > 0)
    }

    async fn rotate_api_key(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: i64,
    ) -> Result<bool> {
        const WHAT: &str = "rotating an API key";
        let old = old.to_string();
        self.pool
            .write_or_roll_back(WHAT, move |tx| {
                if !insert_api_key_in(tx, &replacement, WHAT)? {
                    return Err(Error::invalid_input("duplicate API key id"));
                }
                // The compare-and-set: only an existing, unrevoked, never-rotated key is
                // replaced. When it is not, the insert is rolled back.
                let n = exec(
                    tx,
                    WHAT,
                    sql::MARK_API_KEY_ROTATED,
                    params![old, replacement.key_id.to_string(), grace_until],
                )?;
                Ok((n > 0).then_some(()))
            })
            .await
            .map(|rotated| rotated.is_some())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        const WHAT: &str = "listing API keys";
        self.pool
            .read(WHAT, move |c| {
                all(c, WHAT, sql::LIST_API_KEYS, params![], rows::api_key)
            })
            .await
    }

    async fn record_delivery(&self, key: [u8; 32], at: i64, forget_before: i64) -> Result<bool> {
        let changed = self
            .change(
                "recording a webhook delivery",
                sql::RECORD_DELIVERY,
                owned![key.to_vec(), at, forget_before],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn forget_delivery(&self, key: [u8; 32]) -> Result<()> {
        self.change(
            "forgetting a webhook delivery",
            sql::FORGET_DELIVERY,
            owned![key.to_vec()],
        )
        .await
        .map(drop)
    }

    async fn purge_deliveries(&self, cutoff: i64) -> Result<u64> {
        self.change(
            "purging webhook deliveries",
            sql::PURGE_DELIVERIES,
            owned![cutoff],
        )
        .await
    }

    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64> {
        self.change("purging dead API keys", sql::PURGE_API_KEYS, owned![cutoff])
            .await
    }

    async fn erase_subject(&self, subject_ref: &SubjectRef) -> Result<ErasureCounts> {
        const WHAT: &str = "erasing a subject";
        let subject = *subject_ref;
        let counts = self
            .pool
            .write(WHAT, move |tx| {
                let step = |statement: &str| exec(tx, WHAT, statement, params![&subject[..]]);
                // Leases first: they are found through the token rows.
                let leases = step(sql::ERASE_LEASES)?;
                let tokens = step(sql::ERASE_TOKENS)?;
                let actions = step(sql::ERASE_ACTIONS)?;
                let pending_states = step(sql::ERASE_PENDING)?;
                let usage_entries = step(sql::ERASE_USAGE)?;
                step(sql::ERASE_CONSENT_STATE)?;
                let consent_records = step(sql::TOMBSTONE_CONSENT)?;
                let profiles = step(sql::DELETE_PROFILE)?;
                // The requests stay (the host answers for them); only who they concerned goes.
                let deletion_requests = step(sql::CLEAR_DELETION_SUBJECT)?;
                let subject_keys = step(sql::ERASE_SUBJECT_KEY)?;
                Ok(ErasureCounts {
                    tokens,
                    leases,
                    pending_states,
                    consent_records,
                    usage_entries,
                    deletion_requests,
                    subject_keys,
                    profiles,
                    actions,
                })
            })
            .await?;
        // The deleted rows were overwritten (`secure_delete`) in new page versions; the old ones
        // stay in the WAL until a checkpoint copies the new ones into the file and empties it.
        match self.pool.checkpoint("checkpointing after an erasure").await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "an erasure's checkpoint was held back by readers: the erased rows' old bytes stay \
                 in the write-ahead log until the next checkpoint"
            ),
            Err(e) => tracing::warn!(error = %e, "an erasure's checkpoint failed"),
        }
        Ok(counts)
    }
}
