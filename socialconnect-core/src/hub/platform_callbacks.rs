//! What a platform tells the hub on its own initiative: "this user removed your app" (Meta's
//! deauthorize callback, TikTok's `authorization.removed`) and "this user asks you to delete
//! their data" (Meta's data-deletion callback; TikTok's removal doubles as one). Written once
//! here so every platform crate handles them alike.

use std::collections::BTreeSet;

use super::SocialConnect;
use crate::connect::decode::bounded;
use crate::consent::ConsentEvent;
use crate::error::{Error, Result};
use crate::id::{ConnectionKey, PlatformId, Purpose, SubjectId};
use crate::platform_deletion::{DeletionMode, DeletionRequest, DeletionStatus};

/// Longest confirmation code looked up; codes are 20 characters.
const MAX_CODE: usize = 64;
/// Longest rejection justification kept.
const MAX_REJECTION_REASON: usize = 500;

impl SocialConnect {
    /// The platform ended the authorization of `keys`: marks them revoked (raising
    /// `TokenRevokedByPlatform`), deletes them with their tokens without a revoke call (the
    /// platform has already revoked them), logging each deletion with `actor`, and records the
    /// withdrawal of account connection for every subject left with no connection on that
    /// platform (consent is per subject and platform, so a second account of the same
    /// subject on the platform keeps it). Returns how many connections were deleted.
    pub async fn platform_ended_authorization(
        &self,
        keys: &[ConnectionKey],
        actor: &str,
    ) -> Result<usize> {
        self.mark_revoked(keys).await?;
        self.erase_connections(keys, actor).await
    }

    /// Erases `keys` on a platform's word (a data-deletion request): deletes them with their
    /// tokens without a revoke call, logging each with `actor`, and records the withdrawal of
    /// account connection for every subject left with no connection on that platform. Returns
    /// how many connections were deleted.
    pub async fn erase_connections(&self, keys: &[ConnectionKey], actor: &str) -> Result<usize> {
        let removed = self.forget_connections(keys, actor).await?;
        self.withdraw_where_none_left(keys).await?;
        Ok(removed)
    }

    /// Records the withdrawal of account connection for each subject and platform of `keys`
    /// on which the subject has no connection left.
    async fn withdraw_where_none_left(&self, keys: &[ConnectionKey]) -> Result<()> {
        let pairs: BTreeSet<(SubjectId, PlatformId)> = keys
            .iter()
            .map(|k| (k.subject.clone(), k.platform.clone()))
            .collect();
        for (subject, platform) in pairs {
            let left = self.connections(&subject).await?;
            if left.iter().any(|k| k.platform == platform) {
                continue;
            }
            let now = self.inner.clock.now();
            self.record_consent(ConsentEvent::withdraw(
                subject,
                Purpose::AccountConnection,
                Some(platform),
                now,
            ))
            .await?;
        }
        Ok(())
    }

    /// Records a platform's deletion request for `subject` (`None`: nothing of the user is
    /// stored here) under a fresh confirmation code, and returns the code. With
    /// [`DeletionMode::AutoErase`], or with no subject, the request is completed at once: the
    /// caller has already erased what the hub holds. With [`DeletionMode::ReviewQueue`] it
    /// stays pending until [`complete_platform_deletion`](Self::complete_platform_deletion)
    /// or [`reject_platform_deletion`](Self::reject_platform_deletion).
    ///
    /// # Errors
    ///
    /// `Config` when the hub has no deletion-request store; the store's error.
    pub async fn record_platform_deletion(
        &self,
        platform: &PlatformId,
        subject: Option<SubjectId>,
        mode: DeletionMode,
    ) -> Result<String> {
        let store = self.deletion_requests()?;
        let code = DeletionRequest::new_code();
        let now = self.inner.clock.now();
        let complete = subject.is_none() || mode == DeletionMode::AutoErase;
        store
            .record_request(DeletionRequest::new(
                code.clone(),
                platform.clone(),
                subject,
                now,
            ))
            .await?;
        if complete {
            store
                .set_request_status(&code, DeletionStatus::Completed { at: now })
                .await?;
        }
        Ok(code)
    }

    /// The deletion request with `code` recorded for one of `platforms`; `None` for an unknown
    /// code, another platform's, or text too long to be a code (never looked up).
    ///
    /// # Errors
    ///
    /// `Config` when the hub has no deletion-request store; the store's error.
    pub async fn platform_deletion(
        &self,
        platforms: &[PlatformId],
        code: &str,
    ) -> Result<Option<DeletionRequest>> {
        if code.is_empty() || code.len() > MAX_CODE {
            return Ok(None);
        }
        Ok(self
            .deletion_requests()?
            .request(code)
            .await?
            .filter(|r| platforms.contains(&r.platform)))
    }

    /// The pending deletion request with `code` for one of `platforms`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when there is none (unknown, another platform's, already decided).
    pub async fn pending_platform_deletion(
        &self,
        platforms: &[PlatformId],
        code: &str,
    ) -> Result<DeletionRequest> {
        self.platform_deletion(platforms, code)
            .await?
            .filter(|r| r.status == DeletionStatus::Pending)
            .ok_or_else(|| Error::invalid_input("no pending deletion request with this code"))
    }

    /// Marks the pending request `code` completed (the host erased what the request covers).
    ///
    /// # Errors
    ///
    /// As [`pending_platform_deletion`](Self::pending_platform_deletion).
    pub async fn complete_platform_deletion(
        &self,
        platforms: &[PlatformId],
        code: &str,
    ) -> Result<()> {
        self.pending_platform_deletion(platforms, code).await?;
        let at = self.inner.clock.now();
        self.deletion_requests()?
            .set_request_status(code, DeletionStatus::Completed { at })
            .await?;
        Ok(())
    }

    /// Rejects the pending request `code` with a justification the end user may be shown (no
    /// personal data; kept to 500 bytes).
    ///
    /// # Errors
    ///
    /// As [`pending_platform_deletion`](Self::pending_platform_deletion).
    pub async fn reject_platform_deletion(
        &self,
        platforms: &[PlatformId],
        code: &str,
        reason: &str,
    ) -> Result<()> {
        self.pending_platform_deletion(platforms, code).await?;
        let reason = bounded(reason.to_owned(), MAX_REJECTION_REASON);
        self.deletion_requests()?
            .set_request_status(code, DeletionStatus::Rejected { reason })
            .await?;
        Ok(())
    }
}
