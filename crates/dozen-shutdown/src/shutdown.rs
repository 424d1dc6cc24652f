use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, mpsc};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::duration::{self, millis};
use crate::{Error, MIN_DRAIN_BUDGET, Outcome, ShutdownConfig};

/// Where a service stands, as a load balancer should see it.
///
/// The state only moves forward: `Ready → Draining → Stopping`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Readiness {
    /// Serving; `/readyz` answers 200.
    Ready,
    /// Shutdown has started: `/readyz` answers 503 while the service keeps
    /// accepting for the propagation delay, so load balancers can notice.
    Draining,
    /// The delay is over: no new connections; in-flight work is finishing and
    /// teardown hooks run after it.
    Stopping,
}

impl Readiness {
    /// `"ready"`, `"draining"` or `"stopping"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Draining => "draining",
            Self::Stopping => "stopping",
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started the shutdown.
#[derive(Clone, Debug)]
enum Cause {
    Signal(i32),
    Requested,
    Failed(Cow<'static, str>),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signal(sig) => f.write_str(crate::signals::name(*sig)),
            Self::Requested => f.write_str("requested"),
            Self::Failed(what) => write!(f, "failed task {what}"),
        }
    }
}

struct Triggered {
    at: Instant,
    cause: Cause,
}

struct TaskEntry {
    name: Cow<'static, str>,
    abort: Option<AbortHandle>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    running: HashMap<u64, TaskEntry, BuildHasherDefault<IdHasher>>,
}

/// Task ids are distinct counters: hashing them is wasted work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8) | u64::from(byte);
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Spread the low bits into the top ones, which hashbrown uses for its
        // control bytes.
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The longest a forced exit (a second signal, the watchdog) waits for the
/// [`Shutdown::on_forced_exit`] callbacks and its own log line: one second.
/// Past it the process exits anyway, with its documented code.
pub const FORCED_EXIT_FLUSH_LIMIT: Duration = Duration::from_secs(1);

type HookFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Hook {
    name: Cow<'static, str>,
    budget: Duration,
    run: Box<dyn FnOnce() -> HookFuture + Send>,
}

pub(crate) struct Inner {
    delay: Duration,
    timeout: Duration,
    watchdog: bool,
    runtime: tokio::runtime::Handle,
    readiness: watch::Sender<Readiness>,
    draining: CancellationToken,
    stopping: CancellationToken,
    tracker: TaskTracker,
    registry: Mutex<Registry>,
    hooks: Mutex<Option<Vec<Hook>>>,
    triggered: OnceLock<Triggered>,
    failed: AtomicBool,
    outcome: watch::Sender<Option<Outcome>>,
    /// Run on the signal or watchdog thread just before a forced exit.
    before_exit: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// Ends the process with `code` after `report` (the log line that says
    /// why) and the [`Shutdown::on_forced_exit`] callbacks, in reverse order
    /// of registration, have run, or after [`FORCED_EXIT_FLUSH_LIMIT`],
    /// whichever comes first.
    ///
    /// They run on a helper thread, so a log writer stuck on a stalled stdout
    /// cannot hold the exit: the calling thread only waits for them, with a
    /// deadline.
    pub(crate) fn forced_exit(
        self: &Arc<Self>,
        code: i32,
        report: impl FnOnce() + Send + 'static,
    ) -> ! {
        let (done, finished) = mpsc::channel::<()>();
        let inner = Arc::clone(self);
        let started = thread::Builder::new()
            .name("dozen-shutdown-flush".into())
            .spawn(move || {
                report();
                for callback in lock(&inner.before_exit).iter().rev() {
                    callback();
                }
                let _ = done.send(());
            });
        if started.is_ok() {
            let _ = finished.recv_timeout(FORCED_EXIT_FLUSH_LIMIT);
        }
        std::process::exit(code)
    }

    fn trigger(self: &Arc<Self>, cause: Cause) -> bool {
        let at = Instant::now();
        if self.triggered.set(Triggered { at, cause }).is_err() {
            return false;
        }
        // No logging here: this may run on the signal thread, which a log
        // writer stuck on a stalled stdout must never block. `drive` logs.
        self.readiness.send_replace(Readiness::Draining);
        self.draining.cancel();
        if self.watchdog {
            crate::watchdog::spawn(Arc::clone(self), duration::after(at, self.timeout));
        }
        true
    }

    /// Starts shutdown for an OS signal; when it had already started from
    /// code, says so in a log line written from the runtime.
    pub(crate) fn trigger_signal(self: &Arc<Self>, signal: i32) {
        if !self.trigger(Cause::Signal(signal)) {
            self.runtime.spawn(async move {
                tracing::info!(
                    signal = crate::signals::name(signal),
                    "signal during a shutdown already started; it goes on, \
                     a second signal ends the process at once"
                );
            });
        }
    }

    fn fail(self: &Arc<Self>, what: Cow<'static, str>) {
        self.failed.store(true, Ordering::SeqCst);
        self.trigger(Cause::Failed(what));
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.triggered
            .get()
            .map_or(Duration::ZERO, |t| t.at.elapsed())
    }

    pub(crate) fn tasks_in_flight(&self) -> usize {
        lock(&self.registry).running.len()
    }

    pub(crate) fn running_tasks(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.registry)
            .running
            .values()
            .map(|entry| entry.name.to_string())
            .collect();
        names.sort_unstable();
        names
    }

    fn register(self: &Arc<Self>, name: Cow<'static, str>) -> TaskGuard {
        let token = self.tracker.token();
        let mut registry = lock(&self.registry);
        let id = registry.next_id;
        registry.next_id += 1;
        registry.running.insert(id, TaskEntry { name, abort: None });
        drop(registry);
        TaskGuard {
            inner: Arc::clone(self),
            id,
            _token: token,
        }
    }

    fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = lock(&self.registry).running.get_mut(&id) {
            entry.abort = Some(abort);
        }
    }

    fn abort_all(&self) {
        for entry in lock(&self.registry).running.values() {
            if let Some(abort) = &entry.abort {
                abort.abort();
            }
        }
    }

    fn task_name(&self, id: u64) -> Cow<'static, str> {
        lock(&self.registry)
            .running
            .get(&id)
            .map_or(Cow::Borrowed("?"), |entry| entry.name.clone())
    }

    /// Runs the phases once shutdown has been triggered.
    async fn drive(self: Arc<Self>) {
        self.draining.cancelled().await;
        let start = self.triggered.get().map_or_else(Instant::now, |t| t.at);
        if let Some(triggered) = self.triggered.get() {
            tracing::info!(
                phase = "draining",
                elapsed_ms = millis(start.elapsed()),
                tasks = self.tasks_in_flight(),
                cause = %triggered.cause,
                delay_ms = millis(self.delay),
                timeout_ms = millis(self.timeout),
                "{}",
                if self.delay.is_zero() {
                    "shutdown started: not ready, no propagation delay"
                } else {
                    "shutdown started: not ready, still accepting during the propagation delay"
                }
            );
        }
        let deadline = duration::after(start, self.timeout);

        tokio::time::sleep_until(duration::after(start, self.delay).into()).await;
        self.readiness.send_replace(Readiness::Stopping);
        self.tracker.close();
        self.stopping.cancel();
        tracing::info!(
            phase = "stopping",
            elapsed_ms = millis(start.elapsed()),
            tasks = self.tasks_in_flight(),
            "stopping accepting; waiting for tasks and in-flight requests"
        );

        let hooks = lock(&self.hooks).take().unwrap_or_default();
        let reserve = duration::sum(hooks.iter().map(|hook| hook.budget));
        let drain_deadline = deadline
            .checked_sub(reserve)
            .map_or(Instant::now(), |at| at.max(Instant::now()));
        let mut overran = false;
        if tokio::time::timeout_at(drain_deadline.into(), self.tracker.wait())
            .await
            .is_err()
        {
            overran = true;
            let running = self.running_tasks();
            tracing::warn!(
                phase = "drain",
                elapsed_ms = millis(start.elapsed()),
                tasks = running.len(),
                running = ?running,
                "drain budget ran out; aborting the tasks still running"
            );
            self.abort_all();
        }

        tracing::info!(
            phase = "teardown",
            elapsed_ms = millis(start.elapsed()),
            tasks = self.tasks_in_flight(),
            hooks = hooks.len(),
            "running teardown hooks in reverse order of registration"
        );
        for hook in hooks.into_iter().rev() {
            let budget = hook
                .budget
                .min(deadline.saturating_duration_since(Instant::now()));
            let begun = Instant::now();
            let mut handle = tokio::spawn((hook.run)());
            match tokio::time::timeout(budget, &mut handle).await {
                Ok(Ok(())) => tracing::debug!(
                    phase = "teardown",
                    hook = %hook.name,
                    took_ms = millis(begun.elapsed()),
                    "teardown hook finished"
                ),
                Ok(Err(_)) => {
                    self.failed.store(true, Ordering::SeqCst);
                    tracing::error!(phase = "teardown", hook = %hook.name, "teardown hook panicked");
                }
                Err(_) => {
                    handle.abort();
                    overran = true;
                    tracing::warn!(
                        phase = "teardown",
                        hook = %hook.name,
                        budget_ms = millis(budget),
                        "teardown hook overran its budget; abandoned"
                    );
                }
            }
        }

        let outcome = if overran {
            Outcome::DeadlineExceeded
        } else if self.failed.load(Ordering::SeqCst) {
            Outcome::TaskFailed
        } else {
            Outcome::Clean
        };
        tracing::info!(
            phase = "exit",
            elapsed_ms = millis(start.elapsed()),
            tasks = self.tasks_in_flight(),
            %outcome,
            code = outcome.code(),
            "shutdown finished"
        );
        self.outcome.send_replace(Some(outcome));
    }
}

/// Checks that `timeout` leaves at least [`MIN_DRAIN_BUDGET`] to drain after
/// `delay` and the teardown budgets `hooks` (name, budget).
pub(crate) fn check_drain_budget(
    delay: Duration,
    timeout: Duration,
    hooks: &[(&str, Duration)],
) -> Result<(), Error> {
    let reserved = duration::sum(
        [delay, MIN_DRAIN_BUDGET]
            .into_iter()
            .chain(hooks.iter().map(|(_, budget)| *budget)),
    );
    if reserved <= timeout {
        return Ok(());
    }
    let mut named = String::new();
    for (i, (name, budget)) in hooks.iter().enumerate() {
        named.push_str(if i == 0 {
            " and the teardown budgets "
        } else {
            ", "
        });
        named.push_str(name);
        named.push(' ');
        named.push_str(&humantime::format_duration(*budget).to_string());
    }
    Err(Error::NoDrainBudget { reserved: named })
}

/// Keeps a task in the registry (and the tracker) while it lives.
struct TaskGuard {
    inner: Arc<Inner>,
    id: u64,
    _token: TaskTrackerToken,
}

impl TaskGuard {
    fn fail(&self, reason: &dyn fmt::Display) {
        let name = self.inner.task_name(self.id);
        tracing::error!(task = %name, reason = %reason, "tracked task failed; starting shutdown");
        self.inner.fail(name);
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        lock(&self.inner.registry).running.remove(&self.id);
    }
}

/// The output of a tracked task: `()` or a `Result` whose error starts shutdown.
///
/// A task that returns `Err` (or panics) starts shutdown with
/// [`Outcome::TaskFailed`]; the error's `Display` is logged, so keep secrets
/// out of it. A task that is asked to stop should return `Ok`.
pub trait TaskOutput: Send + 'static {
    /// The failure to report, if this output is one.
    fn failure(&self) -> Option<&dyn fmt::Display>;
}

impl TaskOutput for () {
    fn failure(&self) -> Option<&dyn fmt::Display> {
        None
    }
}

impl<T, E> TaskOutput for Result<T, E>
where
    T: Send + 'static,
    E: fmt::Display + Send + 'static,
{
    fn failure(&self) -> Option<&dyn fmt::Display> {
        self.as_ref().err().map(|e| e as &dyn fmt::Display)
    }
}

pin_project! {
    struct Tracked<F> {
        #[pin]
        future: F,
        guard: TaskGuard,
    }
}

impl<F> Future for Tracked<F>
where
    F: Future,
    F::Output: TaskOutput,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => {
                if let Some(failure) = output.failure() {
                    this.guard.fail(failure);
                }
                Poll::Ready(output)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                this.guard.fail(&"panicked");
                resume_unwind(payload)
            }
        }
    }
}

/// Builds a [`Shutdown`]; see [`Shutdown::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    config: ShutdownConfig,
    signals: bool,
    watchdog: bool,
}

impl Builder {
    /// Takes the delay and the deadline from `config`, replacing any set
    /// before: call [`delay`](Self::delay) or [`timeout`](Self::timeout)
    /// after it to override one of them (a worker that receives no traffic
    /// keeps the configured deadline but needs no propagation delay).
    pub fn config(mut self, config: ShutdownConfig) -> Self {
        self.config = config;
        self
    }

    /// The propagation delay (default: the rule of [`ShutdownConfig::delay`]).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.config.shutdown_delay = Some(delay);
        self
    }

    /// The overall deadline, counted from the first signal or trigger
    /// (default 25 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Whether to handle SIGTERM, SIGINT and SIGQUIT (default `true`).
    ///
    /// The first starts shutdown (or joins one started from code, which
    /// then still drains and tears down); a second OS signal ends the process
    /// at once with 128 + signal. Turn this off in tests that build many
    /// `Shutdown`s in one process.
    pub fn signals(mut self, enabled: bool) -> Self {
        self.signals = enabled;
        self
    }

    /// Whether to start the watchdog thread when shutdown begins (default
    /// `true`). The watchdog ends the process with
    /// [`exit_code::DEADLINE_EXCEEDED`](crate::exit_code::DEADLINE_EXCEEDED)
    /// when it is still alive at the deadline. Turn this off only in tests
    /// that run shutdowns inside a test harness process.
    pub fn watchdog(mut self, enabled: bool) -> Self {
        self.watchdog = enabled;
        self
    }

    /// Builds the handle and starts driving its phases on the current tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] when the delay or the deadline is above
    /// [`MAX_DURATION`](crate::MAX_DURATION), [`Error::NoDrainBudget`] when
    /// the deadline leaves less than [`MIN_DRAIN_BUDGET`] after the delay,
    /// [`Error::NoRuntime`] when called outside a tokio runtime, or
    /// [`Error::Setup`] when the signal handlers cannot be installed.
    pub fn build(self) -> Result<Shutdown, Error> {
        let delay = self.config.delay();
        let timeout = self.config.shutdown_timeout;
        for (variable, value) in [("SHUTDOWN_DELAY", delay), ("SHUTDOWN_TIMEOUT", timeout)] {
            duration::check(value).map_err(|problem| Error::OutOfRange {
                variable,
                expected: problem.expected(),
            })?;
        }
        check_drain_budget(delay, timeout, &[])?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let inner = Arc::new(Inner {
            delay,
            timeout,
            watchdog: self.watchdog,
            runtime: runtime.clone(),
            readiness: watch::Sender::new(Readiness::Ready),
            draining: CancellationToken::new(),
            stopping: CancellationToken::new(),
            tracker: TaskTracker::new(),
            registry: Mutex::new(Registry::default()),
            hooks: Mutex::new(Some(Vec::new())),
            triggered: OnceLock::new(),
            failed: AtomicBool::new(false),
            outcome: watch::Sender::new(None),
            before_exit: Mutex::new(Vec::new()),
        });
        if self.signals {
            crate::signals::install(Arc::clone(&inner))?;
        }
        runtime.spawn(Arc::clone(&inner).drive());
        Ok(Shutdown { inner })
    }
}

/// A handle to the process's graceful shutdown; cheap to clone.
///
/// Build one at start-up with [`Shutdown::builder`] or
/// [`Shutdown::from_env`], hand clones to whoever needs to observe or start
/// shutdown, and `wait` for it at the end of `main`:
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
    pub(crate) inner: Arc<Inner>,
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
    /// A builder with the defaults: delay by the rule of
    /// [`ShutdownConfig::delay`], a 25 s deadline, signals and the watchdog on.
    pub fn builder() -> Builder {
        Builder {
            config: ShutdownConfig::default(),
            signals: true,
            watchdog: true,
        }
    }

    /// Reads [`ShutdownConfig::from_env`] and builds with signals and the
    /// watchdog on.
    ///
    /// # Errors
    ///
    /// As for [`ShutdownConfig::from_env`] and [`Builder::build`].
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().config(ShutdownConfig::from_env()?).build()
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

    /// Whether readiness is still [`Readiness::Ready`].
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.readiness() == Readiness::Ready
    }

    /// A receiver that sees every readiness change.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Readiness> {
        self.inner.readiness.subscribe()
    }

    /// Resolves when shutdown starts (readiness leaves `Ready`).
    ///
    /// Long-lived work that should let clients go early (server-sent events,
    /// WebSocket loops) selects on this.
    pub fn draining(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.draining.clone().cancelled_owned()
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
    /// let shutdown = dozen_shutdown::Shutdown::from_env()?;
    /// let Some(connected) = shutdown.run_until_shutdown(connect()).await else {
    ///     // A signal came during start-up: run what teardown is registered.
    ///     return Ok(shutdown.wait().await);
    /// };
    /// connected?;
    /// # Ok(shutdown.wait().await)
    /// # }
    /// ```
    pub async fn run_until_shutdown<F: Future>(&self, future: F) -> Option<F::Output> {
        let draining = self.inner.draining.clone();
        tokio::select! {
            biased;
            () = draining.cancelled() => None,
            output = future => Some(output),
        }
    }

    /// Resolves when the propagation delay is over and the service stops
    /// accepting: background tasks should finish their current unit of work
    /// and return.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner.stopping.clone().cancelled_owned()
    }

    /// The time left before the deadline, or `None` before shutdown starts.
    #[must_use]
    pub fn remaining(&self) -> Option<Duration> {
        self.inner.triggered.get().map(|t| {
            duration::after(t.at, self.inner.timeout).saturating_duration_since(Instant::now())
        })
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
        self.inner.tasks_in_flight()
    }

    /// The names of the tracked tasks still running, sorted.
    #[must_use]
    pub fn running_tasks(&self) -> Vec<String> {
        self.inner.running_tasks()
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
        let guard = self.inner.register(name.into());
        let id = guard.id;
        let handle = tokio::spawn(Tracked { future, guard });
        self.inner.set_abort(id, handle.abort_handle());
        handle
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
        let guard = self.inner.register(name.into());
        tokio::task::spawn_blocking(move || match catch_unwind(AssertUnwindSafe(f)) {
            Ok(output) => {
                if let Some(failure) = output.failure() {
                    guard.fail(failure);
                }
                drop(guard);
                output
            }
            Err(payload) => {
                guard.fail(&"panicked");
                drop(guard);
                resume_unwind(payload)
            }
        })
    }

    /// Registers `callback` to run just before the process is ended without
    /// its teardown hooks: by a second OS signal or by the watchdog at the
    /// deadline. Callbacks run in reverse order of registration on a helper
    /// thread, not on the runtime, and the exit waits for them at most
    /// [`FORCED_EXIT_FLUSH_LIMIT`] (1 s): one that blocks (a log flush stuck
    /// on a stalled stdout) delays the exit by that much and no more, and the
    /// callbacks after it do not run. Flushing a log writer is what it is for
    /// (`move || flusher.flush()` with dozen-log), so that the lines
    /// explaining the forced exit are not lost with it.
    pub fn on_forced_exit(&self, callback: impl Fn() + Send + Sync + 'static) {
        lock(&self.inner.before_exit).push(Box::new(callback));
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
    /// [`Error::NoDrainBudget`] when `SHUTDOWN_TIMEOUT` would leave less than
    /// [`MIN_DRAIN_BUDGET`] to drain once the delay, the budgets registered
    /// before and this one are reserved; the hook is then not registered.
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
        let name = name.into();
        let mut hooks = lock(&self.inner.hooks);
        let Some(hooks) = hooks.as_mut() else {
            tracing::warn!(
                hook = %name,
                "the service has stopped accepting; teardown hook not registered"
            );
            return Ok(());
        };
        let budgets: Vec<(&str, Duration)> = hooks
            .iter()
            .map(|hook| (&*hook.name, hook.budget))
            .chain([(&*name, budget)])
            .collect();
        check_drain_budget(self.inner.delay, self.inner.timeout, &budgets)?;
        hooks.push(Hook {
            name,
            budget,
            run: Box::new(move || Box::pin(hook())),
        });
        Ok(())
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
        self.inner.register(Cow::Borrowed(name))
    }

    #[cfg(feature = "axum")]
    pub(crate) fn elapsed(&self) -> Duration {
        self.inner.elapsed()
    }

    #[cfg(feature = "axum")]
    pub(crate) fn inner_draining(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.inner.draining.clone().cancelled_owned()
    }
}
