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

/// A fresh database on the server in `SC_TEST_PG_URL`, or `None` when it is unset.
#[cfg(feature = "postgres")]
pub async fn postgres_database() -> Option<String> {
    use sqlx::{Connection, Executor};

    let server = std::env::var("SC_TEST_PG_URL").ok()?;
    sqlx::any::install_default_drivers();
    let name = format!("sc_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&server).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (base, query) = server
        .split_once('?')
        .map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    Some(match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    })
}
