//! The PostgreSQL backend, over [`sqlx::AnyPool`] with the PostgreSQL driver.
//!
//! Queries use `$N` placeholders and only the types the Any driver carries: 64-bit integers,
//! text and bytes. Write transactions are plain `BEGIN` (read committed): every read-then-write
//! goes through a row lock or an `ON CONFLICT` clause.

mod actions;
mod budgets;
mod claims;
mod decode;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::store::PutOutcome;
use socialconnect_core::{Error, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::postgres::PgListener;
use sqlx::{Any, AnyPool, Transaction};

use crate::backend::decode::{self as rows, Columns};
use crate::backend::sql::postgres as sql;
use crate::backend::{
    AccountRef, ActionCondition, ActionKey, ActionListing, ActionRow, Backend, ConsentRow,
    ConsentStateRow, ConsentWatch, DeclarationRow, DeletionRow, DeletionStatusUpdate, DueClaim,
    ErasureCounts, MetaRow, NewConsentRow, NoticeRow, PendingRow, ProfileRow, RateSlot, ReceiptRow,
    Rewrap, SubjectKeyRow, SubjectRef, TokenRow, UsageRow,
};
use crate::chain;

/// Sealed rows in PostgreSQL.
pub(crate) struct PgBackend {
    pool: AnyPool,
    /// For the consent listener's own connection (the URL may carry a password).
    url: SecretString,
    /// The consent listener, once [`Backend::watch_consent`] started it.
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        self.stop_listener();
    }
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
    let done = sqlx::query(sql::INSERT_API_KEY)
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
        Ok(Self {
            pool,
            url: SecretString::from(url.to_owned()),
            listener: std::sync::Mutex::new(None),
        })
    }

    fn stop_listener(&self) {
        let mut listener = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(task) = listener.take() {
            task.abort();
        }
    }

    /// Begins a transaction that will write.
    async fn begin(&self, what: &'static str) -> Result<Transaction<'static, Any>> {
        self.pool.begin().await.map_err(db(what))
    }
}

/// The multi-row INSERT of `chunk` (at most [`sql::USAGE_ROWS_PER_INSERT`] usage rows), bound.
fn usage_insert(chunk: &[UsageRow]) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql::append_usage_rows(chunk.len())));
    for row in chunk {
        query = query
            .bind(&row.subject_ref[..])
            .bind(row.at)
            .bind(&row.platform)
            .bind(&row.operation)
            .bind(&row.outcome)
            .bind(row.http_status)
            .bind(row.latency_us)
            .bind(&row.dek_id)
            .bind(row.sealed.as_slice());
    }
    query
}

/// Announces, inside `tx`, that the consent of the subject `subject_ref` changed.
async fn notify_consent(
    tx: &mut Transaction<'static, Any>,
    subject_ref: &SubjectRef,
    what: &'static str,
) -> Result<()> {
    sqlx::query(sql::NOTIFY_CONSENT)
        .bind(hex(subject_ref))
        .execute(&mut **tx)
        .await
        .map_err(db(what))?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The pseudonym a notification names, if it is one.
fn subject_ref_from_hex(text: &str) -> Option<SubjectRef> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Receives consent notifications until aborted. A lost connection (notifications missed) or
/// a malformed payload drops every cached consent.
async fn listen_for_consent(mut listener: PgListener, on_change: ConsentWatch) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match subject_ref_from_hex(notification.payload()) {
                Some(sref) => on_change(Some(sref)),
                None => on_change(None),
            },
            Ok(None) => {
                tracing::warn!(
                    "the consent listener's connection was lost; cached consents dropped"
                );
                on_change(None);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the consent listener cannot reach PostgreSQL; retrying");
                on_change(None);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

#[async_trait]
impl Backend for PgBackend {
    async fn close(&self) {
        self.stop_listener();
        self.pool.close().await;
    }

    async fn watch_consent(&self, on_change: ConsentWatch) -> Result<()> {
        const WHAT: &str = "listening for consent changes";
        let mut listener = PgListener::connect(self.url.expose_secret())
            .await
            .map_err(db(WHAT))?;
        listener
            .listen(sql::CONSENT_CHANNEL)
            .await
            .map_err(db(WHAT))?;
        let task = tokio::spawn(listen_for_consent(listener, on_change));
        let previous = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task);
        if let Some(previous) = previous {
            previous.abort();
        }
        Ok(())
    }

    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>> {
        let row = sqlx::query(sql::GET_META)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a store secret"))?;
        row.as_ref().map(|row| rows::meta(row)).transpose()
    }

    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow> {
        const WHAT: &str = "storing a store secret";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(sql::INSERT_META)
            .bind(&row.name)
            .bind(&row.kek_id)
            .bind(row.wrapped.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        let stored = sqlx::query(sql::GET_META)
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
        let done = sqlx::query(sql::REWRAP_META)
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
        let row = sqlx::query(sql::GET_SUBJECT_KEY)
            .bind(&subject_ref[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a subject key"))?;
        row.as_ref().map(|row| rows::subject_key(row)).transpose()
    }

    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow> {
        const WHAT: &str = "storing a subject key";
        let mut tx = self.begin(WHAT).await?;
        sqlx::query(sql::INSERT_SUBJECT_KEY)
            .bind(&row.subject_ref[..])
            .bind(&row.dek_id)
            .bind(&row.kek_id)
            .bind(row.wrapped.as_slice())
            .bind(row.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        let stored = sqlx::query(sql::GET_SUBJECT_KEY)
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
        // An empty blob sorts before every pseudonym.
        let after = after.map_or_else(Vec::new, |a| a.to_vec());
        let rows = sqlx::query(sql::SUBJECT_KEYS_NOT_WRAPPED_BY)
            .bind(kek_id)
            .bind(after)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db(WHAT))?;
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
            let done = sqlx::query(sql::REWRAP_SUBJECT_KEY)
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
        let row = sqlx::query(sql::COUNT_WRAPPED_BY)
            .bind(kek_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db("counting keys wrapped by a key-encryption key"))?;
        Columns::new(&row, "sc_subject_keys").count("n")
    }

    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64> {
        let row = sqlx::query(sql::COUNT_NOT_WRAPPED_BY)
            .bind(kek_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db("counting keys not wrapped by a key-encryption key"))?;
        Columns::new(&row, "sc_subject_keys").count("n")
    }

    async fn put_token(&self, row: TokenRow, expected_version: Option<i64>) -> Result<PutOutcome> {
        const WHAT: &str = "writing a token row";
        let Some(expected) = expected_version else {
            let written = sqlx::query(sql::UPSERT_TOKEN)
                .bind(&row.conn_id)
                .bind(&row.subject_ref[..])
                .bind(&row.platform)
                .bind(row.status_since)
                .bind(row.updated_at)
                .bind(&row.dek_id)
                .bind(row.sealed.as_slice())
                .bind(row.account_ref.as_ref().map(|r| &r[..]))
                .bind(row.refresh_due_at)
                .fetch_one(&self.pool)
                .await
                .map_err(db(WHAT))?;
            let version = Columns::new(&written, "sc_tokens").version("version")?;
            return Ok(PutOutcome::Written(version.unsigned_abs()));
        };
        let mut tx = self.begin(WHAT).await?;
        let written = sqlx::query(sql::UPDATE_TOKEN_IF_VERSION)
            .bind(&row.conn_id)
            .bind(expected)
            .bind(&row.subject_ref[..])
            .bind(&row.platform)
            .bind(row.status_since)
            .bind(row.updated_at)
            .bind(&row.dek_id)
            .bind(row.sealed.as_slice())
            .bind(row.account_ref.as_ref().map(|r| &r[..]))
            .bind(row.refresh_due_at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        let outcome = match written {
            Some(written) => {
                let version = Columns::new(&written, "sc_tokens").version("version")?;
                PutOutcome::Written(version.unsigned_abs())
            }
            None => {
                let current = sqlx::query(sql::TOKEN_VERSION)
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
        let row = sqlx::query(sql::GET_TOKEN)
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
        let done = sqlx::query(sql::SET_TOKEN_STATUS)
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
        sqlx::query(sql::DELETE_LEASE)
            .bind(conn_id)
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        let done = sqlx::query(sql::DELETE_TOKEN)
            .bind(conn_id)
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        tx.commit().await.map_err(db(WHAT))?;
        Ok(affected(&done) > 0)
    }

    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(sql::TOKENS_OF)
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
        let rows = sqlx::query(sql::TOKENS_BY_ACCOUNT)
            .bind(&account_ref[..])
            .fetch_all(&self.pool)
            .await
            .map_err(db("finding connections by platform account"))?;
        rows.iter().map(|row| rows::token(row)).collect()
    }

    async fn stale_tokens(&self, before: i64, after: &str, limit_to: u32) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(sql::STALE_TOKENS)
            .bind(before)
            .bind(after)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing stale connections"))?;
        rows.iter().map(|row| rows::token(row)).collect()
    }

    async fn token_page(&self, after: &str, limit_to: u32) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(sql::TOKEN_PAGE)
            .bind(after)
            .bind(limit(limit_to))
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing connections"))?;
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
        let done = sqlx::query(sql::TRY_LEASE)
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
        let done = sqlx::query(sql::RELEASE_LEASE)
            .bind(conn_id)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db("releasing a refresh lease"))?;
        Ok(affected(&done) > 0)
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
        self.release_claim(conn_id, owner, hold_until).await
    }

    async fn set_token_due(&self, conn_id: &str, version: i64, due: Option<i64>) -> Result<()> {
        self.set_due(conn_id, version, due).await
    }

    async fn insert_pending(&self, row: PendingRow) -> Result<()> {
        let done = sqlx::query(sql::INSERT_PENDING)
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
        let row = sqlx::query(sql::TAKE_PENDING)
            .bind(&state_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db("taking a pending OAuth state"))?;
        row.as_ref().map(|row| rows::pending(row)).transpose()
    }

    async fn purge_pending(&self, now: i64) -> Result<u64> {
        let done = sqlx::query(sql::PURGE_PENDING)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db("purging expired OAuth states"))?;
        Ok(affected(&done))
    }

    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64> {
        let done = sqlx::query(sql::ERASE_PENDING)
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
        let head = sqlx::query(sql::CLAIM_CONSENT_SEQ)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db(WHAT))?
            .ok_or_else(|| Error::storage_msg("the consent chain's head row is missing"))?;
        let (seq, prev_hash) = {
            let head = Columns::new(&head, "sc_consent_head");
            (head.int("seq")?, head.hash("hash")?)
        };
        let hash = chain::link(&prev_hash, seq, &row_digest);
        sqlx::query(sql::INSERT_CONSENT)
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
        sqlx::query(sql::SET_CONSENT_HEAD)
            .bind(&hash[..])
            .execute(&mut *tx)
            .await
            .map_err(db(WHAT))?;
        sqlx::query(sql::UPSERT_CONSENT_STATE)
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
        notify_consent(&mut tx, &row.subject_ref, WHAT).await?;
        tx.commit().await.map_err(db(WHAT))?;
        Ok(row.stored(seq, row_digest, prev_hash, hash))
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
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql::consent_state(platforms.len())))
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
        let rows = sqlx::query(sql::CONSENT_OF)
            .bind(&subject_ref[..])
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading a subject's consent records"))?;
        rows.iter().map(|row| rows::consent(row)).collect()
    }

    async fn consent_range(&self, after: i64, limit_to: u32) -> Result<Vec<ConsentRow>> {
        let rows = sqlx::query(sql::CONSENT_RANGE)
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
        let rows = sqlx::query(sql::CONSENT_NOTICE_CANDIDATES)
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
        erase_step(&mut tx, subject, sql::ERASE_CONSENT_STATE).await?;
        let n = erase_step(&mut tx, subject, sql::TOMBSTONE_CONSENT).await?;
        notify_consent(&mut tx, subject_ref, WHAT).await?;
        tx.commit().await.map_err(db(WHAT))?;
        Ok(n)
    }

    async fn append_usage(&self, row: UsageRow) -> Result<()> {
        sqlx::query(sql::APPEND_USAGE)
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
        sqlx::query(sql::INSERT_NOTICE)
            .bind(&row.version)
            .bind(&row.hash)
            .bind(i64::from(row.significant))
            .bind(row.effective_at)
            .execute(&self.pool)
            .await
            .map_err(db("storing a notice version"))?;
        Ok(())
    }

    async fn put_declaration(&self, row: DeclarationRow, replace: bool) -> Result<()> {
        let statement = if replace {
            sql::REPLACE_DECLARATION
        } else {
            sql::INSERT_DECLARATION
        };
        sqlx::query(statement)
            .bind(&row.purpose)
            .bind(row.basis.as_deref())
            .bind(row.justification.as_deref())
            .bind(row.declared_at)
            .execute(&self.pool)
            .await
            .map_err(db("storing a declared basis"))?;
        Ok(())
    }

    async fn declarations(&self) -> Result<Vec<DeclarationRow>> {
        let rows = sqlx::query(sql::DECLARATIONS)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading the declared bases"))?;
        rows.iter().map(|row| rows::declaration(row)).collect()
    }

    async fn notices(&self) -> Result<Vec<NoticeRow>> {
        let rows = sqlx::query(sql::NOTICES)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading the notice versions"))?;
        rows.iter().map(|row| rows::notice(row)).collect()
    }

    async fn append_usage_batch(&self, rows: Vec<UsageRow>) -> Result<()> {
        const WHAT: &str = "appending usage-log entries";
        if rows.is_empty() {
            return Ok(());
        }
        // A multi-row INSERT per chunk: one round trip for many rows. A batch of one chunk is
        // one statement, atomic and committed on its own (autocommit): no BEGIN and COMMIT
        // round trips around it.
        if rows.len() <= sql::USAGE_ROWS_PER_INSERT {
            return usage_insert(&rows)
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(db(WHAT));
        }
        let mut tx = self.begin(WHAT).await?;
        for chunk in rows.chunks(sql::USAGE_ROWS_PER_INSERT) {
            usage_insert(chunk)
                .execute(&mut *tx)
                .await
                .map_err(db(WHAT))?;
        }
        tx.commit().await.map_err(db(WHAT))
    }

    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(sql::USAGE_OF)
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
        let rows = sqlx::query(sql::USAGE_PAGE)
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
            let done = sqlx::query(sql::PURGE_USAGE_BATCH)
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
        let done = sqlx::query(sql::ERASE_USAGE)
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("erasing a subject's usage log"))?;
        Ok(affected(&done))
    }

    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()> {
        let done = sqlx::query(sql::INSERT_DELETION_REQUEST)
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
        let row = sqlx::query(sql::GET_DELETION_REQUEST)
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
            sql::SET_DELETION_STATUS_CLEARING_SUBJECT
        } else {
            sql::SET_DELETION_STATUS
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
        let rows = sqlx::query(sql::PENDING_DELETION_REQUESTS)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing pending deletion requests"))?;
        rows.iter().map(|row| rows::deletion_request(row)).collect()
    }

    async fn put_profile(&self, row: ProfileRow) -> Result<()> {
        sqlx::query(sql::PUT_PROFILE)
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
        let row = sqlx::query(sql::GET_PROFILE)
            .bind(&subject_ref[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a profile"))?;
        row.as_ref().map(|row| rows::profile(row)).transpose()
    }

    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool> {
        let done = sqlx::query(sql::DELETE_PROFILE)
            .bind(&subject_ref[..])
            .execute(&self.pool)
            .await
            .map_err(db("deleting a profile"))?;
        Ok(affected(&done) > 0)
    }

    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()> {
        sqlx::query(sql::INSERT_RECEIPT)
            .bind(&row.pseudonym)
            .bind(row.erased_at)
            .bind(&row.body)
            .execute(&self.pool)
            .await
            .map_err(db("storing an erasure receipt"))?;
        Ok(())
    }

    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>> {
        let rows = sqlx::query(sql::RECEIPTS_OF)
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
        let row = sqlx::query(sql::GET_API_KEY)
            .bind(key_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an API key"))?;
        row.as_ref().map(|row| rows::api_key(row)).transpose()
    }

    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()> {
        sqlx::query(sql::TOUCH_API_KEY)
            .bind(key_id.to_string())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db("recording an API key's use"))?;
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool> {
        let done = sqlx::query(sql::REVOKE_API_KEY)
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
        let done = sqlx::query(sql::MARK_API_KEY_ROTATED)
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
        let rows = sqlx::query(sql::LIST_API_KEYS)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing API keys"))?;
        rows.iter().map(|row| rows::api_key(row)).collect()
    }

    async fn record_delivery(&self, key: [u8; 32], at: i64, forget_before: i64) -> Result<bool> {
        let done = sqlx::query(sql::RECORD_DELIVERY)
            .bind(&key[..])
            .bind(at)
            .bind(forget_before)
            .execute(&self.pool)
            .await
            .map_err(db("recording a webhook delivery"))?;
        Ok(affected(&done) == 1)
    }

    async fn forget_delivery(&self, key: [u8; 32]) -> Result<()> {
        sqlx::query(sql::FORGET_DELIVERY)
            .bind(&key[..])
            .execute(&self.pool)
            .await
            .map_err(db("forgetting a webhook delivery"))?;
        Ok(())
    }

    async fn purge_deliveries(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query(sql::PURGE_DELIVERIES)
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map_err(db("purging webhook deliveries"))?;
        Ok(affected(&done))
    }

    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64> {
        let done = sqlx::query(sql::PURGE_API_KEYS)
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
        let leases = erase_step(&mut tx, subject, sql::ERASE_LEASES).await?;
        let tokens = erase_step(&mut tx, subject, sql::ERASE_TOKENS).await?;
        let actions = erase_step(&mut tx, subject, sql::ERASE_ACTIONS).await?;
        let pending_states = erase_step(&mut tx, subject, sql::ERASE_PENDING).await?;
        let usage_entries = erase_step(&mut tx, subject, sql::ERASE_USAGE).await?;
        erase_step(&mut tx, subject, sql::ERASE_CONSENT_STATE).await?;
        let consent_records = erase_step(&mut tx, subject, sql::TOMBSTONE_CONSENT).await?;
        let profiles = erase_step(&mut tx, subject, sql::DELETE_PROFILE).await?;
        // The requests stay (the host answers for them); only who they concerned goes.
        let deletion_requests = erase_step(&mut tx, subject, sql::CLEAR_DELETION_SUBJECT).await?;
        let subject_keys = erase_step(&mut tx, subject, sql::ERASE_SUBJECT_KEY).await?;
        notify_consent(&mut tx, subject_ref, WHAT).await?;
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
            actions,
        })
    }
}

/// One statement of an erasure, bound to the subject; returns the rows it touched.
async fn erase_step(
    tx: &mut Transaction<'static, Any>,
    subject: &[u8],
    statement: &'static str,
) -> Result<u64> {
    let done = sqlx::query(statement)
        .bind(subject)
        .execute(&mut **tx)
        .await
        .map_err(db("erasing a subject"))?;
    Ok(affected(&done))
}
