//! The schema (migrations built at runtime from the SQL files) and preparing a SQLite file.

#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};

use socialconnect_core::{Error, Result};
use sqlx::AnyPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Dialect;

/// The table recording applied migrations. Not sqlx's default `_sqlx_migrations`: a host that
/// keeps our tables in its own PostgreSQL database may run its own sqlx migrations there, and
/// two migration sets sharing one table refuse to run ("previously applied but missing").
const MIGRATIONS_TABLE: &str = "sc_schema_migrations";

/// One schema step per dialect: (version, description, SQLite, PostgreSQL). Append only; an
/// applied migration's text must never change (sqlx checks its checksum).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "schema",
        include_str!("../../../migrations/sqlite/0001_schema.sql"),
        include_str!("../../../migrations/postgres/0001_schema.sql"),
    ),
    (
        2,
        "account index and deletion requests",
        include_str!("../../../migrations/sqlite/0002_account_index_and_deletion_requests.sql"),
        include_str!("../../../migrations/postgres/0002_account_index_and_deletion_requests.sql"),
    ),
    (
        3,
        "privacy engine",
        include_str!("../../../migrations/sqlite/0003_privacy.sql"),
        include_str!("../../../migrations/postgres/0003_privacy.sql"),
    ),
];

/// Applies the migrations not yet applied. Idempotent; on PostgreSQL sqlx holds an advisory
/// lock meanwhile, so instances starting together do not race.
pub(super) async fn migrate(pool: &AnyPool, dialect: Dialect) -> Result<()> {
    apply(pool, dialect, MIGRATIONS).await
}

/// Applies the migrations up to `version` only: a database as an older release left it.
#[cfg(test)]
pub(super) async fn migrate_to(pool: &AnyPool, dialect: Dialect, version: i64) -> Result<()> {
    let upto = MIGRATIONS.partition_point(|&(v, ..)| v <= version);
    apply(pool, dialect, &MIGRATIONS[..upto]).await
}

/// The number of migrations this build knows.
#[cfg(test)]
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |&(v, ..)| v)
}

async fn apply(
    pool: &AnyPool,
    dialect: Dialect,
    steps: &'static [(i64, &'static str, &'static str, &'static str)],
) -> Result<()> {
    let migrations = steps
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match dialect {
                Dialect::Sqlite => sqlite,
                Dialect::Postgres => postgres,
            };
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
        .run(pool)
        .await
        .map_err(|e| Error::storage("migrating the store schema", e))
}

/// Creates the database file readable by its owner only, or tightens an existing one; returns
/// its absolute path.
///
/// The file holds wrapped keys, pseudonyms, platforms and timings: nothing another local user
/// should read, even though the personal data inside it is sealed. SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode, so those follow — but copies left from
/// before a tightening keep their old mode, hence they are tightened too.
#[cfg(feature = "sqlite")]
pub(super) fn prepare_sqlite_file(path: &Path) -> std::io::Result<PathBuf> {
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
#[cfg(all(feature = "sqlite", unix))]
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

/// `sqlite://<path>?mode=rwc`, the path percent-encoded (sqlx decodes it), so a `?`, `#` or
/// space in a directory name cannot change what the URL means.
#[cfg(feature = "sqlite")]
pub(super) fn sqlite_url(path: &Path) -> Result<String> {
    use std::fmt::Write;

    let path = path
        .to_str()
        .ok_or_else(|| Error::config("the SQLite database path is not valid UTF-8"))?;
    let mut url = String::from("sqlite://");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(url, "%{byte:02X}");
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}
