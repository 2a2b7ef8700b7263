//! Preparing the database file and bringing its schema up to date.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};
use sha2::{Digest, Sha384};
use socialconnect_core::{Error, Result};

use super::conn::db;
use crate::backend::migrations::{self, Migration};

/// Applies the migrations not yet applied, all in one `BEGIN IMMEDIATE` transaction, so two
/// processes opening a new file together apply them once. Refuses a database whose applied
/// migrations this build does not know (written by a newer release), whose applied text
/// changed, or left half-migrated.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    apply(conn, migrations::MIGRATIONS)
}

/// Applies `steps` (a prefix of the migrations): a database as an older release left it.
#[cfg(test)]
pub(super) fn migrate_to(conn: &mut Connection, version: i64) -> Result<()> {
    apply(conn, migrations::up_to(version))
}

fn apply(conn: &mut Connection, steps: &[Migration]) -> Result<()> {
    const WHAT: &str = "migrating the store schema";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db(WHAT))?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        );",
        table = migrations::TABLE
    ))
    .map_err(db(WHAT))?;
    let applied: Vec<(i64, bool, Vec<u8>)> = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT version, success, checksum FROM {} ORDER BY version",
                migrations::TABLE
            ))
            .map_err(db(WHAT))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db(WHAT))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|_| Error::storage_msg("malformed row in sc_schema_migrations"))?
    };
    for (version, success, checksum) in &applied {
        if !success {
            return Err(Error::storage_msg(format!(
                "schema migration {version} was left incomplete; restore the database from a backup"
            )));
        }
        let Some(known) = migrations::MIGRATIONS
            .iter()
            .find(|m| m.version == *version)
        else {
            return Err(Error::storage_msg(format!(
                "the database has schema migration {version}, which this release does not know: \
                 it was written by a newer release"
            )));
        };
        if checksum.as_slice() != Sha384::digest(known.sqlite).as_slice() {
            return Err(Error::storage_msg(format!(
                "schema migration {version} applied to this database differs from this release's"
            )));
        }
    }
    for step in steps {
        if applied.iter().any(|(v, ..)| *v == step.version) {
            continue;
        }
        let started = Instant::now();
        tx.execute_batch(step.sqlite).map_err(db(WHAT))?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        tx.execute(
            &format!(
                "INSERT INTO {} (version, description, success, checksum, execution_time) \
                 VALUES (?1, ?2, TRUE, ?3, ?4)",
                migrations::TABLE
            ),
            rusqlite::params![
                step.version,
                step.description,
                Sha384::digest(step.sqlite).as_slice(),
                nanos
            ],
        )
        .map_err(db(WHAT))?;
        tracing::info!(version = step.version, "applied a store schema migration");
    }
    tx.commit().map_err(db(WHAT))
}

/// Creates the database file readable by its owner only, or tightens an existing one; returns
/// its absolute path.
///
/// The file holds wrapped keys, pseudonyms, platforms and timings: nothing another local user
/// should read, even though the personal data inside it is sealed. SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode, so those follow — but copies left from
/// before a tightening keep their old mode, hence they are tightened too.
pub(super) fn prepare_file(path: &Path) -> std::io::Result<PathBuf> {
    use std::fs::OpenOptions;
    use std::io::ErrorKind;

    let mut open = OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    match open.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                restrict_to_owner(path)?;
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut side = path.as_os_str().to_owned();
                    side.push(suffix);
                    match restrict_to_owner(Path::new(&side)) {
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        other => other?,
                    }
                }
            }
        }
        Err(e) => return Err(e),
    }
    std::fs::canonicalize(path)
}

/// Sets mode 0600 on a regular file when group or others have any access; refuses anything
/// else (a directory given by mistake must not lose its execute bits).
#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
