//! A throwaway database on the test PostgreSQL server, for the store's tests and benches.

use sqlx::Connection;
use url::Url;

/// A new, empty database named `<prefix>_<uuid>` on the server in `SC_TEST_PG_URL`, as a URL;
/// `None` when the variable is unset (`scripts/pg.sh` starts a server and sets it).
pub async fn fresh_database(prefix: &str) -> Option<String> {
    let server = std::env::var("SC_TEST_PG_URL").ok()?;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::postgres::PgConnection::connect(&server)
        .await
        .unwrap();
    // The name is the caller's prefix and a UUID, never outside input.
    sqlx::Executor::execute(
        &mut conn,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    let mut url: Url = server.parse().unwrap();
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}
