//! The PostgreSQL backend on a real server: every backend check (see
//! [`crate::backend::checks`]) on a fresh database, then what only PostgreSQL has. Runs when
//! `SC_TEST_PG_URL` names a server (`scripts/pg.sh` starts one); skipped otherwise.

use std::sync::Arc;

use sqlx::AnyPool;

use super::{PgBackend, schema};
use crate::backend::Backend;
use crate::backend::checks::{self, RawInsert, backend_checks, token_row};
use crate::backend::migrations;

// --- harness ---

/// An empty database on the test server, dropped by [`Database::remove`].
struct Database {
    server_url: String,
    name: String,
}

impl Database {
    /// A fresh database on the server in `SC_TEST_PG_URL`, or `None` when it is unset.
    async fn create() -> Option<Database> {
        let Ok(server_url) = std::env::var("SC_TEST_PG_URL") else {
            eprintln!("SC_TEST_PG_URL is unset: skipping the PostgreSQL run");
            return None;
        };
        let name = format!("sc_{}", uuid::Uuid::new_v4().simple());
        admin(&server_url, &format!("CREATE DATABASE {name}")).await;
        Some(Database { server_url, name })
    }

    fn url(&self) -> String {
        with_database(&self.server_url, &self.name)
    }

    async fn remove(self) {
        admin(
            &self.server_url,
            &format!("DROP DATABASE {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

/// A backend over a throwaway database, removed by [`Harness::finish`].
struct Harness {
    backend: Arc<PgBackend>,
    database: Database,
}

impl Harness {
    async fn start() -> Option<Harness> {
        let database = Database::create().await?;
        let backend = PgBackend::open(&database.url())
            .await
            .expect("open PostgreSQL");
        Some(Harness {
            backend: Arc::new(backend),
            database,
        })
    }

    async fn finish(self) {
        self.backend.close().await;
        self.database.remove().await;
    }
}

backend_checks!(Harness::start);

/// Runs one statement on the test server's own database.
async fn admin(server_url: &str, sql: &str) {
    use sqlx::{Connection, Executor};

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(server_url)
        .await
        .expect("connect to SC_TEST_PG_URL");
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .expect("administrative statement");
    conn.close().await.expect("close");
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// Runs raw statements on `pool`, below the backend.
async fn insert_raw(pool: &AnyPool, inserts: &[RawInsert]) {
    for insert in inserts {
        let mut query = sqlx::query(insert.sql);
        for blob in &insert.blobs {
            query = query.bind(blob.as_slice());
        }
        query
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", insert.sql));
    }
}

/// How many migrations the migrations table of `b`'s database records.
async fn applied_migrations(b: &PgBackend) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sc_schema_migrations")
        .fetch_one(&b.pool)
        .await
        .unwrap()
}

// --- PostgreSQL only ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rows_are_typed_errors() {
    let Some(harness) = Harness::start().await else {
        return;
    };
    insert_raw(&harness.backend.pool, &checks::malformed_rows()).await;
    checks::check_malformed_rows(&*harness.backend).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sc_pending")
        .fetch_one(&harness.backend.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "the refused pending state is gone");
    harness.finish().await;
}

/// A value longer than the store reads (a tampered row) is a typed error naming the column;
/// the server sends at most one byte over the bound (every read selects `substr(…)`), so the
/// 64 MiB planted here is never received whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_values_are_typed_errors_not_allocations() {
    let Some(harness) = Harness::start().await else {
        return;
    };
    let b = &harness.backend;
    for conn in ["big-sealed", "big-dek"] {
        b.put_token(token_row(conn, 1, "meta"), None).await.unwrap();
    }
    let huge = 64 * 1024 * 1024;
    sqlx::query(
        "UPDATE sc_tokens SET sealed = convert_to(repeat('x', $1), 'UTF8') \
         WHERE conn_id = 'big-sealed'",
    )
    .bind(huge)
    .execute(&b.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE sc_tokens SET dek_id = repeat('y', $1) WHERE conn_id = 'big-dek'")
        .bind(huge)
        .execute(&b.pool)
        .await
        .unwrap();
    for (conn, column) in [("big-sealed", "sealed"), ("big-dek", "dek_id")] {
        let e = b.get_token(conn).await.unwrap_err();
        assert_eq!(e.kind(), socialconnect_core::ErrorKind::Storage, "{e}");
        let text = e.to_string();
        assert!(text.contains(column) && text.contains("longer"), "{text}");
        assert!(!text.contains("xxxx") && !text.contains("yyyy"), "{text}");
    }
    // A page that meets one is refused whole; the rows beside it are untouched.
    assert_eq!(
        b.token_page("", 10).await.unwrap_err().kind(),
        socialconnect_core::ErrorKind::Storage
    );
    harness.finish().await;
}

/// A batch of one statement (at most 64 rows) goes out without BEGIN and COMMIT, and is still
/// all or nothing: a refused row leaves none of it behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_usage_row_leaves_none_of_its_one_statement_batch() {
    let Some(harness) = Harness::start().await else {
        return;
    };
    let b = &harness.backend;
    let mut rows: Vec<_> = (1..=40).map(|at| checks::usage_row(6, at)).collect();
    rows[39].operation = "bad\0op".to_owned();
    assert!(b.append_usage_batch(rows).await.is_err());
    assert!(b.usage_of(&checks::subject(6)).await.unwrap().is_empty());
    harness.finish().await;
}

/// A usage batch is one transaction: a row the server refuses (a NUL in text) leaves none of
/// the batch behind, in whichever 64-row statement it sits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_usage_row_leaves_none_of_its_batch() {
    let Some(harness) = Harness::start().await else {
        return;
    };
    let b = &harness.backend;
    let mut rows: Vec<_> = (1..=100).map(|at| checks::usage_row(5, at)).collect();
    rows[90].operation = "bad\0op".to_owned();
    assert!(b.append_usage_batch(rows).await.is_err());
    assert!(b.usage_of(&checks::subject(5)).await.unwrap().is_empty());
    harness.finish().await;
}

#[tokio::test]
async fn upgrades_from_schema_1() {
    let Some(database) = Database::create().await else {
        return;
    };
    let url = database.url();
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    schema::migrate_to(&pool, 1).await.unwrap();
    insert_raw(&pool, &checks::schema_1_rows()).await;
    pool.close().await;

    let b = PgBackend::open(&url).await.unwrap();
    assert_eq!(applied_migrations(&b).await, migrations::latest());
    checks::check_upgraded_from_schema_1(&b).await;
    b.close().await;
    database.remove().await;
}

#[tokio::test]
async fn reopen_keeps_data_and_schema() {
    let Some(harness) = Harness::start().await else {
        return;
    };
    let url = harness.database.url();
    harness
        .backend
        .put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    // Two more instances at once: migrations run under a lock and apply once.
    let (again, third) = tokio::join!(PgBackend::open(&url), PgBackend::open(&url));
    let (again, third) = (again.unwrap(), third.unwrap());
    assert_eq!(applied_migrations(&again).await, migrations::latest());
    assert_eq!(again.get_token("conn").await.unwrap().unwrap().version, 1);
    again.close().await;
    third.close().await;
    harness.finish().await;
}

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:5/sc_test", "sc_x"),
        "postgres://u@h:5/sc_x"
    );
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "sc_x"),
        "postgres://u@h/sc_x?sslmode=disable"
    );
}
