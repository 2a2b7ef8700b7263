//! [`ProfileStore`] for [`EncryptedStore`]: the host-supplied email and username, sealed under
//! the subject's data key (so erasing the subject shreds them with everything else).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use socialconnect_core::id::SubjectId;
use socialconnect_core::profile::{ProfileStore, SubjectProfile};
use socialconnect_core::{Error, Result};

use crate::backend::ProfileRow;
use crate::envelope::RecordKind;
use crate::store::{EncryptedStore, from_secs};

/// The record id bound into a profile's associated data (one profile per subject).
const PROFILE_RECORD_ID: &[u8] = b"profile";

/// A profile as sealed: its fields, and the store's region when one is configured (kept with
/// the record, not surfaced). Profiles written before regions were recorded read back too.
#[derive(Serialize, Deserialize)]
struct ProfileWire {
    #[serde(flatten)]
    profile: SubjectProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
}

#[async_trait]
impl ProfileStore for EncryptedStore {
    async fn profile(&self, subject: &SubjectId) -> Result<Option<SubjectProfile>> {
        let sref = self.subject_ref(subject);
        let Some(row) = self.inner.backend.get_profile(&sref).await? else {
            return Ok(None);
        };
        let plaintext = self
            .open(
                &sref,
                RecordKind::Profile,
                PROFILE_RECORD_ID,
                &row.dek_id,
                &row.sealed,
            )
            .await?;
        let ProfileWire { mut profile, .. } = serde_json::from_slice(&plaintext)
            .map_err(|_| Error::storage_msg("stored profile is malformed"))?;
        profile.updated_at = Some(from_secs(row.updated_at)?);
        Ok(Some(profile))
    }

    /// Replaces the profile. `updated_at` is stamped with the store's clock (to the second);
    /// the value passed in is ignored.
    async fn put_profile(&self, subject: &SubjectId, profile: &SubjectProfile) -> Result<()> {
        let sref = self.subject_ref(subject);
        let updated_at = self.now().timestamp();
        let mut sealed_profile = profile.clone();
        sealed_profile.updated_at = None;
        let plaintext = zeroize::Zeroizing::new(
            serde_json::to_vec(&ProfileWire {
                profile: sealed_profile,
                region: self.region().map(str::to_owned),
            })
            .map_err(|e| Error::storage("encoding a profile", e))?,
        );
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Profile, PROFILE_RECORD_ID, &plaintext)
            .await?;
        self.inner
            .backend
            .put_profile(ProfileRow {
                subject_ref: sref,
                dek_id,
                sealed,
                updated_at,
            })
            .await
    }

    async fn erase_profile(&self, subject: &SubjectId) -> Result<bool> {
        let sref = self.subject_ref(subject);
        self.inner.backend.delete_profile(&sref).await
    }
}
