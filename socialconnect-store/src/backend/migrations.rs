//! The schema steps, shared by the SQL backends: each backend applies its dialect's text.

/// The table recording applied migrations, laid out as sqlx's migrator lays it out (version,
/// description, installed_on, success, SHA-384 checksum, execution_time), so both backends
/// read and write the same bookkeeping. Not sqlx's default `_sqlx_migrations`: a host that
/// keeps our tables in its own database may run its own sqlx migrations there, and two
/// migration sets sharing one table refuse to run ("previously applied but missing").
pub(crate) const TABLE: &str = "sc_schema_migrations";

/// One schema step.
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    #[cfg(feature = "sqlite")]
    pub sqlite: &'static str,
    #[cfg(feature = "postgres")]
    pub postgres: &'static str,
}

/// Append only; an applied migration's text must never change (its checksum is checked on
/// every open).
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "schema",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0001_schema.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0001_schema.sql"),
    },
    Migration {
        version: 2,
        description: "account index and deletion requests",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!(
            "../../migrations/sqlite/0002_account_index_and_deletion_requests.sql"
        ),
        #[cfg(feature = "postgres")]
        postgres: include_str!(
            "../../migrations/postgres/0002_account_index_and_deletion_requests.sql"
        ),
    },
    Migration {
        version: 3,
        description: "privacy engine",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0003_privacy.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0003_privacy.sql"),
    },
    Migration {
        version: 4,
        description: "webhook deliveries",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0004_webhook_deliveries.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0004_webhook_deliveries.sql"),
    },
    Migration {
        version: 5,
        description: "refresh sweep",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0005_refresh_sweep.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0005_refresh_sweep.sql"),
    },
    Migration {
        version: 6,
        description: "notices and declared bases",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0006_policy.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0006_policy.sql"),
    },
    Migration {
        version: 7,
        description: "rate budgets",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0007_rate_budgets.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0007_rate_budgets.sql"),
    },
    Migration {
        version: 8,
        description: "scheduled actions",
        #[cfg(feature = "sqlite")]
        sqlite: include_str!("../../migrations/sqlite/0008_actions.sql"),
        #[cfg(feature = "postgres")]
        postgres: include_str!("../../migrations/postgres/0008_actions.sql"),
    },
];

/// The migrations up to `version`: a database as an older release left it.
#[cfg(test)]
pub(crate) fn up_to(version: i64) -> &'static [Migration] {
    &MIGRATIONS[..MIGRATIONS.partition_point(|m| m.version <= version)]
}

/// The newest schema version this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}
