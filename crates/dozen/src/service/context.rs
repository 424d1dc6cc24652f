//! [`Context`]: what a process type's function is given.

use std::fmt;
use std::sync::Arc;

use dozen_shutdown::Shutdown;

use super::health::Health;

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
    pub(crate) fn new(settings: S, shutdown: Shutdown, health: Health, process: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                shutdown,
                health,
                process: process.to_owned(),
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

    /// The name of the process type running: `web`, or the name given to
    /// [`Service::process`](super::Service::process).
    #[must_use]
    pub fn process(&self) -> &str {
        &self.inner.process
    }
}
