//! Opening one SQLite connection with the settings every connection of the store carries, and
//! the errors the pool and its readers share.

use std::path::Path;

use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};
use socialconnect_core::{Error, Result};

/// The longest text or blob a connection reads or writes: the store's bound on every value.
// 16 MiB: the assertion below proves the cast keeps it.
pub(super) const MAX_VALUE_BYTES: i32 = crate::backend::decode::MAX_VALUE_BYTES as i32;
const _: () = assert!(crate::backend::decode::MAX_VALUE_BYTES <= i32::MAX as usize);

/// Prepared statements kept per connection: every statement of the backend fits.
const STATEMENT_CACHE: usize = 128;

/// Per-connection settings. `busy_timeout` comes first so the others wait for locks;
/// `synchronous=FULL` makes every commit durable across a power cut (WAL's default, NORMAL, may
/// lose the last commits); foreign keys for any future schema that declares them;
/// `secure_delete` overwrites deleted rows' bytes (an erased subject's wrapped data key must not
/// linger in a free page of the key vault).
const PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";

/// Error mapper for a failed statement: says what failed and keeps SQLite's error as the source
/// (SQLite's messages name statements, tables and constraints, never bound values).
pub(super) fn db(what: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| Error::storage(what, e)
}

pub(super) fn closed(what: &'static str) -> Error {
    Error::storage_msg(format!("{what}: the SQLite database is closed"))
}

/// Opens one connection to an existing file with the settings every connection carries.
pub(super) fn connect(path: &Path) -> Result<Connection> {
    // No URI interpretation (a path is a path, whatever characters it holds); no
    // SQLite-level mutex (each connection is used by one thread at a time).
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(db("opening the SQLite database"))?;
    conn.execute_batch(PRAGMAS)
        .map_err(db("configuring the SQLite connection"))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // A value read from the file is allocated whole: a tampered file must not make us allocate
    // a gigabyte (SQLite's default). SQLite answers a longer value with an error.
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        .map_err(db("configuring the SQLite connection"))?;
    Ok(conn)
}
