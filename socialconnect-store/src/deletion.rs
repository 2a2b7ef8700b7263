//! [`DeletionRequestStore`] for [`EncryptedStore`].
//!
//! A request names its subject only sealed (under the subject's data key, found through the
//! subject pseudonym). Completing the request, or erasing the subject, clears those columns:
//! the request itself outlives the person, so the end user can still look its code up.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use socialconnect_core::id::{PlatformId, SubjectId};
use socialconnect_core::platform_deletion::{
    DeletionRequest, DeletionRequestStore, DeletionStatus,
};
use socialconnect_core::{Error, Result};

use crate::backend::{DeletionRow, DeletionStatusUpdate};
use crate::envelope::RecordKind;
use crate::store::EncryptedStore;

/// The columns a status is stored in (`status_at` in microseconds: the completion time, or
/// when a rejection was recorded).
fn status_columns(status: &DeletionStatus, now: DateTime<Utc>) -> Result<DeletionStatusUpdate> {
    let (status_at, reason) = match status {
        DeletionStatus::Pending => (None, None),
        DeletionStatus::Completed { at } => (Some(at.timestamp_micros()), None),
        DeletionStatus::Rejected { reason } => (Some(now.timestamp_micros()), Some(reason.clone())),
        // A status added to core later must be given a stored form here first.
        _ => return Err(Error::invalid_input("unsupported deletion-request status")),
    };
    Ok(DeletionStatusUpdate {
        status: status.as_str().to_owned(),
        status_at,
        reason,
        clear_subject: matches!(status, DeletionStatus::Completed { .. }),
    })
}

fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::storage_msg("stored timestamp out of range"))
}

fn status_from_row(row: &DeletionRow) -> Result<DeletionStatus> {
    match row.status.as_str() {
        "pending" => Ok(DeletionStatus::Pending),
        "completed" => {
            Ok(DeletionStatus::Completed {
                at: from_micros(row.status_at.ok_or_else(|| {
                    Error::storage_msg("completed deletion request without a time")
                })?)?,
            })
        }
        "rejected" => Ok(DeletionStatus::Rejected {
            reason: row
                .reason
                .clone()
                .ok_or_else(|| Error::storage_msg("rejected deletion request without a reason"))?,
        }),
        _ => Err(Error::storage_msg(
            "unknown deletion-request status in storage",
        )),
    }
}

impl EncryptedStore {
    /// A stored request as the trait returns it; the subject opened when its key still exists.
    async fn deletion_request(&self, row: DeletionRow) -> Result<DeletionRequest> {
        let subject = match (&row.subject_ref, &row.dek_id, &row.sealed) {
            (Some(sref), Some(dek_id), Some(sealed)) => {
                match self
                    .open_if_key(
                        sref,
                        RecordKind::DeletionRequest,
                        row.code.as_bytes(),
                        dek_id,
                        sealed,
                    )
                    .await?
                {
                    Some(plaintext) => Some(
                        std::str::from_utf8(&plaintext)
                            .ok()
                            // `subject ‖ NUL ‖ region` when written with a region (a subject id
                            // holds no control characters); the region is not surfaced.
                            .map(|s| s.split_once('\0').map_or(s, |(subject, _)| subject))
                            .and_then(|s| SubjectId::new(s).ok())
                            .ok_or_else(|| {
                                Error::storage_msg("stored deletion request subject is malformed")
                            })?,
                    ),
                    // The subject was erased: its key, and with it who the request named, is gone.
                    None => None,
                }
            }
            _ => None,
        };
        let platform = PlatformId::new(row.platform.clone())
            .map_err(|_| Error::storage_msg("malformed platform id in storage"))?;
        let mut request = DeletionRequest::new(
            row.code.clone(),
            platform,
            subject,
            from_micros(row.received_at)?,
        );
        request.status = status_from_row(&row)?;
        Ok(request)
    }
}

#[async_trait]
impl DeletionRequestStore for EncryptedStore {
    /// Records the request; a duplicate confirmation code is invalid input. A request recorded
    /// already completed keeps no subject.
    async fn record_request(&self, request: DeletionRequest) -> Result<()> {
        let status = status_columns(&request.status, self.now())?;
        let code = request.confirmation_code;
        let (subject_ref, dek_id, sealed) = match &request.subject {
            Some(subject) if !status.clear_subject => {
                let sref = self.subject_ref(subject);
                let plaintext = match self.region() {
                    Some(region) => format!("{}\0{region}", subject.as_str()),
                    None => subject.as_str().to_owned(),
                };
                let (dek_id, sealed) = self
                    .seal(
                        &sref,
                        RecordKind::DeletionRequest,
                        code.as_bytes(),
                        plaintext.as_bytes(),
                    )
                    .await?;
                (Some(sref), Some(dek_id), Some(sealed))
            }
            _ => (None, None, None),
        };
        self.inner
            .backend
            .insert_deletion_request(DeletionRow {
                code,
                platform: request.platform.as_str().to_owned(),
                subject_ref,
                dek_id,
                sealed,
                received_at: request.received_at.timestamp_micros(),
                status: status.status,
                status_at: status.status_at,
                reason: status.reason,
            })
            .await
    }

    async fn request(&self, confirmation_code: &str) -> Result<Option<DeletionRequest>> {
        match self
            .inner
            .backend
            .get_deletion_request(confirmation_code)
            .await?
        {
            Some(row) => Ok(Some(self.deletion_request(row).await?)),
            None => Ok(None),
        }
    }

    /// Sets the status; completing clears the subject (sealed id and pseudonym) for good.
    async fn set_request_status(
        &self,
        confirmation_code: &str,
        status: DeletionStatus,
    ) -> Result<bool> {
        let update = status_columns(&status, self.now())?;
        self.inner
            .backend
            .set_deletion_status(confirmation_code, update)
            .await
    }

    async fn pending_requests(&self) -> Result<Vec<DeletionRequest>> {
        let rows = self.inner.backend.pending_deletion_requests().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.deletion_request(row).await?);
        }
        Ok(out)
    }
}
