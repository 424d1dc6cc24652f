//! The database of a process: what it reads (`PoolSettings`, and with
//! migrations `MigrateSettings` and [`SchemaSettings`]), and its attachment:
//! connected with retry, raced against shutdown, closed in teardown, its
//! readiness checked.

use std::sync::Arc;

use dozen_backing::{Driver, PoolSettings, Probe, ServiceUrl};
use dozen_shutdown::Shutdown;

use super::attached::attached_check;
use super::box_error::BoxError;
use super::health::{DEFAULT_CHECK_TIMEOUT, Health};
use super::settings::CLOSE_BUDGET;
use super::stopped::{Phases, unless_shutdown};

/// The name of the database's readiness check and teardown hook.
const CHECK: &str = "database";

/// What a process's database was declared with, settings loaded.
pub(crate) struct Plan {
    pub(crate) url: ServiceUrl,
    pub(crate) pool: PoolSettings,
    #[cfg(feature = "migrate")]
    pub(crate) schema: Option<super::schema::Plan>,
}

/// Connects the pool of `plan` with retry (`DATABASE_CONNECT_TIMEOUT`),
/// unless shutdown begins first; then brings the schema to the embedded
/// version (when migrations were declared); registers the close of what it
/// opened in teardown and the readiness checks `database` (a ping within
/// the check's timeout, over a connection of its own) and `schema`.
///
/// The close hook is registered as soon as the pool is connected, before
/// the migrations: a shutdown or a failure while they run still closes the
/// pool, and the migration connection once it is open.
pub(crate) async fn attach<DB: Driver>(
    plan: &Plan,
    shutdown: &Shutdown,
    phases: &Phases,
    health: &Health,
) -> Result<sqlx::Pool<DB>, BoxError> {
    // Registered first, so that `/readyz` names the database while it is
    // being connected to.
    // The probe pings over a connection of its own: a pool kept busy by the
    // requests is not a database that is down.
    let connected = attached_check(health, CHECK, |probe: Arc<Probe<DB>>| async move {
        probe.check().await
    });
    let pool = unless_shutdown(
        shutdown,
        phases,
        "connect",
        dozen_backing::connect::<DB>(&plan.url, &plan.pool),
    )
    .await??;
    let closed = pool.clone();
    let probe = Arc::new(Probe::new(&pool, DEFAULT_CHECK_TIMEOUT));
    let probed = Arc::clone(&probe);
    #[cfg(feature = "migrate")]
    let migrating = Arc::new(std::sync::OnceLock::<dozen_migrate::Database>::new());
    #[cfg(feature = "migrate")]
    let migrated = Arc::clone(&migrating);
    shutdown.on_teardown("close database pool", CLOSE_BUDGET, move || async move {
        #[cfg(feature = "migrate")]
        if let Some(schema) = migrated.get() {
            schema.close().await;
        }
        probed.close().await;
        closed.close().await;
    })?;
    #[cfg(feature = "migrate")]
    if let Some(schema) = &plan.schema {
        super::schema::prepare(
            schema, &plan.url, &plan.pool, &migrating, shutdown, phases, health,
        )
        .await?;
    }
    connected.attach(probe);
    Ok(pool)
}

/// The app's `DATABASE_URL`, read from its settings.
pub(crate) type UrlOf<S> = dyn Fn(&S) -> ServiceUrl + Send + Sync;

/// The app's migrations for a database URL.
#[cfg(feature = "migrate")]
pub(crate) type MigrationsOf =
    dyn Fn(&ServiceUrl) -> Result<dozen_migrate::Migrator, BoxError> + Send + Sync;

/// What [`Service::with_database`](super::Service::with_database) and
/// `with_migrations` declared.
pub(crate) struct Declared<S> {
    pub(crate) url: Option<Box<UrlOf<S>>>,
    #[cfg(feature = "migrate")]
    pub(crate) migrations: Option<Box<MigrationsOf>>,
}

impl<S> Default for Declared<S> {
    fn default() -> Self {
        Self {
            url: None,
            #[cfg(feature = "migrate")]
            migrations: None,
        }
    }
}

impl<S> Declared<S> {
    /// What the process reads for its database.
    pub(crate) fn needs(&self) -> super::settings::Needs {
        use super::settings::Needs;
        #[cfg(feature = "migrate")]
        let migrations = self.migrations.is_some();
        #[cfg(not(feature = "migrate"))]
        let migrations = false;
        match (&self.url, migrations) {
            (None, _) => Needs::Nothing,
            (Some(_), false) => Needs::Pool,
            (Some(_), true) => Needs::Migrations,
        }
    }

    /// The plan of the database, from the loaded settings; `None` when none
    /// was declared.
    ///
    /// # Errors
    ///
    /// The app's migrations could not be built for the URL.
    pub(crate) fn plan(
        &self,
        app: &S,
        settings: Option<super::settings::DatabaseSettings>,
    ) -> Result<Option<Arc<Plan>>, BoxError> {
        let (Some(url), Some(settings)) = (&self.url, settings) else {
            return Ok(None);
        };
        // The app's functions: one that panics is a failure like one that errs.
        let url = super::step::called(|| url(app))?;
        #[cfg(feature = "migrate")]
        let schema = match (&self.migrations, settings.migrate) {
            (Some(migrations), Some((migrate, schema))) => Some(super::schema::Plan {
                on_start: schema.migrates_on_start(&url),
                migrator: Arc::new(super::step::called(|| migrations(&url))??.settings(migrate)),
            }),
            _ => None,
        };
        Ok(Some(Arc::new(Plan {
            url,
            pool: settings.pool,
            #[cfg(feature = "migrate")]
            schema,
        })))
    }
}
