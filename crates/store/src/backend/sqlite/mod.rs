//! The embedded SQLite backend, on rusqlite: one database file, WAL, migrations applied on
//! open, every multi-row change in one transaction, no call blocking the async runtime (see
//! `pool.rs` for where each kind of call runs).
//!
//! Why rusqlite and not sqlx (which the PostgreSQL backend uses): measured in
//! `benches/store.rs`, a token read through sqlx's SQLite driver cost about ten times a
//! prepared rusqlite statement on the same file, almost all of it the driver's per-query
//! round trip to its worker thread, so the store could not come within 3× of the floor.

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
use rusqlite::{Connection, Params, params};
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::store::PutOutcome;
use socialconnect_core::{Error, Result};

use self::pool::{Pool, db};
use crate::backend::decode::{self as rows, Columns, Source};
use crate::backend::{
    AccountRef, Backend, ConsentRow, ConsentStateRow, DeletionRow, DeletionStatusUpdate,
    ErasureCounts, MetaRow, NewConsentRow, PendingRow, ProfileRow, ReceiptRow, Rewrap,
    SubjectKeyRow, SubjectRef, TokenRow, UsageRow,
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

/// The columns of a token row.
macro_rules! token_columns {
    () => {
        "conn_id, subject_ref, platform, version, status, status_since, \
     updated_at, account_ref, dek_id, sealed"
    };
}

/// The columns of a deletion request.
macro_rules! deletion_columns {
    () => {
        "code, platform, subject_ref, dek_id, sealed, received_at, \
     status, status_at, reason"
    };
}

/// The columns of an API key.
macro_rules! api_key_columns {
    () => {
        "key_id, hash, scopes, created_at, expires_at, last_used_at, \
     revoked_at, replaced_by, grace_until"
    };
}

/// The columns of a usage-log row.
macro_rules! usage_columns {
    () => {
        "subject_ref, at, platform, operation, outcome, http_status, \
     latency_us, dek_id, sealed"
    };
}

/// The columns of a consent row.
macro_rules! consent_columns {
    () => {
        "seq, subject_ref, purpose, platform, action, recorded_at, \
     expires_at, dek_id, sealed, row_digest, prev_hash, hash"
    };
}

/// The columns of a subject key.
macro_rules! subject_key_columns {
    () => {
        "subject_ref, dek_id, kek_id, wrapped, created_at"
    };
}

/// The first row `sql` returns, decoded.
fn one<T>(
    conn: &Connection,
    what: &'static str,
    sql: &str,
    params: impl Params,
    decode: impl FnOnce(&dyn Source) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db(what))?;
    let mut found = stmt.query(params).map_err(db(what))?;
    match found.next().map_err(db(what))? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

/// Every row `sql` returns, decoded.
fn all<T>(
    conn: &Connection,
    what: &'static str,
    sql: &str,
    params: impl Params,
    mut decode: impl FnMut(&dyn Source) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db(what))?;
    let mut found = stmt.query(params).map_err(db(what))?;
    let mut out = Vec::new();
    while let Some(row) = found.next().map_err(db(what))? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs one statement; returns the rows it changed.
fn exec(conn: &Connection, what: &'static str, sql: &str, params: impl Params) -> Result<u64> {
    let n = conn
        .prepare_cached(sql)
        .map_err(db(what))?
        .execute(params)
        .map_err(db(what))?;
    Ok(n as u64)
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
        "INSERT INTO sc_api_keys (key_id, prefix, hash, scopes, created_at, expires_at, \
             last_used_at, revoked_at, replaced_by, grace_until) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (key_id) DO NOTHING",
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

/// Turns a subject's consent rows into tombstones: the chain columns stay so everyone else's
/// chain still verifies.
const TOMBSTONE_CONSENT: &str = "UPDATE sc_consent SET subject_ref = NULL, purpose = NULL, \
     platform = NULL, action = NULL, recorded_at = NULL, expires_at = NULL, dek_id = NULL, \
     sealed = NULL \
     WHERE subject_ref = ?1";

#[async_trait]
impl Backend for SqliteBackend {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>> {
        const WHAT: &str = "reading a store secret";
        let name = name.to_owned();
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    "SELECT name, kek_id, wrapped FROM sc_meta WHERE name = ?1",
                    [name],
                    rows::meta,
                )
            })
            .await
    }

    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow> {
        const WHAT: &str = "storing a store secret";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_meta (name, kek_id, wrapped) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (name) DO NOTHING",
                    params![row.name, row.kek_id, row.wrapped],
                )?;
                one(
                    tx,
                    WHAT,
                    "SELECT name, kek_id, wrapped FROM sc_meta WHERE name = ?1",
                    [&row.name],
                    rows::meta,
                )?
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
        const WHAT: &str = "rewrapping a store secret";
        let args = (name.to_owned(), expected_kek.to_owned(), new_kek.to_owned());
        self.pool
            .write(WHAT, move |tx| {
                let (name, expected, new) = args;
                let n = exec(
                    tx,
                    WHAT,
                    "UPDATE sc_meta SET kek_id = ?3, wrapped = ?4 \
                     WHERE name = ?1 AND kek_id = ?2",
                    params![name, expected, new, wrapped],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn get_subject_key(&self, subject_ref: &SubjectRef) -> Result<Option<SubjectKeyRow>> {
        const WHAT: &str = "reading a subject key";
        let subject = *subject_ref;
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        subject_key_columns!(),
                        " FROM sc_subject_keys WHERE subject_ref = ?1"
                    ),
                    [&subject[..]],
                    rows::subject_key,
                )
            })
            .await
    }

    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow> {
        const WHAT: &str = "storing a subject key";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_subject_keys (subject_ref, dek_id, kek_id, wrapped, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (subject_ref) DO NOTHING",
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
                    concat!("SELECT ", subject_key_columns!(), " FROM sc_subject_keys WHERE subject_ref = ?1"),
                    [&row.subject_ref[..]],
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
                    concat!(
                        "SELECT ",
                        subject_key_columns!(),
                        " FROM sc_subject_keys \
                         WHERE kek_id <> ?1 AND subject_ref > ?2 ORDER BY subject_ref LIMIT ?3"
                    ),
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
                        "UPDATE sc_subject_keys SET kek_id = ?3, wrapped = ?4 \
                         WHERE subject_ref = ?1 AND kek_id = ?2",
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
                one(
                    c,
                    WHAT,
                    "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id = ?1) \
                          + (SELECT COUNT(*) FROM sc_meta WHERE kek_id = ?1) AS n",
                    [kek_id],
                    count,
                )
            })
            .await
            .map(Option::unwrap_or_default)
    }

    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        const WHAT: &str = "counting keys not wrapped by a key-encryption key";
        let kek_id = kek_id.to_owned();
        self.pool
            .read(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id <> ?1) \
                          + (SELECT COUNT(*) FROM sc_meta WHERE kek_id <> ?1) AS n",
                    [kek_id],
                    count,
                )
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
                        "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                             status_since, updated_at, dek_id, sealed, account_ref) \
                         VALUES (?1, ?2, ?3, 1, 'active', ?4, ?5, ?6, ?7, ?8) \
                         ON CONFLICT (conn_id) DO UPDATE SET subject_ref = excluded.subject_ref, \
                             platform = excluded.platform, version = sc_tokens.version + 1, \
                             status = excluded.status, status_since = excluded.status_since, \
                             updated_at = excluded.updated_at, dek_id = excluded.dek_id, \
                             sealed = excluded.sealed, account_ref = excluded.account_ref \
                         RETURNING version",
                        params![
                            row.conn_id,
                            &row.subject_ref[..],
                            row.platform,
                            row.status_since,
                            row.updated_at,
                            row.dek_id,
                            row.sealed,
                            account
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
                    "UPDATE sc_tokens SET subject_ref = ?3, platform = ?4, version = version + 1, \
                         status = 'active', status_since = ?5, updated_at = ?6, dek_id = ?7, \
                         sealed = ?8, account_ref = ?9 \
                     WHERE conn_id = ?1 AND version = ?2 \
                     RETURNING version",
                    params![
                        row.conn_id,
                        expected,
                        &row.subject_ref[..],
                        row.platform,
                        row.status_since,
                        row.updated_at,
                        row.dek_id,
                        row.sealed,
                        account
                    ],
                    version,
                )?;
                match written {
                    Some(version) => Ok(PutOutcome::Written(version)),
                    None => {
                        let current = one(
                            tx,
                            WHAT,
                            "SELECT version FROM sc_tokens WHERE conn_id = ?1",
                            [&row.conn_id],
                            version,
                        )?;
                        Ok(PutOutcome::Conflict(current))
                    }
                }
            })
            .await
    }

    async fn get_token(&self, conn_id: &str) -> Result<Option<TokenRow>> {
        const WHAT: &str = "reading a token row";
        let conn_id = conn_id.to_owned();
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        token_columns!(),
                        " FROM sc_tokens WHERE conn_id = ?1"
                    ),
                    [conn_id],
                    rows::token,
                )
            })
            .await
    }

    async fn set_token_status(
        &self,
        conn_id: &str,
        status: &str,
        since: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        const WHAT: &str = "setting a connection's status";
        let args = (conn_id.to_owned(), status.to_owned());
        self.pool
            .write(WHAT, move |tx| {
                let (conn_id, status) = args;
                let n = exec(
                    tx,
                    WHAT,
                    "UPDATE sc_tokens SET status = ?2, status_since = ?3, updated_at = ?4, \
                         version = version + 1 \
                     WHERE conn_id = ?1",
                    params![conn_id, status, since, now],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn delete_token(&self, conn_id: &str) -> Result<bool> {
        const WHAT: &str = "deleting a token row";
        let conn_id = conn_id.to_owned();
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_leases WHERE conn_id = ?1",
                    [&conn_id],
                )?;
                let n = exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_tokens WHERE conn_id = ?1",
                    [&conn_id],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>> {
        const WHAT: &str = "listing a subject's connections";
        let subject = *subject_ref;
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    "SELECT conn_id, platform FROM sc_tokens WHERE subject_ref = ?1 \
                     ORDER BY conn_id",
                    [&subject[..]],
                    |row| {
                        let c = Columns::new(row, "sc_tokens");
                        Ok((c.text("conn_id")?, c.text("platform")?))
                    },
                )
            })
            .await
    }

    async fn tokens_by_account(&self, account_ref: &AccountRef) -> Result<Vec<TokenRow>> {
        const WHAT: &str = "finding connections by platform account";
        let account = *account_ref;
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        token_columns!(),
                        " FROM sc_tokens WHERE account_ref = ?1 \
                         ORDER BY conn_id"
                    ),
                    [&account[..]],
                    rows::token,
                )
            })
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
                    concat!(
                        "SELECT ",
                        token_columns!(),
                        " FROM sc_tokens \
                         WHERE status IN ('reconnect_required', 'revoked') AND status_since < ?1 \
                             AND conn_id > ?2 \
                         ORDER BY conn_id LIMIT ?3"
                    ),
                    params![before, after, limit(limit_to)],
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
        const WHAT: &str = "taking a refresh lease";
        let args = (conn_id.to_owned(), owner.to_owned());
        self.pool
            .write(WHAT, move |tx| {
                let (conn_id, owner) = args;
                // One statement: the conflict check and the takeover cannot interleave with
                // another taker's. The same owner may renew its own lease.
                let n = exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_leases (conn_id, owner, expires_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (conn_id) DO UPDATE \
                         SET owner = excluded.owner, expires_at = excluded.expires_at \
                         WHERE sc_leases.expires_at <= ?4 OR sc_leases.owner = excluded.owner",
                    params![conn_id, owner, expires_at, now],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn release_lease(&self, conn_id: &str, owner: &str) -> Result<bool> {
        const WHAT: &str = "releasing a refresh lease";
        let args = (conn_id.to_owned(), owner.to_owned());
        self.pool
            .write(WHAT, move |tx| {
                let (conn_id, owner) = args;
                let n = exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_leases WHERE conn_id = ?1 AND owner = ?2",
                    params![conn_id, owner],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn insert_pending(&self, row: PendingRow) -> Result<()> {
        const WHAT: &str = "storing a pending OAuth state";
        self.pool
            .write(WHAT, move |tx| {
                let n = exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_pending (state_hash, subject_ref, expires_at, dek_id, sealed) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (state_hash) DO NOTHING",
                    params![
                        &row.state_hash[..],
                        &row.subject_ref[..],
                        row.expires_at,
                        row.dek_id,
                        row.sealed
                    ],
                )?;
                if n == 0 {
                    return Err(Error::invalid_input("this OAuth state is already pending"));
                }
                Ok(())
            })
            .await
    }

    async fn take_pending(&self, state_hash: &[u8; 32]) -> Result<Option<PendingRow>> {
        const WHAT: &str = "taking a pending OAuth state";
        let hash = *state_hash;
        self.pool
            .write(WHAT, move |tx| {
                // DELETE … RETURNING: of two concurrent takers exactly one gets the row. The
                // row is gone even when it fails to decode (a malformed state is useless).
                all(
                    tx,
                    WHAT,
                    "DELETE FROM sc_pending WHERE state_hash = ?1 \
                     RETURNING state_hash, subject_ref, expires_at, dek_id, sealed",
                    [&hash[..]],
                    |row| Ok(rows::pending(row)),
                )
            })
            .await?
            .into_iter()
            .next()
            .transpose()
    }

    async fn purge_pending(&self, now: i64) -> Result<u64> {
        const WHAT: &str = "purging expired OAuth states";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_pending WHERE expires_at <= ?1",
                    [now],
                )
            })
            .await
    }

    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        const WHAT: &str = "erasing a subject's pending OAuth states";
        let subject = *subject_ref;
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_pending WHERE subject_ref = ?1",
                    [&subject[..]],
                )
            })
            .await
    }

    async fn append_consent(&self, row: NewConsentRow) -> Result<ConsentRow> {
        const WHAT: &str = "appending a consent record";
        let row_digest = chain::row_digest(&row);
        self.pool
            .write(WHAT, move |tx| {
                // The write lock is held (BEGIN IMMEDIATE), so appenders queue here and each
                // links to the previous one's hash.
                let (seq, prev_hash) = one(
                    tx,
                    WHAT,
                    "UPDATE sc_consent_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
                    [],
                    |r| {
                        let c = Columns::new(r, "sc_consent_head");
                        Ok((c.int("seq")?, c.hash("hash")?))
                    },
                )?
                .ok_or_else(|| Error::storage_msg("the consent chain's head row is missing"))?;
                let hash = chain::link(&prev_hash, seq, &row_digest);
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_consent (seq, subject_ref, purpose, platform, action, \
                         recorded_at, expires_at, dek_id, sealed, row_digest, prev_hash, hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                exec(
                    tx,
                    WHAT,
                    "UPDATE sc_consent_head SET hash = ?1 WHERE id = 1",
                    [&hash[..]],
                )?;
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_consent_state (subject_ref, purpose, platform, seq, action, \
                         expires_at, basis, notice_version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (subject_ref, purpose, platform) DO UPDATE \
                         SET seq = excluded.seq, action = excluded.action, \
                             expires_at = excluded.expires_at, basis = excluded.basis, \
                             notice_version = excluded.notice_version",
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
                Ok(ConsentRow {
                    seq,
                    subject_ref: Some(row.subject_ref),
                    purpose: Some(row.purpose),
                    platform: Some(row.platform),
                    action: Some(row.action),
                    recorded_at: Some(row.recorded_at),
                    expires_at: row.expires_at,
                    dek_id: Some(row.dek_id),
                    sealed: Some(row.sealed),
                    row_digest,
                    prev_hash,
                    hash,
                })
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
                // Only placeholders are generated; every value is bound.
                let placeholders: Vec<String> = (0..platforms.len())
                    .map(|i| format!("?{}", i + 3))
                    .collect();
                let sql = format!(
                    "SELECT seq, action, expires_at, basis, notice_version FROM sc_consent_state \
                     WHERE subject_ref = ?1 AND purpose = ?2 AND platform IN ({}) \
                     ORDER BY seq DESC LIMIT 1",
                    placeholders.join(", ")
                );
                let subject: &[u8] = &subject;
                let mut values: Vec<&dyn rusqlite::ToSql> = vec![&subject, &purpose];
                values.extend(platforms.iter().map(|p| p as &dyn rusqlite::ToSql));
                one(c, WHAT, &sql, values.as_slice(), rows::consent_state)
            })
            .await
    }

    async fn consent_of(&self, subject_ref: &SubjectRef) -> Result<Vec<ConsentRow>> {
        const WHAT: &str = "reading a subject's consent records";
        let subject = *subject_ref;
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        consent_columns!(),
                        " FROM sc_consent WHERE subject_ref = ?1 \
                         ORDER BY seq"
                    ),
                    [&subject[..]],
                    rows::consent,
                )
            })
            .await
    }

    async fn consent_range(&self, after: i64, limit_to: u32) -> Result<Vec<ConsentRow>> {
        const WHAT: &str = "reading consent records";
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        consent_columns!(),
                        " FROM sc_consent WHERE seq > ?1 \
                         ORDER BY seq LIMIT ?2"
                    ),
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
                    "SELECT subject_ref, seq FROM sc_consent_state \
                     WHERE action = 'grant' AND (basis = 'consent' OR basis IS NULL) \
                         AND (notice_version IS NULL OR notice_version <> ?1) \
                         AND (expires_at IS NULL OR expires_at > ?2) \
                     ORDER BY subject_ref, seq DESC",
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
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_consent_state WHERE subject_ref = ?1",
                    [&subject[..]],
                )?;
                exec(tx, WHAT, TOMBSTONE_CONSENT, [&subject[..]])
            })
            .await
    }

    async fn append_usage(&self, row: UsageRow) -> Result<()> {
        const WHAT: &str = "appending a usage-log entry";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    concat!(
                        "INSERT INTO sc_usage_log (",
                        usage_columns!(),
                        ") \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                    ),
                    params![
                        &row.subject_ref[..],
                        row.at,
                        row.platform,
                        row.operation,
                        row.outcome,
                        row.http_status,
                        row.latency_us,
                        row.dek_id,
                        row.sealed
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>> {
        const WHAT: &str = "reading a subject's usage log";
        let subject = *subject_ref;
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        usage_columns!(),
                        " FROM sc_usage_log WHERE subject_ref = ?1 \
                         ORDER BY at, id"
                    ),
                    [&subject[..]],
                    rows::usage,
                )
            })
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
                    concat!(
                        "SELECT ",
                        usage_columns!(),
                        ", id FROM sc_usage_log \
                         WHERE subject_ref = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                    ),
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
                        "DELETE FROM sc_usage_log WHERE id IN \
                         (SELECT id FROM sc_usage_log WHERE at < ?1 ORDER BY id LIMIT ?2)",
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
        const WHAT: &str = "erasing a subject's usage log";
        let subject = *subject_ref;
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_usage_log WHERE subject_ref = ?1",
                    [&subject[..]],
                )
            })
            .await
    }

    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()> {
        const WHAT: &str = "storing a deletion request";
        self.pool
            .write(WHAT, move |tx| {
                let n = exec(
                    tx,
                    WHAT,
                    concat!(
                        "INSERT INTO sc_deletion_requests (",
                        deletion_columns!(),
                        ") \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (code) DO NOTHING"
                    ),
                    params![
                        row.code,
                        row.platform,
                        row.subject_ref.as_ref().map(|r| &r[..]),
                        row.dek_id,
                        row.sealed,
                        row.received_at,
                        row.status,
                        row.status_at,
                        row.reason
                    ],
                )?;
                if n == 0 {
                    return Err(Error::invalid_input("duplicate confirmation code"));
                }
                Ok(())
            })
            .await
    }

    async fn get_deletion_request(&self, code: &str) -> Result<Option<DeletionRow>> {
        const WHAT: &str = "reading a deletion request";
        let code = code.to_owned();
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        deletion_columns!(),
                        " FROM sc_deletion_requests WHERE code = ?1"
                    ),
                    [code],
                    rows::deletion_request,
                )
            })
            .await
    }

    async fn set_deletion_status(&self, code: &str, update: DeletionStatusUpdate) -> Result<bool> {
        const WHAT: &str = "setting a deletion request's status";
        let code = code.to_owned();
        self.pool
            .write(WHAT, move |tx| {
                let sql = if update.clear_subject {
                    "UPDATE sc_deletion_requests SET status = ?2, status_at = ?3, reason = ?4, \
                         subject_ref = NULL, dek_id = NULL, sealed = NULL \
                     WHERE code = ?1"
                } else {
                    "UPDATE sc_deletion_requests SET status = ?2, status_at = ?3, reason = ?4 \
                     WHERE code = ?1"
                };
                let n = exec(
                    tx,
                    WHAT,
                    sql,
                    params![code, update.status, update.status_at, update.reason],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn pending_deletion_requests(&self) -> Result<Vec<DeletionRow>> {
        const WHAT: &str = "listing pending deletion requests";
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        deletion_columns!(),
                        " FROM sc_deletion_requests \
                         WHERE status = 'pending' ORDER BY received_at, code"
                    ),
                    [],
                    rows::deletion_request,
                )
            })
            .await
    }

    async fn put_profile(&self, row: ProfileRow) -> Result<()> {
        const WHAT: &str = "writing a profile";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_profiles (subject_ref, dek_id, sealed, updated_at) \
                     VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (subject_ref) DO UPDATE SET dek_id = excluded.dek_id, \
                         sealed = excluded.sealed, updated_at = excluded.updated_at",
                    params![&row.subject_ref[..], row.dek_id, row.sealed, row.updated_at],
                )?;
                Ok(())
            })
            .await
    }

    async fn get_profile(&self, subject_ref: &SubjectRef) -> Result<Option<ProfileRow>> {
        const WHAT: &str = "reading a profile";
        let subject = *subject_ref;
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    "SELECT subject_ref, dek_id, sealed, updated_at FROM sc_profiles \
                     WHERE subject_ref = ?1",
                    [&subject[..]],
                    rows::profile,
                )
            })
            .await
    }

    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool> {
        const WHAT: &str = "deleting a profile";
        let subject = *subject_ref;
        self.pool
            .write(WHAT, move |tx| {
                let n = exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_profiles WHERE subject_ref = ?1",
                    [&subject[..]],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()> {
        const WHAT: &str = "storing an erasure receipt";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "INSERT INTO sc_erasure_receipts (pseudonym, erased_at, body) \
                     VALUES (?1, ?2, ?3)",
                    params![row.pseudonym, row.erased_at, row.body],
                )?;
                Ok(())
            })
            .await
    }

    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>> {
        const WHAT: &str = "reading erasure receipts";
        let pseudonym = pseudonym.to_owned();
        self.pool
            .read(WHAT, move |c| {
                all(
                    c,
                    WHAT,
                    "SELECT pseudonym, erased_at, body FROM sc_erasure_receipts \
                     WHERE pseudonym = ?1 ORDER BY id",
                    [pseudonym],
                    rows::receipt,
                )
            })
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
        const WHAT: &str = "reading an API key";
        let key_id = key_id.to_string();
        self.pool
            .lookup(WHAT, move |c| {
                one(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        api_key_columns!(),
                        " FROM sc_api_keys WHERE key_id = ?1"
                    ),
                    [key_id],
                    rows::api_key,
                )
            })
            .await
    }

    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()> {
        const WHAT: &str = "recording an API key's use";
        let key_id = key_id.to_string();
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "UPDATE sc_api_keys SET last_used_at = ?2 \
                     WHERE key_id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
                    params![key_id, at],
                )?;
                Ok(())
            })
            .await
    }

    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool> {
        const WHAT: &str = "revoking an API key";
        let key_id = key_id.to_string();
        self.pool
            .write(WHAT, move |tx| {
                let n = exec(
                    tx,
                    WHAT,
                    "UPDATE sc_api_keys SET revoked_at = ?2 \
                     WHERE key_id = ?1 AND revoked_at IS NULL",
                    params![key_id, at],
                )?;
                Ok(n > 0)
            })
            .await
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
                    "UPDATE sc_api_keys SET replaced_by = ?2, grace_until = ?3 \
                     WHERE key_id = ?1 AND revoked_at IS NULL AND replaced_by IS NULL",
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
                all(
                    c,
                    WHAT,
                    concat!(
                        "SELECT ",
                        api_key_columns!(),
                        " FROM sc_api_keys ORDER BY created_at, key_id"
                    ),
                    [],
                    rows::api_key,
                )
            })
            .await
    }

    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64> {
        const WHAT: &str = "purging dead API keys";
        self.pool
            .write(WHAT, move |tx| {
                exec(
                    tx,
                    WHAT,
                    "DELETE FROM sc_api_keys \
                     WHERE revoked_at <= ?1 OR expires_at <= ?1 OR grace_until <= ?1",
                    [cutoff],
                )
            })
            .await
    }

    async fn erase_subject(&self, subject_ref: &SubjectRef) -> Result<ErasureCounts> {
        const WHAT: &str = "erasing a subject";
        let subject = *subject_ref;
        let counts = self
            .pool
            .write(WHAT, move |tx| {
                let step = |sql: &str| exec(tx, WHAT, sql, [&subject[..]]);
                // Leases first: they are found through the token rows.
                let leases = step(
                    "DELETE FROM sc_leases WHERE conn_id IN \
                     (SELECT conn_id FROM sc_tokens WHERE subject_ref = ?1)",
                )?;
                let tokens = step("DELETE FROM sc_tokens WHERE subject_ref = ?1")?;
                let pending_states = step("DELETE FROM sc_pending WHERE subject_ref = ?1")?;
                let usage_entries = step("DELETE FROM sc_usage_log WHERE subject_ref = ?1")?;
                step("DELETE FROM sc_consent_state WHERE subject_ref = ?1")?;
                let consent_records = step(TOMBSTONE_CONSENT)?;
                let profiles = step("DELETE FROM sc_profiles WHERE subject_ref = ?1")?;
                // The requests stay (the host answers for them); only who they concerned goes.
                let deletion_requests = step(
                    "UPDATE sc_deletion_requests SET subject_ref = NULL, dek_id = NULL, \
                         sealed = NULL \
                     WHERE subject_ref = ?1",
                )?;
                let subject_keys = step("DELETE FROM sc_subject_keys WHERE subject_ref = ?1")?;
                Ok(ErasureCounts {
                    tokens,
                    leases,
                    pending_states,
                    consent_records,
                    usage_entries,
                    deletion_requests,
                    subject_keys,
                    profiles,
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
