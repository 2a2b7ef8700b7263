//! [`MemoryDeletionRequests`]: deletion requests in process memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::{Error, Result};
use crate::platform_deletion::{DeletionRequest, DeletionRequestStore, DeletionStatus};

/// Deletion requests in a process-local map (unencrypted; tests and prototypes).
#[derive(Debug, Default)]
pub struct MemoryDeletionRequests {
    state: Mutex<BTreeMap<String, DeletionRequest>>,
}

impl MemoryDeletionRequests {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl DeletionRequestStore for MemoryDeletionRequests {
    async fn record_request(&self, request: DeletionRequest) -> Result<()> {
        let mut map = lock(&self.state)?;
        if map.contains_key(&request.confirmation_code) {
            return Err(Error::invalid_input("duplicate confirmation code"));
        }
        map.insert(request.confirmation_code.clone(), request);
        Ok(())
    }

    async fn request(&self, confirmation_code: &str) -> Result<Option<DeletionRequest>> {
        Ok(lock(&self.state)?.get(confirmation_code).cloned())
    }

    async fn set_request_status(
        &self,
        confirmation_code: &str,
        status: DeletionStatus,
    ) -> Result<bool> {
        let mut map = lock(&self.state)?;
        match map.get_mut(confirmation_code) {
            Some(r) => {
                if matches!(status, DeletionStatus::Completed { .. }) {
                    r.subject = None;
                }
                r.status = status;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn pending_requests(&self) -> Result<Vec<DeletionRequest>> {
        let mut v: Vec<_> = lock(&self.state)?
            .values()
            .filter(|r| r.status == DeletionStatus::Pending)
            .cloned()
            .collect();
        v.sort_by_key(|r| r.received_at);
        Ok(v)
    }
}
