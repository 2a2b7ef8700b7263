//! The SQLite backend on real files: every backend check (see [`crate::backend::checks`]) on a
//! fresh file, then what only SQLite has — raw rows, the file itself, its path, reopening it.

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use socialconnect_core::ErrorKind;
use socialconnect_core::store::PutOutcome;

use super::{SqliteBackend, schema};
use crate::backend::Backend;
use crate::backend::checks::{
    self, RawInsert, backend_checks, consent_row, token_row, verify_chain,
};
use crate::backend::migrations;

// --- harness ---

/// A backend over a file in a temporary directory, removed with it.
struct Harness {
    backend: Arc<SqliteBackend>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Always runs: SQLite needs nothing but a directory.
    async fn start() -> Option<Harness> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let backend = SqliteBackend::open(&dir.path().join("store.db"))
            .await
            .expect("open SQLite");
        Some(Harness {
            backend: Arc::new(backend),
            _dir: dir,
        })
    }

    async fn finish(self) {
        self.backend.close().await;
    }
}

backend_checks!(Harness::start);

/// Runs raw statements on `conn`, below the backend.
fn insert_raw(conn: &Connection, inserts: &[RawInsert]) {
    for insert in inserts {
        // The checks write PostgreSQL's `$N`; `?N` is SQLite's numbered parameter.
        let sql = insert.sql.replace('$', "?");
        conn.execute(&sql, rusqlite::params_from_iter(&insert.blobs))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Runs `sql` on the backend's writer connection and returns the single integer it selects.
async fn query_int(b: &SqliteBackend, sql: &'static str) -> i64 {
    b.pool
        .with_writer(move |conn| conn.query_row(sql, [], |r| r.get(0)))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// How many migrations the migrations table of `b`'s database records.
async fn applied_migrations(b: &SqliteBackend) -> i64 {
    query_int(b, "SELECT COUNT(*) FROM sc_schema_migrations").await
}

// --- SQLite only ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rows_are_typed_errors() {
    let harness = Harness::start().await.unwrap();
    harness
        .backend
        .pool
        .with_writer(|conn| insert_raw(conn, &checks::malformed_rows()))
        .await;
    checks::check_malformed_rows(&*harness.backend).await;
    assert_eq!(
        query_int(&harness.backend, "SELECT COUNT(*) FROM sc_pending").await,
        0,
        "the refused pending state is gone"
    );
    harness.finish().await;
}

#[tokio::test]
async fn upgrades_from_schema_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    {
        let mut conn = Connection::open(schema::prepare_file(&path).unwrap()).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        insert_raw(&conn, &checks::schema_1_rows());
    }

    let b = SqliteBackend::open(&path).await.unwrap();
    assert_eq!(applied_migrations(&b).await, migrations::latest());
    checks::check_upgraded_from_schema_1(&b).await;
    b.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn file_is_private_and_in_wal_mode() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let b = SqliteBackend::open(&path).await.unwrap();
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let wal = dir.path().join("store.db-wal");
    assert!(wal.exists(), "a WAL file is in use");
    assert_eq!(
        mode(&wal),
        0o600,
        "SQLite gives the WAL file the database's mode"
    );

    let (journal, synchronous, busy, foreign_keys) = b
        .pool
        .with_writer(|conn| {
            let text = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap();
            let int = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            (
                text("PRAGMA journal_mode"),
                int("PRAGMA synchronous"),
                int("PRAGMA busy_timeout"),
                int("PRAGMA foreign_keys"),
            )
        })
        .await;
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, 2, "FULL");
    assert_eq!(busy, 5000);
    assert_eq!(foreign_keys, 1);
    b.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn tightens_an_existing_file() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let b = SqliteBackend::open(&path).await.unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    b.close().await;
}

#[tokio::test]
async fn path_with_url_characters() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a dir?x=1#frag%20");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("store.db");
    let b = SqliteBackend::open(&path).await.unwrap();
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    b.close().await;
    assert!(path.exists(), "the database is where it was asked to be");
}

#[tokio::test]
async fn reopen_keeps_data_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let b = SqliteBackend::open(&path).await.unwrap();
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    b.append_consent(consent_row(1, "analytics", "", "grant"))
        .await
        .unwrap();
    b.close().await;
    drop(b);

    let b = SqliteBackend::open(&path).await.unwrap();
    assert_eq!(applied_migrations(&b).await, migrations::latest());
    assert_eq!(b.get_token("conn").await.unwrap().unwrap().version, 1);
    let next = b
        .append_consent(consent_row(1, "analytics", "", "withdraw"))
        .await
        .unwrap();
    assert_eq!(next.seq, 2);
    assert_eq!(verify_chain(&b).await.len(), 2);
    // A second instance on the same file works beside the first.
    let other = SqliteBackend::open(&path).await.unwrap();
    assert_eq!(
        other
            .put_token(token_row("conn", 1, "meta"), Some(1))
            .await
            .unwrap(),
        PutOutcome::Written(2)
    );
    assert_eq!(b.get_token("conn").await.unwrap().unwrap().version, 2);
    other.close().await;
    b.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn refuses_a_directory() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let before = std::fs::metadata(dir.path()).unwrap().permissions().mode();
    let e = SqliteBackend::open(dir.path()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert_eq!(
        std::fs::metadata(dir.path()).unwrap().permissions().mode(),
        before
    );
}

/// Opens a new database at `path`, runs `tamper` on it, closes it and opens it again: the
/// error of the second open.
async fn reopen_after(path: &Path, tamper: &'static str) -> socialconnect_core::Error {
    let b = SqliteBackend::open(path).await.unwrap();
    let changed = b
        .pool
        .with_writer(move |conn| conn.execute(tamper, []))
        .await
        .unwrap_or_else(|e| panic!("{tamper}: {e}"));
    assert_eq!(changed, 1, "{tamper}");
    b.close().await;
    drop(b);
    SqliteBackend::open(path).await.unwrap_err()
}

#[tokio::test]
async fn refuses_unknown_or_altered_migrations() {
    let dir = tempfile::tempdir().unwrap();

    // Written by a newer release.
    let e = reopen_after(
        &dir.path().join("newer.db"),
        "INSERT INTO sc_schema_migrations (version, description, success, checksum, \
             execution_time) \
         VALUES (999, 'from the future', TRUE, X'00', 0)",
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    assert!(e.to_string().contains("999"), "{e}");

    // Migration 1 as applied is not this release's migration 1.
    let e = reopen_after(
        &dir.path().join("altered.db"),
        "UPDATE sc_schema_migrations SET checksum = zeroblob(48) WHERE version = 1",
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    assert!(e.to_string().contains("migration 1 "), "{e}");
}

/// A point lookup runs in place on a multi-threaded runtime (in `block_on` and on a worker) and
/// on the blocking pool on a current-thread runtime: the same answer everywhere, no panic.
#[test]
fn lookups_work_on_every_runtime_flavor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let b = Arc::new(multi.block_on(SqliteBackend::open(&path)).unwrap());
    multi
        .block_on(b.put_token(token_row("conn", 1, "meta"), None))
        .unwrap();
    let read = |b: Arc<SqliteBackend>| async move { b.get_token("conn").await.unwrap().unwrap() };

    let in_block_on = multi.block_on(read(b.clone()));
    let on_worker = multi.block_on(multi.spawn(read(b.clone()))).unwrap();
    // A task beside the lookup on the only worker still runs to completion.
    let beside = multi.spawn(async { 7 });
    let on_worker_again = multi.block_on(multi.spawn(read(b.clone()))).unwrap();
    assert_eq!(multi.block_on(beside).unwrap(), 7);
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let on_current_thread = current.block_on(read(b.clone()));
    for row in [on_worker, on_worker_again, on_current_thread] {
        assert_eq!(row, in_block_on);
    }
    assert_eq!(in_block_on.version, 1);
}

#[tokio::test]
async fn calls_after_close_are_storage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let b = SqliteBackend::open(&dir.path().join("store.db"))
        .await
        .unwrap();
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    b.close().await;
    let read = b.get_token("conn").await.unwrap_err();
    let scan = b.tokens_of(&checks::subject(1)).await.unwrap_err();
    let write = b
        .put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap_err();
    for e in [read, scan, write] {
        assert_eq!(e.kind(), ErrorKind::Storage);
        assert!(e.to_string().contains("closed"), "{e}");
    }
}

/// More concurrent reads than reader connections: they queue for a connection, all answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_reads_share_the_bounded_readers() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(
        SqliteBackend::open(&dir.path().join("store.db"))
            .await
            .unwrap(),
    );
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                b.get_token("conn").await.unwrap().map(|row| row.version)
            } else {
                Some(b.tokens_of(&checks::subject(1)).await.unwrap().len() as i64)
            }
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Some(1));
    }
    let open = b.pool.readers_open();
    assert!((1..=super::readers::READERS).contains(&open), "{open}");
}

/// A gate the tests below hold reads at: `wait` blocks until `open` is called.
#[derive(Clone, Default)]
struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, changed) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = changed.wait(open).unwrap();
        }
    }

    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap() = true;
        changed.notify_all();
    }
}

/// Starts `n` scans that hold their reader connection until `gate` opens; returns once all
/// hold one.
async fn hold_readers(
    b: &Arc<SqliteBackend>,
    gate: &Gate,
    n: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks = (0..n)
        .map(|_| {
            let (b, gate, held) = (b.clone(), gate.clone(), held.clone());
            tokio::spawn(async move {
                b.pool
                    .read("a held read", move |_| {
                        held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        gate.wait();
                        Ok(())
                    })
                    .await
                    .unwrap();
            })
        })
        .collect();
    while held.load(std::sync::atomic::Ordering::SeqCst) < n {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    tasks
}

/// With every reader connection busy, a lookup waits on the blocking pool, not on a runtime
/// thread: the only worker keeps running other tasks meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_lookup_never_waits_for_a_reader_on_a_runtime_thread() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(
        SqliteBackend::open(&dir.path().join("store.db"))
            .await
            .unwrap(),
    );
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    let gate = Gate::default();
    let holders = hold_readers(&b, &gate, super::readers::READERS).await;

    let lookup = tokio::spawn({
        let b = b.clone();
        async move { b.get_token("conn").await.unwrap().map(|row| row.version) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(!lookup.is_finished(), "no reader was free");
    assert_eq!(tokio::spawn(async { 7 }).await.unwrap(), 7);

    gate.open();
    assert_eq!(lookup.await.unwrap(), Some(1));
    for holder in holders {
        holder.await.unwrap();
    }
}

/// A read that panics gives its connection back: later reads still find one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_read_gives_its_connection_back() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(
        SqliteBackend::open(&dir.path().join("store.db"))
            .await
            .unwrap(),
    );
    for _ in 0..super::readers::READERS + 2 {
        let e = b
            .pool
            .read(
                "a read that panics",
                |_| -> socialconnect_core::Result<()> { panic!("a bug in a read") },
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Storage);
    }
    assert!(b.get_token("conn").await.unwrap().is_none());
    assert!(b.pool.readers_open() <= super::readers::READERS);
}

/// `close` waits for the reads in progress, then refuses new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_waits_for_reads_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(
        SqliteBackend::open(&dir.path().join("store.db"))
            .await
            .unwrap(),
    );
    let gate = Gate::default();
    let holders = hold_readers(&b, &gate, 2).await;
    let closing = tokio::spawn({
        let b = b.clone();
        async move { b.close().await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(!closing.is_finished(), "two reads are still running");
    gate.open();
    closing.await.unwrap();
    for holder in holders {
        holder.await.unwrap();
    }
    assert_eq!(b.pool.readers_open(), 0);
    assert_eq!(
        b.get_token("conn").await.unwrap_err().kind(),
        ErrorKind::Storage
    );
}

/// A value longer than the connections read (a tampered file) is a typed error, not a
/// gigabyte allocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_value_in_the_file_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let b = SqliteBackend::open(&path).await.unwrap();
    b.put_token(token_row("conn", 1, "meta"), None)
        .await
        .unwrap();
    // Below the backend, on a connection with SQLite's default limits.
    let raw = Connection::open(&path).unwrap();
    let huge = i64::from(super::conn::MAX_VALUE_BYTES) + 1;
    raw.execute(
        "UPDATE sc_tokens SET sealed = zeroblob(?1) WHERE conn_id = 'conn'",
        [huge],
    )
    .unwrap();
    drop(raw);
    let e = b.get_token("conn").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    b.close().await;
}

/// A usage batch goes out in chunks of 64 rows, then falling powers of two: few statements,
/// and at most seven of them cached whatever the batch sizes.
#[test]
fn usage_batches_split_into_power_of_two_chunks() {
    let split = |mut n: usize| {
        let mut chunks = Vec::new();
        while n > 0 {
            let c = super::usage_chunk(n);
            chunks.push(c);
            n -= c;
        }
        chunks
    };
    assert_eq!(split(1), vec![1]);
    assert_eq!(split(37), vec![32, 4, 1]);
    assert_eq!(split(64), vec![64]);
    assert_eq!(split(100), vec![64, 32, 4]);
    assert_eq!(split(129), vec![64, 64, 1]);
    for rows in 1..=64usize {
        let statement = crate::backend::sql::sqlite::append_usage_rows(rows);
        assert_eq!(statement.is_some(), rows.is_power_of_two(), "{rows} rows");
        if let Some(statement) = statement {
            assert!(
                statement.ends_with(&format!("?{})", rows * 9)),
                "{statement}"
            );
        }
    }
    assert!(crate::backend::sql::sqlite::append_usage_rows(128).is_none());
}

/// A usage batch is one transaction across its chunks: a row SQLite refuses (a value
/// over the connections' length limit) in the last chunk leaves none of the batch behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_usage_row_leaves_none_of_its_batch() {
    let harness = Harness::start().await.unwrap();
    let b = &harness.backend;
    let mut rows: Vec<_> = (1..=100).map(|at| checks::usage_row(5, at)).collect();
    // The 100th row is in the last chunk (64 + 32 + 4).
    rows[99].sealed = vec![0; super::conn::MAX_VALUE_BYTES as usize + 1];
    assert!(b.append_usage_batch(rows).await.is_err());
    assert!(b.usage_of(&checks::subject(5)).await.unwrap().is_empty());
    harness.finish().await;
}
