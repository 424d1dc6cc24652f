use std::io;

/// The error type of this crate.
///
/// Messages name the setting or the resource that was wrong and never repeat
/// a raw value read from the environment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable held something that is not a humantime duration.
    #[error(
        "{variable} is not a valid duration (expected humantime syntax such as `5s` or `1m 30s`)"
    )]
    InvalidDuration {
        /// The name of the variable, for example `SHUTDOWN_TIMEOUT`.
        variable: &'static str,
    },
    /// An environment variable was not valid Unicode.
    #[error("{variable} is not valid unicode")]
    NotUnicode {
        /// The name of the variable.
        variable: &'static str,
    },
    /// The propagation delay leaves no time to drain before the deadline.
    #[error("shutdown delay must be shorter than the shutdown timeout")]
    DelayNotBelowTimeout,
    /// The shutdown timeout is zero.
    #[error("shutdown timeout must be greater than zero")]
    ZeroTimeout,
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
