//! Key-encryption-key rotation: re-wrap every subject's data key under the new primary key,
//! in batches, without re-encrypting any record.
//!
//! Rotation is resumable by construction: each batch only touches keys not yet wrapped by the
//! primary (compare-and-swap on the old key id), so after a crash running it again continues
//! where it stopped. Reads keep working throughout, since every wrapped key names the key it is
//! wrapped by and the keyring holds both.

use socialconnect_core::access_log::{AccessLog, UsageEntry};
use socialconnect_core::keys::{KeyId, WrappedKey};
use socialconnect_core::{Error, Result};

use crate::backend::Rewrap;
use crate::store::EncryptedStore;
use crate::subjects::{meta_context, subject_context};

/// Where a rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationProgress {
    /// Keys re-wrapped so far in this run.
    pub rewrapped: u64,
    /// Keys that were not under the primary key when the run started.
    pub total: u64,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotationReport {
    /// The key everything is now wrapped by.
    pub primary: KeyId,
    /// Keys re-wrapped in this run (subject keys and store secrets).
    pub rewrapped: u64,
}

impl EncryptedStore {
    /// Re-wraps every data key not yet under the keyring's primary key, calling `progress`
    /// after each batch, on behalf of `actor`: a finished rotation is logged to this store's
    /// usage log as the privileged operation `privileged.key_rotation` under
    /// [`SYSTEM_SUBJECT`](socialconnect_core::access_log::SYSTEM_SUBJECT). A failure to write
    /// that entry is returned as the error: the keys are rotated by then, and running the
    /// rotation again (which then re-wraps nothing) logs it.
    pub async fn rotate_keys(
        &self,
        actor: &str,
        mut progress: impl FnMut(RotationProgress) + Send,
    ) -> Result<RotationReport> {
        let keys = &self.inner.keys;
        let backend = &self.inner.vault;
        let primary = keys.primary();
        let total = backend.count_not_wrapped_by(&primary.0).await?;
        let mut rewrapped = 0u64;

        if let Some(meta) = backend.get_meta("pseudonym_key").await?
            && meta.kek_id != primary.0
        {
            let ctx = meta_context(&meta.name);
            let key = keys
                .unwrap(
                    &WrappedKey {
                        key_id: KeyId(meta.kek_id.clone()),
                        ciphertext: meta.wrapped.clone(),
                    },
                    &ctx,
                )
                .await?;
            let wrapped = keys.wrap(&primary, &key, &ctx).await?;
            if backend
                .rewrap_meta(&meta.name, &meta.kek_id, &primary.0, wrapped.ciphertext)
                .await?
            {
                rewrapped += 1;
            }
        }

        let mut after = None;
        loop {
            let batch = backend
                .subject_keys_not_wrapped_by(&primary.0, after, self.inner.options.rotation_batch)
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.subject_ref);
            let mut rewraps = Vec::with_capacity(batch.len());
            for row in batch {
                let ctx = subject_context(&row.subject_ref);
                let key = keys
                    .unwrap(
                        &WrappedKey {
                            key_id: KeyId(row.kek_id.clone()),
                            ciphertext: row.wrapped,
                        },
                        &ctx,
                    )
                    .await?;
                let wrapped = keys.wrap(&primary, &key, &ctx).await?;
                rewraps.push(Rewrap {
                    subject_ref: row.subject_ref,
                    expected_kek: row.kek_id,
                    new_kek: primary.0.clone(),
                    wrapped: wrapped.ciphertext,
                });
            }
            rewrapped += backend.rewrap_subject_keys(rewraps).await?;
            progress(RotationProgress { rewrapped, total });
        }
        tracing::info!(primary = %primary, rewrapped, "key rotation finished");
        self.append(UsageEntry::system(
            self.now(),
            "privileged.key_rotation",
            actor,
        ))
        .await?;
        Ok(RotationReport { primary, rewrapped })
    }

    /// Checks that nothing is wrapped by `key_id` any more, so it can be removed from the
    /// keyring. Refused (`Config`) while anything still is.
    pub async fn ensure_retirable(&self, key_id: &KeyId) -> Result<()> {
        if *key_id == self.inner.keys.primary() {
            return Err(Error::config(format!(
                "key `{key_id}` is the primary key; make another key primary and rotate first"
            )));
        }
        let n = self.inner.vault.count_wrapped_by(&key_id.0).await?;
        if n > 0 {
            return Err(Error::config(format!(
                "key `{key_id}` still wraps {n} data key(s); run a rotation before retiring it"
            )));
        }
        Ok(())
    }
}
