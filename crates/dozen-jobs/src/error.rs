//! The crate's one error type.

use std::fmt;

/// A boxed error, as handlers return them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A job's name, payload or options were refused before reaching the
    /// queue (too long, not serializable, zero attempts).
    Invalid,
    /// The queue's store (the database, the NATS server) failed or could not
    /// be reached.
    Backend,
    /// No such job, or not in a state the operation applies to.
    NotFound,
}

/// An error of the queue: its kind and a message naming what was wrong.
/// Messages never hold a password: URLs are shown redacted.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            message: message.into(),
            source: None,
        }
    }

    #[cfg_attr(
        not(any(feature = "sql", feature = "nats")),
        allow(dead_code, reason = "used by the backends")
    )]
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            message: message.into(),
            source: None,
        }
    }

    /// The store failed while doing `what`.
    #[cfg_attr(
        not(any(feature = "sql", feature = "nats")),
        allow(dead_code, reason = "used by the backends")
    )]
    pub(crate) fn backend(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            kind: ErrorKind::Backend,
            message: what.into(),
            source: Some(source.into()),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}
