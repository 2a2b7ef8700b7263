//! What the benches share: a keyring and a throwaway PostgreSQL database.

// Each bench uses what it needs of this module.
#![allow(dead_code)]

use std::sync::Arc;

use socialconnect_core::keys::KeyId;
use socialconnect_store::keys::LocalKeyring;

/// A keyring with one key.
pub fn keyring() -> Arc<LocalKeyring> {
    Arc::new(
        LocalKeyring::from_keys(vec![(KeyId("k1".into()), [1; 32])], KeyId("k1".into())).unwrap(),
    )
}

#[cfg(feature = "postgres")]
#[path = "../../tests/common/pg.rs"]
mod pg;

/// A fresh database on the server in `SC_TEST_PG_URL`, or `None` when it is unset.
#[cfg(feature = "postgres")]
pub async fn postgres_database() -> Option<String> {
    pg::fresh_database("sc_bench").await
}
