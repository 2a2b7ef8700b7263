//! The PostgreSQL backend, over [`sqlx::AnyPool`] with the PostgreSQL driver.
//!
//! Queries use `$N` placeholders and only the types the Any driver carries: 64-bit integers,
//! text and bytes. Write transactions are plain `BEGIN` (read committed): every read-then-write
//! goes through a row lock or an `ON CONFLICT` clause.

mod decode;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;

use async_trait::async_trait;
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::store::PutOutcome;
use socialconnect_core::{Error, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

use crate::backend::decode::{self as rows, Columns};
use crate::backend::{
    AccountRef, Backend, ConsentRow, ConsentStateRow, DeletionRow, DeletionStatusUpdate,
    ErasureCounts, MetaRow, NewConsentRow, PendingRow, ProfileRow, ReceiptRow, Rewrap,
    SubjectKeyRow, SubjectRef, TokenRow, UsageRow,
};
use crate::chain;

/// Sealed rows in PostgreSQL.
pub(crate) struct PgBackend {
    pool: AnyPool,
}

impl fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBackend").finish_non_exhaustive()
    }
}

/// Error mapper for a failed query: says what failed, keeps sqlx's error as the source (sqlx
/// errors name statements and constraints, never bound values).
fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::storage(what, e)
}

/// A `u32` limit as the `BIGINT` SQL compares it with.
fn limit(n: u32) -> i64 {
    i64::from(n)
}

/// The columns of a token row, decoded by name.
const TOKEN_COLUMNS: &str = "conn_id, subject_ref, platform, version, status, status_since, \
     updated_at, account_ref, dek_id, sealed";

/// The columns of a deletion request.
const DELETION_COLUMNS: &str = "code, platform, subject_ref, dek_id, sealed, received_at, \
     status, status_at, reason";

/// The columns of an API key, decoded by name.
const API_KEY_COLUMNS: &str = "key_id, hash, scopes, created_at, expires_at, last_used_at, \
     revoked_at, replaced_by, grace_until";

/// The columns of a usage-log row.
const USAGE_COLUMNS: &str = "subject_ref, at, platform, operation, outcome, http_status, \
     latency_us, dek_id, sealed";

/// A time as the microseconds `sc_api_keys` stores.
fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// Inserts an API key inside `tx`; false when the id exists.
async fn insert_api_key_in(
    tx: &mut Transaction<'static, Any>,
    r: &ApiKeyRecord,
    what: &'static str,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO sc_api_keys (key_id, prefix, hash, scopes, created_at, expires_at, \
             last_used_at, revoked_at, replaced_by, grace_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key_id) DO NOTHING",
    )
    .bind(r.key_id.to_string())
    .bind(r.key_id.prefix())
    .bind(&r.hash.as_bytes()[..])
    .bind(r.scopes.join(" "))
    .bind(micros(r.created_at))
    .bind(r.expires_at.map(micros))
    .bind(r.last_used_at.map(micros))
    .bind(r.revoked_at.map(micros))
    .bind(r.replaced_by.map(|id| id.to_string()))
    .bind(r.grace_until.map(micros))
    .execute(&mut **tx)
    .await
    .map_err(db(what))?;
    Ok(affected(&done) > 0)
}

/// A row count as the trait reports it.
fn affected(result: &sqlx::any::AnyQueryResult) -> u64 {
    result.rows_affected()
}

impl PgBackend {
    /// Connects to PostgreSQL at `url` and brings the schema up to date.
    ///
    /// Installs sqlx's default Any drivers (a no-op when already done that way; sqlx panics if
    /// the host installed a different driver set itself first).
    pub(crate) async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(db("connecting to PostgreSQL"))?;
        let checked = match pool.acquire().await {
            Ok(conn) if conn.backend_name() == "PostgreSQL" => Ok(()),
            Ok(_) => Err(Error::config("the URL names another kind of database")),
            Err(e) => Err(db("connecting to PostgreSQL")(e)),
        };
        if let Err(e) = checked {
            pool.close().await;
            return Err(e);
        }
        if let Err(e) = schema::migrate(&pool).await {
            pool.close().await;
            return Err(e);
        }
        Ok(Self { pool })
    }

    /// Begins a transaction that will write.
    async fn begin(&self, what: &'static str) -> Result<Transaction<'static, Any>> {
        self.pool.begin().await.map_err(db(what))
    }
}

#[async_trait]
impl Backend for PgBackend {
    async fn close(&self) {
        self.pool.close().await;
    }

    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>> {
        let row = sqlx::query("SELECT name, kek_id, wrapped FROM sc_meta WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a store secret"))?;
        row.as_ref().map(|row| rows::meta(row)).transpose()
    }

    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow> {
        const WHAT: &str = "storing a store secret";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(
            "INSERT INTO sc_meta (name, kek_id, wrapped) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&row.name)
        .bind(&row.kek_id)
        .bind(row.wrapped.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        let stored = sqlx::query("SELECT name, kek_id, wrapped FROM sc_meta WHERE name = $1")
            .bind(&row.name)
            .fetch_one(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        tx.commit().await.map_err(db(WHAT))?;
        rows::meta(&stored)
    }

    async fn rewrap_meta(
        &self,
        name: &str,
        expected_kek: &str,
        new_kek: &str,
        wrapped: Vec<u8>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sc_meta SET kek_id = $3, wrapped = $4 WHERE name = $1 AND kek_id = $2",
        )
        .bind(name)
        .bind(expected_kek)
        .bind(new_kek)
        .bind(wrapped)
        .execute(&self.pool)
        .await
        .map_err(db("rewrapping a store secret"))?;
        Ok(affected(&done) > 0)
    }

    async fn get_subject_key(&self, subject_ref: &SubjectRef) -> Result<Option<SubjectKeyRow>> {
        let row = sqlx::query(
            "SELECT subject_ref, dek_id, kek_id, wrapped, created_at \
             FROM sc_subject_keys WHERE subject_ref = $1",
        )
        .bind(&subject_ref[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a subject key"))?;
        row.as_ref().map(|row| rows::subject_key(row)).transpose()
    }

    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow> {
        const WHAT: &str = "storing a subject key";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(
            "INSERT INTO sc_subject_keys (subject_ref, dek_id, kek_id, wrapped, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject_ref) DO NOTHING",
        )
        .bind(&row.subject_ref[..])
        .bind(&row.dek_id)
        .bind(&row.kek_id)
        .bind(row.wrapped.as_slice())
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        let stored = sqlx::query(
            "SELECT subject_ref, dek_id, kek_id, wrapped, created_at \
             FROM sc_subject_keys WHERE subject_ref = $1",
        )
        .bind(&row.subject_ref[..])
        .fetch_one(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        tx.commit().await.map_err(db(WHAT))?;
        rows::subject_key(&stored)
    }

    async fn subject_keys_not_wrapped_by(
        &self,
        kek_id: &str,
        after: Option<SubjectRef>,
        limit_to: u32,
    ) -> Result<Vec<SubjectKeyRow>> {
        const WHAT: &str = "listing subject keys to rewrap";
        let rows = match after {
            None => sqlx::query(
                "SELECT subject_ref, dek_id, kek_id, wrapped, created_at FROM sc_subject_keys \
                 WHERE kek_id <> $1 ORDER BY subject_ref LIMIT $2",
            )
            .bind(kek_id)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db(WHAT))?,
            Some(after) => sqlx::query(
                "SELECT subject_ref, dek_id, kek_id, wrapped, created_at FROM sc_subject_keys \
                 WHERE kek_id <> $1 AND subject_ref > $2 ORDER BY subject_ref LIMIT $3",
            )
            .bind(kek_id)
            .bind(&after[..])
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db(WHAT))?,
        };
        rows.iter().map(|row| rows::subject_key(row)).collect()
    }

    async fn rewrap_subject_keys(&self, rewraps: Vec<Rewrap>) -> Result<u64> {
        const WHAT: &str = "rewrapping subject keys";
        if rewraps.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin(WHAT).await?;
        let mut applied = 0;
        for rewrap in &rewraps {
            let done = sqlx::query(
                "UPDATE sc_subject_keys SET kek_id = $3, wrapped = $4 \
                 WHERE subject_ref = $1 AND kek_id = $2",
            )
            .bind(&rewrap.subject_ref[..])
            .bind(&rewrap.expected_kek)
            .bind(&rewrap.new_kek)
            .bind(rewrap.wrapped.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
            applied += affected(&done);
        }
        tx.commit().await.map_err(db(WHAT))?;
        Ok(applied)
    }

    async fn count_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id = $1) \
                  + (SELECT COUNT(*) FROM sc_meta WHERE kek_id = $1) AS n",
        )
        .bind(kek_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting keys wrapped by a key-encryption key"))?;
        Columns::new(&row, "sc_subject_keys").count("n")
    }

    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id <> $1) \
                  + (SELECT COUNT(*) FROM sc_meta WHERE kek_id <> $1) AS n",
        )
        .bind(kek_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db("counting keys not wrapped by a key-encryption key"))?;
        Columns::new(&row, "sc_subject_keys").count("n")
    }

    async fn put_token(&self, row: TokenRow, expected_version: Option<i64>) -> Result<PutOutcome> {
        const WHAT: &str = "writing a token row";
        let Some(expected) = expected_version else {
            let written = sqlx::query(
                "INSERT INTO sc_tokens (conn_id, subject_ref, platform, version, status, \
                     status_since, updated_at, dek_id, sealed, account_ref) \
                 VALUES ($1, $2, $3, 1, 'active', $4, $5, $6, $7, $8) \
                 ON CONFLICT (conn_id) DO UPDATE SET subject_ref = excluded.subject_ref, \
                     platform = excluded.platform, version = sc_tokens.version + 1, \
                     status = excluded.status, status_since = excluded.status_since, \
                     updated_at = excluded.updated_at, dek_id = excluded.dek_id, \
                     sealed = excluded.sealed, account_ref = excluded.account_ref \
                 RETURNING version",
            )
            .bind(&row.conn_id)
            .bind(&row.subject_ref[..])
            .bind(&row.platform)
            .bind(row.status_since)
            .bind(row.updated_at)
            .bind(&row.dek_id)
            .bind(row.sealed.as_slice())
            .bind(row.account_ref.as_ref().map(|r| &r[..]))
            .fetch_one(&self.pool)
            .await
            .map_err(db(WHAT))?;
            let version = Columns::new(&written, "sc_tokens").version("version")?;
            return Ok(PutOutcome::Written(version.unsigned_abs()));
        };
        let mut tx = self.begin(WHAT).await?;
        let written = sqlx::query(
            "UPDATE sc_tokens SET subject_ref = $3, platform = $4, version = version + 1, \
                 status = 'active', status_since = $5, updated_at = $6, dek_id = $7, \
                 sealed = $8, account_ref = $9 \
             WHERE conn_id = $1 AND version = $2 \
             RETURNING version",
        )
        .bind(&row.conn_id)
        .bind(expected)
        .bind(&row.subject_ref[..])
        .bind(&row.platform)
        .bind(row.status_since)
        .bind(row.updated_at)
        .bind(&row.dek_id)
        .bind(row.sealed.as_slice())
        .bind(row.account_ref.as_ref().map(|r| &r[..]))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        let outcome = match written {
            Some(written) => {
                let version = Columns::new(&written, "sc_tokens").version("version")?;
                PutOutcome::Written(version.unsigned_abs())
            }
            None => {
                let current = sqlx::query("SELECT version FROM sc_tokens WHERE conn_id = $1")
                    .bind(&row.conn_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db(WHAT))?;
                let current = current
                    .map(|r| Columns::new(&r, "sc_tokens").version("version"))
                    .transpose()?;
                PutOutcome::Conflict(current.map(i64::unsigned_abs))
            }
        };
        tx.commit().await.map_err(db(WHAT))?;
        Ok(outcome)
    }

    async fn get_token(&self, conn_id: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM sc_tokens WHERE conn_id = $1"
        )))
        .bind(conn_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a token row"))?;
        row.as_ref().map(|row| rows::token(row)).transpose()
    }

    async fn set_token_status(
        &self,
        conn_id: &str,
        status: &str,
        since: Option<i64>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sc_tokens SET status = $2, status_since = $3, updated_at = $4, \
                 version = version + 1 \
             WHERE conn_id = $1",
        )
        .bind(conn_id)
        .bind(status)
        .bind(since)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db("setting a connection's status"))?;
        Ok(affected(&done) > 0)
    }

    async fn delete_token(&self, conn_id: &str) -> Result<bool> {
        const WHAT: &str = "deleting a token row";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query("DELETE FROM sc_leases WHERE conn_id = $1")
            .bind(conn_id)
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        let done = sqlx::query("DELETE FROM sc_tokens WHERE conn_id = $1")
            .bind(conn_id)
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        tx.commit().await.map_err(db(WHAT))?;
        Ok(affected(&done) > 0)
    }

    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT conn_id, platform FROM sc_tokens WHERE subject_ref = $1 ORDER BY conn_id",
        )
        .bind(&subject_ref[..])
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing a subject's connections"))?;
        rows.iter()
            .map(|row| {
                let c = Columns::new(row, "sc_tokens");
                Ok((c.text("conn_id")?, c.text("platform")?))
            })
            .collect()
    }

    async fn tokens_by_account(&self, account_ref: &AccountRef) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM sc_tokens WHERE account_ref = $1 ORDER BY conn_id"
        )))
        .bind(&account_ref[..])
        .fetch_all(&self.pool)
        .await
        .map_err(db("finding connections by platform account"))?;
        rows.iter().map(|row| rows::token(row)).collect()
    }

    async fn stale_tokens(&self, before: i64, after: &str, limit_to: u32) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM sc_tokens \
             WHERE status IN ('reconnect_required', 'revoked') AND status_since < $1 \
                 AND conn_id > $2 \
             ORDER BY conn_id LIMIT $3"
        )))
        .bind(before)
        .bind(after)
        .bind(limit(limit_to))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing stale connections"))?;
        rows.iter().map(|row| rows::token(row)).collect()
    }

    async fn try_lease(
        &self,
        conn_id: &str,
        owner: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool> {
        // One statement: the conflict check and the takeover cannot interleave with another
        // taker's. The same owner may renew its own lease.
        let done = sqlx::query(
            "INSERT INTO sc_leases (conn_id, owner, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (conn_id) DO UPDATE \
                 SET owner = excluded.owner, expires_at = excluded.expires_at \
                 WHERE sc_leases.expires_at <= $4 OR sc_leases.owner = excluded.owner",
        )
        .bind(conn_id)
        .bind(owner)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db("taking a refresh lease"))?;
        Ok(affected(&done) > 0)
    }

    async fn release_lease(&self, conn_id: &str, owner: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sc_leases WHERE conn_id = $1 AND owner = $2")
            .bind(conn_id)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db("releasing a refresh lease"))?;
        Ok(affected(&done) > 0)
    }

    async fn insert_pending(&self, row: PendingRow) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO sc_pending (state_hash, subject_ref, expires_at, dek_id, sealed) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (state_hash) DO NOTHING",
        )
        .bind(&row.state_hash[..])
        .bind(&row.subject_ref[..])
        .bind(row.expires_at)
        .bind(&row.dek_id)
        .bind(row.sealed.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db("storing a pending OAuth state"))?;
        if affected(&done) == 0 {
            return Err(Error::invalid_input("this OAuth state is already pending"));
        }
        Ok(())
    }

    async fn take_pending(&self, state_hash: &[u8; 32]) -> Result<Option<PendingRow>> {
        // DELETE … RETURNING: of two concurrent takers exactly one gets the row.
        let row = sqlx::query(
            "DELETE FROM sc_pending WHERE state_hash = $1 \
             RETURNING state_hash, subject_ref, expires_at, dek_id, sealed",
        )
        .bind(&state_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db("taking a pending OAuth state"))?;
        row.as_ref().map(|row| rows::pending(row)).transpose()
    }

    async fn purge_pending(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sc_pending WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db("purging expired OAuth states"))?;
        Ok(affected(&done))
    }

    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sc_pending WHERE subject_ref = $1")
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("erasing a subject's pending OAuth states"))?;
        Ok(affected(&done))
    }

    async fn append_consent(&self, row: NewConsentRow) -> Result<ConsentRow> {
        const WHAT: &str = "appending a consent record";
        let row_digest = chain::row_digest(&row);
        let mut tx = self.begin(WHAT).await?;
        // Claiming the next seq on the head row takes its row lock, so appenders queue here
        // and each links to the previous one's hash. RETURNING gives the new seq and the still-unchanged previous hash.
        let head = sqlx::query(
            "UPDATE sc_consent_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(db(WHAT))?
        .ok_or_else(|| Error::storage_msg("the consent chain's head row is missing"))?;
        let (seq, prev_hash) = {
            let head = Columns::new(&head, "sc_consent_head");
            (head.int("seq")?, head.hash("hash")?)
        };
        let hash = chain::link(&prev_hash, seq, &row_digest);
        sqlx::query(
            "INSERT INTO sc_consent (seq, subject_ref, purpose, platform, action, recorded_at, \
                 expires_at, dek_id, sealed, row_digest, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(seq)
        .bind(&row.subject_ref[..])
        .bind(&row.purpose)
        .bind(&row.platform)
        .bind(&row.action)
        .bind(row.recorded_at)
        .bind(row.expires_at)
        .bind(&row.dek_id)
        .bind(row.sealed.as_slice())
        .bind(&row_digest[..])
        .bind(&prev_hash[..])
        .bind(&hash[..])
        .execute(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        sqlx::query("UPDATE sc_consent_head SET hash = $1 WHERE id = 1")
            .bind(&hash[..])
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        sqlx::query(
            "INSERT INTO sc_consent_state (subject_ref, purpose, platform, seq, action, \
                 expires_at, basis, notice_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (subject_ref, purpose, platform) DO UPDATE \
                 SET seq = excluded.seq, action = excluded.action, \
                     expires_at = excluded.expires_at, basis = excluded.basis, \
                     notice_version = excluded.notice_version",
        )
        .bind(&row.subject_ref[..])
        .bind(&row.purpose)
        .bind(&row.platform)
        .bind(seq)
        .bind(&row.action)
        .bind(row.expires_at)
        .bind(&row.basis)
        .bind(row.notice_version.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        tx.commit().await.map_err(db(WHAT))?;
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
    }

    async fn consent_state(
        &self,
        subject_ref: &SubjectRef,
        purpose: &str,
        platforms: &[&str],
    ) -> Result<Option<ConsentStateRow>> {
        if platforms.is_empty() {
            return Ok(None);
        }
        // Only placeholders are generated; every value is bound.
        let placeholders: Vec<String> = (0..platforms.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT seq, action, expires_at, basis, notice_version FROM sc_consent_state \
             WHERE subject_ref = $1 AND purpose = $2 AND platform IN ({}) \
             ORDER BY seq DESC LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&subject_ref[..])
            .bind(purpose);
        for platform in platforms {
            query = query.bind(*platform);
        }
        let row = query
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading consent state"))?;
        row.as_ref().map(|row| rows::consent_state(row)).transpose()
    }

    async fn consent_of(&self, subject_ref: &SubjectRef) -> Result<Vec<ConsentRow>> {
        let rows = sqlx::query(
            "SELECT seq, subject_ref, purpose, platform, action, recorded_at, expires_at, \
                 dek_id, sealed, row_digest, prev_hash, hash \
             FROM sc_consent WHERE subject_ref = $1 ORDER BY seq",
        )
        .bind(&subject_ref[..])
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a subject's consent records"))?;
        rows.iter().map(|row| rows::consent(row)).collect()
    }

    async fn consent_range(&self, after: i64, limit_to: u32) -> Result<Vec<ConsentRow>> {
        let rows = sqlx::query(
            "SELECT seq, subject_ref, purpose, platform, action, recorded_at, expires_at, \
                 dek_id, sealed, row_digest, prev_hash, hash \
             FROM sc_consent WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit(limit_to))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading consent records"))?;
        rows.iter().map(|row| rows::consent(row)).collect()
    }

    async fn consent_notice_candidates(
        &self,
        current: &str,
        now: i64,
    ) -> Result<Vec<(SubjectRef, i64)>> {
        let rows = sqlx::query(
            "SELECT subject_ref, seq FROM sc_consent_state \
             WHERE action = 'grant' AND (basis = 'consent' OR basis IS NULL) \
                 AND (notice_version IS NULL OR notice_version <> $1) \
                 AND (expires_at IS NULL OR expires_at > $2) \
             ORDER BY subject_ref, seq DESC",
        )
        .bind(current)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing consents resting on another notice"))?;
        rows.iter()
            .map(|row| -> Result<(SubjectRef, i64)> {
                let c = Columns::new(row, "sc_consent_state");
                Ok((c.hash("subject_ref")?, c.int("seq")?))
            })
            .collect()
    }

    async fn erase_consent_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        const WHAT: &str = "erasing a subject's consent records";
        let subject = &subject_ref[..];
        let mut tx = self.begin(WHAT).await?;
        erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_consent_state WHERE subject_ref = $1",
        )
        .await?;
        let n = erase_step(&mut tx, subject, TOMBSTONE_CONSENT).await?;
        tx.commit().await.map_err(db(WHAT))?;
        Ok(n)
    }

    async fn append_usage(&self, row: UsageRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sc_usage_log (subject_ref, at, platform, operation, outcome, \
                 http_status, latency_us, dek_id, sealed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.subject_ref[..])
        .bind(row.at)
        .bind(&row.platform)
        .bind(&row.operation)
        .bind(&row.outcome)
        .bind(row.http_status)
        .bind(row.latency_us)
        .bind(&row.dek_id)
        .bind(row.sealed.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db("appending a usage-log entry"))?;
        Ok(())
    }

    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT subject_ref, at, platform, operation, outcome, http_status, latency_us, \
                 dek_id, sealed \
             FROM sc_usage_log WHERE subject_ref = $1 ORDER BY at, id",
        )
        .bind(&subject_ref[..])
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a subject's usage log"))?;
        rows.iter().map(|row| rows::usage(row)).collect()
    }

    async fn usage_page(
        &self,
        subject_ref: &SubjectRef,
        after: i64,
        limit_to: u32,
    ) -> Result<Vec<(i64, UsageRow)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USAGE_COLUMNS}, id FROM sc_usage_log \
             WHERE subject_ref = $1 AND id > $2 ORDER BY id LIMIT $3"
        )))
        .bind(&subject_ref[..])
        .bind(after)
        .bind(limit(limit_to))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading a page of a subject's usage log"))?;
        rows.iter().map(|row| rows::usage_with_id(row)).collect()
    }

    async fn purge_usage_before(&self, cutoff: i64, batch: u32) -> Result<u64> {
        // Bounded batches keep each write transaction (and its row locks) short.
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM sc_usage_log WHERE id IN \
                 (SELECT id FROM sc_usage_log WHERE at < $1 ORDER BY id LIMIT $2)",
            )
            .bind(cutoff)
            .bind(limit(batch))
            .execute(&self.pool)
            .await
            .map_err(db("purging old usage-log entries"))?;
            let n = affected(&done);
            total += n;
            if n < u64::from(batch) {
                return Ok(total);
            }
        }
    }

    async fn erase_usage_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sc_usage_log WHERE subject_ref = $1")
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("erasing a subject's usage log"))?;
        Ok(affected(&done))
    }

    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO sc_deletion_requests (code, platform, subject_ref, dek_id, sealed, \
                 received_at, status, status_at, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING",
        )
        .bind(&row.code)
        .bind(&row.platform)
        .bind(row.subject_ref.as_ref().map(|r| &r[..]))
        .bind(row.dek_id.as_deref())
        .bind(row.sealed.as_deref())
        .bind(row.received_at)
        .bind(&row.status)
        .bind(row.status_at)
        .bind(row.reason.as_deref())
        .execute(&self.pool)
        .await
        .map_err(db("storing a deletion request"))?;
        if affected(&done) == 0 {
            return Err(Error::invalid_input("duplicate confirmation code"));
        }
        Ok(())
    }

    async fn get_deletion_request(&self, code: &str) -> Result<Option<DeletionRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELETION_COLUMNS} FROM sc_deletion_requests WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a deletion request"))?;
        row.as_ref()
            .map(|row| rows::deletion_request(row))
            .transpose()
    }

    async fn set_deletion_status(&self, code: &str, update: DeletionStatusUpdate) -> Result<bool> {
        let sql = if update.clear_subject {
            "UPDATE sc_deletion_requests SET status = $2, status_at = $3, reason = $4, \
                 subject_ref = NULL, dek_id = NULL, sealed = NULL \
             WHERE code = $1"
        } else {
            "UPDATE sc_deletion_requests SET status = $2, status_at = $3, reason = $4 \
             WHERE code = $1"
        };
        let done = sqlx::query(sql)
            .bind(code)
            .bind(&update.status)
            .bind(update.status_at)
            .bind(update.reason.as_deref())
            .execute(&self.pool)
            .await
            .map_err(db("setting a deletion request's status"))?;
        Ok(affected(&done) > 0)
    }

    async fn pending_deletion_requests(&self) -> Result<Vec<DeletionRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELETION_COLUMNS} FROM sc_deletion_requests \
             WHERE status = 'pending' ORDER BY received_at, code"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing pending deletion requests"))?;
        rows.iter().map(|row| rows::deletion_request(row)).collect()
    }

    async fn put_profile(&self, row: ProfileRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sc_profiles (subject_ref, dek_id, sealed, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject_ref) DO UPDATE SET dek_id = excluded.dek_id, \
                 sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(&row.subject_ref[..])
        .bind(&row.dek_id)
        .bind(row.sealed.as_slice())
        .bind(row.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db("writing a profile"))?;
        Ok(())
    }

    async fn get_profile(&self, subject_ref: &SubjectRef) -> Result<Option<ProfileRow>> {
        let row = sqlx::query(
            "SELECT subject_ref, dek_id, sealed, updated_at FROM sc_profiles \
             WHERE subject_ref = $1",
        )
        .bind(&subject_ref[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a profile"))?;
        row.as_ref().map(|row| rows::profile(row)).transpose()
    }

    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sc_profiles WHERE subject_ref = $1")
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("deleting a profile"))?;
        Ok(affected(&done) > 0)
    }

    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sc_erasure_receipts (pseudonym, erased_at, body) VALUES ($1, $2, $3)",
        )
        .bind(&row.pseudonym)
        .bind(row.erased_at)
        .bind(&row.body)
        .execute(&self.pool)
        .await
        .map_err(db("storing an erasure receipt"))?;
        Ok(())
    }

    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>> {
        let rows = sqlx::query(
            "SELECT pseudonym, erased_at, body FROM sc_erasure_receipts \
             WHERE pseudonym = $1 ORDER BY id",
        )
        .bind(pseudonym)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading erasure receipts"))?;
        rows.iter().map(|row| rows::receipt(row)).collect()
    }

    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<()> {
        const WHAT: &str = "storing an API key";
        let mut tx = self.begin(WHAT).await?;
        if !insert_api_key_in(&mut tx, &record, WHAT).await? {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        tx.commit().await.map_err(db(WHAT))
    }

    async fn get_api_key(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM sc_api_keys WHERE key_id = $1"
        )))
        .bind(key_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an API key"))?;
        row.as_ref().map(|row| rows::api_key(row)).transpose()
    }

    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sc_api_keys SET last_used_at = $2 \
             WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
        )
        .bind(key_id.to_string())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db("recording an API key's use"))?;
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sc_api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
        )
        .bind(key_id.to_string())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db("revoking an API key"))?;
        Ok(affected(&done) > 0)
    }

    async fn rotate_api_key(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: i64,
    ) -> Result<bool> {
        const WHAT: &str = "rotating an API key";
        let mut tx = self.begin(WHAT).await?;
        // Dropping `tx` without commit rolls back.
        if !insert_api_key_in(&mut tx, &replacement, WHAT).await? {
            return Err(Error::invalid_input("duplicate API key id"));
        }
        // The compare-and-set: only an existing, unrevoked, never-rotated key is replaced, so
        // of two concurrent rotations exactly one updates the row (the other sees 0 rows: on
        // PostgreSQL the row lock makes it re-check the condition after the winner commits).
        let done = sqlx::query(
            "UPDATE sc_api_keys SET replaced_by = $2, grace_until = $3 \
             WHERE key_id = $1 AND revoked_at IS NULL AND replaced_by IS NULL",
        )
        .bind(old.to_string())
        .bind(replacement.key_id.to_string())
        .bind(grace_until)
        .execute(&mut *tx)
        .await
        .map_err(db(WHAT))?;
        if affected(&done) == 0 {
            tx.rollback().await.map_err(db(WHAT))?;
            return Ok(false);
        }
        tx.commit().await.map_err(db(WHAT))?;
        Ok(true)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {API_KEY_COLUMNS} FROM sc_api_keys ORDER BY created_at, key_id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing API keys"))?;
        rows.iter().map(|row| rows::api_key(row)).collect()
    }

    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sc_api_keys \
             WHERE revoked_at <= $1 OR expires_at <= $1 OR grace_until <= $1",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await
        .map_err(db("purging dead API keys"))?;
        Ok(affected(&done))
    }

    async fn erase_subject(&self, subject_ref: &SubjectRef) -> Result<ErasureCounts> {
        const WHAT: &str = "erasing a subject";
        let subject = &subject_ref[..];
        let mut tx = self.begin(WHAT).await?;
        // Leases first: they are found through the token rows.
        let leases = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_leases WHERE conn_id IN \
             (SELECT conn_id FROM sc_tokens WHERE subject_ref = $1)",
        )
        .await?;
        let tokens = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_tokens WHERE subject_ref = $1",
        )
        .await?;
        let pending_states = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_pending WHERE subject_ref = $1",
        )
        .await?;
        let usage_entries = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_usage_log WHERE subject_ref = $1",
        )
        .await?;
        erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_consent_state WHERE subject_ref = $1",
        )
        .await?;
        let consent_records = erase_step(&mut tx, subject, TOMBSTONE_CONSENT).await?;
        let profiles = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_profiles WHERE subject_ref = $1",
        )
        .await?;
        // The requests stay (the host answers for them); only who they concerned goes.
        let deletion_requests = erase_step(
            &mut tx,
            subject,
            "UPDATE sc_deletion_requests SET subject_ref = NULL, dek_id = NULL, sealed = NULL \
             WHERE subject_ref = $1",
        )
        .await?;
        let subject_keys = erase_step(
            &mut tx,
            subject,
            "DELETE FROM sc_subject_keys WHERE subject_ref = $1",
        )
        .await?;
        tx.commit().await.map_err(db(WHAT))?;
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
    }
}

/// Turns a subject's consent rows into tombstones: the chain columns stay so everyone else's
/// chain still verifies.
const TOMBSTONE_CONSENT: &str = "UPDATE sc_consent SET subject_ref = NULL, purpose = NULL, \
     platform = NULL, action = NULL, recorded_at = NULL, expires_at = NULL, dek_id = NULL, \
     sealed = NULL \
     WHERE subject_ref = $1";

/// One statement of an erasure, bound to the subject; returns the rows it touched.
async fn erase_step(
    tx: &mut Transaction<'static, Any>,
    subject: &[u8],
    sql: &'static str,
) -> Result<u64> {
    let done = sqlx::query(sql)
        .bind(subject)
        .execute(&mut **tx)
        .await
        .map_err(db("erasing a subject"))?;
    Ok(affected(&done))
}
