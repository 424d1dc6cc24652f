//! [`Shutdown`]: the handle an app keeps and clones, to observe and start
//! shutdown, track tasks and register hooks.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::duration;
use crate::state::{Cause, Inner};
use crate::tasks::{self, TaskOutput};
use crate::{Error, Outcome, Readiness};

/// A handle to the process's graceful shutdown; cheap to clone.
///
/// Build one at start-up with [`Shutdown::builder`], hand clones to whoever
/// needs to observe or start shutdown, and `wait` for it at the end of
/// `main`:
///
/// 1. **Draining** (on SIGTERM, SIGINT, SIGQUIT or [`trigger`](Self::trigger)):
///    readiness turns [`Readiness::Draining`], [`draining`](Self::draining)
///    resolves, the watchdog starts, and the service keeps accepting for the
///    propagation delay.
/// 2. **Stopping**: readiness turns [`Readiness::Stopping`],
///    [`stopping`](Self::stopping) resolves, listeners close, and the tracked
///    tasks get until the deadline minus the teardown budgets to finish; any
///    still running then are aborted.
/// 3. **Teardown**: hooks run in reverse order of registration, each within
///    its own budget and the overall deadline.
/// 4. **Exit**: [`wait`](Self::wait) returns the [`Outcome`].
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("readiness", &self.readiness())
            .field("delay", &self.inner.delay)
            .field("timeout", &self.inner.timeout)
            .field("tasks_in_flight", &self.tasks_in_flight())
            .finish_non_exhaustive()
    }
}

impl Shutdown {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Starts shutdown from code (a test, an admin endpoint). Returns `false`
    /// if shutdown had already started.
    pub fn trigger(&self) -> bool {
        self.inner.trigger(Cause::Requested)
    }

    /// Starts shutdown because something failed; [`wait`](Self::wait) then
    /// returns [`Outcome::TaskFailed`] (unless a deadline was exceeded).
    pub fn trigger_failure(&self, what: impl Into<Cow<'static, str>>) {
        self.inner.fail(what.into());
    }

    /// The current readiness.
    #[must_use]
    pub fn readiness(&self) -> Readiness {
        *self.inner.readiness.borrow()
    }

    /// Ends start-up: readiness moves from [`Readiness::Starting`] to
    /// [`Readiness::Ready`]. Returns `false`, changing nothing, from any
    /// other state: once shutdown has begun the service never turns ready
    /// again, and a handle built without
    /// [`Builder::with_starting`](crate::Builder::with_starting) is ready
    /// from the start.
    pub fn mark_ready(&self) -> bool {
        self.inner.mark_ready()
    }

    /// Whether readiness is [`Readiness::Ready`].
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.readiness() == Readiness::Ready
    }

    /// A receiver that sees every readiness change.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Readiness> {
        self.inner.readiness.subscribe()
    }

    /// Resolves when shutdown starts (readiness turns `Draining`).
    ///
    /// Long-lived work that should let clients go early (server-sent events,
    /// WebSocket loops) selects on this.
    pub fn draining(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.draining.wait_owned()
    }

    /// Runs `future` until it finishes or shutdown starts, whichever comes
    /// first: `Some(output)`, or `None` when shutdown started first, in which
    /// case `future` is dropped where it stands (and never polled when
    /// shutdown had already started).
    ///
    /// Use it for every start-up phase after the `Shutdown` is built
    /// (connecting with retries, migrations, waiting for another process), so
    /// that a SIGTERM at any point ends start-up instead of carrying on into
    /// the next phase:
    ///
    /// ```no_run
    /// # async fn connect() -> Result<(), std::io::Error> { Ok(()) }
    /// # async fn f() -> Result<dozen_shutdown::Outcome, Box<dyn std::error::Error>> {
    /// let shutdown = dozen_shutdown::Shutdown::builder().build()?;
    /// let Some(connected) = shutdown.run_until_shutdown(connect()).await else {
    ///     // A signal came during start-up: run what teardown is registered.
    ///     return Ok(shutdown.wait().await);
    /// };
    /// connected?;
    /// # Ok(shutdown.wait().await)
    /// # }
    /// ```
    pub async fn run_until_shutdown<F: Future>(&self, future: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            () = self.inner.draining.wait() => None,
            output = future => Some(output),
        }
    }

    /// Resolves when the propagation delay is over and the service stops
    /// accepting: background tasks should finish their current unit of work
    /// and return.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.stopping.wait_owned()
    }

    /// The time left before the deadline, or `None` before shutdown starts.
    #[must_use]
    pub fn remaining(&self) -> Option<Duration> {
        self.inner.triggered.get().map(|t| {
            duration::after(t.at, self.inner.timeout).saturating_duration_since(Instant::now())
        })
    }

    /// The part of the deadline kept back for teardown: the sum of the
    /// budgets of the hooks registered with
    /// [`on_teardown`](Self::on_teardown) so far. The drain ends this long
    /// before the deadline, so work that must be done by then (such as a job
    /// a worker gives back) plans with it.
    #[must_use]
    pub fn teardown_reserve(&self) -> Duration {
        self.inner.hooks.reserve()
    }

    /// The time left for draining, before the [`teardown_reserve`](Self::teardown_reserve)
    /// is reached: [`remaining`](Self::remaining) less the reserve, or `None`
    /// before shutdown starts.
    #[must_use]
    pub fn drain_remaining(&self) -> Option<Duration> {
        self.remaining()
            .map(|left| left.saturating_sub(self.teardown_reserve()))
    }

    /// The propagation delay in effect.
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.inner.delay
    }

    /// The overall deadline, counted from the start of shutdown.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// How many tracked tasks (including connections served by
    /// [`axum::serve`](crate::axum::serve)) are running.
    #[must_use]
    pub fn tasks_in_flight(&self) -> usize {
        self.inner.tasks.in_flight()
    }

    /// The names of the tracked tasks still running, sorted.
    #[must_use]
    pub fn running_tasks(&self) -> Vec<String> {
        self.inner.tasks.running()
    }

    /// Spawns a tracked task on the current tokio runtime.
    ///
    /// Shutdown waits for it after the propagation delay, aborts it if it is
    /// still running when the drain budget runs out, and names it in the
    /// watchdog's report. If it returns `Err` or panics, shutdown starts with
    /// [`Outcome::TaskFailed`].
    ///
    /// # Panics
    ///
    /// Like [`tokio::spawn`], when called outside a tokio runtime.
    pub fn spawn<F>(&self, name: impl Into<Cow<'static, str>>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        tasks::spawn(&self.inner, name.into(), future)
    }

    /// Runs a tracked blocking closure on tokio's blocking pool.
    ///
    /// Shutdown waits for it like for [`spawn`](Self::spawn), but it cannot
    /// be aborted: if it outlives the deadline, the watchdog ends the process.
    ///
    /// # Panics
    ///
    /// Like [`tokio::task::spawn_blocking`], when called outside a tokio runtime.
    pub fn spawn_blocking<F, R>(&self, name: impl Into<Cow<'static, str>>, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: TaskOutput,
    {
        tasks::spawn_blocking(&self.inner, name.into(), f)
    }

    /// Registers `callback` to run just before the process is ended without
    /// its teardown hooks: by a second OS signal or by the watchdog at the
    /// deadline. Callbacks run in reverse order of registration on a helper
    /// thread, not on the runtime, and the exit waits for them at most
    /// [`FORCED_EXIT_FLUSH_LIMIT`](crate::FORCED_EXIT_FLUSH_LIMIT) (1 s): one
    /// that blocks (a log flush stuck on a stalled stdout) delays the exit by
    /// that much and no more, and the callbacks after it do not run. Flushing a log writer is what it is for
    /// (`move || flusher.flush()` with dozen-log), so that the lines
    /// explaining the forced exit are not lost with it.
    pub fn on_forced_exit(&self, callback: impl Fn() + Send + Sync + 'static) {
        self.inner.on_forced_exit(Box::new(callback));
    }

    /// Registers a teardown hook: `hook` runs after the drain, in reverse
    /// order of registration, for at most `budget` (and never past the
    /// deadline).
    ///
    /// Register resources as they are created (a pool, then a log guard), so
    /// the last created closes first. The drain phase ends early enough to
    /// leave every hook its budget. A hook that overruns is abandoned and
    /// the outcome becomes [`Outcome::DeadlineExceeded`]. Hooks registered
    /// once the service has stopped accepting do not run (a warning says
    /// so).
    ///
    /// # Errors
    ///
    /// An error of kind
    /// [`ErrorKind::NoDrainBudget`](crate::ErrorKind::NoDrainBudget) when
    /// `SHUTDOWN_TIMEOUT` would leave less than
    /// [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain once the delay,
    /// the budgets registered before and this one are reserved; the hook is
    /// then not registered.
    /// An app should treat it as a configuration error at start-up: with
    /// SHUTDOWN_TIMEOUT=4s, hooks of 1 s and 3 s would leave nothing for the
    /// requests in flight.
    pub fn on_teardown<F, Fut>(
        &self,
        name: impl Into<Cow<'static, str>>,
        budget: Duration,
        hook: F,
    ) -> Result<(), Error>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.inner.hooks.register(
            name.into(),
            budget,
            hook,
            (self.inner.delay, self.inner.timeout),
        )
    }

    /// Waits until shutdown has started and run through every phase, and
    /// returns how it went.
    ///
    /// Return the [`Outcome`] from `main`. Note that a tokio runtime waits
    /// for its `spawn_blocking` tasks when it is dropped; if one outlives the
    /// deadline, the watchdog ends the process.
    pub async fn wait(&self) -> Outcome {
        let mut outcome = self.inner.outcome.subscribe();
        loop {
            if let Some(outcome) = *outcome.borrow_and_update() {
                return outcome;
            }
            if outcome.changed().await.is_err() {
                // The sender lives in `inner`, which we hold; unreachable in
                // practice, but never spin.
                std::future::pending::<()>().await;
            }
        }
    }

    #[cfg(feature = "axum")]
    pub(crate) fn register_guard(&self, name: &'static str) -> impl Sized + Send + use<> {
        tasks::register(&self.inner, Cow::Borrowed(name))
    }

    #[cfg(feature = "axum")]
    pub(crate) fn elapsed(&self) -> Duration {
        self.inner.elapsed()
    }
}
