//! [`EncryptedStore`]: every storage trait of `socialconnect-core`, sealed per subject.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use socialconnect_core::clock::{Clock, SystemClock};
use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, SubjectId};
use socialconnect_core::keys::KeyProvider;
use socialconnect_core::store::{ConnectionStatus, ErasureReport};
use socialconnect_core::{Error, Result};

use crate::backend::{Backend, ErasureCounts, SubjectRef, memory::MemoryBackend};
use crate::consent_cache::ConsentCache;
use crate::envelope::{self, Aad, RecordKind};
use crate::subjects::SubjectKeys;

/// Tuning for an [`EncryptedStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Unwrapped data keys kept in memory (default 10 000). Zero disables the cache.
    pub key_cache_capacity: usize,
    /// How long an unwrapped data key stays cached (default 5 minutes).
    pub key_cache_ttl: Duration,
    /// Usage-log rows deleted per transaction by a purge (default 10 000).
    pub purge_batch: u32,
    /// Subject keys rewrapped per transaction by a rotation (default 1 000).
    pub rotation_batch: u32,
    /// The clock for lease expiry and record timestamps (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// How long a consent state read for
    /// [`permits`](socialconnect_core::consent::ConsentLedger::permits) and
    /// [`state`](socialconnect_core::consent::ConsentLedger::state) stays cached (default 1 s;
    /// zero disables the cache). A consent recorded or erased through this store, or a clone
    /// of it, takes effect at once; one recorded by **another process** sharing the database
    /// is seen here within this TTL. Keep it short where several processes serve one host.
    pub consent_cache_ttl: Duration,
    /// The region the deployment stores its data in (e.g. `"eu-central-1"`), sealed into every
    /// record written from now on and read back with it, so that each record keeps the region
    /// it was written in (default: none).
    pub region: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            key_cache_capacity: 10_000,
            key_cache_ttl: Duration::from_secs(300),
            purge_batch: 10_000,
            rotation_batch: 1_000,
            clock: Arc::new(SystemClock),
            consent_cache_ttl: Duration::from_secs(1),
            region: None,
        }
    }
}

impl StoreOptions {
    /// Sets the key cache bound and TTL.
    pub fn with_key_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.key_cache_capacity = capacity;
        self.key_cache_ttl = ttl;
        self
    }

    /// Sets the clock (tests move a manual one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the consent cache TTL (zero disables the cache; see
    /// [`StoreOptions::consent_cache_ttl`]).
    pub fn with_consent_cache_ttl(mut self, ttl: Duration) -> Self {
        self.consent_cache_ttl = ttl;
        self
    }

    /// Sets the region sealed into every record written (see [`StoreOptions::region`]).
    pub fn with_region(mut self, region: &str) -> Self {
        self.region = Some(region.to_owned());
        self
    }

    /// Sets the rotation batch size.
    pub fn with_rotation_batch(mut self, batch: u32) -> Self {
        self.rotation_batch = batch.max(1);
        self
    }
}

/// The encrypted store: tokens, pending OAuth states, the consent ledger and the usage log,
/// each record sealed under its subject's data key, subjects stored only as keyed pseudonyms.
///
/// Cheap to clone; clones share the backend, the key cache and the consent cache. It
/// implements [`TokenStore`](socialconnect_core::store::TokenStore),
/// [`PendingAuthStore`](socialconnect_core::store::PendingAuthStore),
/// [`ConsentLedger`](socialconnect_core::consent::ConsentLedger),
/// [`AccessLog`](socialconnect_core::access_log::AccessLog),
/// [`DeletionRequestStore`](socialconnect_core::platform_deletion::DeletionRequestStore),
/// [`ProfileStore`](socialconnect_core::profile::ProfileStore),
/// [`ReceiptStore`](socialconnect_core::receipt::ReceiptStore),
/// [`ApiKeyStore`](socialconnect_core::apikey::ApiKeyStore) and
/// [`ActionStore`](socialconnect_core::automation::ActionStore).
#[derive(Clone)]
pub struct EncryptedStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Sealed records.
    pub(crate) backend: Arc<dyn Backend>,
    /// Wrapped data keys and store secrets, kept apart from the records (see
    /// [`EncryptedStore::erase`]).
    pub(crate) vault: Arc<dyn Backend>,
    /// True when records and keys live in the same backend.
    pub(crate) shared_vault: bool,
    pub(crate) keys: Arc<dyn KeyProvider>,
    pub(crate) subjects: SubjectKeys,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) consent_cache: Arc<ConsentCache>,
    pub(crate) options: StoreOptions,
}

impl std::fmt::Debug for EncryptedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("primary_key", &self.inner.keys.primary())
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl EncryptedStore {
    /// A store in process memory, with the same encryption as the database backends.
    pub async fn memory(keys: Arc<dyn KeyProvider>) -> Result<Self> {
        Self::memory_with(keys, StoreOptions::default()).await
    }

    /// [`EncryptedStore::memory`] with options.
    pub async fn memory_with(keys: Arc<dyn KeyProvider>, options: StoreOptions) -> Result<Self> {
        Self::with_backends(
            Arc::new(MemoryBackend::default()),
            Arc::new(MemoryBackend::default()),
            keys,
            options,
        )
        .await
    }

    /// Opens (creating when missing) an SQLite database file, and beside it the key vault
    /// `<path>.keys` holding the wrapped data keys: both mode 0600, WAL, migrations applied on
    /// open. Back the two up separately and keep the vault's backups short-lived: a subject
    /// erased since a data backup was taken cannot be read from it, because its key is gone
    /// from the vault.
    #[cfg(feature = "sqlite")]
    pub async fn open_sqlite(
        path: impl AsRef<std::path::Path>,
        keys: Arc<dyn KeyProvider>,
    ) -> Result<Self> {
        Self::open_sqlite_with(path, keys, StoreOptions::default()).await
    }

    /// [`EncryptedStore::open_sqlite`] with options.
    #[cfg(feature = "sqlite")]
    pub async fn open_sqlite_with(
        path: impl AsRef<std::path::Path>,
        keys: Arc<dyn KeyProvider>,
        options: StoreOptions,
    ) -> Result<Self> {
        let path = path.as_ref();
        let mut vault_path = path.as_os_str().to_owned();
        vault_path.push(".keys");
        let backend = crate::backend::sqlite::SqliteBackend::open(path).await?;
        let vault =
            crate::backend::sqlite::SqliteBackend::open(std::path::Path::new(&vault_path)).await?;
        Self::with_backends(Arc::new(backend), Arc::new(vault), keys, options).await
    }

    /// Connects to PostgreSQL (`postgres://…`), applying migrations. Records and wrapped keys
    /// share the database here; for crypto-shredding to hold against old dumps, give the key
    /// vault its own database with [`EncryptedStore::open_postgres_split`].
    #[cfg(feature = "postgres")]
    pub async fn open_postgres(url: &str, keys: Arc<dyn KeyProvider>) -> Result<Self> {
        Self::open_postgres_with(url, keys, StoreOptions::default()).await
    }

    /// [`EncryptedStore::open_postgres`] with options.
    #[cfg(feature = "postgres")]
    pub async fn open_postgres_with(
        url: &str,
        keys: Arc<dyn KeyProvider>,
        options: StoreOptions,
    ) -> Result<Self> {
        let backend: Arc<dyn Backend> =
            Arc::new(crate::backend::postgres::PgBackend::open(url).await?);
        Self::with_backends(backend.clone(), backend, keys, options).await
    }

    /// PostgreSQL with the key vault in a separate database (`vault_url`).
    #[cfg(feature = "postgres")]
    pub async fn open_postgres_split(
        url: &str,
        vault_url: &str,
        keys: Arc<dyn KeyProvider>,
        options: StoreOptions,
    ) -> Result<Self> {
        let backend = crate::backend::postgres::PgBackend::open(url).await?;
        let vault = crate::backend::postgres::PgBackend::open(vault_url).await?;
        Self::with_backends(Arc::new(backend), Arc::new(vault), keys, options).await
    }

    pub(crate) async fn with_backends(
        backend: Arc<dyn Backend>,
        vault: Arc<dyn Backend>,
        keys: Arc<dyn KeyProvider>,
        options: StoreOptions,
    ) -> Result<Self> {
        let subjects = SubjectKeys::load(
            vault.clone(),
            keys.clone(),
            options.key_cache_capacity,
            options.key_cache_ttl,
        )
        .await?;
        let consent_cache = Arc::new(ConsentCache::new(options.consent_cache_ttl));
        let cache = consent_cache.clone();
        backend
            .watch_consent(Arc::new(move |change| match change {
                Some(sref) => cache.invalidate_ref(&sref),
                None => cache.invalidate_all(),
            }))
            .await?;
        Ok(Self {
            inner: Arc::new(Inner {
                shared_vault: std::ptr::addr_eq(Arc::as_ptr(&backend), Arc::as_ptr(&vault)),
                backend,
                vault,
                keys,
                subjects,
                clock: options.clock.clone(),
                consent_cache,
                options,
            }),
        })
    }

    /// Closes the database connections (waiting for those in use). The store must not be used
    /// afterwards.
    pub async fn close(&self) {
        self.inner.backend.close().await;
        if !self.inner.shared_vault {
            self.inner.vault.close().await;
        }
    }

    /// Erases everything stored about `subject`: destroys its data key in the vault first
    /// (from then on nothing of the subject opens, not even from an old copy of the records
    /// database), then deletes its rows in one transaction (consent rows become tombstones that
    /// keep the ledger's chain intact; deletion requests keep their code, platform, status and
    /// times but lose who they concerned; the profile goes; erasure receipts stay, since they
    /// hold no personal data). Idempotent: a second call reports zero counts, and a call
    /// interrupted between the two steps is completed by the next.
    pub async fn erase(&self, subject: &SubjectId) -> Result<ErasureReport> {
        let sref = self.subject_ref(subject);
        let vault_counts = self.inner.vault.erase_subject(&sref).await;
        self.inner.subjects.forget(&sref);
        self.inner.consent_cache.invalidate(subject);
        let vault_counts = vault_counts?;
        if self.inner.shared_vault {
            // One database: that single transaction removed rows and key together.
            return Ok(erasure_report(vault_counts));
        }
        let counts = self.inner.backend.erase_subject(&sref).await;
        self.inner.consent_cache.invalidate(subject);
        let mut counts = counts?;
        counts.subject_keys = vault_counts.subject_keys;
        Ok(erasure_report(counts))
    }

    pub(crate) fn subject_ref(&self, subject: &SubjectId) -> SubjectRef {
        self.inner.subjects.subject_ref(subject)
    }

    /// The region records are written with.
    pub(crate) fn region(&self) -> Option<&str> {
        self.inner.options.region.as_deref()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Seals under the subject's key, creating it on first use. Returns (dek_id, sealed).
    pub(crate) async fn seal(
        &self,
        sref: &SubjectRef,
        kind: RecordKind,
        record_id: &[u8],
        plaintext: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        self.seal_with(sref, kind, record_id, plaintext, true)
            .await?
            .ok_or_else(|| Error::Crypto("could not create a data key".to_owned()))
    }

    /// [`EncryptedStore::seal`], creating the subject's key only when `create`: `None` when
    /// the subject has none.
    pub(crate) async fn seal_with(
        &self,
        sref: &SubjectRef,
        kind: RecordKind,
        record_id: &[u8],
        plaintext: &[u8],
        create: bool,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let Some((dek_id, key)) = self.inner.subjects.data_key(sref, create).await? else {
            return Ok(None);
        };
        let aad = Aad {
            kind,
            dek_id: &dek_id,
            subject_ref: sref,
            record_id,
        };
        Ok(Some((
            dek_id.to_string(),
            envelope::seal(&key, &aad, plaintext)?,
        )))
    }

    /// Opens a record sealed under the subject's key.
    pub(crate) async fn open(
        &self,
        sref: &SubjectRef,
        kind: RecordKind,
        record_id: &[u8],
        dek_id: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.open_owned(sref, kind, record_id, dek_id, sealed.to_vec())
            .await
    }

    /// [`EncryptedStore::open`], decrypting in the buffer it is given.
    pub(crate) async fn open_owned(
        &self,
        sref: &SubjectRef,
        kind: RecordKind,
        record_id: &[u8],
        dek_id: &str,
        sealed: Vec<u8>,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let (current, key) = self.inner.subjects.existing_key(sref).await?;
        if &*current != dek_id {
            return Err(Error::Crypto(
                "record sealed under a data key the subject no longer has".to_owned(),
            ));
        }
        let aad = Aad {
            kind,
            dek_id,
            subject_ref: sref,
            record_id,
        };
        envelope::open_owned(&key, &aad, sealed)
    }

    /// Like [`EncryptedStore::open`], but `None` instead of an error when the data key the
    /// record was sealed under is gone: the subject was erased (and may have a new key since).
    /// A record that does not open under a key that still exists is still an error.
    pub(crate) async fn open_if_key(
        &self,
        sref: &SubjectRef,
        kind: RecordKind,
        record_id: &[u8],
        dek_id: &str,
        sealed: &[u8],
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let Some((current, key)) = self.inner.subjects.data_key(sref, false).await? else {
            return Ok(None);
        };
        if &*current != dek_id {
            return Ok(None);
        }
        let aad = Aad {
            kind,
            dek_id,
            subject_ref: sref,
            record_id,
        };
        envelope::open(&key, &aad, sealed).map(Some)
    }
}

pub(crate) fn erasure_report(c: ErasureCounts) -> ErasureReport {
    let mut r = ErasureReport::default();
    r.add("tokens", c.tokens);
    r.add("refresh_leases", c.leases);
    r.add("pending_states", c.pending_states);
    r.add("consent_records", c.consent_records);
    r.add("usage_entries", c.usage_entries);
    r.add("deletion_requests", c.deletion_requests);
    r.add("data_keys", c.subject_keys);
    r.add("profiles", c.profiles);
    r.add("actions", c.actions);
    r
}

/// A time at the microsecond precision stored: what reads back is what was written.
pub(crate) fn micros_precision(t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(t.timestamp_micros())
        .ok_or_else(|| Error::invalid_input("time out of range"))
}

/// Unix seconds to a time, failing on values no clock produces.
pub(crate) fn from_secs(s: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(s, 0)
        .ok_or_else(|| Error::storage_msg("stored timestamp out of range"))
}

pub(crate) fn status_from_row(status: &str, since: Option<i64>) -> Result<ConnectionStatus> {
    let since = || -> Result<DateTime<Utc>> {
        from_secs(since.ok_or_else(|| Error::storage_msg("status without a time"))?)
    };
    match status {
        "active" => Ok(ConnectionStatus::Active),
        "reconnect_required" => Ok(ConnectionStatus::ReconnectRequired { since: since()? }),
        "revoked" => Ok(ConnectionStatus::Revoked { since: since()? }),
        _ => Err(Error::storage_msg("unknown connection status in storage")),
    }
}

pub(crate) fn connection_key(
    subject: &SubjectId,
    conn_id: &str,
    platform: &str,
) -> Result<ConnectionKey> {
    Ok(ConnectionKey::new(
        subject.clone(),
        PlatformId::new(platform.to_owned())
            .map_err(|_| Error::storage_msg("malformed platform id in storage"))?,
        ConnectionId::parse(conn_id)
            .map_err(|_| Error::storage_msg("malformed connection id in storage"))?,
    ))
}
