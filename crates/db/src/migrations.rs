//! Embedded schema migrations, one folder per backend with the same version names, applied
//! at start-up. Applying them again is a no-op.

use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::DbError;

/// Migrations for SQLite.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock that serialises migrations when several Valence
/// instances start at once against one database (ASCII "valence" + 1).
const MIGRATION_LOCK_KEY: i64 = 0x7661_6c65_6e63_6501;

/// Applies pending migrations; returns the versions applied now (empty when up to date).
pub fn run_pending(connection: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let backend = connection.backend();
    let failed = |reason: String| DbError::Migration { backend, reason };
    match connection {
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|error| failed(error.to_string())),
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)
                .map_err(|error| failed(format!("cannot take the migration lock: {error}")))?;
            let outcome = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
                .map_err(|error| failed(error.to_string()));
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(pg);
            let versions = outcome?;
            unlocked
                .map_err(|error| failed(format!("cannot release the migration lock: {error}")))?;
            Ok(versions)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    use diesel::sqlite::Sqlite;

    #[test]
    fn both_backends_have_the_same_versions() {
        let sqlite: Vec<String> = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        let postgres: Vec<String> = MigrationSource::<Pg>::migrations(&POSTGRES_MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
