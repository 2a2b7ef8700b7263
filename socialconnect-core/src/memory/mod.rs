//! In-process, **unencrypted** implementations of the storage traits, for tests and prototypes.
//!
//! Everything here lives in a [`std::sync::Mutex`]-guarded map inside the process: nothing is
//! encrypted, nothing survives a restart, and nothing is shared between instances (so the
//! refresh lease only coordinates tasks of one process). Use them in tests, examples and
//! prototypes; a deployment uses the encrypted stores of `socialconnect-store`.
//!
//! | trait | implementation |
//! |---|---|
//! | [`TokenStore`](crate::store::TokenStore) | [`MemoryTokenStore`] |
//! | [`PendingAuthStore`](crate::store::PendingAuthStore) | [`MemoryPendingAuthStore`] |
//! | [`ConsentLedger`](crate::consent::ConsentLedger) | [`MemoryConsentLedger`] |
//! | [`AccessLog`](crate::access_log::AccessLog) | [`MemoryAccessLog`] |
//! | [`ApiKeyStore`](crate::apikey::ApiKeyStore) | [`MemoryApiKeys`] |
//! | [`ProfileStore`](crate::profile::ProfileStore) | [`MemoryProfiles`] |
//! | [`ReceiptStore`](crate::receipt::ReceiptStore) | [`MemoryReceipts`] |
//! | [`ActionStore`](crate::automation::ActionStore) | [`MemoryActionStore`] |
//!
//! The locks are never held across an `.await`: each trait method takes the lock, does its
//! whole read-check-write step, and drops it before returning, so every method is atomic.
//!
//! ```
//! use std::sync::Arc;
//! use socialconnect_core::memory::{MemoryConsentLedger, MemoryTokenStore};
//! use socialconnect_core::consent::ConsentLedger;
//! use socialconnect_core::store::TokenStore;
//!
//! let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
//! let ledger: Arc<dyn ConsentLedger> = Arc::new(MemoryConsentLedger::new());
//! # let _ = (tokens, ledger);
//! ```

mod access_log;
mod actions;
mod apikeys;
mod consent;
mod deletion;
mod pending;
mod profiles;
mod receipts;
mod tokens;

use std::sync::{Mutex, MutexGuard};

pub use access_log::MemoryAccessLog;
pub use actions::MemoryActionStore;
pub use apikeys::MemoryApiKeys;
pub use consent::MemoryConsentLedger;
pub use deletion::MemoryDeletionRequests;
pub use pending::MemoryPendingAuthStore;
pub use profiles::MemoryProfiles;
pub use receipts::MemoryReceipts;
pub use tokens::MemoryTokenStore;

use crate::error::{Error, Result};

/// Takes a store's lock. A poisoned lock (a panic while it was held) fails closed with a storage
/// error rather than serving state that may be half-written.
fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| Error::storage_msg("in-memory store lock poisoned by an earlier panic"))
}

#[cfg(test)]
pub(crate) mod test_clock {
    //! A clock the tests move by hand. The shared one in `socialconnect-testkit` implements the
    //! `Clock` of core's library build, a different trait from `crate::clock::Clock` as seen by
    //! core's own unit tests, so it cannot be used here.

    use std::sync::Mutex;

    use chrono::{DateTime, Duration, TimeZone, Utc};

    use crate::clock::Clock;

    #[derive(Debug)]
    pub(crate) struct TestClock(Mutex<DateTime<Utc>>);

    impl TestClock {
        pub(crate) fn new() -> Self {
            Self(Mutex::new(
                Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
            ))
        }

        pub(crate) fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }
}
