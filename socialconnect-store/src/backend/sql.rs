//! Every statement of the SQL backends, written once: PostgreSQL binds `$N` by position, and
//! the SQLite backend binds the same `$N` by name (SQLite reads `$1` as a named parameter).
//! Queries select columns in the order `backend::decode` reads them.
//!
//! Every text or blob column a query reads is selected through `bounded!`, which each engine's
//! module defines for itself (the statements are expanded once per engine, see
//! `statements!`): on PostgreSQL it is `substr(column, 1, MAX_VALUE_BYTES + 1) AS column`, so
//! the server sends at most one byte over [`MAX_VALUE_BYTES`](super::decode::MAX_VALUE_BYTES)
//! and a tampered row cannot make sqlx allocate more (it receives a row whole before anything
//! can look at it); the decoder refuses the byte over as a typed error. On SQLite it is the
//! bare column: the connection's `SQLITE_LIMIT_LENGTH` bounds every value already, and a
//! `substr` per column costs a token read about half a microsecond (measured).

/// The columns of a token row.
macro_rules! token_columns {
    () => {
        concat!(
            bounded!("conn_id", "subject_ref", "platform"),
            ", version, ",
            bounded!("status"),
            ", status_since, updated_at, ",
            bounded!("account_ref", "dek_id", "sealed"),
            ", refresh_due_at"
        )
    };
}

/// The columns of a subject key.
macro_rules! subject_key_columns {
    () => {
        concat!(
            bounded!("subject_ref", "dek_id", "kek_id", "wrapped"),
            ", created_at"
        )
    };
}

/// The columns of a deletion request.
macro_rules! deletion_columns {
    () => {
        "code, platform, subject_ref, dek_id, sealed, received_at, status, status_at, reason"
    };
}

/// [`deletion_columns!`] as a query reads them.
macro_rules! deletion_select {
    () => {
        concat!(
            bounded!("code", "platform", "subject_ref", "dek_id", "sealed"),
            ", received_at, ",
            bounded!("status"),
            ", status_at, ",
            bounded!("reason")
        )
    };
}

/// The columns of an API key.
macro_rules! api_key_columns {
    () => {
        concat!(
            bounded!("key_id", "hash", "scopes"),
            ", created_at, expires_at, last_used_at, revoked_at, ",
            bounded!("replaced_by"),
            ", grace_until"
        )
    };
}

/// The columns of a usage-log row.
macro_rules! usage_columns {
    () => {
        "subject_ref, at, platform, operation, outcome, http_status, latency_us, dek_id, sealed"
    };
}

/// [`usage_columns!`] as a query reads them.
macro_rules! usage_select {
    () => {
        concat!(
            bounded!("subject_ref"),
            ", at, ",
            bounded!("platform", "operation", "outcome"),
            ", http_status, latency_us, ",
            bounded!("dek_id", "sealed")
        )
    };
}

/// The columns of a consent row.
macro_rules! consent_columns {
    () => {
        concat!(
            "seq, ",
            bounded!("subject_ref", "purpose", "platform", "action"),
            ", recorded_at, expires_at, ",
            bounded!("dek_id", "sealed", "row_digest", "prev_hash", "hash")
        )
    };
}

/// The rows of `$table` to claim: due (`$due <= $3`), not held (`claim_until <= $4`), earliest
/// first, at most `$5`. One shape for every claimable table (tokens, actions).
macro_rules! due_rows {
    ($table:literal, $id:literal, $due:literal, $order:literal) => {
        concat!(
            "SELECT ",
            $id,
            " FROM ",
            $table,
            " WHERE ",
            $due,
            " <= $3 AND claim_until <= $4 ",
            "ORDER BY ",
            $order,
            " LIMIT $5"
        )
    };
}

/// Claims what `$find` finds for `$1` until `$2`, returning `$columns`. `$lock` and
/// `$recheck` are each engine's: PostgreSQL skips rows other claimants locked and re-checks
/// the hold of a row committed meanwhile; SQLite runs it under the write lock.
macro_rules! claim_rows {
    ($table:literal, $id:literal, $find:expr, $lock:literal, $recheck:literal, $columns:expr) => {
        concat!(
            "UPDATE ",
            $table,
            " SET claim_owner = $1, claim_until = $2 WHERE ",
            $id,
            " IN (",
            $find,
            $lock,
            ")",
            $recheck,
            " RETURNING ",
            $columns
        )
    };
}

/// The rows to claim: due, not held, earliest first, read from `sc_tokens_refresh_due`.
macro_rules! due_tokens {
    () => {
        due_rows!("sc_tokens", "conn_id", "refresh_due_at", "refresh_due_at")
    };
}

/// The actions to claim: due, not held, earliest first (ties by id), read from
/// `sc_actions_due`.
macro_rules! due_actions {
    () => {
        due_rows!("sc_actions", "action_id", "due_at", "due_at, action_id")
    };
}

/// The columns of an action row.
macro_rules! action_columns {
    () => {
        concat!(
            bounded!(
                "action_id",
                "subject_ref",
                "platform",
                "conn_id",
                "kind",
                "state"
            ),
            ", due_at, created_at, updated_at, ",
            bounded!("dek_id", "sealed")
        )
    };
}

/// What the writes of an action set (`$5`…`$10`), and which row they write: the action `$1`
/// of the connection (`$2` subject pseudonym, `$3` platform, `$4` connection id).
macro_rules! save_action {
    ($set_claim:literal, $condition:literal) => {
        concat!(
            "UPDATE sc_actions SET kind = $5, state = $6, due_at = $7, updated_at = $8, \
             dek_id = $9, sealed = $10",
            $set_claim,
            " WHERE action_id = $1 AND subject_ref = $2 AND platform = $3 AND conn_id = $4 AND ",
            $condition
        )
    };
}

/// Every statement, expanded once in each engine's module below with that module's `bounded!`
/// (macro names in a `macro_rules!` body resolve where it is expanded).
macro_rules! statements {
    () => {

// --- store-wide secrets ---
pub(crate) const GET_META: &str = concat!(
    "SELECT ",
    bounded!("name", "kek_id", "wrapped"),
    " FROM sc_meta WHERE name = $1"
);
pub(crate) const INSERT_META: &str = "INSERT INTO sc_meta (name, kek_id, wrapped) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";
pub(crate) const REWRAP_META: &str =
    "UPDATE sc_meta SET kek_id = $3, wrapped = $4 WHERE name = $1 AND kek_id = $2";

// --- subject keys ---
pub(crate) const GET_SUBJECT_KEY: &str = concat!(
    "SELECT ",
    subject_key_columns!(),
    " FROM sc_subject_keys WHERE subject_ref = $1"
);
pub(crate) const INSERT_SUBJECT_KEY: &str = "INSERT INTO sc_subject_keys (subject_ref, dek_id, kek_id, wrapped, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subject_ref) DO NOTHING";
/// `$2`: the last pseudonym seen (an empty blob sorts before every pseudonym).
pub(crate) const SUBJECT_KEYS_NOT_WRAPPED_BY: &str = concat!(
    "SELECT ",
    subject_key_columns!(),
    " FROM sc_subject_keys WHERE kek_id <> $1 AND subject_ref > $2 \
     ORDER BY subject_ref LIMIT $3"
);
pub(crate) const REWRAP_SUBJECT_KEY: &str = "UPDATE sc_subject_keys SET kek_id = $3, \
     wrapped = $4 WHERE subject_ref = $1 AND kek_id = $2";
pub(crate) const COUNT_WRAPPED_BY: &str = "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id = $1) \
          + (SELECT COUNT(*) FROM sc_meta WHERE kek_id = $1) AS n";
pub(crate) const COUNT_NOT_WRAPPED_BY: &str = "SELECT (SELECT COUNT(*) FROM sc_subject_keys WHERE kek_id <> $1) \
          + (SELECT COUNT(*) FROM sc_meta WHERE kek_id <> $1) AS n";

// --- tokens ---
pub(crate) const UPSERT_TOKEN: &str = "INSERT INTO sc_tokens (conn_id, subject_ref, platform, \
         version, status, status_since, updated_at, dek_id, sealed, account_ref, refresh_due_at) \
     VALUES ($1, $2, $3, 1, 'active', $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (conn_id) DO UPDATE SET subject_ref = excluded.subject_ref, \
         platform = excluded.platform, version = sc_tokens.version + 1, \
         status = excluded.status, status_since = excluded.status_since, \
         updated_at = excluded.updated_at, dek_id = excluded.dek_id, \
         sealed = excluded.sealed, account_ref = excluded.account_ref, \
         refresh_due_at = excluded.refresh_due_at \
     RETURNING version";
pub(crate) const UPDATE_TOKEN_IF_VERSION: &str = "UPDATE sc_tokens SET subject_ref = $3, \
         platform = $4, version = version + 1, status = 'active', status_since = $5, \
         updated_at = $6, dek_id = $7, sealed = $8, account_ref = $9, refresh_due_at = $10 \
     WHERE conn_id = $1 AND version = $2 \
     RETURNING version";
pub(crate) const TOKEN_VERSION: &str = "SELECT version FROM sc_tokens WHERE conn_id = $1";
pub(crate) const GET_TOKEN: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM sc_tokens WHERE conn_id = $1"
);
/// A row no longer active has nothing to refresh; one made active again is due at once (the
/// claim opens it and writes its real due time).
pub(crate) const SET_TOKEN_STATUS: &str = "UPDATE sc_tokens SET status = $2, status_since = $3, \
     updated_at = $4, version = version + 1, \
     refresh_due_at = CASE WHEN $2 = 'active' THEN COALESCE(refresh_due_at, 0) ELSE NULL END \
     WHERE conn_id = $1";
pub(crate) const DELETE_LEASE: &str = "DELETE FROM sc_leases WHERE conn_id = $1";
pub(crate) const DELETE_TOKEN: &str = "DELETE FROM sc_tokens WHERE conn_id = $1";
pub(crate) const TOKENS_OF: &str =
    concat!(
    "SELECT ",
    bounded!("conn_id", "platform"),
    " FROM sc_tokens WHERE subject_ref = $1 ORDER BY conn_id"
);
pub(crate) const TOKENS_BY_ACCOUNT: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM sc_tokens WHERE account_ref = $1 ORDER BY conn_id"
);
pub(crate) const STALE_TOKENS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM sc_tokens WHERE status IN ('reconnect_required', 'revoked') \
         AND status_since < $1 AND conn_id > $2 \
     ORDER BY conn_id LIMIT $3"
);
pub(crate) const TOKEN_PAGE: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM sc_tokens WHERE conn_id > $1 ORDER BY conn_id LIMIT $2"
);
/// One statement: the conflict check and the takeover cannot interleave with another taker's.
/// The same owner may renew its own lease.
pub(crate) const TRY_LEASE: &str = "INSERT INTO sc_leases (conn_id, owner, expires_at) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (conn_id) DO UPDATE \
         SET owner = excluded.owner, expires_at = excluded.expires_at \
         WHERE sc_leases.expires_at <= $4 OR sc_leases.owner = excluded.owner";
pub(crate) const RELEASE_LEASE: &str = "DELETE FROM sc_leases WHERE conn_id = $1 AND owner = $2";

// --- claims of due refreshes ($1 owner, $2 claim until, $3 due before, $4 now, $5 limit) ---

pub(crate) const RELEASE_TOKEN_CLAIM: &str = "UPDATE sc_tokens SET claim_owner = NULL, \
     claim_until = $3 WHERE conn_id = $1 AND claim_owner = $2";
pub(crate) const SET_TOKEN_DUE: &str = "UPDATE sc_tokens SET refresh_due_at = $2 \
     WHERE conn_id = $1 AND version = $3";

// --- scheduled actions (times in microseconds) ---
pub(crate) const INSERT_ACTION: &str = "INSERT INTO sc_actions (action_id, subject_ref, \
         platform, conn_id, kind, state, due_at, created_at, updated_at, dek_id, sealed) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (action_id) DO NOTHING";
pub(crate) const GET_ACTION: &str = concat!(
    "SELECT ",
    action_columns!(),
    " FROM sc_actions WHERE action_id = $1"
);
/// A host's edit: only while nobody holds a live claim (`$11` now).
pub(crate) const SAVE_ACTION_UNCLAIMED: &str =
    save_action!("", "(claim_owner IS NULL OR claim_until <= $11)");
/// The claimant `$11` holding a live claim (`$12` now) writes and renews it until `$13`.
pub(crate) const SAVE_ACTION_KEEP: &str =
    save_action!(", claim_until = $13", "claim_owner = $11 AND claim_until > $12");
/// The recorded claimant `$11` writes and ends its claim (even lapsed, while nobody claimed
/// the action since).
pub(crate) const SAVE_ACTION_RELEASE: &str =
    save_action!(", claim_owner = NULL, claim_until = 0", "claim_owner = $11");
/// `$2`: the last id seen (an empty blob sorts before every id).
pub(crate) const SUBJECT_ACTIONS: &str = concat!(
    "SELECT ",
    action_columns!(),
    " FROM sc_actions WHERE subject_ref = $1 AND action_id > $2 ORDER BY action_id LIMIT $3"
);
/// `$1` the last id seen, `$2` the state or NULL, `$3` the platform or NULL, `$4` the limit.
pub(crate) const LIST_ACTIONS: &str = concat!(
    "SELECT ",
    bounded!("action_id", "platform", "conn_id", "kind", "state"),
    ", due_at, updated_at FROM sc_actions WHERE action_id > $1 \
         AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR platform = $3) \
     ORDER BY action_id LIMIT $4"
);
/// Ends `$2`'s claim on action `$1`, holding it back until `$3` (0: not held).
pub(crate) const RELEASE_ACTION_CLAIM: &str = "UPDATE sc_actions SET claim_owner = NULL, \
     claim_until = $3 WHERE action_id = $1 AND claim_owner = $2";

// --- pending OAuth states ---
pub(crate) const INSERT_PENDING: &str = "INSERT INTO sc_pending (state_hash, subject_ref, \
         expires_at, dek_id, sealed) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (state_hash) DO NOTHING";
/// DELETE … RETURNING: of two concurrent takers exactly one gets the row.
pub(crate) const TAKE_PENDING: &str = concat!(
    "DELETE FROM sc_pending WHERE state_hash = $1 RETURNING ",
    bounded!("state_hash", "subject_ref"),
    ", expires_at, ",
    bounded!("dek_id", "sealed")
);
pub(crate) const PURGE_PENDING: &str = "DELETE FROM sc_pending WHERE expires_at <= $1";
pub(crate) const ERASE_PENDING: &str = "DELETE FROM sc_pending WHERE subject_ref = $1";

// --- consent ---
/// Claims the next seq (locking the head row, or under SQLite's write lock) and returns it with
/// the still-unchanged previous hash.
pub(crate) const CLAIM_CONSENT_SEQ: &str =
    "UPDATE sc_consent_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const INSERT_CONSENT: &str = "INSERT INTO sc_consent (seq, subject_ref, purpose, \
         platform, action, recorded_at, expires_at, dek_id, sealed, row_digest, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub(crate) const SET_CONSENT_HEAD: &str = "UPDATE sc_consent_head SET hash = $1 WHERE id = 1";
pub(crate) const UPSERT_CONSENT_STATE: &str = "INSERT INTO sc_consent_state (subject_ref, \
         purpose, platform, seq, action, expires_at, basis, notice_version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (subject_ref, purpose, platform) DO UPDATE \
         SET seq = excluded.seq, action = excluded.action, \
             expires_at = excluded.expires_at, basis = excluded.basis, \
             notice_version = excluded.notice_version";
pub(crate) const CONSENT_OF: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM sc_consent WHERE subject_ref = $1 ORDER BY seq"
);
pub(crate) const CONSENT_RANGE: &str = concat!(
    "SELECT ",
    consent_columns!(),
    " FROM sc_consent WHERE seq > $1 ORDER BY seq LIMIT $2"
);
pub(crate) const CONSENT_NOTICE_CANDIDATES: &str = concat!(
    "SELECT ",
    bounded!("subject_ref"),
    ", seq FROM sc_consent_state \
     WHERE action = 'grant' AND (basis = 'consent' OR basis IS NULL) \
         AND (notice_version IS NULL OR notice_version <> $1) \
         AND (expires_at IS NULL OR expires_at > $2) \
     ORDER BY subject_ref, seq DESC"
);
pub(crate) const ERASE_CONSENT_STATE: &str = "DELETE FROM sc_consent_state WHERE subject_ref = $1";
/// Turns a subject's consent rows into tombstones: the chain columns stay so everyone else's
/// chain still verifies.
pub(crate) const TOMBSTONE_CONSENT: &str = "UPDATE sc_consent SET subject_ref = NULL, \
         purpose = NULL, platform = NULL, action = NULL, recorded_at = NULL, expires_at = NULL, \
         dek_id = NULL, sealed = NULL \
     WHERE subject_ref = $1";

/// The current state row among `platforms` platforms (bound as `$3`…), latest first. Only
/// placeholders are generated; every value is bound.
pub(crate) fn consent_state(platforms: usize) -> String {
    let placeholders: Vec<String> = (0..platforms).map(|i| format!("${}", i + 3)).collect();
    format!(
        "SELECT seq, {}, expires_at, {}, {} FROM sc_consent_state \
         WHERE subject_ref = $1 AND purpose = $2 AND platform IN ({}) \
         ORDER BY seq DESC LIMIT 1",
        bounded!("action"),
        bounded!("basis"),
        bounded!("notice_version"),
        placeholders.join(", ")
    )
}

// --- usage log ---
pub(crate) const APPEND_USAGE: &str = concat!(
    "INSERT INTO sc_usage_log (",
    usage_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
);
pub(crate) const USAGE_OF: &str = concat!(
    "SELECT ",
    usage_select!(),
    " FROM sc_usage_log WHERE subject_ref = $1 ORDER BY at, id"
);
pub(crate) const USAGE_PAGE: &str = concat!(
    "SELECT ",
    usage_select!(),
    ", id FROM sc_usage_log WHERE subject_ref = $1 AND id > $2 ORDER BY id LIMIT $3"
);
pub(crate) const PURGE_USAGE_BATCH: &str = "DELETE FROM sc_usage_log WHERE id IN \
     (SELECT id FROM sc_usage_log WHERE at < $1 ORDER BY id LIMIT $2)";
pub(crate) const ERASE_USAGE: &str = "DELETE FROM sc_usage_log WHERE subject_ref = $1";

// --- deletion requests ---
pub(crate) const INSERT_DELETION_REQUEST: &str = concat!(
    "INSERT INTO sc_deletion_requests (",
    deletion_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING"
);
pub(crate) const GET_DELETION_REQUEST: &str = concat!(
    "SELECT ",
    deletion_select!(),
    " FROM sc_deletion_requests WHERE code = $1"
);
pub(crate) const SET_DELETION_STATUS_CLEARING_SUBJECT: &str = "UPDATE sc_deletion_requests \
     SET status = $2, status_at = $3, reason = $4, subject_ref = NULL, dek_id = NULL, \
         sealed = NULL \
     WHERE code = $1";
pub(crate) const SET_DELETION_STATUS: &str = "UPDATE sc_deletion_requests \
     SET status = $2, status_at = $3, reason = $4 WHERE code = $1";
pub(crate) const PENDING_DELETION_REQUESTS: &str = concat!(
    "SELECT ",
    deletion_select!(),
    " FROM sc_deletion_requests WHERE status = 'pending' ORDER BY received_at, code"
);
/// The requests stay (the host answers for them); only who they concerned goes.
pub(crate) const CLEAR_DELETION_SUBJECT: &str = "UPDATE sc_deletion_requests \
     SET subject_ref = NULL, dek_id = NULL, sealed = NULL WHERE subject_ref = $1";

// --- profiles ---
pub(crate) const PUT_PROFILE: &str = "INSERT INTO sc_profiles (subject_ref, dek_id, sealed, \
         updated_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (subject_ref) DO UPDATE SET dek_id = excluded.dek_id, \
         sealed = excluded.sealed, updated_at = excluded.updated_at";
pub(crate) const GET_PROFILE: &str = concat!(
    "SELECT ",
    bounded!("subject_ref", "dek_id", "sealed"),
    ", updated_at FROM sc_profiles WHERE subject_ref = $1"
);
pub(crate) const DELETE_PROFILE: &str = "DELETE FROM sc_profiles WHERE subject_ref = $1";

// --- erasure receipts ---
pub(crate) const INSERT_RECEIPT: &str =
    "INSERT INTO sc_erasure_receipts (pseudonym, erased_at, body) VALUES ($1, $2, $3)";
pub(crate) const RECEIPTS_OF: &str = concat!(
    "SELECT ",
    bounded!("pseudonym"),
    ", erased_at, ",
    bounded!("body"),
    " FROM sc_erasure_receipts WHERE pseudonym = $1 ORDER BY id"
);

// --- API keys ---
pub(crate) const INSERT_API_KEY: &str = "INSERT INTO sc_api_keys (key_id, prefix, hash, scopes, \
         created_at, expires_at, last_used_at, revoked_at, replaced_by, grace_until) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key_id) DO NOTHING";
pub(crate) const GET_API_KEY: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM sc_api_keys WHERE key_id = $1"
);
pub(crate) const TOUCH_API_KEY: &str = "UPDATE sc_api_keys SET last_used_at = $2 \
     WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";
pub(crate) const REVOKE_API_KEY: &str =
    "UPDATE sc_api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL";
/// The compare-and-set of a rotation: only an existing, unrevoked, never-rotated key is
/// replaced, so of two concurrent rotations exactly one updates the row.
pub(crate) const MARK_API_KEY_ROTATED: &str = "UPDATE sc_api_keys \
     SET replaced_by = $2, grace_until = $3 \
     WHERE key_id = $1 AND revoked_at IS NULL AND replaced_by IS NULL";
pub(crate) const LIST_API_KEYS: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM sc_api_keys ORDER BY created_at, key_id"
);
pub(crate) const PURGE_API_KEYS: &str = "DELETE FROM sc_api_keys \
     WHERE revoked_at <= $1 OR expires_at <= $1 OR grace_until <= $1";

// --- notice versions ---
pub(crate) const INSERT_NOTICE: &str = "INSERT INTO sc_notices (version, hash, significant, \
         effective_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING";
pub(crate) const NOTICES: &str = concat!(
    "SELECT ",
    bounded!("version", "hash"),
    ", significant, effective_at FROM sc_notices ORDER BY effective_at, version"
);

// --- declared bases ($1 purpose, $2 basis or NULL when retracted, $3 justification, $4 at) ---
pub(crate) const INSERT_DECLARATION: &str = "INSERT INTO sc_declarations (purpose, basis, \
         justification, declared_at) VALUES ($1, $2, $3, $4) ON CONFLICT (purpose) DO NOTHING";
pub(crate) const REPLACE_DECLARATION: &str = "INSERT INTO sc_declarations (purpose, basis, \
         justification, declared_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (purpose) DO UPDATE SET basis = excluded.basis, \
         justification = excluded.justification, declared_at = excluded.declared_at";
pub(crate) const DECLARATIONS: &str = concat!(
    "SELECT ",
    bounded!("purpose", "basis", "justification"),
    ", declared_at FROM sc_declarations ORDER BY purpose"
);

// --- webhook deliveries ($1 key, $2 now, $3 the time before which a sighting is forgotten) ---

/// Inserts a sighting, or renews one older than `$3`: one row changed means a first delivery.
pub(crate) const RECORD_DELIVERY: &str = "INSERT INTO sc_webhook_deliveries (delivery_key, seen_at) \
     VALUES ($1, $2) ON CONFLICT (delivery_key) DO UPDATE SET seen_at = excluded.seen_at \
     WHERE sc_webhook_deliveries.seen_at < $3";
pub(crate) const FORGET_DELIVERY: &str =
    "DELETE FROM sc_webhook_deliveries WHERE delivery_key = $1";
pub(crate) const PURGE_DELIVERIES: &str = "DELETE FROM sc_webhook_deliveries WHERE seen_at < $1";

// --- shared rate budgets ($1 the key; times in microseconds) ---
/// How many of the key's first `$2` slots exist, and the least recent use among them.
pub(crate) const RATE_SLOTS: &str = "SELECT count(*) AS slots, min(used_at) AS earliest \
     FROM sc_rate_slots WHERE key = $1 AND slot < $2";
/// `$2` the slot, `$3` the taker's stamp, `$4` when its call ended.
pub(crate) const SETTLE_RATE_SLOT: &str =
    "UPDATE sc_rate_slots SET used_at = $4 WHERE key = $1 AND slot = $2 AND used_at = $3";
/// Counts a call for day `$2` unless `$3` are counted for it: a row back means counted. A
/// later day starts the count afresh; a caller whose clock is behind counts on the later day.
pub(crate) const CHARGE_RATE_DAY: &str = "INSERT INTO sc_rate_days (key, day, calls) \
     VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET \
     calls = CASE WHEN sc_rate_days.day < excluded.day THEN 1 ELSE sc_rate_days.calls + 1 END, \
     day = CASE WHEN sc_rate_days.day < excluded.day THEN excluded.day ELSE sc_rate_days.day END \
     WHERE sc_rate_days.day < excluded.day OR sc_rate_days.calls < $3 RETURNING calls";

/// Records a pause until `$2` unless a later one is recorded.
pub(crate) const SET_RATE_PAUSE: &str = "INSERT INTO sc_rate_pauses (key, until_at) \
     VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET until_at = excluded.until_at \
     WHERE sc_rate_pauses.until_at < excluded.until_at";
pub(crate) const RATE_PAUSE: &str = "SELECT until_at FROM sc_rate_pauses WHERE key = $1";
/// Pauses over before `$1`.
pub(crate) const PURGE_RATE_PAUSES: &str = "DELETE FROM sc_rate_pauses WHERE until_at < $1";
/// The slots of keys none of whose slots was used since `$1` (the row's own check keeps a
/// slot taken meanwhile: READ COMMITTED re-checks a changed row's condition, not the subquery).
pub(crate) const PURGE_RATE_SLOTS: &str = "DELETE FROM sc_rate_slots WHERE used_at < $1 \
     AND key IN (SELECT key FROM sc_rate_slots GROUP BY key HAVING max(used_at) < $1)";
/// The daily counts of days before `$1`.
pub(crate) const PURGE_RATE_DAYS: &str = "DELETE FROM sc_rate_days WHERE day < $1";

// --- erasure (each bound to the subject pseudonym as `$1`) ---
/// Leases first: they are found through the token rows.
pub(crate) const ERASE_LEASES: &str = "DELETE FROM sc_leases WHERE conn_id IN \
     (SELECT conn_id FROM sc_tokens WHERE subject_ref = $1)";
pub(crate) const ERASE_TOKENS: &str = "DELETE FROM sc_tokens WHERE subject_ref = $1";
pub(crate) const ERASE_ACTIONS: &str = "DELETE FROM sc_actions WHERE subject_ref = $1";
/// Ended actions (`ActionState::ENDED`) past the retention.
pub(crate) const PURGE_FINISHED_ACTIONS: &str = "DELETE FROM sc_actions \
     WHERE state IN ('done', 'cancelled', 'failed') AND updated_at < $1";
pub(crate) const ERASE_SUBJECT_KEY: &str = "DELETE FROM sc_subject_keys WHERE subject_ref = $1";

    };
}

/// The statements as PostgreSQL runs them: every text or blob column read is bounded.
#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    /// `substr(column, 1, MAX_VALUE_BYTES + 1) AS column`, or a comma-separated list of them:
    /// one byte more than a value may hold, so an oversized value is still seen as oversized.
    /// (`substr` counts the bytes of a `bytea` and the characters of a `text`; text is checked
    /// again in bytes when decoded.)
    macro_rules! bounded {
        ($column:literal) => {
            concat!("substr(", $column, ", 1, 16777217) AS ", $column)
        };
        ($first:literal $(, $column:literal)+) => {
            concat!(bounded!($first) $(, ", ", bounded!($column))+)
        };
    }

    statements!();

    /// PostgreSQL: takes the least recently used free slot of key `$1` among the first `$2`
    /// (free: used at or before `$3`), stamping it `$4`. A slot another taker has locked is
    /// skipped, not waited for; one taken and committed meanwhile fails the re-check (READ
    /// COMMITTED re-reads a locked row). No row back: none was free.
    pub(crate) const TAKE_RATE_SLOT_LOCKING: &str = "UPDATE sc_rate_slots SET used_at = $4 \
         WHERE key = $1 AND slot = (SELECT slot FROM sc_rate_slots WHERE key = $1 \
         AND slot < $2 AND used_at <= $3 ORDER BY used_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
         AND used_at <= $3 RETURNING slot";
    /// Creates the key's slots `0..$2` that are missing, free.
    pub(crate) const ENSURE_RATE_SLOTS: &str = "INSERT INTO sc_rate_slots (key, slot, used_at) \
         SELECT $1, s, 0 FROM generate_series(0, $2 - 1) AS s ON CONFLICT (key, slot) DO NOTHING";

    /// PostgreSQL: rows another claimant has locked are skipped, not waited for; the outer
    /// re-check keeps a row claimed and committed meanwhile out (READ COMMITTED re-reads it).
    pub(crate) const CLAIM_DUE_TOKENS_LOCKING: &str = claim_rows!(
        "sc_tokens",
        "conn_id",
        due_tokens!(),
        " FOR UPDATE SKIP LOCKED",
        " AND claim_until <= $4",
        token_columns!()
    );
    /// The find alone, for the benchmark's query plan.
    pub(crate) const FIND_DUE_TOKENS: &str = due_tokens!();
    /// Claims due actions as [`CLAIM_DUE_TOKENS_LOCKING`] claims due refreshes.
    pub(crate) const CLAIM_DUE_ACTIONS_LOCKING: &str = claim_rows!(
        "sc_actions",
        "action_id",
        due_actions!(),
        " FOR UPDATE SKIP LOCKED",
        " AND claim_until <= $4",
        action_columns!()
    );
    /// The find of due actions alone, for the benchmark's query plan.
    pub(crate) const FIND_DUE_ACTIONS: &str = due_actions!();

    /// The channel consent changes are announced on; the payload is the subject's pseudonym in
    /// hex.
    pub(crate) const CONSENT_CHANNEL: &str = "sc_consent";
    /// Sent inside each transaction that changes a subject's consent (delivered at commit).
    pub(crate) const NOTIFY_CONSENT: &str = "SELECT pg_notify('sc_consent', $1)";

    /// Rows one [`append_usage_rows`] statement inserts at most (9 parameters each).
    pub(crate) const USAGE_ROWS_PER_INSERT: usize = 64;

    /// A multi-row INSERT of `rows` usage rows (at least 1), bound `$1`… in `usage_columns!`
    /// order row by row. Only placeholders are generated; every value is bound.
    pub(crate) fn append_usage_rows(rows: usize) -> String {
        super::usage_insert(rows, '$')
    }
}

/// A multi-row INSERT of `rows` usage rows (at least 1) with placeholders `{mark}1`… bound in
/// `usage_columns!` order row by row. Only placeholders are generated; every value is bound.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
fn usage_insert(rows: usize, mark: char) -> String {
    let tuples: Vec<String> = (0..rows.max(1))
        .map(|r| {
            let params: Vec<String> = (1..=9).map(|c| format!("{mark}{}", r * 9 + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        concat!(
            "INSERT INTO sc_usage_log (",
            usage_columns!(),
            ") VALUES {}"
        ),
        tuples.join(", ")
    )
}

/// The statements as SQLite runs them: columns bare, bounded by the connection's
/// `SQLITE_LIMIT_LENGTH`.
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    /// The column, or a comma-separated list of them.
    macro_rules! bounded {
        ($column:literal) => {
            $column
        };
        ($first:literal $(, $column:literal)+) => {
            concat!($first $(, ", ", $column)+)
        };
    }

    statements!();

    /// SQLite: takes the least recently used free slot (see the PostgreSQL statement), under
    /// the write lock (`BEGIN IMMEDIATE`), so takers are serialized.
    pub(crate) const TAKE_RATE_SLOT: &str = "UPDATE sc_rate_slots SET used_at = $4 \
         WHERE key = $1 AND slot = (SELECT slot FROM sc_rate_slots WHERE key = $1 \
         AND slot < $2 AND used_at <= $3 ORDER BY used_at LIMIT 1) RETURNING slot";
    /// Creates the key's slots `0..$2` that are missing, free (`WHERE true` keeps the upsert
    /// apart from the SELECT for SQLite's parser).
    pub(crate) const ENSURE_RATE_SLOTS: &str = "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL \
         SELECT n + 1 FROM s WHERE n + 1 < $2) INSERT INTO sc_rate_slots (key, slot, used_at) \
         SELECT $1, n, 0 FROM s WHERE true ON CONFLICT (key, slot) DO NOTHING";

    /// Rows one multi-row usage INSERT takes at most (9 parameters each: 576, far under
    /// SQLite's limit of 32 766).
    pub(crate) const USAGE_ROWS_PER_INSERT: usize = 64;

    /// The multi-row usage INSERT of `rows` rows, a power of two up to
    /// [`USAGE_ROWS_PER_INSERT`], with numbered placeholders `?1`… bound positionally in
    /// `usage_columns!` order row by row (`None` for any other count). A batch goes out in
    /// such chunks (64, 32, …, 1), so whatever the batch sizes at most seven of these sit in
    /// the connection's statement cache. Only placeholders are generated; every value is bound.
    pub(crate) fn append_usage_rows(rows: usize) -> Option<&'static str> {
        static STATEMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        if !rows.is_power_of_two() || rows > USAGE_ROWS_PER_INSERT {
            return None;
        }
        let all = STATEMENTS.get_or_init(|| {
            (0..=USAGE_ROWS_PER_INSERT.trailing_zeros())
                .map(|k| super::usage_insert(1 << k, '?'))
                .collect()
        });
        all.get(rows.trailing_zeros() as usize).map(String::as_str)
    }

    /// SQLite: one UPDATE under the write lock (`BEGIN IMMEDIATE`), so claimants are serialized.
    pub(crate) const CLAIM_DUE_TOKENS: &str = claim_rows!(
        "sc_tokens",
        "conn_id",
        due_tokens!(),
        "",
        "",
        token_columns!()
    );
    /// SQLite: claims due actions as [`CLAIM_DUE_TOKENS`] claims due refreshes.
    pub(crate) const CLAIM_DUE_ACTIONS: &str = claim_rows!(
        "sc_actions",
        "action_id",
        due_actions!(),
        "",
        "",
        action_columns!()
    );
}

#[cfg(all(test, feature = "postgres", feature = "sqlite"))]
mod tests {
    use super::{postgres, sqlite};
    use crate::backend::decode::MAX_VALUE_BYTES;

    #[test]
    fn the_bound_in_the_sql_is_one_byte_over_the_decoders() {
        let over = (MAX_VALUE_BYTES + 1).to_string();
        assert!(
            postgres::GET_TOKEN.contains(&format!("substr(sealed, 1, {over}) AS sealed")),
            "{}",
            postgres::GET_TOKEN
        );
        assert!(
            postgres::GET_TOKEN.starts_with(&format!(
                "SELECT substr(conn_id, 1, {over}) AS conn_id, substr(subject_ref, 1, {over}) \
                 AS subject_ref, "
            )),
            "{}",
            postgres::GET_TOKEN
        );
        assert!(
            sqlite::GET_TOKEN.starts_with("SELECT conn_id, subject_ref, platform, version, "),
            "{}",
            sqlite::GET_TOKEN
        );
    }

    /// Every PostgreSQL query that reads a sealed value bounds it.
    #[test]
    fn no_query_reads_an_unbounded_sealed_value() {
        use postgres as p;
        for sql in [
            p::GET_TOKEN,
            p::TOKEN_PAGE,
            p::STALE_TOKENS,
            p::TOKENS_BY_ACCOUNT,
            p::TAKE_PENDING,
            p::CONSENT_OF,
            p::CONSENT_RANGE,
            p::USAGE_OF,
            p::USAGE_PAGE,
            p::GET_DELETION_REQUEST,
            p::PENDING_DELETION_REQUESTS,
            p::GET_PROFILE,
            p::GET_ACTION,
            p::SUBJECT_ACTIONS,
            p::CLAIM_DUE_ACTIONS_LOCKING,
        ] {
            assert!(sql.contains("AS sealed"), "{sql}");
            assert!(!sql.contains(", sealed"), "{sql}");
        }
    }
}
