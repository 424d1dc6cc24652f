use std::io;

/// The error type of this crate.
///
/// Messages read `VARIABLE: what is wrong (what was expected)`: they name
/// the setting or the resource that was wrong and never repeat a raw value
/// read from the environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable held something that is not a humantime duration.
    #[error(
        "{variable}: not a valid duration (expected humantime syntax such as `5s` or `1m 30s`)"
    )]
    InvalidDuration {
        /// The name of the variable, for example `SHUTDOWN_TIMEOUT`.
        variable: &'static str,
    },
    /// An environment variable held something that is not a whole number.
    #[error("{variable}: not a valid number (expected a whole number such as 512)")]
    InvalidNumber {
        /// The name of the variable, for example `HTTP_MAX_CONNECTIONS`.
        variable: &'static str,
    },
    /// A setting was outside its documented range: a duration above
    /// [`MAX_DURATION`](crate::MAX_DURATION).
    #[error("{variable}: out of range (expected {expected})")]
    OutOfRange {
        /// The name of the variable, for example `SHUTDOWN_TIMEOUT`.
        variable: &'static str,
        /// The range that is accepted, for example `a duration of at most 1h`.
        expected: &'static str,
    },
    /// An environment variable was not valid Unicode.
    #[error("{variable}: not valid unicode (expected UTF-8 text)")]
    NotUnicode {
        /// The name of the variable.
        variable: &'static str,
    },
    /// `SHUTDOWN_TIMEOUT` leaves less than
    /// [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain once the
    /// propagation delay and the teardown budgets are reserved. Returned by
    /// [`Builder::build`](crate::Builder::build) and
    /// [`Shutdown::on_teardown`](crate::Shutdown::on_teardown).
    #[error(
        "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY{reserved})"
    )]
    NoDrainBudget {
        /// The teardown budgets that were reserved, as `, teardown hooks
        /// name 1s, other 3s` (empty when there are none): names and
        /// budgets given in code, never a value from the environment.
        reserved: String,
    },
    /// [`Builder::build`](crate::Builder::build) was called outside a tokio runtime.
    #[error("shutdown must be built inside a tokio runtime")]
    NoRuntime,
    /// The signal handlers or one of the helper threads could not be set up.
    #[error("could not set up {what}")]
    Setup {
        /// What failed: `signal handlers`, `the signal thread`.
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}
