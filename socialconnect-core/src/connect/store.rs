//! Storage traits: tokens (with compare-and-swap and a refresh lease) and pending OAuth states.
//!
//! Implementations: `memory` (unencrypted, in-process; the `memory` feature) and `socialconnect-store`
//! (encrypted SQLite / PostgreSQL).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;
use uuid::Uuid;

use crate::error::Result;
use crate::id::{ConnectionKey, PlatformId, Scope, SubjectId};
use crate::secret::PkceVerifier;
use crate::token::TokenSet;

/// Whether a stored connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// Usable.
    Active,
    /// A refresh failed definitively or the platform rejected the token: the end user must
    /// connect again. Set at the given instant.
    ReconnectRequired {
        /// When it was marked.
        since: DateTime<Utc>,
    },
    /// The end user or the platform revoked the authorization (deauthorize callback).
    Revoked {
        /// When it was marked.
        since: DateTime<Utc>,
    },
}

impl ConnectionStatus {
    /// A stable name for storage: `active`, `reconnect_required`, `revoked`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::ReconnectRequired { .. } => "reconnect_required",
            ConnectionStatus::Revoked { .. } => "revoked",
        }
    }

    /// The instant the status was set, for the non-active ones.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        match self {
            ConnectionStatus::Active => None,
            ConnectionStatus::ReconnectRequired { since } | ConnectionStatus::Revoked { since } => {
                Some(*since)
            }
        }
    }
}

/// A stored token set with its row version (for compare-and-swap) and status.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredTokens {
    /// The tokens.
    pub tokens: TokenSet,
    /// Incremented by every write; `put` with an `expected_version` succeeds only if it matches.
    pub version: u64,
    /// Whether the connection is usable.
    pub status: ConnectionStatus,
    /// When the row was last written.
    pub updated_at: DateTime<Utc>,
    /// The region the deployment stored the tokens in, when the store records one (transfer
    /// transparency).
    pub region: Option<String>,
}

impl StoredTokens {
    /// Assembles a stored row (for store implementations).
    pub fn new(
        tokens: TokenSet,
        version: u64,
        status: ConnectionStatus,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            tokens,
            version,
            status,
            updated_at,
            region: None,
        }
    }

    /// Sets the region the row was stored in (for store implementations).
    pub fn with_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }
}

/// The outcome of a versioned write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// Written; the new version.
    Written(u64),
    /// Not written: the row's version is not the one expected (another writer won). Carries the
    /// current version, or `None` when the row does not exist.
    Conflict(Option<u64>),
}

/// A held lease on refreshing one connection, across processes.
///
/// Only the owner may release it; it lapses by itself at `expires_at` so a crashed holder
/// cannot block refreshes for long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLease {
    /// The connection.
    pub key: ConnectionKey,
    /// Random owner token; release is checked against it.
    pub owner: Uuid,
    /// When the lease lapses.
    pub expires_at: DateTime<Utc>,
}

/// What an erasure removed, counted per kind of record (`tokens`, `pending_states`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureReport {
    /// Removed records per kind.
    pub counts: BTreeMap<String, u64>,
}

impl ErasureReport {
    /// Adds `n` to a kind's count.
    pub fn add(&mut self, kind: &str, n: u64) {
        *self.counts.entry(kind.to_owned()).or_default() += n;
    }

    /// Total records removed.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// Persistence of connections' token sets.
///
/// Every write is versioned: `put` with `expected_version = Some(v)` writes only when the row is
/// at version `v` (`None` writes unconditionally, for a new connection). Implementations must
/// make that check and the write one atomic step.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Writes `tokens` for `key`, setting the status to active.
    async fn put(
        &self,
        key: &ConnectionKey,
        tokens: &TokenSet,
        expected_version: Option<u64>,
    ) -> Result<PutOutcome>;

    /// Reads a connection.
    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredTokens>>;

    /// Sets a connection's status without touching its tokens (bumps the version).
    /// Returns false when there is no such connection.
    async fn set_status(&self, key: &ConnectionKey, status: ConnectionStatus) -> Result<bool>;

    /// Deletes a connection. Returns whether it existed.
    async fn delete(&self, key: &ConnectionKey) -> Result<bool>;

    /// A subject's connections.
    async fn connections(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>>;

    /// The connections on `platform` whose stored token set names `account_id` (the platform's
    /// account id, as in [`TokenSet::account_id`]), across subjects. Platform callbacks that
    /// identify a user only by the platform's id (Meta's deauthorize and data-deletion
    /// callbacks) find the subject this way.
    async fn find_by_account(
        &self,
        platform: &PlatformId,
        account_id: &str,
    ) -> Result<Vec<ConnectionKey>>;

    /// Up to `limit` connections marked reconnect-required or revoked since before `before`:
    /// candidates for the retention purge.
    async fn stale_connections(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionKey>>;

    /// Tries to take the refresh lease for `key` for `ttl`. `None` when another owner holds an
    /// unexpired lease.
    async fn try_lease(&self, key: &ConnectionKey, ttl: Duration) -> Result<Option<RefreshLease>>;

    /// Releases a lease. Returns false when `lease` is no longer the holder (it lapsed and
    /// someone else took it); nothing is changed then.
    async fn release(&self, lease: &RefreshLease) -> Result<bool>;

    /// Removes everything the store holds about `subject`.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<ErasureReport>;

    /// Claims up to `limit` connections that are due: active, with an access token that
    /// expires at or before `due_before`, and neither claimed (by anyone, `owner` included)
    /// nor held back (see [`TokenStore::release_claim`]) at the store's current time. Each is
    /// claimed for `owner` until now + `ttl`; earliest expiry first.
    ///
    /// Of concurrent callers (other processes included, for shared stores), each due
    /// connection goes to at most one while its claim lasts: a claimant that crashes loses its
    /// claims when they lapse. A connection's claim survives writes to its tokens; only
    /// [`TokenStore::release_claim`] or the lapse ends it.
    ///
    /// The default answers a [`Config`](crate::ErrorKind::Config) error: a store written by a
    /// host that does not implement claiming cannot run the refresh sweep, and saying so beats
    /// a sweep that silently finds nothing.
    async fn claim_due(
        &self,
        due_before: DateTime<Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<ConnectionKey>> {
        let _ = (due_before, limit, owner, ttl);
        Err(crate::error::Error::config(
            "this token store does not implement claim_due (needed by the refresh sweep)",
        ))
    }

    /// Ends `owner`'s claim on `key`. With `hold_until`, the connection cannot be claimed
    /// again before that instant (a back-off after a failure); without, it can be claimed as
    /// soon as it is due. Returns false, changing nothing, when `owner` does not hold the claim
    /// (it lapsed and another claimant took it) or there is no such connection.
    ///
    /// The default answers a [`Config`](crate::ErrorKind::Config) error, as
    /// [`TokenStore::claim_due`] does.
    async fn release_claim(
        &self,
        key: &ConnectionKey,
        owner: Uuid,
        hold_until: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let _ = (key, owner, hold_until);
        Err(crate::error::Error::config(
            "this token store does not implement release_claim (needed by the refresh sweep)",
        ))
    }
}

/// When a stored connection next needs refreshing, as the claim of due work reads it: its
/// access token's expiry, for an active connection whose token expires at a known instant
/// (`None` otherwise: nothing to refresh ahead of time). For store implementations, which keep
/// it in a plain column beside the sealed tokens.
pub fn refresh_due_at(tokens: &TokenSet, status: &ConnectionStatus) -> Option<DateTime<Utc>> {
    match (status, tokens.access_expires) {
        (ConnectionStatus::Active, crate::token::Expiry::At(at)) => Some(at),
        _ => None,
    }
}

/// An authorization in flight: what `connect` started and `complete` must match.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PendingAuth {
    /// Who started it.
    pub subject: SubjectId,
    /// Where.
    pub platform: PlatformId,
    /// The exact redirect URI sent in the authorize request.
    pub redirect_uri: Url,
    /// The scopes asked for.
    pub scopes: Vec<Scope>,
    /// The PKCE verifier, when the platform uses PKCE.
    pub pkce_verifier: Option<PkceVerifier>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl PendingAuth {
    /// Assembles a pending authorization.
    pub fn new(
        subject: SubjectId,
        platform: PlatformId,
        redirect_uri: Url,
        scopes: Vec<Scope>,
        pkce_verifier: Option<PkceVerifier>,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            subject,
            platform,
            redirect_uri,
            scopes,
            pkce_verifier,
            created_at,
            expires_at,
        }
    }
}

/// Persistence of pending OAuth states, keyed by the SHA-256 of the `state` value so the value
/// itself is never stored.
#[async_trait]
pub trait PendingAuthStore: Send + Sync {
    /// Stores a pending authorization under `state_hash`.
    async fn insert(&self, state_hash: [u8; 32], pending: PendingAuth) -> Result<()>;

    /// Removes and returns the pending authorization, atomically: of two concurrent callers
    /// with the same state, at most one gets it.
    async fn take(&self, state_hash: [u8; 32]) -> Result<Option<PendingAuth>>;

    /// Deletes states that expired before `now`; returns how many.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64>;

    /// Deletes a subject's pending states; returns how many.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64>;
}
