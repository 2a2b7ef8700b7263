//! The data-subject API's configuration: the key manager and the per-key limits.

use std::sync::Arc;

use socialconnect_core::apikey::ApiKeys;

use super::limits::{ApiLimits, Limiters};

/// The data-subject API's configuration: the key manager and the per-key limits.
pub struct DataSubjectApi {
    keys: Arc<ApiKeys>,
    limiters: Limiters,
}

impl std::fmt::Debug for DataSubjectApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSubjectApi").finish_non_exhaustive()
    }
}

impl DataSubjectApi {
    /// The API over `keys`, limited per key by `limits`.
    pub fn new(keys: Arc<ApiKeys>, limits: ApiLimits) -> Self {
        Self {
            keys,
            limiters: Limiters::new(limits),
        }
    }

    pub(crate) fn keys(&self) -> &ApiKeys {
        &self.keys
    }

    pub(crate) fn limiters(&self) -> &Limiters {
        &self.limiters
    }
}
