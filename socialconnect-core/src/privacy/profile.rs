//! The account information the host asks SocialConnect to keep about a subject (email,
//! username), rectifiable on request (GDPR Art. 16).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::SubjectId;

/// Host-supplied account information. Stored encrypted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubjectProfile {
    /// The end user's email address.
    pub email: Option<String>,
    /// The end user's username at the host.
    pub username: Option<String>,
    /// When it was last written.
    pub updated_at: Option<DateTime<Utc>>,
}

impl SubjectProfile {
    /// A profile with an email and a username.
    pub fn new(email: Option<String>, username: Option<String>) -> Self {
        Self {
            email,
            username,
            updated_at: None,
        }
    }
}

/// Persistence of subject profiles.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The subject's profile, if one was stored.
    async fn profile(&self, subject: &SubjectId) -> Result<Option<SubjectProfile>>;

    /// Replaces the subject's profile.
    async fn put_profile(&self, subject: &SubjectId, profile: &SubjectProfile) -> Result<()>;

    /// Deletes the subject's profile; returns whether one existed.
    async fn erase_profile(&self, subject: &SubjectId) -> Result<bool>;
}
