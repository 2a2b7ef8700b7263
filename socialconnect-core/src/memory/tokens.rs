//! [`MemoryTokenStore`]: token sets and refresh leases in a map.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use super::lock;
use crate::claim::ClaimTable;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::id::{ConnectionKey, PlatformId, SubjectId};
use crate::store::{
    ConnectionStatus, ErasureReport, PutOutcome, RefreshLease, StoredTokens, TokenStore,
    refresh_due_at,
};
use crate::token::TokenSet;

/// An in-process, **unencrypted** [`TokenStore`], for tests and prototypes.
///
/// Token sets are kept as plain values in memory. Versions start at 1 for a new connection and
/// go up by one on every write, status changes included. Refresh leases only coordinate tasks
/// within this process.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chrono::Utc;
/// use socialconnect_core::id::{ConnectionId, ConnectionKey, PlatformId, SubjectId};
/// use socialconnect_core::memory::MemoryTokenStore;
/// use socialconnect_core::secret::AccessToken;
/// use socialconnect_core::store::{PutOutcome, TokenStore};
/// use socialconnect_core::token::{Expiry, TokenSet};
///
/// let store = MemoryTokenStore::new();
/// let key = ConnectionKey::new(
///     SubjectId::new("user-1")?,
///     PlatformId::LINKEDIN,
///     ConnectionId::generate(),
/// );
/// let tokens = TokenSet::new(AccessToken::new("at-1"), Expiry::Never, Utc::now());
/// assert_eq!(store.put(&key, &tokens, None).await?, PutOutcome::Written(1));
/// // A writer that read version 1 may write; a second one with the same expectation loses.
/// assert_eq!(store.put(&key, &tokens, Some(1)).await?, PutOutcome::Written(2));
/// assert_eq!(store.put(&key, &tokens, Some(1)).await?, PutOutcome::Conflict(Some(2)));
/// # Ok::<(), socialconnect_core::Error>(())
/// # }).unwrap();
/// ```
pub struct MemoryTokenStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    rows: HashMap<ConnectionKey, StoredTokens>,
    leases: HashMap<ConnectionKey, RefreshLease>,
    claims: ClaimTable<ConnectionKey>,
}

impl MemoryTokenStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store reading time from `clock` (for `updated_at` and lease expiry).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
        }
    }
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryTokenStore {
    // Counts only: the rows hold tokens, and a store's Debug should not even hint at them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryTokenStore");
        d.field("clock", &self.clock);
        match self.state.lock() {
            Ok(state) => d
                .field("connections", &state.rows.len())
                .field("leases", &state.leases.len()),
            Err(_) => d.field("state", &"<poisoned>"),
        };
        d.finish()
    }
}

/// The next version after `current` (1 for a new row).
fn next_version(current: Option<u64>) -> Result<u64> {
    match current {
        None => Ok(1),
        Some(v) => v
            .checked_add(1)
            .ok_or_else(|| Error::storage_msg("connection version overflowed")),
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn put(
        &self,
        key: &ConnectionKey,
        tokens: &TokenSet,
        expected_version: Option<u64>,
    ) -> Result<PutOutcome> {
        let now = self.clock.now();
        let mut state = lock(&self.state)?;
        let current = state.rows.get(key).map(|row| row.version);
        if let Some(expected) = expected_version
            && current != Some(expected)
        {
            return Ok(PutOutcome::Conflict(current));
        }
        let version = next_version(current)?;
        state.rows.insert(
            key.clone(),
            StoredTokens::new(tokens.clone(), version, ConnectionStatus::Active, now),
        );
        Ok(PutOutcome::Written(version))
    }

    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredTokens>> {
        Ok(lock(&self.state)?.rows.get(key).cloned())
    }

    async fn set_status(&self, key: &ConnectionKey, status: ConnectionStatus) -> Result<bool> {
        let now = self.clock.now();
        let mut state = lock(&self.state)?;
        let Some(row) = state.rows.get_mut(key) else {
            return Ok(false);
        };
        row.version = next_version(Some(row.version))?;
        row.status = status;
        row.updated_at = now;
        Ok(true)
    }

    /// Deletes the connection and any refresh lease on it.
    async fn delete(&self, key: &ConnectionKey) -> Result<bool> {
        let mut state = lock(&self.state)?;
        state.leases.remove(key);
        state.claims.forget(key);
        Ok(state.rows.remove(key).is_some())
    }

    /// The subject's connections, sorted by platform, then connection id.
    async fn connections(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>> {
        let mut keys: Vec<ConnectionKey> = lock(&self.state)?
            .rows
            .keys()
            .filter(|key| key.subject == *subject)
            .cloned()
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn stale_connections(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionKey>> {
        let mut keys: Vec<ConnectionKey> = lock(&self.state)?
            .rows
            .iter()
            .filter(|(_, row)| row.status.since().is_some_and(|since| since < before))
            .map(|(key, _)| key.clone())
            .collect();
        keys.sort();
        keys.truncate(limit as usize);
        Ok(keys)
    }

    async fn find_by_account(
        &self,
        platform: &PlatformId,
        account_id: &str,
    ) -> Result<Vec<ConnectionKey>> {
        let mut keys: Vec<ConnectionKey> = lock(&self.state)?
            .rows
            .iter()
            .filter(|(key, row)| {
                &key.platform == platform && row.tokens.account_id.as_deref() == Some(account_id)
            })
            .map(|(key, _)| key.clone())
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Takes the lease unless another unexpired one is held. A zero `ttl` is rejected as
    /// invalid input: such a lease would lapse the instant it was taken.
    async fn try_lease(&self, key: &ConnectionKey, ttl: Duration) -> Result<Option<RefreshLease>> {
        if ttl.is_zero() {
            return Err(Error::invalid_input("refresh lease ttl must be positive"));
        }
        let now = self.clock.now();
        let expires_at = chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .ok_or_else(|| Error::invalid_input("refresh lease ttl is out of range"))?;
        let mut state = lock(&self.state)?;
        if state
            .leases
            .get(key)
            .is_some_and(|held| held.expires_at > now)
        {
            return Ok(None);
        }
        let lease = RefreshLease {
            key: key.clone(),
            owner: Uuid::new_v4(),
            expires_at,
        };
        state.leases.insert(key.clone(), lease.clone());
        Ok(Some(lease))
    }

    /// Releases the lease when `lease.owner` is still the recorded holder (even if it lapsed
    /// meanwhile and nobody took it over); otherwise changes nothing and returns false.
    async fn release(&self, lease: &RefreshLease) -> Result<bool> {
        let mut state = lock(&self.state)?;
        match state.leases.get(&lease.key) {
            Some(held) if held.owner == lease.owner => {
                state.leases.remove(&lease.key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Claims in process memory (see [`ClaimTable`]); the due time is the access token's
    /// expiry, read from the rows themselves.
    async fn claim_due(
        &self,
        due_before: chrono::DateTime<chrono::Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<ConnectionKey>> {
        let now = self.clock.now();
        let until = chrono::Duration::from_std(ttl)
            .ok()
            .filter(|ttl| *ttl > chrono::Duration::zero())
            .and_then(|ttl| now.checked_add_signed(ttl))
            .ok_or_else(|| Error::invalid_input("claim ttl must be positive and in range"))?;
        let mut state = lock(&self.state)?;
        let State { rows, claims, .. } = &mut *state;
        let candidates = rows.iter().filter_map(|(key, row)| {
            refresh_due_at(&row.tokens, &row.status).map(|at| (key.clone(), at))
        });
        Ok(claims.claim(candidates, due_before, now, limit, owner, until))
    }

    async fn release_claim(
        &self,
        key: &ConnectionKey,
        owner: Uuid,
        hold_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool> {
        Ok(lock(&self.state)?.claims.release(key, owner, hold_until))
    }

    /// Removes the subject's connections (counted as `tokens`) and their refresh leases.
    async fn erase_subject(&self, subject: &SubjectId) -> Result<ErasureReport> {
        let mut state = lock(&self.state)?;
        let before = state.rows.len();
        state.rows.retain(|key, _| key.subject != *subject);
        let removed = before - state.rows.len();
        state.leases.retain(|key, _| key.subject != *subject);
        state.claims.forget_where(|key| key.subject == *subject);
        drop(state);
        let mut report = ErasureReport::default();
        report.add("tokens", removed as u64);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::id::{ConnectionId, PlatformId};
    use crate::memory::test_clock::TestClock;
    use crate::secret::AccessToken;
    use crate::token::Expiry;

    fn key(subject: &str, platform: PlatformId) -> ConnectionKey {
        ConnectionKey::new(
            SubjectId::new(subject).unwrap(),
            platform,
            ConnectionId::generate(),
        )
    }

    fn tokens(access: &str) -> TokenSet {
        TokenSet::new(AccessToken::new(access), Expiry::Never, Utc::now())
    }

    fn store_with_clock() -> (MemoryTokenStore, Arc<TestClock>) {
        let clock = Arc::new(TestClock::new());
        (MemoryTokenStore::with_clock(clock.clone()), clock)
    }

    #[tokio::test]
    async fn put_get_and_versions() {
        let (store, clock) = store_with_clock();
        let k = key("s1", PlatformId::FACEBOOK);
        assert!(store.get(&k).await.unwrap().is_none());

        assert_eq!(
            store.put(&k, &tokens("a1"), None).await.unwrap(),
            PutOutcome::Written(1)
        );
        let row = store.get(&k).await.unwrap().unwrap();
        assert_eq!(row.version, 1);
        assert_eq!(row.status, ConnectionStatus::Active);
        assert_eq!(row.updated_at, clock.now());
        assert_eq!(row.tokens.access_token.expose_secret(), "a1");

        // An unconditional put overwrites and still bumps the version.
        assert_eq!(
            store.put(&k, &tokens("a2"), None).await.unwrap(),
            PutOutcome::Written(2)
        );
        assert_eq!(
            store.put(&k, &tokens("a3"), Some(2)).await.unwrap(),
            PutOutcome::Written(3)
        );
        let row = store.get(&k).await.unwrap().unwrap();
        assert_eq!(
            (row.version, row.tokens.access_token.expose_secret()),
            (3, "a3")
        );
    }

    #[tokio::test]
    async fn cas_conflicts_change_nothing() {
        let store = MemoryTokenStore::new();
        let k = key("s1", PlatformId::TIKTOK);
        // Expecting a version of a row that does not exist.
        assert_eq!(
            store.put(&k, &tokens("a"), Some(1)).await.unwrap(),
            PutOutcome::Conflict(None)
        );
        assert!(store.get(&k).await.unwrap().is_none());

        store.put(&k, &tokens("a1"), None).await.unwrap();
        store.put(&k, &tokens("a2"), Some(1)).await.unwrap();
        // A stale writer (read version 1) loses to the one that already wrote version 2.
        assert_eq!(
            store.put(&k, &tokens("stale"), Some(1)).await.unwrap(),
            PutOutcome::Conflict(Some(2))
        );
        let row = store.get(&k).await.unwrap().unwrap();
        assert_eq!(
            (row.version, row.tokens.access_token.expose_secret()),
            (2, "a2")
        );
    }

    #[tokio::test]
    async fn concurrent_cas_has_one_winner() {
        let store = Arc::new(MemoryTokenStore::new());
        let k = key("s1", PlatformId::PINTEREST);
        store.put(&k, &tokens("a0"), None).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let (store, k) = (store.clone(), k.clone());
            tasks.push(tokio::spawn(async move {
                store.put(&k, &tokens(&format!("a{i}")), Some(1)).await
            }));
        }
        let mut written = 0;
        for t in tasks {
            if let PutOutcome::Written(v) = t.await.unwrap().unwrap() {
                assert_eq!(v, 2);
                written += 1;
            }
        }
        assert_eq!(written, 1);
    }

    #[tokio::test]
    async fn set_status_bumps_version_and_put_reactivates() {
        let (store, clock) = store_with_clock();
        let k = key("s1", PlatformId::LINKEDIN);
        let missing = key("s1", PlatformId::LINKEDIN);
        let since = clock.now();
        assert!(
            !store
                .set_status(&missing, ConnectionStatus::Revoked { since })
                .await
                .unwrap()
        );

        store.put(&k, &tokens("a"), None).await.unwrap();
        clock.advance(chrono::Duration::seconds(5));
        assert!(
            store
                .set_status(&k, ConnectionStatus::ReconnectRequired { since })
                .await
                .unwrap()
        );
        let row = store.get(&k).await.unwrap().unwrap();
        assert_eq!(row.version, 2);
        assert_eq!(row.status, ConnectionStatus::ReconnectRequired { since });
        assert_eq!(row.updated_at, clock.now());
        assert_eq!(row.tokens.access_token.expose_secret(), "a");

        // A refresh that read version 1 must not overwrite the status change.
        assert_eq!(
            store.put(&k, &tokens("b"), Some(1)).await.unwrap(),
            PutOutcome::Conflict(Some(2))
        );
        assert_eq!(
            store.put(&k, &tokens("b"), Some(2)).await.unwrap(),
            PutOutcome::Written(3)
        );
        let row = store.get(&k).await.unwrap().unwrap();
        assert_eq!(row.status, ConnectionStatus::Active);
    }

    #[tokio::test]
    async fn lease_is_exclusive_until_it_lapses() {
        let (store, clock) = store_with_clock();
        let k = key("s1", PlatformId::FACEBOOK);
        let ttl = Duration::from_secs(30);

        let first = store.try_lease(&k, ttl).await.unwrap().unwrap();
        assert_eq!(first.key, k);
        assert_eq!(
            first.expires_at,
            clock.now() + chrono::Duration::seconds(30)
        );
        assert!(store.try_lease(&k, ttl).await.unwrap().is_none());

        // Other connections are independent.
        let other = key("s1", PlatformId::FACEBOOK);
        assert!(store.try_lease(&other, ttl).await.unwrap().is_some());

        // Still held one second before it lapses; free at the instant it lapses.
        clock.advance(chrono::Duration::seconds(29));
        assert!(store.try_lease(&k, ttl).await.unwrap().is_none());
        clock.advance(chrono::Duration::seconds(1));
        let second = store.try_lease(&k, ttl).await.unwrap().unwrap();
        assert_ne!(second.owner, first.owner);

        // The lapsed holder cannot release its successor's lease.
        assert!(!store.release(&first).await.unwrap());
        assert!(store.try_lease(&k, ttl).await.unwrap().is_none());

        // The real holder can, once; then the lease is free again.
        assert!(store.release(&second).await.unwrap());
        assert!(!store.release(&second).await.unwrap());
        assert!(store.try_lease(&k, ttl).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn release_checks_the_owner() {
        let store = MemoryTokenStore::new();
        let k = key("s1", PlatformId::TIKTOK);
        let lease = store
            .try_lease(&k, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let forged = RefreshLease {
            owner: Uuid::new_v4(),
            ..lease.clone()
        };
        assert!(!store.release(&forged).await.unwrap());
        assert!(
            store
                .try_lease(&k, Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.release(&lease).await.unwrap());
    }

    #[tokio::test]
    async fn bad_lease_ttls_are_rejected() {
        let store = MemoryTokenStore::new();
        let k = key("s1", PlatformId::TIKTOK);
        for ttl in [Duration::ZERO, Duration::MAX] {
            let err = store.try_lease(&k, ttl).await.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
        // Nothing was taken.
        assert!(
            store
                .try_lease(&k, Duration::from_secs(1))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn connections_are_sorted_and_per_subject() {
        let store = MemoryTokenStore::new();
        let mut mine = vec![
            key("me", PlatformId::TIKTOK),
            key("me", PlatformId::FACEBOOK),
            key("me", PlatformId::FACEBOOK),
            key("me", PlatformId::LINKEDIN),
        ];
        for k in mine.iter().rev() {
            store.put(k, &tokens("a"), None).await.unwrap();
        }
        store
            .put(&key("you", PlatformId::FACEBOOK), &tokens("b"), None)
            .await
            .unwrap();
        mine.sort();
        let subject = SubjectId::new("me").unwrap();
        assert_eq!(store.connections(&subject).await.unwrap(), mine);
        assert!(
            store
                .connections(&SubjectId::new("nobody").unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn delete_and_erase_subject() {
        let store = MemoryTokenStore::new();
        let a = key("me", PlatformId::FACEBOOK);
        let b = key("me", PlatformId::TIKTOK);
        let c = key("me", PlatformId::PINTEREST);
        let theirs = key("you", PlatformId::FACEBOOK);
        for k in [&a, &b, &c, &theirs] {
            store.put(k, &tokens("a"), None).await.unwrap();
        }
        assert!(store.delete(&c).await.unwrap());
        assert!(!store.delete(&c).await.unwrap());

        let lease = store
            .try_lease(&a, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let report = store.erase_subject(&a.subject).await.unwrap();
        assert_eq!(report.counts.get("tokens"), Some(&2));
        assert_eq!(report.total(), 2);
        assert!(store.get(&a).await.unwrap().is_none());
        assert!(store.get(&b).await.unwrap().is_none());
        assert!(store.get(&theirs).await.unwrap().is_some());
        // The lease went with the subject.
        assert!(!store.release(&lease).await.unwrap());

        let again = store.erase_subject(&a.subject).await.unwrap();
        assert_eq!(again.total(), 0);
    }

    #[test]
    fn debug_shows_no_tokens() {
        let store = MemoryTokenStore::new();
        let k = key("me", PlatformId::FACEBOOK);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.put(&k, &tokens("EAAB-secret"), None))
            .unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains("EAAB-secret"), "{debug}");
        assert!(debug.contains("connections: 1"), "{debug}");
    }
}
