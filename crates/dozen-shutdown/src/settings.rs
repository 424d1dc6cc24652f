//! [`ShutdownSettings`]: the delay and the deadline, as a configuration
//! loader reads them, and the one check of the drain budget.

use std::time::Duration;

use serde::Deserialize;

use crate::Error;
use crate::duration;

/// The delay used when `SHUTDOWN_DELAY` is not set and the process runs under
/// Kubernetes (`KUBERNETES_SERVICE_HOST` is set).
pub const KUBERNETES_DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// The least time `SHUTDOWN_TIMEOUT` must leave for draining in-flight work,
/// once the propagation delay and every teardown hook's budget are reserved:
/// one second.
pub const MIN_DRAIN_BUDGET: Duration = Duration::from_secs(1);

/// The default overall deadline: below Kubernetes' default grace period of 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

/// Shutdown settings: `SHUTDOWN_DELAY`, `SHUTDOWN_TIMEOUT`, and
/// `KUBERNETES_SERVICE_HOST` for the default delay.
///
/// A plain `serde::Deserialize` struct whose fields are named after their
/// variables, so `dozen-config` loads it with an app's other settings; this
/// crate reads no environment variable itself. Give it to
/// [`Builder::settings`](crate::Builder::settings). Durations use humantime
/// syntax (`500ms`, `5s`, `1m 30s`) and are at most
/// [`MAX_DURATION`](crate::MAX_DURATION) (1 h); a longer one is an error
/// naming the variable.
///
/// [`validate`](Self::validate) (which [`Builder::build`](crate::Builder::build)
/// runs too) checks that the deadline leaves at least
/// [`MIN_DRAIN_BUDGET`] to drain after the delay, and
/// [`Shutdown::on_teardown`](crate::Shutdown::on_teardown) that it still does
/// once each teardown budget is reserved.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SHUTDOWN_DELAY` | propagation delay: how long the service keeps accepting after readiness turns `Draining` | 5 s when `KUBERNETES_SERVICE_HOST` is set, 0 otherwise |
/// | `SHUTDOWN_TIMEOUT` | overall deadline, counted from the first signal or trigger | 25 s |
/// | `KUBERNETES_SERVICE_HOST` | set by Kubernetes in every pod; only whether it is set matters, for the default delay | unset |
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ShutdownSettings {
    /// `SHUTDOWN_DELAY`; `None` applies the default rule (see
    /// [`ShutdownSettings::delay`]).
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub shutdown_delay: Option<Duration>,
    /// `SHUTDOWN_TIMEOUT`: the overall deadline.
    #[serde(deserialize_with = "duration::deserialize")]
    pub shutdown_timeout: Duration,
    /// `KUBERNETES_SERVICE_HOST`, which Kubernetes sets in every pod: when
    /// set, the default delay is [`KUBERNETES_DEFAULT_DELAY`].
    pub kubernetes_service_host: Option<String>,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        Self {
            shutdown_delay: None,
            shutdown_timeout: DEFAULT_TIMEOUT,
            kubernetes_service_host: None,
        }
    }
}

impl ShutdownSettings {
    /// The propagation delay in effect: `SHUTDOWN_DELAY` if set, otherwise
    /// 5 s when `KUBERNETES_SERVICE_HOST` is set (the process runs in a pod)
    /// and 0 otherwise.
    #[must_use]
    pub fn delay(&self) -> Duration {
        self.shutdown_delay
            .unwrap_or(if self.kubernetes_service_host.is_some() {
                KUBERNETES_DEFAULT_DELAY
            } else {
                Duration::ZERO
            })
    }

    /// Checks the settings together: both durations at most
    /// [`MAX_DURATION`](crate::MAX_DURATION) (the fields are public, so they
    /// can hold anything), and a deadline that leaves at least
    /// [`MIN_DRAIN_BUDGET`] to drain after the delay.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::OutOfRange`](crate::ErrorKind::OutOfRange) or
    /// [`ErrorKind::NoDrainBudget`](crate::ErrorKind::NoDrainBudget), naming
    /// the variable.
    pub fn validate(&self) -> Result<(), Error> {
        check(self.delay(), self.shutdown_timeout, &[])
    }

    /// Checks, before anything is built, that `SHUTDOWN_TIMEOUT` leaves at least
    /// [`MIN_DRAIN_BUDGET`] to drain after the delay and the teardown budgets
    /// an app will register (`(name, budget)`, as given to
    /// [`Shutdown::on_teardown`](crate::Shutdown::on_teardown)), so that a
    /// configuration that cannot drain is reported with the app's other
    /// configuration problems.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); the budgets are named in the message,
    /// as `on_teardown` would name them later.
    pub fn check_drain_budget(&self, teardown: &[(&str, Duration)]) -> Result<(), Error> {
        check(self.delay(), self.shutdown_timeout, teardown)
    }
}

/// Checks that `delay` and `timeout` are within
/// [`MAX_DURATION`](crate::MAX_DURATION) and that `timeout` leaves at least
/// [`MIN_DRAIN_BUDGET`] to drain after `delay` and the teardown budgets
/// `hooks` (name, budget).
pub(crate) fn check(
    delay: Duration,
    timeout: Duration,
    hooks: &[(&str, Duration)],
) -> Result<(), Error> {
    for (var, value) in [("SHUTDOWN_DELAY", delay), ("SHUTDOWN_TIMEOUT", timeout)] {
        if duration::check(value).is_err() {
            return Err(Error::out_of_range(var));
        }
    }
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
    Err(Error::no_drain_budget(named))
}
