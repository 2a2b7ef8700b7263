//! `socialconnect-store`: the encrypted store for SocialConnect.
//!
//! * **Envelope encryption.** A [`KeyProvider`](socialconnect_core::keys::KeyProvider) (the
//!   [`keys::LocalKeyring`] by default; a KMS or Vault can be plugged in) holds key-encryption
//!   keys. Each subject gets its own random data key, stored wrapped by the primary
//!   key-encryption key; every record is sealed with AES-256-GCM under its subject's data key,
//!   with associated data binding format version, data key id, subject, record and kind.
//! * **Pseudonyms.** Subjects are stored only as HMAC-SHA256 pseudonyms under a store key that
//!   is itself kept wrapped.
//! * **Rotation** re-wraps data keys, never records ([`EncryptedStore::rotate_keys`]).
//! * **Crypto-shredding.** [`EncryptedStore::erase`] deletes a subject's rows and destroys its
//!   data key in one transaction: an old copy of the database cannot be opened for it.
//! * **Consent gate.** The ledger materialises each subject's current consent state (action,
//!   legal basis, notice version, expiry), so `permits` never decrypts or scans history, and
//!   caches it for [`StoreOptions::consent_cache_ttl`] (another process's withdrawal is seen
//!   within that TTL; this process's at once).
//! * **Shared rate budgets.** The store implements
//!   [`RateBudgets`](socialconnect_core::http::RateBudgets): given to the HTTP client with
//!   [`shared_budgets`](socialconnect_core::http::HttpClientBuilder::shared_budgets), it
//!   counts the platforms' windows, daily budgets and pauses for every instance on the database
//!   together (plain rows: no personal data). [`EncryptedStore::purge_rate_budgets`] clears
//!   the idle ones.
//! * **Scheduled actions.** The store implements
//!   [`ActionStore`](socialconnect_core::automation::ActionStore): each action sealed whole
//!   under its subject's data key (erasure crypto-shreds its payload), with its connection,
//!   kind, state and due time in plain columns that claims and operator listings read.
//!   Claims are shared by every instance on the database (PostgreSQL: `FOR UPDATE SKIP
//!   LOCKED`; SQLite: the write lock).
//! * **Backends:** SQLite on rusqlite (feature `sqlite`, default: bundles SQLite, so a host
//!   linking another SQLite build leaves it out), PostgreSQL on sqlx (feature `postgres`), and
//!   a process-local one for tests ([`EncryptedStore::memory`]). No SQLite call blocks the
//!   async runtime: writes and scans run on tokio's blocking pool; point lookups (a few
//!   microseconds) run in place through `block_in_place` on a multi-threaded runtime when a
//!   reader connection is free (it first hands the worker's other tasks to another thread),
//!   and on the blocking pool otherwise. The store needs a tokio runtime.
//!
//! ```no_run
//! use std::sync::Arc;
//! use socialconnect_store::{EncryptedStore, keys::LocalKeyring};
//!
//! # async fn open() -> socialconnect_core::Result<()> {
//! // SOCIALCONNECT_KEYRING="*k1:<base64 of 32 random bytes>"
//! let keys = Arc::new(LocalKeyring::from_env()?);
//! let store = EncryptedStore::open_sqlite("socialconnect.db", keys).await?;
//! // Hand `store` to the hub as token store, pending-state store, ledger, access log,
//! // deletion-request, profile, erasure-receipt and API-key store, and to its HTTP client
//! // as the rate budgets every instance shares.
//! let http = socialconnect_core::http::HttpClient::builder()
//!     .shared_budgets(Arc::new(store.clone()))
//!     .build()?;
//! # let _ = (store, http); Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod actions;
mod apikeys;
mod backend;
mod budgets;
mod chain;
mod claims;
mod consent_cache;
mod deletion;
mod deliveries;
mod envelope;
pub mod keys;
mod ledger;
mod listing;
mod pending;
mod profile;
mod receipts;
mod rotation;
mod store;
mod subjects;
mod tokens;
mod usage;

#[cfg(test)]
mod contract_tests;

/// The claim statements, for the benchmarks to time and `EXPLAIN` (not a supported API).
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod bench_sql {
    /// The find of due rows alone (`$3` due before, `$4` now, `$5` limit).
    pub const FIND_DUE: &str = crate::backend::sql::postgres::FIND_DUE_TOKENS;
    /// The claim (`$1` owner, `$2` claim until, `$3` due before, `$4` now, `$5` limit).
    pub const CLAIM_DUE: &str = crate::backend::sql::postgres::CLAIM_DUE_TOKENS_LOCKING;
    /// The find of due actions alone (`$3` due before, `$4` now, `$5` limit; microseconds).
    pub const FIND_DUE_ACTIONS: &str = crate::backend::sql::postgres::FIND_DUE_ACTIONS;
    /// The claim of due actions (`$1` owner, `$2` claim until, then as [`FIND_DUE_ACTIONS`]).
    pub const CLAIM_DUE_ACTIONS: &str = crate::backend::sql::postgres::CLAIM_DUE_ACTIONS_LOCKING;
}

pub use budgets::RATE_SLOTS_KEPT;
pub use deliveries::{DEFAULT_DELIVERY_WINDOW, StoreDeliveryLog};
pub use listing::ConnectionSummary;
pub use rotation::{RotationProgress, RotationReport};
pub use store::{EncryptedStore, StoreOptions};
