//! Bringing the PostgreSQL schema up to date with sqlx's migrator.

use socialconnect_core::{Error, Result};
use sqlx::AnyPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::backend::migrations::{self, MIGRATIONS};

/// Applies the migrations not yet applied. Idempotent; sqlx holds an advisory lock meanwhile,
/// so instances starting together do not race.
pub(super) async fn migrate(pool: &AnyPool) -> Result<()> {
    apply(pool, MIGRATIONS).await
}

/// Applies the migrations up to `version` only: a database as an older release left it.
#[cfg(test)]
pub(super) async fn migrate_to(pool: &AnyPool, version: i64) -> Result<()> {
    apply(pool, migrations::up_to(version)).await
}

async fn apply(pool: &AnyPool, steps: &'static [migrations::Migration]) -> Result<()> {
    let steps = steps
        .iter()
        .map(|step| {
            Migration::new(
                step.version,
                step.description.into(),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(step.postgres),
                false,
            )
        })
        .collect();
    let mut migrator = Migrator::with_migrations(steps);
    migrator.dangerous_set_table_name(migrations::TABLE);
    migrator
        .run(pool)
        .await
        .map_err(|e| Error::storage("migrating the store schema", e))
}
