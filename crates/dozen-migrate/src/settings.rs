//! [`MigrateSettings`]: what an operator sets for migrations, from the
//! environment through a configuration loader.

use std::time::Duration;

use serde::Deserialize;

use crate::duration;
use crate::table_name::TableName;

/// The settings of a [`Migrator`](crate::Migrator) (and so of the
/// [`Cli`](crate::Cli) built on it) that an operator sets.
///
/// A plain [`Deserialize`] struct whose fields are named after their
/// variables, so that a configuration loader such as dozen-config reads it
/// with no renaming, alone or in an application's settings tuple; this crate
/// reads no environment variable itself.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `MIGRATE_TABLE` | the history table, `name` or `schema.name` | `refinery_schema_history` |
/// | `MIGRATE_LOCK_TIMEOUT` | how long a run waits for another process's lock (`--lock-timeout`) | `5m` |
/// | `MIGRATE_WAIT_TIMEOUT` | how long `wait` waits for the schema (`wait --timeout`) | `5m` |
/// | `MIGRATE_POLL_INTERVAL` | how often `wait` reads the history | `500ms` |
/// | `MIGRATE_ALLOW_NEWER` | whether `apply` and `validate` accept applied migrations newer than this binary's, after a rollback (`--allow-newer`) | `false` |
///
/// Durations are humantime (`500ms`, `30s`, `1m 30s`) and at most 24 hours.
/// A bad value is reported on its variable without the value:
/// `MIGRATE_LOCK_TIMEOUT: too large (at most 24h)`.
///
/// ```
/// use std::time::Duration;
/// use dozen_migrate::MigrateSettings;
///
/// let settings = MigrateSettings::default();
/// assert_eq!(settings.migrate_lock_timeout, Duration::from_secs(300));
/// assert_eq!(settings.migrate_table.as_str(), "refinery_schema_history");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MigrateSettings {
    /// `MIGRATE_TABLE`: the history table.
    pub migrate_table: TableName,
    /// `MIGRATE_LOCK_TIMEOUT`: how long a run waits for another process's
    /// lock before it gives up with
    /// [`ErrorKind::LockTimeout`](crate::ErrorKind::LockTimeout).
    #[serde(deserialize_with = "duration::deserialize")]
    pub migrate_lock_timeout: Duration,
    /// `MIGRATE_WAIT_TIMEOUT`: how long [`Migrator::wait`](crate::Migrator::wait)
    /// waits for another process to migrate before it gives up with
    /// [`ErrorKind::WaitTimeout`](crate::ErrorKind::WaitTimeout).
    #[serde(deserialize_with = "duration::deserialize")]
    pub migrate_wait_timeout: Duration,
    /// `MIGRATE_POLL_INTERVAL`: how often [`Migrator::wait`](crate::Migrator::wait)
    /// reads the history (at least 10 ms are taken).
    #[serde(deserialize_with = "duration::deserialize")]
    pub migrate_poll_interval: Duration,
    /// `MIGRATE_ALLOW_NEWER`: whether [`Migrator::apply`](crate::Migrator::apply)
    /// and [`Migrator::validate`](crate::Migrator::validate) accept applied
    /// migrations newer than every embedded one (a newer release ran them and
    /// the app was rolled back). They are logged, the migrations both sides
    /// know are still checked, and the run succeeds. Without it they fail with
    /// [`ErrorKind::NewerVersions`](crate::ErrorKind::NewerVersions).
    pub migrate_allow_newer: bool,
}

impl Default for MigrateSettings {
    fn default() -> Self {
        Self {
            migrate_table: TableName::default(),
            migrate_lock_timeout: Duration::from_secs(300),
            migrate_wait_timeout: Duration::from_secs(300),
            migrate_poll_interval: Duration::from_millis(500),
            migrate_allow_newer: false,
        }
    }
}
