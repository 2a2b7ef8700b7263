//! [`MemoryPendingAuthStore`]: OAuth authorizations in flight, in a map.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::{Error, Result};
use crate::id::SubjectId;
use crate::store::{PendingAuth, PendingAuthStore};

/// An in-process, **unencrypted** [`PendingAuthStore`], for tests and prototypes.
///
/// PKCE verifiers are kept as plain values in memory. Entries are keyed by the hash of the
/// `state` value, as the trait requires.
#[derive(Default)]
pub struct MemoryPendingAuthStore {
    pending: Mutex<HashMap<[u8; 32], PendingAuth>>,
}

impl MemoryPendingAuthStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryPendingAuthStore {
    // Counts only: entries hold PKCE verifiers and state hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryPendingAuthStore");
        match self.pending.lock() {
            Ok(pending) => d.field("pending", &pending.len()),
            Err(_) => d.field("pending", &"<poisoned>"),
        };
        d.finish()
    }
}

#[async_trait]
impl PendingAuthStore for MemoryPendingAuthStore {
    /// Stores the entry. A second entry under the same hash is refused as invalid input rather
    /// than replacing the first: states are random, so a repeat means a bug or a replay.
    async fn insert(&self, state_hash: [u8; 32], pending: PendingAuth) -> Result<()> {
        let mut map = lock(&self.pending)?;
        if map.contains_key(&state_hash) {
            return Err(Error::invalid_input(
                "an authorization with this state is already pending",
            ));
        }
        map.insert(state_hash, pending);
        Ok(())
    }

    /// Removes and returns the entry whether or not it has expired: checking `expires_at` is
    /// the caller's job, and an expired state is gone after one attempt either way.
    async fn take(&self, state_hash: [u8; 32]) -> Result<Option<PendingAuth>> {
        Ok(lock(&self.pending)?.remove(&state_hash))
    }

    /// Deletes entries whose `expires_at` is at or before `now` (an entry stops being accepted
    /// at its expiry instant).
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut map = lock(&self.pending)?;
        let before = map.len();
        map.retain(|_, pending| pending.expires_at > now);
        Ok((before - map.len()) as u64)
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<u64> {
        let mut map = lock(&self.pending)?;
        let before = map.len();
        map.retain(|_, pending| pending.subject != *subject);
        Ok((before - map.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{Duration, TimeZone};
    use url::Url;

    use super::*;
    use crate::id::{PlatformId, Scope};
    use crate::secret::PkceVerifier;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn pending(subject: &str, ttl_secs: i64) -> PendingAuth {
        PendingAuth::new(
            SubjectId::new(subject).unwrap(),
            PlatformId::TIKTOK,
            Url::parse("https://host.example/callback").unwrap(),
            vec![Scope::new("user.info.basic").unwrap()],
            Some(PkceVerifier::new("verifier-123")),
            t0(),
            t0() + Duration::seconds(ttl_secs),
        )
    }

    #[tokio::test]
    async fn take_is_single_use() {
        let store = MemoryPendingAuthStore::new();
        store.insert([1; 32], pending("me", 600)).await.unwrap();
        assert!(store.take([2; 32]).await.unwrap().is_none());
        let got = store.take([1; 32]).await.unwrap().unwrap();
        assert_eq!(got.subject.as_str(), "me");
        assert_eq!(
            got.pkce_verifier.as_ref().map(PkceVerifier::expose_secret),
            Some("verifier-123")
        );
        assert!(store.take([1; 32]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn concurrent_takes_have_one_winner() {
        let store = Arc::new(MemoryPendingAuthStore::new());
        store.insert([7; 32], pending("me", 600)).await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.take([7; 32]).await })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap().unwrap().is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn duplicate_insert_is_refused_and_keeps_the_first() {
        let store = MemoryPendingAuthStore::new();
        store.insert([1; 32], pending("me", 600)).await.unwrap();
        let err = store
            .insert([1; 32], pending("attacker", 600))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        let got = store.take([1; 32]).await.unwrap().unwrap();
        assert_eq!(got.subject.as_str(), "me");
    }

    #[tokio::test]
    async fn purge_expired_removes_only_expired() {
        let store = MemoryPendingAuthStore::new();
        store.insert([1; 32], pending("a", 60)).await.unwrap();
        store.insert([2; 32], pending("b", 600)).await.unwrap();
        store.insert([3; 32], pending("c", 120)).await.unwrap();
        assert_eq!(store.purge_expired(t0()).await.unwrap(), 0);
        // At the expiry instant an entry counts as expired.
        assert_eq!(
            store
                .purge_expired(t0() + Duration::seconds(120))
                .await
                .unwrap(),
            2
        );
        assert!(store.take([1; 32]).await.unwrap().is_none());
        assert!(store.take([3; 32]).await.unwrap().is_none());
        assert!(store.take([2; 32]).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn erase_subject_removes_only_theirs() {
        let store = MemoryPendingAuthStore::new();
        store.insert([1; 32], pending("me", 60)).await.unwrap();
        store.insert([2; 32], pending("me", 60)).await.unwrap();
        store.insert([3; 32], pending("you", 60)).await.unwrap();
        let me = SubjectId::new("me").unwrap();
        assert_eq!(store.erase_subject(&me).await.unwrap(), 2);
        assert_eq!(store.erase_subject(&me).await.unwrap(), 0);
        assert!(store.take([3; 32]).await.unwrap().is_some());
    }

    #[test]
    fn debug_shows_no_verifier() {
        let store = MemoryPendingAuthStore::new();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(store.insert([1; 32], pending("me", 60)))
            .unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains("verifier-123"), "{debug}");
        assert_eq!(debug, "MemoryPendingAuthStore { pending: 1 }");
    }
}
