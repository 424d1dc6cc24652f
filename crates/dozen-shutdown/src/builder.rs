//! [`Builder`]: settings, single-field overrides, and the build that starts
//! the signal thread and the phases.

use std::sync::Arc;
use std::time::Duration;

use crate::state::{Forced, Inner};
use crate::{Error, Readiness, Shutdown, ShutdownSettings, phases, settings, signals};

/// Builds a [`Shutdown`]; see [`Shutdown::builder`].
///
/// [`settings`](Self::settings) takes every field of a [`ShutdownSettings`];
/// each `with_*` method overrides one, whatever the order of the calls: a
/// worker that receives no traffic keeps the configured deadline but needs
/// no propagation delay.
///
/// ```
/// # async fn f(settings: dozen_shutdown::ShutdownSettings) -> Result<(), dozen_shutdown::Error> {
/// use std::time::Duration;
///
/// let shutdown = dozen_shutdown::Shutdown::builder()
///     .with_delay(Duration::ZERO)
///     .settings(settings) // keeps the delay of zero
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    settings: ShutdownSettings,
    delay: Option<Duration>,
    timeout: Option<Duration>,
    signals: bool,
    watchdog: bool,
    starting: bool,
    serves: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A builder with the defaults: [`ShutdownSettings::default`] (the delay
    /// by the rule of [`ShutdownSettings::delay`], a 25 s deadline), signals
    /// and the watchdog on.
    pub fn builder() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The same as [`Shutdown::builder`].
    pub fn new() -> Self {
        Self {
            settings: ShutdownSettings::default(),
            delay: None,
            timeout: None,
            signals: true,
            watchdog: true,
            starting: false,
            serves: true,
        }
    }

    /// Takes the delay and the deadline from `settings`, except those set
    /// with [`with_delay`](Self::with_delay) or
    /// [`with_timeout`](Self::with_timeout), before or after.
    pub fn settings(mut self, settings: ShutdownSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The propagation delay, overriding [`ShutdownSettings::delay`].
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The overall deadline, counted from the first signal or trigger,
    /// overriding `SHUTDOWN_TIMEOUT` (default 25 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether to handle SIGTERM, SIGINT and SIGQUIT (default `true`).
    ///
    /// The first starts shutdown (or joins one started from code, which
    /// then still drains and tears down); a second OS signal ends the process
    /// at once with 128 + signal. Turn this off in tests that build many
    /// `Shutdown`s in one process.
    pub fn with_signals(mut self, enabled: bool) -> Self {
        self.signals = enabled;
        self
    }

    /// Whether to start the watchdog thread when shutdown begins (default
    /// `true`). The watchdog ends the process with
    /// [`exit_code::DEADLINE_EXCEEDED`](crate::exit_code::DEADLINE_EXCEEDED)
    /// when it is still alive at the deadline. Turn this off only in tests
    /// that run shutdowns inside a test harness process.
    pub fn with_watchdog(mut self, enabled: bool) -> Self {
        self.watchdog = enabled;
        self
    }

    /// Whether the handle begins in [`Readiness::Starting`] (default
    /// `false`: it begins [`Readiness::Ready`]). A service that binds its
    /// port before its start-up is done (so that liveness probes answer)
    /// turns this on, and calls [`Shutdown::mark_ready`] once it can serve.
    pub fn with_starting(mut self, starting: bool) -> Self {
        self.starting = starting;
        self
    }

    /// Whether the process serves requests (default `true`). A process that
    /// only works on its own, such as a worker taking jobs, turns this off:
    /// its shutdown lines then speak of taking no new jobs and of the jobs
    /// in hand, not of accepting and in-flight requests.
    pub fn with_serving(mut self, serves: bool) -> Self {
        self.serves = serves;
        self
    }

    /// Builds the handle and starts driving its phases on the current tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) when the
    /// delay or the deadline is above [`MAX_DURATION`](crate::MAX_DURATION),
    /// [`ErrorKind::NoDrainBudget`](crate::ErrorKind::NoDrainBudget) when the
    /// deadline leaves less than [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET)
    /// after the delay, [`ErrorKind::NoRuntime`](crate::ErrorKind::NoRuntime)
    /// when called outside a tokio runtime, or
    /// [`ErrorKind::Setup`](crate::ErrorKind::Setup) when the signal handlers
    /// cannot be installed.
    pub fn build(self) -> Result<Shutdown, Error> {
        let delay = self.delay.unwrap_or_else(|| self.settings.delay());
        let timeout = self.timeout.unwrap_or(self.settings.shutdown_timeout);
        settings::check(delay, timeout, &[])?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::no_runtime())?;
        let initial = if self.starting {
            Readiness::Starting
        } else {
            Readiness::Ready
        };
        let inner = Arc::new(Inner::new(
            delay,
            timeout,
            self.serves,
            self.watchdog,
            runtime.clone(),
            initial,
        ));
        if self.signals {
            let first = Arc::clone(&inner);
            let second = Arc::clone(&inner);
            signals::install(
                move |signal| first.trigger_signal(signal),
                move |signal| second.force_exit(Forced::Signal(signal)),
            )?;
        }
        runtime.spawn(phases::drive(Arc::clone(&inner)));
        Ok(Shutdown::new(inner))
    }
}
