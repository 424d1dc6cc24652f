//! The backend's tables, shipped as migrations for the app's own set.

use refinery_core::Migration;

use super::dialect::Dialect;
use crate::error::Error;

/// The name of the first migration, after its version.
const FIRST: &str = "dozen_jobs";

/// The migrations that create and evolve the queue's tables in `dialect`,
/// numbered from `first_version`, to add to the app's own migrations
/// (`dozen_migrate::Migrator::from_migrations`): one history, one lock and
/// one migrate Job for the whole schema.
///
/// Pick `first_version` once, above the app's migrations when the queue is
/// added (`V3` after `V1` and `V2`), and never change it. Today there is one
/// migration; a later release of dozen-jobs that adds one says so in its
/// changelog, and the app then takes `first_version + 1` for it, so app
/// migrations written meanwhile keep their numbers.
///
/// ```
/// # use dozen_jobs::sql::{Dialect, migrations};
/// let jobs = migrations(Dialect::Postgres, 3).unwrap();
/// assert_eq!(jobs[0].to_string(), "V3__dozen_jobs");
/// ```
///
/// # Errors
///
/// `first_version` is not positive.
pub fn migrations(dialect: Dialect, first_version: i32) -> Result<Vec<Migration>, Error> {
    if first_version < 1 {
        return Err(Error::invalid(format!(
            "dozen-jobs migrations: the first version must be at least 1, got {first_version}"
        )));
    }
    let sql = match dialect {
        Dialect::Postgres => include_str!("schema/postgres.sql"),
        Dialect::MySql => include_str!("schema/mysql.sql"),
        Dialect::Sqlite => include_str!("schema/sqlite.sql"),
    };
    let migration = Migration::unapplied(&format!("V{first_version}__{FIRST}"), sql)
        .map_err(|e| Error::invalid(format!("dozen-jobs migrations: {e}")))?;
    Ok(vec![migration])
}
