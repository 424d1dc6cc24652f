//! [`Error`] and [`ErrorKind`]: what can go wrong when a shutdown is built or
//! a teardown hook is registered.

use std::borrow::Cow;
use std::fmt;
use std::io;

/// The error type of this crate: opaque, with a [`kind`](Self::kind) to
/// branch on and the [`var`](Self::var) it is about.
///
/// Messages read `VARIABLE: what is wrong (what was expected)`, naming the
/// setting and never a value; the others read `what failed: cause`.
pub struct Error {
    kind: ErrorKind,
    var: Option<&'static str>,
    /// For [`ErrorKind::NoDrainBudget`], the teardown budgets reserved (names
    /// and durations given in code, never a value from the environment); for
    /// [`ErrorKind::Setup`], what could not be set up.
    detail: Cow<'static, str>,
    source: Option<io::Error>,
}

/// What kind of [`Error`] this is: one variant per case a caller can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `SHUTDOWN_DELAY` or `SHUTDOWN_TIMEOUT` is above
    /// [`MAX_DURATION`](crate::MAX_DURATION).
    OutOfRange,
    /// `SHUTDOWN_TIMEOUT` leaves less than
    /// [`MIN_DRAIN_BUDGET`](crate::MIN_DRAIN_BUDGET) to drain once the
    /// propagation delay and the teardown budgets are reserved. Returned by
    /// [`ShutdownSettings::validate`](crate::ShutdownSettings::validate),
    /// [`Builder::build`](crate::Builder::build) and
    /// [`Shutdown::on_teardown`](crate::Shutdown::on_teardown).
    NoDrainBudget,
    /// [`Builder::build`](crate::Builder::build) was called outside a tokio
    /// runtime.
    NoRuntime,
    /// The signal handlers or the signal thread could not be set up; the
    /// operating system's error is the [`source`](std::error::Error::source).
    Setup,
}

impl Error {
    fn new(kind: ErrorKind, var: Option<&'static str>) -> Self {
        Self {
            kind,
            var,
            detail: Cow::Borrowed(""),
            source: None,
        }
    }

    pub(crate) fn out_of_range(var: &'static str) -> Self {
        Self::new(ErrorKind::OutOfRange, Some(var))
    }

    /// `reserved` reads `, teardown hooks name 1s, other 3s`, or is empty.
    pub(crate) fn no_drain_budget(reserved: String) -> Self {
        Self {
            detail: Cow::Owned(reserved),
            ..Self::new(ErrorKind::NoDrainBudget, Some("SHUTDOWN_TIMEOUT"))
        }
    }

    pub(crate) fn no_runtime() -> Self {
        Self::new(ErrorKind::NoRuntime, None)
    }

    /// `what` could not be set up (`"the signal handlers"`).
    pub(crate) fn setup(what: &'static str, source: io::Error) -> Self {
        Self {
            detail: Cow::Borrowed(what),
            source: Some(source),
            ..Self::new(ErrorKind::Setup, None)
        }
    }

    /// What kind of error this is.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The environment variable the error is about, such as
    /// `SHUTDOWN_TIMEOUT`; `None` for an error about no variable.
    #[must_use]
    pub fn var(&self) -> Option<&str> {
        self.var
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let var = self.var.unwrap_or("setting");
        match self.kind {
            ErrorKind::OutOfRange => write!(f, "{var}: too large (at most 1h)"),
            ErrorKind::NoDrainBudget => write!(
                f,
                "{var}: too short to drain (expected at least 1s left after \
                 SHUTDOWN_DELAY{})",
                self.detail
            ),
            ErrorKind::NoRuntime => f.write_str("shutdown must be built inside a tokio runtime"),
            ErrorKind::Setup => {
                write!(f, "could not set up {}", self.detail)?;
                match &self.source {
                    Some(source) => write!(f, ": {source}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("var", &self.var)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
