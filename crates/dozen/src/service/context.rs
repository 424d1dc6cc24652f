//! [`Context`]: what a process type's function is given.

use std::fmt;
use std::sync::Arc;

use dozen_shutdown::Shutdown;

use super::DatabasePlan;
use super::health::Health;
use super::stopped::Phases;

/// What the web function and a process type's function are given: the
/// app's settings, the [`Shutdown`] of the process and its [`Health`].
/// Cheap to clone; hand clones to the tasks and handlers that need them.
pub struct Context<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    settings: S,
    shutdown: Shutdown,
    health: Health,
    process: String,
    phases: Phases,
    #[cfg_attr(
        not(dozen_database),
        allow(dead_code, reason = "no database without a driver")
    )]
    database: DatabasePlan,
    /// The pool attached by the first `database` call, for the later ones.
    #[cfg(dozen_database)]
    attached: tokio::sync::Mutex<Option<Box<dyn std::any::Any + Send + Sync>>>,
}

impl<S> Clone for Context<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Context<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("process", &self.inner.process)
            .field("settings", &self.inner.settings)
            .field("shutdown", &self.inner.shutdown)
            .finish_non_exhaustive()
    }
}

impl<S> Context<S> {
    pub(crate) fn new(
        settings: S,
        shutdown: Shutdown,
        health: Health,
        process: &str,
        database: DatabasePlan,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                shutdown,
                health,
                process: process.to_owned(),
                phases: Phases::default(),
                database,
                #[cfg(dozen_database)]
                attached: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The app's settings, loaded and checked.
    #[must_use]
    pub fn settings(&self) -> &S {
        &self.inner.settings
    }

    /// The process's shutdown: observe it (`draining`, `stopping`), spawn
    /// tracked tasks, register teardown hooks (close what start-up opened).
    #[must_use]
    pub fn shutdown(&self) -> &Shutdown {
        &self.inner.shutdown
    }

    /// The process's health: register readiness checks with
    /// [`Health::add`].
    #[must_use]
    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    /// Attaches the database declared with
    /// [`Service::with_database`](super::Service::with_database), as a pool
    /// of `DB` (`dozen::backing::AnyPool`'s `Any`, `Postgres`, ...): connects
    /// with retry (`DATABASE_CONNECT_TIMEOUT`), then, with
    /// [`with_migrations`](super::Service::with_migrations), applies the
    /// migrations or waits for the migrate Job; registers the close of the
    /// pool in teardown and the readiness checks `database` (a ping within
    /// the check's timeout) and `schema`. The first call attaches; a later
    /// one (from another task of the same process, or the `with_jobs`
    /// function) waits for it and gets the same pool, with nothing
    /// registered twice.
    ///
    /// Raced against shutdown: a signal while it connects, migrates or
    /// waits drops the step where it stands, logs `shutdown began during
    /// start-up; stopping there` with its `phase` (`connect`,
    /// `migrations`), and returns an error that ends the start-up with the
    /// shutdown's exit code (0), not as a failure. Return it with `?`.
    ///
    /// # Errors
    ///
    /// No database was declared; the database could not be reached within
    /// `DATABASE_CONNECT_TIMEOUT`; a migration failed; the schema did not
    /// arrive within `MIGRATE_WAIT_TIMEOUT`; shutdown began. The message
    /// hides the password.
    #[cfg(dozen_database)]
    #[cfg_attr(docsrs, doc(cfg(feature = "backing")))]
    pub async fn database<DB: dozen_backing::Driver>(
        &self,
    ) -> Result<sqlx::Pool<DB>, super::box_error::BoxError> {
        let Some(plan) = &self.inner.database else {
            return Err("no database declared (Service::with_database)".into());
        };
        let inner = &self.inner;
        let mut attached = inner.attached.lock().await;
        if let Some(pool) = attached.as_ref() {
            return match pool.downcast_ref::<sqlx::Pool<DB>>() {
                Some(pool) => Ok(pool.clone()),
                None => Err("the database is attached already, as a pool of another type".into()),
            };
        }
        let pool =
            super::database::attach::<DB>(plan, &inner.shutdown, &inner.phases, &inner.health)
                .await?;
        *attached = Some(Box::new(pool.clone()));
        Ok(pool)
    }

    /// Where start-up is, for the line saying where shutdown stopped it.
    pub(crate) fn phases(&self) -> &Phases {
        &self.inner.phases
    }

    /// The name of the process type running: `web`, or the name given to
    /// [`Service::process`](super::Service::process).
    #[must_use]
    pub fn process(&self) -> &str {
        &self.inner.process
    }
}
