//! [`MemoryProfiles`]: subject profiles in a map.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::Result;
use crate::id::SubjectId;
use crate::profile::{ProfileStore, SubjectProfile};

/// An in-process, **unencrypted** [`ProfileStore`], for tests and prototypes.
///
/// Emails and usernames are kept as plain values in memory; a deployment uses the encrypted
/// store of `socialconnect-store`. `Debug` shows only how many profiles are held, never their
/// contents.
#[derive(Default)]
pub struct MemoryProfiles {
    profiles: Mutex<HashMap<SubjectId, SubjectProfile>>,
}

impl MemoryProfiles {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryProfiles {
    // Counts only: profiles hold emails and usernames.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MemoryProfiles");
        match self.profiles.lock() {
            Ok(p) => d.field("profiles", &p.len()),
            Err(_) => d.field("profiles", &"<poisoned>"),
        };
        d.finish()
    }
}

#[async_trait]
impl ProfileStore for MemoryProfiles {
    async fn profile(&self, subject: &SubjectId) -> Result<Option<SubjectProfile>> {
        Ok(lock(&self.profiles)?.get(subject).cloned())
    }

    /// Replaces the whole profile: a field left `None` is cleared, not kept (rectification
    /// states what is true now).
    async fn put_profile(&self, subject: &SubjectId, profile: &SubjectProfile) -> Result<()> {
        lock(&self.profiles)?.insert(subject.clone(), profile.clone());
        Ok(())
    }

    async fn erase_profile(&self, subject: &SubjectId) -> Result<bool> {
        Ok(lock(&self.profiles)?.remove(subject).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_read_replace_erase() {
        let store = MemoryProfiles::new();
        let me = SubjectId::new("me").unwrap();
        assert_eq!(store.profile(&me).await.unwrap(), None);
        let p = SubjectProfile::new(Some("a@example.com".into()), Some("a".into()));
        store.put_profile(&me, &p).await.unwrap();
        assert_eq!(store.profile(&me).await.unwrap(), Some(p));
        let q = SubjectProfile::new(None, Some("b".into()));
        store.put_profile(&me, &q).await.unwrap();
        assert_eq!(store.profile(&me).await.unwrap(), Some(q));
        assert_eq!(format!("{store:?}"), "MemoryProfiles { profiles: 1 }");
        assert!(store.erase_profile(&me).await.unwrap());
        assert!(!store.erase_profile(&me).await.unwrap());
        assert_eq!(store.profile(&me).await.unwrap(), None);
    }
}
