//! Subject pseudonyms and per-subject data keys (created on first use, cached unwrapped with a
//! bound and a TTL, destroyed on erasure).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::keys::{DataKey, KeyId, KeyProvider, WrappedKey};
use socialconnect_core::{Error, Result};

use crate::backend::{AccountRef, Backend, MetaRow, SubjectKeyRow, SubjectRef};
use crate::envelope::SealingKey;

const PSEUDONYM_META: &str = "pseudonym_key";

/// The key-wrapping context of a subject's data key: binds it to its subject.
pub(crate) fn subject_context(subject_ref: &SubjectRef) -> Vec<u8> {
    let mut c = b"subject-key\0".to_vec();
    c.extend_from_slice(subject_ref);
    c
}

/// The key-wrapping context of a store-wide secret.
pub(crate) fn meta_context(name: &str) -> Vec<u8> {
    let mut c = b"store-meta\0".to_vec();
    c.extend_from_slice(name.as_bytes());
    c
}

/// A data key in the cache.
struct Cached {
    dek_id: Arc<str>,
    key: SealingKey,
    at: Instant,
}

/// Pseudonymises subjects and hands out their data keys.
pub(crate) struct SubjectKeys {
    backend: Arc<dyn Backend>,
    keys: Arc<dyn KeyProvider>,
    pseudonym_key: DataKey,
    cache: Mutex<HashMap<SubjectRef, Cached>>,
    cache_capacity: usize,
    cache_ttl: Duration,
}

impl std::fmt::Debug for SubjectKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectKeys")
            .field("cache_capacity", &self.cache_capacity)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl SubjectKeys {
    /// Loads (or, on a new store, creates) the pseudonym key.
    pub(crate) async fn load(
        backend: Arc<dyn Backend>,
        keys: Arc<dyn KeyProvider>,
        cache_capacity: usize,
        cache_ttl: Duration,
    ) -> Result<Self> {
        let context = meta_context(PSEUDONYM_META);
        let row = match backend.get_meta(PSEUDONYM_META).await? {
            Some(row) => row,
            None => {
                let fresh = DataKey::generate();
                let primary = keys.primary();
                let wrapped = keys.wrap(&primary, &fresh, &context).await?;
                backend
                    .insert_meta_if_absent(MetaRow {
                        name: PSEUDONYM_META.to_owned(),
                        kek_id: wrapped.key_id.0,
                        wrapped: wrapped.ciphertext,
                    })
                    .await?
            }
        };
        let pseudonym_key = keys
            .unwrap(
                &WrappedKey {
                    key_id: KeyId(row.kek_id),
                    ciphertext: row.wrapped,
                },
                &context,
            )
            .await?;
        Ok(Self {
            backend,
            keys,
            pseudonym_key,
            cache: Mutex::new(HashMap::new()),
            cache_capacity,
            cache_ttl,
        })
    }

    /// The subject's keyed pseudonym: HMAC-SHA256 under the store's pseudonym key, so rows can
    /// be found by subject without the subject id being stored.
    pub(crate) fn subject_ref(&self, subject: &SubjectId) -> SubjectRef {
        self.pseudonym(&[b"subject\0", subject.as_str().as_bytes()])
    }

    /// A platform account's keyed pseudonym, under the same key as [`SubjectKeys::subject_ref`]
    /// but in its own domain (`account\0`), so no account pseudonym equals a subject's. The
    /// platform is part of it: two platforms may use the same account id for different people.
    pub(crate) fn account_ref(&self, platform: &PlatformId, account_id: &str) -> AccountRef {
        self.pseudonym(&[
            b"account\0",
            platform.as_str().as_bytes(),
            b"\0",
            account_id.as_bytes(),
        ])
    }

    /// The pseudonym an erasure receipt names the subject by: the same key as
    /// [`SubjectKeys::subject_ref`] in its own domain (`erasure-receipt\0`), so a receipt
    /// cannot be joined to any row's `subject_ref`, yet the host can recompute it from the
    /// subject id to show the erasure happened.
    pub(crate) fn receipt_pseudonym(&self, subject: &SubjectId) -> [u8; 32] {
        self.pseudonym(&[b"erasure-receipt\0", subject.as_str().as_bytes()])
    }

    /// HMAC-SHA256 of the concatenated parts under the pseudonym key. Callers keep the
    /// encoding unambiguous: a domain tag ending in NUL first, at most one free-form part and
    /// that one last (a platform id cannot contain a NUL; an account id might).
    fn pseudonym(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(self.pseudonym_key.expose_secret())
                .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The subject's data key; created when `create` and the subject has none. `None` when the
    /// subject has no key and none was to be created (it never had data, or was erased).
    pub(crate) async fn data_key(
        &self,
        subject_ref: &SubjectRef,
        create: bool,
    ) -> Result<Option<(Arc<str>, SealingKey)>> {
        if let Some(hit) = self.cached(subject_ref) {
            return Ok(Some(hit));
        }
        let row = match self.backend.get_subject_key(subject_ref).await? {
            Some(row) => row,
            None if !create => return Ok(None),
            None => {
                let fresh = DataKey::generate();
                let wrapped = self
                    .keys
                    .wrap(&self.keys.primary(), &fresh, &subject_context(subject_ref))
                    .await?;
                let row = SubjectKeyRow {
                    subject_ref: *subject_ref,
                    dek_id: uuid::Uuid::new_v4().to_string(),
                    kek_id: wrapped.key_id.0,
                    wrapped: wrapped.ciphertext,
                    created_at: chrono::Utc::now().timestamp(),
                };
                // Another writer may have created one first: theirs wins and is unwrapped below.
                self.backend.insert_subject_key_if_absent(row).await?
            }
        };
        let key = self
            .keys
            .unwrap(
                &WrappedKey {
                    key_id: KeyId(row.kek_id),
                    ciphertext: row.wrapped,
                },
                &subject_context(subject_ref),
            )
            .await?;
        let dek_id: Arc<str> = Arc::from(row.dek_id);
        let key = SealingKey::new(&key);
        self.insert_cache(*subject_ref, dek_id.clone(), key.clone());
        Ok(Some((dek_id, key)))
    }

    /// Like [`SubjectKeys::data_key`] without creating, failing when the key is gone.
    pub(crate) async fn existing_key(
        &self,
        subject_ref: &SubjectRef,
    ) -> Result<(Arc<str>, SealingKey)> {
        self.data_key(subject_ref, false).await?.ok_or_else(|| {
            Error::Crypto(
                "the subject's data key is gone (erased): its records cannot be opened".to_owned(),
            )
        })
    }

    /// Drops a subject's cached key (after erasure).
    pub(crate) fn forget(&self, subject_ref: &SubjectRef) {
        self.lock().remove(subject_ref);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SubjectRef, Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, subject_ref: &SubjectRef) -> Option<(Arc<str>, SealingKey)> {
        let mut cache = self.lock();
        match cache.get(subject_ref) {
            Some(c) if c.at.elapsed() < self.cache_ttl => Some((c.dek_id.clone(), c.key.clone())),
            Some(_) => {
                cache.remove(subject_ref);
                None
            }
            None => None,
        }
    }

    fn insert_cache(&self, subject_ref: SubjectRef, dek_id: Arc<str>, key: SealingKey) {
        if self.cache_capacity == 0 {
            return;
        }
        let mut cache = self.lock();
        if cache.len() >= self.cache_capacity {
            // Drop expired entries first; if still full, the oldest.
            let ttl = self.cache_ttl;
            cache.retain(|_, c| c.at.elapsed() < ttl);
            if cache.len() >= self.cache_capacity
                && let Some(oldest) = cache.iter().min_by_key(|(_, c)| c.at).map(|(k, _)| *k)
            {
                cache.remove(&oldest);
            }
        }
        cache.insert(
            subject_ref,
            Cached {
                dek_id,
                key,
                at: Instant::now(),
            },
        );
    }
}
