//! The shape every simulated platform API shares: its settings, the shared options (the
//! clock), the server's base URL, the token check lent by the OAuth side, and its mutable
//! state behind one lock.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use url::Url;

use super::SimOptions;

/// A platform API: configuration `C`, state `S` behind one lock (every request does its work
/// under it), and the bearer check `K` the OAuth side lends.
pub(crate) struct SimApi<C, S, K> {
    pub(crate) config: C,
    pub(crate) options: SimOptions,
    pub(crate) base: Url,
    pub(crate) tokens: K,
    state: Mutex<S>,
}

impl<C, S, K> fmt::Debug for SimApi<C, S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimApi")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl<C, S, K> SimApi<C, S, K> {
    pub(crate) fn new(config: C, options: SimOptions, base: Url, tokens: K, state: S) -> Self {
        Self {
            config,
            options,
            base,
            tokens,
            state: Mutex::new(state),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        // Each request finishes its update before releasing the lock and nothing in it panics
        // mid-update, so the state behind a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The simulator's present time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.options.now()
    }
}
