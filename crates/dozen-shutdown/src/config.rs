use std::env;
use std::time::Duration;

use serde::Deserialize;

use crate::Error;
use crate::duration;
use crate::env::Lookup;

/// The delay used when `SHUTDOWN_DELAY` is not set and the process runs under
/// Kubernetes (`KUBERNETES_SERVICE_HOST` is set).
pub const KUBERNETES_DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// The least time `SHUTDOWN_TIMEOUT` must leave for draining in-flight work,
/// once the propagation delay and every teardown hook's budget are reserved:
/// one second.
pub const MIN_DRAIN_BUDGET: Duration = Duration::from_secs(1);

/// The default overall deadline: below Kubernetes' default grace period of 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

/// Shutdown settings, read from `SHUTDOWN_DELAY` and `SHUTDOWN_TIMEOUT`.
///
/// A plain `serde::Deserialize` struct, so a configuration loader that maps
/// field names to upper-case variable names (such as `dozen-config`) can read
/// it, or it can be read directly with [`ShutdownConfig::from_env`]. Durations
/// use humantime syntax (`500ms`, `5s`, `1m 30s`) and are at most
/// [`MAX_DURATION`](crate::MAX_DURATION) (1 h); a longer one is an error
/// naming the variable.
///
/// [`Builder::build`](crate::Builder::build) also checks that the deadline
/// leaves at least [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain
/// after the delay, and [`Shutdown::on_teardown`](crate::Shutdown::on_teardown)
/// that it still does once each teardown budget is reserved.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SHUTDOWN_DELAY` | propagation delay: how long the service keeps accepting after readiness turns `Draining` | 5 s when `KUBERNETES_SERVICE_HOST` is set, 0 otherwise |
/// | `SHUTDOWN_TIMEOUT` | overall deadline, counted from the first signal or trigger | 25 s |
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownConfig {
    /// `SHUTDOWN_DELAY`; `None` applies the default rule (see
    /// [`ShutdownConfig::delay`]).
    #[serde(default, deserialize_with = "duration::deserialize_option")]
    pub shutdown_delay: Option<Duration>,
    /// `SHUTDOWN_TIMEOUT`: the overall deadline.
    #[serde(
        default = "default_timeout",
        deserialize_with = "duration::deserialize"
    )]
    pub shutdown_timeout: Duration,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            shutdown_delay: None,
            shutdown_timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl ShutdownConfig {
    /// Reads `SHUTDOWN_DELAY` and `SHUTDOWN_TIMEOUT` from the environment.
    ///
    /// An unset or empty variable takes its default.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDuration`], [`Error::OutOfRange`] (above
    /// [`MAX_DURATION`](crate::MAX_DURATION)) or [`Error::NotUnicode`],
    /// naming the variable (never its value).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| env::var_os(name))
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by `lookup`.
    ///
    /// # Errors
    ///
    /// As for [`from_env`](Self::from_env).
    pub fn from_lookup(
        lookup: impl FnMut(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, Error> {
        let mut vars = Lookup(lookup);
        let shutdown_delay = vars.duration("SHUTDOWN_DELAY")?;
        let shutdown_timeout = vars
            .duration("SHUTDOWN_TIMEOUT")?
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(Self {
            shutdown_delay,
            shutdown_timeout,
        })
    }

    /// Sets the propagation delay.
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.shutdown_delay = Some(delay);
        self
    }

    /// Sets the overall deadline.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Checks, before anything is built, that `SHUTDOWN_TIMEOUT` leaves at least
    /// [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain after the delay and the
    /// teardown budgets an app will register (`(name, budget)`, as given to
    /// [`Shutdown::on_teardown`](crate::Shutdown::on_teardown)), so that a configuration
    /// that cannot drain is reported with the app's other configuration problems.
    ///
    /// # Errors
    ///
    /// [`Error::NoDrainBudget`], naming the budgets, as `on_teardown` would return later.
    pub fn check_drain_budget(&self, teardown: &[(&str, Duration)]) -> Result<(), Error> {
        crate::shutdown::check_drain_budget(self.delay(), self.shutdown_timeout, teardown)
    }

    /// The propagation delay in effect: `SHUTDOWN_DELAY` if set, otherwise
    /// 5 s when `KUBERNETES_SERVICE_HOST` is set (the process runs in a pod)
    /// and 0 otherwise.
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.shutdown_delay
            .unwrap_or_else(|| default_delay(env::var_os("KUBERNETES_SERVICE_HOST").is_some()))
    }
}

pub(crate) fn default_delay(in_kubernetes: bool) -> Duration {
    if in_kubernetes {
        KUBERNETES_DEFAULT_DELAY
    } else {
        Duration::ZERO
    }
}
