//! The crate's one error type.

use std::fmt;

/// What went wrong, for code that reacts differently to each case.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A setting has a value that cannot be used: a filter that does not parse, a project id
    /// that is not one. [`Error::var`] names the variable when the value came from the
    /// environment (through [`LogSettings`](crate::LogSettings)).
    InvalidSetting,
    /// A global tracing subscriber is already set.
    AlreadySet,
    /// The writer thread of the non-blocking mode could not start.
    Spawn,
}

/// Why logging could not be set up.
///
/// A setting's error reads `VAR: what is wrong (what was expected)` and never shows the value.
pub struct Error {
    kind: ErrorKind,
    /// The variable, or the builder method when the value was given in code.
    name: Name,
    problem: &'static str,
    expected: &'static str,
    source: Option<std::io::Error>,
}

/// Where a bad value came from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Name {
    /// An environment variable, through `LogSettings`.
    Var(&'static str),
    /// A builder method.
    Method(&'static str),
    None,
}

impl Error {
    /// A setting with an unusable value: `NAME: problem (expected)`.
    pub(crate) fn invalid(name: Name, problem: &'static str, expected: &'static str) -> Self {
        Self {
            kind: ErrorKind::InvalidSetting,
            name,
            problem,
            expected,
            source: None,
        }
    }

    pub(crate) fn already_set() -> Self {
        Self {
            kind: ErrorKind::AlreadySet,
            name: Name::None,
            problem: "a global tracing subscriber is already set",
            expected: "",
            source: None,
        }
    }

    pub(crate) fn spawn(source: std::io::Error) -> Self {
        Self {
            kind: ErrorKind::Spawn,
            name: Name::None,
            problem: "cannot start the log writer thread",
            expected: "",
            source: Some(source),
        }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The environment variable whose value was wrong (`RUST_LOG`, `GOOGLE_CLOUD_PROJECT`), if
    /// the error is about one. A value given to a builder method is not a variable: `None`.
    #[must_use]
    pub fn var(&self) -> Option<&str> {
        match self.name {
            Name::Var(var) => Some(var),
            Name::Method(_) | Name::None => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("var", &self.var())
            .field("message", &self.to_string())
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Name::Var(name) | Name::Method(name) => write!(f, "{name}: ")?,
            Name::None => {}
        }
        f.write_str(self.problem)?;
        if !self.expected.is_empty() {
            write!(f, " ({})", self.expected)?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
