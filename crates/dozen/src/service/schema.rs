//! The migration policy: apply the embedded migrations on SQLite or when
//! `MIGRATE_ON_START` says so, otherwise wait for the migrate Job; then a
//! readiness check `schema` that fails while the schema is not at the
//! embedded version.

use std::sync::{Arc, OnceLock};

use dozen_backing::{Kind, PoolSettings, ServiceUrl};
use dozen_migrate::{Database, Migrator};
use dozen_shutdown::Shutdown;
use serde::Deserialize;

use super::attached::attached_check;
use super::box_error::BoxError;
use super::health::Health;
use super::stopped::{Phases, unless_shutdown};

/// Who brings the schema up to date at start-up.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `MIGRATE_ON_START` | apply the embedded migrations before the process starts its work (`true`), or wait for the migrate Job to apply them (`false`) | `true` on SQLite, `false` on a server database |
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SchemaSettings {
    /// `MIGRATE_ON_START`.
    pub migrate_on_start: Option<bool>,
}

impl SchemaSettings {
    /// Whether a process applies the migrations to `url` itself: when
    /// `MIGRATE_ON_START` says so, else on SQLite (one process, no Job).
    #[must_use]
    pub fn migrates_on_start(&self, url: &ServiceUrl) -> bool {
        self.migrate_on_start
            .unwrap_or(matches!(url.kind(), Kind::Sqlite))
    }
}

/// The migrations of a process, with their settings applied.
pub(crate) struct Plan {
    pub(crate) migrator: Arc<Migrator>,
    pub(crate) on_start: bool,
}

/// Brings the schema to the embedded version on a connection of its own
/// (dozen-migrate takes typed pools), then registers the `schema` check on
/// it. The connection goes into `opened` as soon as it is open, for the
/// teardown hook the caller registered beforehand to close on every path.
pub(crate) async fn prepare(
    schema: &Plan,
    url: &ServiceUrl,
    pool: &PoolSettings,
    opened: &OnceLock<Database>,
    shutdown: &Shutdown,
    phases: &Phases,
    health: &Health,
) -> Result<(), BoxError> {
    let migrator = Arc::clone(&schema.migrator);
    let checked = Arc::clone(&migrator);
    let at_version = attached_check(health, "schema", move |db: Database| {
        let migrator = Arc::clone(&checked);
        async move {
            let status = migrator.status(&db).await.map_err(|e| e.to_string())?;
            if status.has_reached_target() {
                Ok(())
            } else {
                Err(format!(
                    "the schema is not at version {}",
                    status
                        .target_version()
                        .map_or_else(|| "none".to_owned(), |v| v.to_string())
                ))
            }
        }
    });
    let db = unless_shutdown(shutdown, phases, "connect", connect(url, pool)).await??;
    let db = opened.get_or_init(|| db);
    if schema.on_start {
        let report = unless_shutdown(shutdown, phases, "migrations", migrator.apply(db)).await??;
        tracing::info!(applied = report.applied.len(), "migrations up to date");
    } else {
        tracing::info!(
            timeout = ?migrator.wait_timeout(),
            "waiting for the migrate Job to bring the schema up to date"
        );
        unless_shutdown(shutdown, phases, "migrations", migrator.wait(db)).await??;
        tracing::info!("schema up to date");
    }
    at_version.attach(db.clone());
    Ok(())
}

/// A small pool for migrations to `url`, retried and sized by `settings`
/// like the app's own (two connections: one for the lock, one for the work).
pub(crate) async fn connect(
    url: &ServiceUrl,
    settings: &PoolSettings,
) -> Result<Database, BoxError> {
    let mut settings = settings.clone();
    settings.database_max_connections = settings.database_max_connections.min(2);
    settings.database_min_connections = 0;
    let settings = &settings;
    match url.kind() {
        #[cfg(feature = "postgres")]
        Kind::Postgres => Ok(
            dozen_backing::connect::<dozen_backing::Postgres>(url, settings)
                .await?
                .into(),
        ),
        #[cfg(feature = "mysql")]
        Kind::MySql => Ok(
            dozen_backing::connect::<dozen_backing::MySql>(url, settings)
                .await?
                .into(),
        ),
        #[cfg(feature = "sqlite")]
        Kind::Sqlite => Ok(
            dozen_backing::connect::<dozen_backing::Sqlite>(url, settings)
                .await?
                .into(),
        ),
        other => Err(format!("DATABASE_URL: no migrations for a {other} database").into()),
    }
}
