//! The state one [`Shutdown`](crate::Shutdown) handle and its clones share:
//! what started the shutdown and when, the readiness, the phase tokens, the
//! tasks and hooks, and the one forced exit.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::duration::{self, millis};
use crate::flag::Flag;
use crate::hooks::Hooks;
use crate::lock::lock;
use crate::tasks::{Owner, Tasks};
use crate::{Outcome, Readiness, exit_code, signals, watchdog};

/// The longest a forced exit (a second signal, the watchdog) waits for the
/// [`Shutdown::on_forced_exit`](crate::Shutdown::on_forced_exit) callbacks
/// and its own log line: one second. Past it the process exits anyway, with
/// its documented code.
pub const FORCED_EXIT_FLUSH_LIMIT: Duration = Duration::from_secs(1);

/// What started the shutdown.
#[derive(Clone, Debug)]
pub(crate) enum Cause {
    Signal(i32),
    Requested,
    Failed(Cow<'static, str>),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signal(sig) => f.write_str(signals::name(*sig)),
            Self::Requested => f.write_str("requested"),
            Self::Failed(what) => write!(f, "failed task {what}"),
        }
    }
}

pub(crate) struct Triggered {
    pub(crate) at: Instant,
    pub(crate) cause: Cause,
}

/// Why the process is ended without its teardown.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Forced {
    /// A second OS signal during shutdown: exit with 128 + signal.
    Signal(i32),
    /// The watchdog found the process alive at the deadline.
    Deadline,
}

pub(crate) struct Inner {
    pub(crate) delay: Duration,
    pub(crate) timeout: Duration,
    /// Whether the process serves requests (its log lines speak of them)
    /// or only works on its own (a worker: they speak of jobs).
    pub(crate) serves: bool,
    watchdog: bool,
    runtime: tokio::runtime::Handle,
    pub(crate) readiness: watch::Sender<Readiness>,
    pub(crate) draining: Flag,
    pub(crate) stopping: Flag,
    pub(crate) tasks: Tasks,
    pub(crate) hooks: Hooks,
    pub(crate) triggered: OnceLock<Triggered>,
    pub(crate) failed: AtomicBool,
    pub(crate) outcome: watch::Sender<Option<Outcome>>,
    /// Run on a helper thread just before a forced exit.
    before_exit: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl Inner {
    pub(crate) fn new(
        delay: Duration,
        timeout: Duration,
        serves: bool,
        watchdog: bool,
        runtime: tokio::runtime::Handle,
        initial: Readiness,
    ) -> Self {
        Self {
            delay,
            timeout,
            serves,
            watchdog,
            runtime,
            readiness: watch::Sender::new(initial),
            draining: Flag::default(),
            stopping: Flag::default(),
            tasks: Tasks::new(),
            hooks: Hooks::new(),
            triggered: OnceLock::new(),
            failed: AtomicBool::new(false),
            outcome: watch::Sender::new(None),
            before_exit: Mutex::new(Vec::new()),
        }
    }

    /// Starts shutdown; `false` when it had already started.
    pub(crate) fn trigger(self: &Arc<Self>, cause: Cause) -> bool {
        let at = Instant::now();
        if self.triggered.set(Triggered { at, cause }).is_err() {
            return false;
        }
        // No logging here: this may run on the signal thread, which a log
        // writer stuck on a stalled stdout must never block. The phases log.
        self.readiness.send_replace(Readiness::Draining);
        self.draining.set();
        if self.watchdog {
            let inner = Arc::clone(self);
            watchdog::spawn(duration::after(at, self.timeout), move || {
                inner.force_exit(Forced::Deadline)
            });
        }
        true
    }

    /// `Starting → Ready`; `false` (and no change) from any other state.
    pub(crate) fn mark_ready(&self) -> bool {
        self.readiness.send_if_modified(|readiness| {
            let starting = *readiness == Readiness::Starting;
            if starting {
                *readiness = Readiness::Ready;
            }
            starting
        })
    }

    /// Starts shutdown for an OS signal; when it had already started from
    /// code, says so in a log line written from the runtime.
    pub(crate) fn trigger_signal(self: &Arc<Self>, signal: i32) {
        if !self.trigger(Cause::Signal(signal)) {
            self.runtime.spawn(async move {
                tracing::info!(
                    signal = signals::name(signal),
                    "signal during a shutdown already started; it goes on, \
                     a second signal ends the process at once"
                );
            });
        }
    }

    /// Starts shutdown because `what` failed: the outcome is at best
    /// [`Outcome::TaskFailed`].
    pub(crate) fn fail(self: &Arc<Self>, what: Cow<'static, str>) {
        self.failed.store(true, Ordering::SeqCst);
        self.trigger(Cause::Failed(what));
    }

    /// The time since shutdown started, zero before.
    pub(crate) fn elapsed(&self) -> Duration {
        self.triggered
            .get()
            .map_or(Duration::ZERO, |t| t.at.elapsed())
    }

    /// Registers `callback` to run before a forced exit.
    pub(crate) fn on_forced_exit(&self, callback: Box<dyn Fn() + Send + Sync>) {
        lock(&self.before_exit).push(callback);
    }

    /// Ends the process for `why`, after its log line and the
    /// [`Shutdown::on_forced_exit`](crate::Shutdown::on_forced_exit)
    /// callbacks, in reverse order of registration, have run, or after
    /// [`FORCED_EXIT_FLUSH_LIMIT`], whichever comes first.
    ///
    /// They run on a helper thread, so a log writer stuck on a stalled stdout
    /// cannot hold the exit: the calling thread only waits for them, with a
    /// deadline.
    pub(crate) fn force_exit(self: &Arc<Self>, why: Forced) -> ! {
        let code = match why {
            Forced::Signal(signal) => 128 + signal,
            Forced::Deadline => i32::from(exit_code::DEADLINE_EXCEEDED),
        };
        let (done, finished) = mpsc::channel::<()>();
        let inner = Arc::clone(self);
        let started = thread::Builder::new()
            .name("dozen-shutdown-flush".into())
            .spawn(move || {
                inner.report_forced(why, code);
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

    /// The log line that says why the process is ended with `code`.
    fn report_forced(&self, why: Forced, code: i32) {
        let elapsed_ms = millis(self.elapsed());
        match why {
            Forced::Signal(signal) => tracing::warn!(
                phase = "forced",
                elapsed_ms,
                tasks = self.tasks.in_flight(),
                signal = signals::name(signal),
                code,
                "second signal during shutdown; exiting now"
            ),
            Forced::Deadline => {
                let running = self.tasks.running();
                tracing::error!(
                    phase = "watchdog",
                    elapsed_ms,
                    tasks = running.len(),
                    running = ?running,
                    code,
                    "shutdown deadline passed; ending the process"
                );
            }
        }
    }
}

impl Owner for Inner {
    fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    fn task_failed(self: &Arc<Self>, name: Cow<'static, str>) {
        self.fail(name);
    }
}
