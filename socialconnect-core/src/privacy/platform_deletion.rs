//! Deletion requests that arrive from a platform (Meta's data-deletion callback): recorded with
//! a confirmation code the end user can look up, and carried to completion by the host.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::id::{PlatformId, SubjectId};

/// Where a deletion request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeletionStatus {
    /// Received; waiting for the host's review (review-queue mode) or in progress.
    Pending,
    /// The data was erased.
    Completed {
        /// When.
        at: DateTime<Utc>,
    },
    /// The host declined, with a justification the end user is shown.
    Rejected {
        /// Why (no personal data).
        reason: String,
    },
}

impl DeletionStatus {
    /// A stable name for storage: `pending`, `completed`, `rejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeletionStatus::Pending => "pending",
            DeletionStatus::Completed { .. } => "completed",
            DeletionStatus::Rejected { .. } => "rejected",
        }
    }
}

/// One deletion request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletionRequest {
    /// The code handed to the platform and shown to the end user (random, alphanumeric).
    pub confirmation_code: String,
    /// The platform it came from.
    pub platform: PlatformId,
    /// The subject it concerns, when one was found (none when no connection matched).
    pub subject: Option<SubjectId>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Where it stands.
    pub status: DeletionStatus,
}

impl DeletionRequest {
    /// A new pending request.
    pub fn new(
        confirmation_code: String,
        platform: PlatformId,
        subject: Option<SubjectId>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            confirmation_code,
            platform,
            subject,
            received_at,
            status: DeletionStatus::Pending,
        }
    }

    /// A fresh confirmation code: 20 random alphanumeric characters (about 119 bits).
    pub fn new_code() -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        (0..20)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect()
    }
}

/// What a platform's deletion request does with the subject's data on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DeletionMode {
    /// Erase at once and record the request completed.
    #[default]
    AutoErase,
    /// Record the request pending; the host completes it
    /// ([`SocialConnect::complete_platform_deletion`](crate::SocialConnect::complete_platform_deletion))
    /// or rejects it with a justification
    /// ([`SocialConnect::reject_platform_deletion`](crate::SocialConnect::reject_platform_deletion)).
    ReviewQueue,
}

/// Persistence of deletion requests.
#[async_trait]
pub trait DeletionRequestStore: Send + Sync {
    /// Records a new request.
    async fn record_request(&self, request: DeletionRequest) -> Result<()>;

    /// Looks a request up by its confirmation code. The subject may be `None` in the result
    /// once the request completed: the subject's data, its id included, is gone by then.
    async fn request(&self, confirmation_code: &str) -> Result<Option<DeletionRequest>>;

    /// Sets a request's status; false when the code is unknown.
    async fn set_request_status(
        &self,
        confirmation_code: &str,
        status: DeletionStatus,
    ) -> Result<bool>;

    /// Pending requests, oldest first (the review queue).
    async fn pending_requests(&self) -> Result<Vec<DeletionRequest>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_alphanumeric_and_distinct() {
        let a = DeletionRequest::new_code();
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, DeletionRequest::new_code());
    }
}
