//! The connections of one SQLite database file and where their calls run.
//!
//! SQLite calls block, and none may stall the async runtime:
//! - **Writes** run on tokio's blocking pool, on the one writer connection, each in a
//!   `BEGIN IMMEDIATE` transaction (the write lock up front, so a read-then-write never fails
//!   half-way with `SQLITE_BUSY`; other processes wait for it through the busy timeout).
//! - **Reads** run on reader connections (see `readers.rs`), so in WAL mode they never wait
//!   behind a write's `fsync`. Scans go to the blocking pool.
//! - **Point lookups** (one row by key, a few microseconds) run on a multi-threaded runtime
//!   through [`tokio::task::block_in_place`], which hands the worker's other tasks to another
//!   thread before the call, so they are not held up — when a reader connection is free; when
//!   none is, or on a current-thread runtime, they go to the blocking pool like scans, so no
//!   runtime thread ever waits for a connection.
//!
//! Why lookups do not hop threads: measured on these 2-vCPU machines (`benches/store.rs` and a
//! dispatch probe), handing a job to another thread and back cost 15–80 µs (waking an idle
//! vCPU), against about 3 µs for the query itself. A token read through `spawn_blocking` took
//! 25 µs, five times a raw prepared statement; in place it takes about 1.5 times.
//!
//! One nesting this does not serve: a future driven by a current-thread runtime's `block_on`
//! inside which a multi-threaded runtime's handle was entered (`Handle::enter`) looks
//! multi-threaded to the flavor check, and `block_in_place` panics there. Nesting runtimes that
//! way is something tokio itself advises against.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use socialconnect_core::{Error, Result};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::conn::{closed, connect, db};
use super::readers::Readers;

/// One database file: the writer and the readers.
pub(super) struct Pool {
    /// Writers wait their turn here, on the runtime, rather than each holding a blocking-pool
    /// thread while it waits for `writer`; the turn moves into the blocking job, so a caller
    /// that stops waiting does not let the next writer in before the job is done.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// `None` once closed.
    writer: Mutex<Option<Connection>>,
    readers: Readers,
}

impl Pool {
    /// Opens the file (see `schema::prepare_file` for its creation), switches it to WAL and
    /// applies `setup` on the writer (the schema migrations). Blocking: call it off the runtime.
    pub(super) fn open(
        path: PathBuf,
        setup: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<Self> {
        let mut writer = connect(&path)?;
        // WAL lets readers run beside the one writer; SQLite answers with the mode it ended up
        // in (e.g. `delete` on a file system without shared memory), and the durability and
        // concurrency here assume WAL.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db("switching the SQLite database to write-ahead logging"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::storage_msg(
                "SQLite refused write-ahead logging for this database file",
            ));
        }
        setup(&mut writer)?;
        let reader = connect(&path)?;
        Ok(Self {
            write_turn: Arc::new(tokio::sync::Mutex::new(())),
            writer: Mutex::new(Some(writer)),
            readers: Readers::new(path, reader),
        })
    }

    /// Runs `f`, a lookup of one row by key, on a reader connection: in place on a
    /// multi-threaded runtime when a reader is free (see the module documentation), else on the
    /// blocking pool.
    pub(super) async fn lookup<T, F>(self: &Arc<Self>, what: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let in_place = Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
        if in_place && let Some(mut slot) = self.readers.try_take(what)? {
            return tokio::task::block_in_place(move || f(slot.connection()?));
        }
        self.read(what, f).await
    }

    /// Runs `f` on a reader connection on the blocking pool.
    pub(super) async fn read<T, F>(self: &Arc<Self>, what: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.clone();
        blocking(what, move || {
            let mut slot = pool.readers.take(what)?;
            f(slot.connection()?)
        })
        .await
    }

    /// Runs `f` in a write transaction on the blocking pool: committed when `f` returns `Ok`,
    /// rolled back otherwise.
    pub(super) async fn write<T, F>(self: &Arc<Self>, what: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        self.write_or_roll_back(what, move |tx| f(tx).map(Some))
            .await?
            .ok_or_else(|| Error::storage_msg(what))
    }

    /// Runs `f` in a write transaction on the blocking pool: committed when `f` returns
    /// `Ok(Some(_))`, rolled back when it returns `Ok(None)` (a compare-and-set that found its
    /// condition false) or an error.
    pub(super) async fn write_or_roll_back<T, F>(
        self: &Arc<Self>,
        what: &'static str,
        f: F,
    ) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<Option<T>> + Send + 'static,
    {
        let turn = self.write_turn.clone().lock_owned().await;
        let pool = self.clone();
        blocking(what, move || {
            let _turn = turn;
            let mut writer = pool.lock_writer();
            let conn = writer.as_mut().ok_or_else(|| closed(what))?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db(what))?;
            // Dropping `tx` on an error rolls it back.
            let Some(value) = f(&tx)? else {
                tx.rollback().map_err(db(what))?;
                return Ok(None);
            };
            tx.commit().map_err(db(what))?;
            Ok(Some(value))
        })
        .await
    }

    /// Runs `f` on the writer connection outside a transaction (tests' raw statements).
    #[cfg(test)]
    pub(super) async fn with_writer<T, F>(self: &Arc<Self>, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let writer = pool.lock_writer();
            f(writer.as_ref().expect("the database is open"))
        })
        .await
        .expect("writer task")
    }

    /// Runs `PRAGMA wal_checkpoint(TRUNCATE)` on the writer: copies every committed page into
    /// the database file and empties the WAL, so bytes a deletion overwrote are gone from both.
    /// Returns whether it completed (readers in the middle of a read can hold it back).
    pub(super) async fn checkpoint(self: &Arc<Self>, what: &'static str) -> Result<bool> {
        let turn = self.write_turn.clone().lock_owned().await;
        let pool = self.clone();
        blocking(what, move || {
            let _turn = turn;
            let writer = pool.lock_writer();
            let conn = writer.as_ref().ok_or_else(|| closed(what))?;
            let busy: i64 = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .map_err(db(what))?;
            Ok(busy == 0)
        })
        .await
    }

    /// Closes every connection, waiting for the write and the reads in progress; later calls
    /// fail.
    pub(super) async fn close(self: &Arc<Self>) {
        let pool = self.clone();
        let closed = tokio::task::spawn_blocking(move || {
            pool.readers.close();
            drop(pool.lock_writer().take());
        })
        .await;
        if closed.is_err() {
            tracing::warn!("closing the SQLite connections failed");
        }
    }

    /// Reader connections open now.
    #[cfg(test)]
    pub(super) fn readers_open(&self) -> usize {
        self.readers.open()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic inside a write unwound through its transaction, which rolled back: the
        // connection is still sound.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs blocking work on tokio's blocking pool.
pub(super) async fn blocking<T, F>(what: &'static str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::storage(what, e))?
}
