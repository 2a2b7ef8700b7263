//! What a storage backend does: keep sealed rows and the few plaintext columns needed to find,
//! order and expire them. Everything personal is inside `sealed` blobs; subjects appear only as
//! keyed pseudonyms (`subject_ref`).
//!
//! [`crate::EncryptedStore`] does all sealing and opening on top of a backend, so every backend
//! stores exactly the same bytes and one contract test suite covers them all.

#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
mod checks;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod decode;
pub(crate) mod memory;
// Without a SQL backend only the version numbers are used (`EncryptedStore::schema_version`).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod migrations;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use async_trait::async_trait;
use socialconnect_core::Result;
use socialconnect_core::apikey::{ApiKeyId, ApiKeyRecord};
use socialconnect_core::store::PutOutcome;

/// A subject's pseudonym: HMAC-SHA256 of the subject id under the store's pseudonym key.
pub(crate) type SubjectRef = [u8; 32];

/// A platform account's pseudonym: HMAC-SHA256 of the platform and the platform's account id
/// under the store's pseudonym key.
pub(crate) type AccountRef = [u8; 32];

/// A wrapped store-wide secret (the pseudonym key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetaRow {
    pub name: String,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// A subject's data key, wrapped by a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubjectKeyRow {
    pub subject_ref: SubjectRef,
    /// Random id of the data key, bound into every record's associated data.
    pub dek_id: String,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

/// A rewrap of one subject key, applied only if it is still wrapped by `expected_kek`.
#[derive(Debug, Clone)]
pub(crate) struct Rewrap {
    pub subject_ref: SubjectRef,
    pub expected_kek: String,
    pub new_kek: String,
    pub wrapped: Vec<u8>,
}

/// One connection's sealed token set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRow {
    pub conn_id: String,
    pub subject_ref: SubjectRef,
    pub platform: String,
    /// Set by the backend on write.
    pub version: i64,
    /// `active`, `reconnect_required`, `revoked`.
    pub status: String,
    pub status_since: Option<i64>,
    pub updated_at: i64,
    /// The pseudonym of the platform account the tokens belong to, when they name one.
    pub account_ref: Option<AccountRef>,
    pub dek_id: String,
    /// The subject id and the token set (see `tokens.rs` for the payload format).
    pub sealed: Vec<u8>,
    /// When the access token expires (seconds), for an active row whose token expires at a
    /// known instant: the claim of due refreshes orders and filters by it. `None` otherwise.
    pub refresh_due_at: Option<i64>,
}

/// An action id as stored: the UUID's 16 bytes (they sort as the ids do).
pub(crate) type ActionKey = [u8; 16];

/// One scheduled action: sealed whole, with the few plain columns claims and listings need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionRow {
    pub action_id: ActionKey,
    pub subject_ref: SubjectRef,
    pub platform: String,
    pub conn_id: String,
    pub kind: String,
    /// The state's plain name (`ActionState::as_str`).
    pub state: String,
    /// Microseconds; `None` unless the state is pending.
    pub due_at: Option<i64>,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds.
    pub updated_at: i64,
    pub dek_id: String,
    /// The whole action (see `actions.rs` for the payload format).
    pub sealed: Vec<u8>,
}

/// An action as an operator lists it: plain columns only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionListing {
    pub action_id: ActionKey,
    pub platform: String,
    pub conn_id: String,
    pub kind: String,
    pub state: String,
    /// Microseconds.
    pub due_at: Option<i64>,
    /// Microseconds.
    pub updated_at: i64,
}

/// Under which condition [`Backend::save_action`] writes (see
/// `socialconnect_core::automation::ActionWrite`); times in microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionCondition {
    /// Nobody holds a live claim at `now`.
    Unclaimed { now: i64 },
    /// `owner` holds a live claim at `now`; it is renewed until `until`.
    Keep { owner: String, now: i64, until: i64 },
    /// `owner` is the recorded claimant; the claim ends.
    Release { owner: String },
}

/// A claim of due rows: for `owner` until `until`, up to `limit` rows due at or before
/// `due_before` that nobody holds at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DueClaim {
    pub due_before: i64,
    pub now: i64,
    pub limit: u32,
    pub owner: String,
    pub until: i64,
}

/// A deletion request received from a platform. The subject columns are all set or all
/// `None`: they are cleared together when the request completes or the subject is erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeletionRow {
    /// The confirmation code.
    pub code: String,
    pub platform: String,
    pub subject_ref: Option<SubjectRef>,
    pub dek_id: Option<String>,
    /// The subject id, sealed under the subject's data key.
    pub sealed: Option<Vec<u8>>,
    /// Microseconds since the Unix epoch.
    pub received_at: i64,
    /// `pending`, `completed`, `rejected`.
    pub status: String,
    /// Microseconds; when the request completed or was rejected.
    pub status_at: Option<i64>,
    /// The host's justification of a rejection.
    pub reason: Option<String>,
}

/// A deletion request's new status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeletionStatusUpdate {
    pub status: String,
    pub status_at: Option<i64>,
    pub reason: Option<String>,
    /// Null the subject columns as well (the request completed).
    pub clear_subject: bool,
}

/// A pending OAuth state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingRow {
    pub state_hash: [u8; 32],
    pub subject_ref: SubjectRef,
    pub expires_at: i64,
    pub dek_id: String,
    pub sealed: Vec<u8>,
}

/// A consent event to append. The backend assigns `seq` and computes the chain hash with
/// [`crate::chain::link`] inside the same transaction as it reads the previous hash.
#[derive(Debug, Clone)]
pub(crate) struct NewConsentRow {
    pub subject_ref: SubjectRef,
    pub purpose: String,
    /// Empty for "every platform".
    pub platform: String,
    /// `grant` or `withdraw`.
    pub action: String,
    pub recorded_at: i64,
    pub expires_at: Option<i64>,
    pub dek_id: String,
    pub sealed: Vec<u8>,
    /// The event's legal basis (`consent`, `contract`, `legitimate_interest`): written to the
    /// current-state table only (the sealed event holds it for the chain).
    pub basis: String,
    /// The notice version the event rests on: current-state table only, like `basis`.
    pub notice_version: Option<String>,
}

impl NewConsentRow {
    /// The row as stored at `seq`, linked into the chain.
    pub(crate) fn stored(
        self,
        seq: i64,
        row_digest: [u8; 32],
        prev_hash: [u8; 32],
        hash: [u8; 32],
    ) -> ConsentRow {
        ConsentRow {
            seq,
            subject_ref: Some(self.subject_ref),
            purpose: Some(self.purpose),
            platform: Some(self.platform),
            action: Some(self.action),
            recorded_at: Some(self.recorded_at),
            expires_at: self.expires_at,
            dek_id: Some(self.dek_id),
            sealed: Some(self.sealed),
            row_digest,
            prev_hash,
            hash,
        }
    }
}

/// A stored consent row. After an erasure the personal columns are gone (a tombstone): only
/// `seq`, `row_digest`, `prev_hash` and `hash` remain, so the chain still verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentRow {
    pub seq: i64,
    pub subject_ref: Option<SubjectRef>,
    pub purpose: Option<String>,
    pub platform: Option<String>,
    pub action: Option<String>,
    pub recorded_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub dek_id: Option<String>,
    pub sealed: Option<Vec<u8>>,
    pub row_digest: [u8; 32],
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The current state of one (subject, purpose, platform) triple: its latest event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConsentStateRow {
    pub seq: i64,
    pub action: String,
    pub expires_at: Option<i64>,
    /// `None` for a row materialised before schema 3 (read the sealed event at `seq`).
    pub basis: Option<String>,
    pub notice_version: Option<String>,
}

/// A subject's sealed profile (email, username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProfileRow {
    pub subject_ref: SubjectRef,
    pub dek_id: String,
    pub sealed: Vec<u8>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// What [`Backend::take_rate_slot`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateSlot {
    /// This slot is now the caller's.
    Taken(u32),
    /// None is free; the least recently used one was used at this time (microseconds).
    Busy(i64),
}

/// A privacy notice version as stored: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoticeRow {
    pub version: String,
    pub hash: String,
    pub significant: bool,
    /// Microseconds.
    pub effective_at: i64,
}

/// A purpose's entry in the register of declared bases: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclarationRow {
    pub purpose: String,
    /// `None`: retracted.
    pub basis: Option<String>,
    pub justification: Option<String>,
    /// Microseconds.
    pub declared_at: i64,
}

/// An erasure receipt as stored: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptRow {
    pub pseudonym: String,
    /// Microseconds since the Unix epoch.
    pub erased_at: i64,
    /// JSON: counts and per-platform upstream outcomes.
    pub body: String,
}

/// A usage-log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageRow {
    pub subject_ref: SubjectRef,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    pub platform: String,
    pub operation: String,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub latency_us: i64,
    pub dek_id: String,
    /// Connection id, IP and user agent.
    pub sealed: Vec<u8>,
}

/// Rows removed by an erasure, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErasureCounts {
    pub tokens: u64,
    pub leases: u64,
    pub pending_states: u64,
    pub consent_records: u64,
    pub usage_entries: u64,
    /// Deletion requests whose subject columns were cleared (the requests themselves stay).
    pub deletion_requests: u64,
    pub subject_keys: u64,
    pub profiles: u64,
    pub actions: u64,
}

/// Storage of sealed rows. Every method is atomic; multi-row changes run in one transaction.
/// A call whose future is dropped once the database has it may still complete: a write may
/// commit without its caller learning so (callers that must know re-read).
/// Told of consent changes written elsewhere (see [`Backend::watch_consent`]).
pub(crate) type ConsentWatch = std::sync::Arc<dyn Fn(Option<SubjectRef>) + Send + Sync>;

#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// Closes connections, waiting for those in use (no-op for in-process backends).
    async fn close(&self) {}

    // --- store-wide secrets ---
    async fn get_meta(&self, name: &str) -> Result<Option<MetaRow>>;
    /// Inserts unless a row with that name exists; returns the row now stored.
    async fn insert_meta_if_absent(&self, row: MetaRow) -> Result<MetaRow>;
    /// Replaces the wrap if still wrapped by `expected_kek`; returns whether it did.
    async fn rewrap_meta(
        &self,
        name: &str,
        expected_kek: &str,
        new_kek: &str,
        wrapped: Vec<u8>,
    ) -> Result<bool>;

    // --- subject data keys ---
    async fn get_subject_key(&self, subject_ref: &SubjectRef) -> Result<Option<SubjectKeyRow>>;
    /// Inserts unless the subject has a key; returns the key now stored (so two racing
    /// creators end up with the same key).
    async fn insert_subject_key_if_absent(&self, row: SubjectKeyRow) -> Result<SubjectKeyRow>;
    /// Up to `limit` subject keys not wrapped by `kek_id`, ordered by `subject_ref`, after
    /// `after` when given.
    async fn subject_keys_not_wrapped_by(
        &self,
        kek_id: &str,
        after: Option<SubjectRef>,
        limit: u32,
    ) -> Result<Vec<SubjectKeyRow>>;
    /// Applies rewraps in one transaction; returns how many applied.
    async fn rewrap_subject_keys(&self, rewraps: Vec<Rewrap>) -> Result<u64>;
    /// Subject keys and store secrets wrapped by `kek_id`.
    async fn count_wrapped_by(&self, kek_id: &str) -> Result<u64>;
    /// Subject keys and store secrets not wrapped by `kek_id`.
    async fn count_not_wrapped_by(&self, kek_id: &str) -> Result<u64>;

    // --- tokens ---
    /// Writes with compare-and-swap on `version` (`None`: unconditional); the new version is
    /// the old plus one (1 for a new row). Sets status `active`.
    async fn put_token(&self, row: TokenRow, expected_version: Option<i64>) -> Result<PutOutcome>;
    async fn get_token(&self, conn_id: &str) -> Result<Option<TokenRow>>;
    /// Sets status (bumping the version); false when there is no such row.
    async fn set_token_status(
        &self,
        conn_id: &str,
        status: &str,
        since: Option<i64>,
        now: i64,
    ) -> Result<bool>;
    /// Deletes the token row and its lease.
    async fn delete_token(&self, conn_id: &str) -> Result<bool>;
    /// (conn_id, platform) of a subject's connections, ordered by conn_id.
    async fn tokens_of(&self, subject_ref: &SubjectRef) -> Result<Vec<(String, String)>>;
    /// The token rows carrying `account_ref`, across subjects, ordered by conn_id.
    async fn tokens_by_account(&self, account_ref: &AccountRef) -> Result<Vec<TokenRow>>;
    /// Up to `limit` token rows with status `reconnect_required` or `revoked` since before
    /// `before` (seconds), with `conn_id > after`, ordered by conn_id.
    async fn stale_tokens(&self, before: i64, after: &str, limit: u32) -> Result<Vec<TokenRow>>;
    /// Up to `limit` token rows with `conn_id > after`, ordered by conn_id (every status).
    async fn token_page(&self, after: &str, limit: u32) -> Result<Vec<TokenRow>>;
    /// Takes the lease unless another owner holds one expiring after `now`.
    async fn try_lease(
        &self,
        conn_id: &str,
        owner: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool>;
    /// Releases if `owner` holds it.
    async fn release_lease(&self, conn_id: &str, owner: &str) -> Result<bool>;
    /// Claims for `owner` until `until` up to `limit` rows with `refresh_due_at <= due_before`
    /// and `claim_until <= now`, earliest due first; returns them (in any order). Concurrent claimants never
    /// get the same row while its claim lasts (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite:
    /// the write lock).
    async fn claim_due_tokens(
        &self,
        due_before: i64,
        now: i64,
        limit: u32,
        owner: &str,
        until: i64,
    ) -> Result<Vec<TokenRow>>;
    /// Ends `owner`'s claim on the row, holding it until `hold_until` (0: not held); false when
    /// `owner` does not hold it.
    async fn release_token_claim(
        &self,
        conn_id: &str,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool>;
    /// Sets a row's due time without touching anything else (a row from before schema 5,
    /// whose due time was unknown until it was opened), if the row is still at `version`.
    async fn set_token_due(&self, conn_id: &str, version: i64, due: Option<i64>) -> Result<()>;

    // --- scheduled actions (`actions.rs`; times in microseconds) ---
    /// Refuses (InvalidInput) a duplicate id, changing nothing.
    async fn insert_action(&self, row: ActionRow) -> Result<()>;
    async fn get_action(&self, id: &ActionKey) -> Result<Option<ActionRow>>;
    /// Writes `row` over the stored action with its id and connection (subject pseudonym,
    /// platform, connection id), in one statement, when `condition` holds; returns whether it
    /// wrote. `created_at` stays as inserted.
    async fn save_action(&self, row: ActionRow, condition: ActionCondition) -> Result<bool>;
    /// Up to `limit` of the subject's actions with ids after `after`, in id order.
    async fn subject_actions(
        &self,
        subject_ref: &SubjectRef,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionRow>>;
    /// Up to `limit` actions in `state` (any when `None`) on `platform` (any when `None`)
    /// with ids after `after`, in id order.
    async fn list_actions(
        &self,
        state: Option<&str>,
        platform: Option<&str>,
        after: Option<ActionKey>,
        limit: u32,
    ) -> Result<Vec<ActionListing>>;
    /// Claims due actions (`due_at`, ties by id) as [`Backend::claim_due_tokens`] claims
    /// due refreshes; returns them in any order.
    async fn claim_due_actions(&self, claim: DueClaim) -> Result<Vec<ActionRow>>;
    /// Ends `owner`'s claim on the action, holding it back until `hold_until` (0: not held);
    /// false when `owner` is not its recorded claimant.
    async fn release_action_claim(
        &self,
        id: &ActionKey,
        owner: &str,
        hold_until: i64,
    ) -> Result<bool>;
    /// Deletes the subject's actions, claimed or not; returns how many.
    async fn erase_actions_of(&self, subject_ref: &SubjectRef) -> Result<u64>;
    /// Deletes the actions in an ended state (done, cancelled, failed) last updated before
    /// `before` (microseconds); returns how many.
    async fn purge_finished_actions(&self, before: i64) -> Result<u64>;

    // --- pending OAuth states ---
    /// Refuses (InvalidInput) a duplicate hash.
    async fn insert_pending(&self, row: PendingRow) -> Result<()>;
    /// Deletes and returns, atomically.
    async fn take_pending(&self, state_hash: &[u8; 32]) -> Result<Option<PendingRow>>;
    async fn purge_pending(&self, now: i64) -> Result<u64>;
    async fn erase_pending_of(&self, subject_ref: &SubjectRef) -> Result<u64>;

    // --- consent ---
    /// Appends, linking to the last row's hash; updates the current-state table. Returns the
    /// stored row.
    async fn append_consent(&self, row: NewConsentRow) -> Result<ConsentRow>;
    /// The latest state row among `platforms` (the platform and `""` for all platforms).
    async fn consent_state(
        &self,
        subject_ref: &SubjectRef,
        purpose: &str,
        platforms: &[&str],
    ) -> Result<Option<ConsentStateRow>>;
    /// A subject's rows in `seq` order.
    async fn consent_of(&self, subject_ref: &SubjectRef) -> Result<Vec<ConsentRow>>;
    /// Up to `limit` rows with `seq > after`, in order (for chain verification in batches).
    async fn consent_range(&self, after: i64, limit: u32) -> Result<Vec<ConsentRow>>;
    /// (subject_ref, seq) of the current-state rows holding a grant that is not expired at
    /// `now` (seconds), whose basis is `consent` or unknown (NULL, before schema 3) and whose
    /// notice version is not `current` (or is NULL); ordered by subject_ref, then seq
    /// descending.
    async fn consent_notice_candidates(
        &self,
        current: &str,
        now: i64,
    ) -> Result<Vec<(SubjectRef, i64)>>;
    /// In one transaction: turns the subject's consent rows into tombstones and deletes its
    /// current-state rows; returns how many rows became tombstones.
    async fn erase_consent_of(&self, subject_ref: &SubjectRef) -> Result<u64>;

    // --- usage log ---
    /// Starts telling `on_change` about consent changes other processes write: `Some(sref)`
    /// for one subject, `None` when changes may have been missed. Backends that other
    /// processes cannot share live, or that cannot notify, do nothing (the consent cache's TTL
    /// covers them).
    async fn watch_consent(&self, on_change: ConsentWatch) -> Result<()> {
        let _ = on_change;
        Ok(())
    }

    // --- shared rate budgets (`budgets.rs`; times in microseconds) ---
    /// Takes a free slot of `key` — one below `calls` whose `used_at` is at or before
    /// `free_before`, the least recently used first — and stamps it `stamp`, creating the
    /// key's slots first when they are missing. Two callers never take one slot.
    async fn take_rate_slot(
        &self,
        key: &str,
        calls: u32,
        free_before: i64,
        stamp: i64,
    ) -> Result<RateSlot>;
    /// Sets `slot`'s `used_at` to `done` if it still carries `held` (the taker's stamp).
    async fn settle_rate_slot(&self, key: &str, slot: u32, held: i64, done: i64) -> Result<()>;
    /// Counts one call for `day` on `key` unless `limit` are counted for that day: whether it
    /// was counted.
    async fn charge_rate_day(&self, key: &str, day: i64, limit: u32) -> Result<bool>;
    /// Records a pause of `key` until `until` unless a later one is recorded.
    async fn set_rate_pause(&self, key: &str, until: i64) -> Result<()>;
    /// The pause recorded for `key`.
    async fn rate_pause(&self, key: &str) -> Result<Option<i64>>;
    /// Deletes the slots of keys idle since `slots_before`, the pauses over by then, and the
    /// daily counts of days before `days_before`; returns how many rows went.
    async fn purge_rate_budgets(&self, slots_before: i64, days_before: i64) -> Result<u64>;

    /// Stores a notice version unless that version is stored already.
    async fn insert_notice(&self, row: NoticeRow) -> Result<()>;
    /// Every stored notice version.
    async fn notices(&self) -> Result<Vec<NoticeRow>>;

    /// Writes a purpose's register entry; without `replace`, an existing one stays.
    async fn put_declaration(&self, row: DeclarationRow, replace: bool) -> Result<()>;
    /// The register of declared bases.
    async fn declarations(&self) -> Result<Vec<DeclarationRow>>;

    async fn append_usage(&self, row: UsageRow) -> Result<()>;
    /// Appends `rows` in order in one transaction: all or none.
    async fn append_usage_batch(&self, rows: Vec<UsageRow>) -> Result<()>;
    /// A subject's rows in time order.
    async fn usage_of(&self, subject_ref: &SubjectRef) -> Result<Vec<UsageRow>>;
    /// Up to `limit` of a subject's rows with `id > after`, in `id` order, with their ids.
    async fn usage_page(
        &self,
        subject_ref: &SubjectRef,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, UsageRow)>>;
    /// Deletes rows with `at < cutoff` (microseconds), at most `batch` per transaction, until
    /// none are left; returns how many.
    async fn purge_usage_before(&self, cutoff: i64, batch: u32) -> Result<u64>;
    async fn erase_usage_of(&self, subject_ref: &SubjectRef) -> Result<u64>;

    // --- deletion requests ---
    /// Refuses (InvalidInput) a duplicate code.
    async fn insert_deletion_request(&self, row: DeletionRow) -> Result<()>;
    async fn get_deletion_request(&self, code: &str) -> Result<Option<DeletionRow>>;
    /// False when there is no request with that code.
    async fn set_deletion_status(&self, code: &str, update: DeletionStatusUpdate) -> Result<bool>;
    /// Requests with status `pending`, oldest first (ties by code).
    async fn pending_deletion_requests(&self) -> Result<Vec<DeletionRow>>;

    // --- profiles ---
    /// Inserts or replaces the subject's profile.
    async fn put_profile(&self, row: ProfileRow) -> Result<()>;
    async fn get_profile(&self, subject_ref: &SubjectRef) -> Result<Option<ProfileRow>>;
    /// Deletes the subject's profile; returns whether there was one.
    async fn delete_profile(&self, subject_ref: &SubjectRef) -> Result<bool>;

    // --- erasure receipts ---
    async fn insert_receipt(&self, row: ReceiptRow) -> Result<()>;
    /// The receipts for `pseudonym`, in insertion order.
    async fn receipts_of(&self, pseudonym: &str) -> Result<Vec<ReceiptRow>>;

    // --- webhook deliveries (see `socialconnect_core::webhook::DeliveryLog`) ---

    /// Records a sighting of `key` at `at` (microseconds); true when it is the first, or the
    /// last sighting was before `forget_before`. Atomic: of concurrent calls, one is first.
    async fn record_delivery(&self, key: [u8; 32], at: i64, forget_before: i64) -> Result<bool>;
    /// Forgets a sighting.
    async fn forget_delivery(&self, key: [u8; 32]) -> Result<()>;
    /// Deletes sightings older than `cutoff`; returns how many.
    async fn purge_deliveries(&self, cutoff: i64) -> Result<u64>;

    // --- API keys (see `socialconnect_core::apikey::ApiKeyStore` for each contract) ---
    /// Refuses (InvalidInput) a duplicate id.
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<()>;
    async fn get_api_key(&self, key_id: &ApiKeyId) -> Result<Option<ApiKeyRecord>>;
    /// Sets `last_used_at` (microseconds) unless it holds a later time.
    async fn touch_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<()>;
    /// Sets `revoked_at` (microseconds) unless already revoked; returns whether it did.
    async fn revoke_api_key(&self, key_id: &ApiKeyId, at: i64) -> Result<bool>;
    /// Compare-and-set in one transaction: refuses (InvalidInput) a duplicate replacement id;
    /// marks `old` replaced and inserts `replacement` only when `old` exists, is not revoked
    /// and was not rotated yet.
    async fn rotate_api_key(
        &self,
        old: &ApiKeyId,
        replacement: ApiKeyRecord,
        grace_until: i64,
    ) -> Result<bool>;
    /// Every key, by creation time then id.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>>;
    /// Deletes keys revoked, expired or out of grace at or before `cutoff` (microseconds).
    async fn purge_api_keys(&self, cutoff: i64) -> Result<u64>;

    // --- erasure ---
    /// In one transaction: deletes the subject's tokens, their leases, pending states, usage
    /// rows, consent-state rows, scheduled actions, profile and data key, turns its consent rows into tombstones and
    /// clears the subject columns of its deletion requests.
    async fn erase_subject(&self, subject_ref: &SubjectRef) -> Result<ErasureCounts>;
}
