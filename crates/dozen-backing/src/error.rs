//! The crate's one error type.

use std::fmt;

/// What went wrong, for code that reacts differently to each case.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not a URL of its kind.
    InvalidUrl,
    /// The URL is of another kind than the pool or client asked for (a Redis URL for a
    /// PostgreSQL pool).
    WrongKind,
    /// A setting is invalid: out of its range, or at odds with another setting
    /// ([`Error::var`] names the variable).
    InvalidSetting,
    /// Nothing listens at the address, or the Unix socket does not exist yet.
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The server is starting up or shutting down (PostgreSQL `57P01`-`57P03`).
    StartingUp,
    /// The server has no connection slot left (PostgreSQL `53300`, MySQL 1040 and 1203).
    TooManyConnections,
    /// The database is locked by another connection for longer than the busy timeout
    /// (SQLite `SQLITE_BUSY` and `SQLITE_LOCKED`, as when replicas open one new file at once).
    Busy,
    /// The server or the network failed while connecting (reset, unreachable, end of stream).
    Network,
    /// The deadline passed: the connect timeout, or a health check's timeout.
    TimedOut,
    /// The server refused the credentials (PostgreSQL `28P01`/`28000`, MySQL 1045).
    BadCredentials,
    /// The database does not exist (PostgreSQL `3D000`, MySQL 1049).
    UnknownDatabase,
    /// TLS could not be set up.
    Tls,
    /// The server answered with another error.
    Database,
    /// Anything else: a file that cannot be opened, a protocol error.
    Other,
}

impl ErrorKind {
    /// Whether waiting and trying again may help: [`Refused`](Self::Refused),
    /// [`Dns`](Self::Dns), [`StartingUp`](Self::StartingUp),
    /// [`TooManyConnections`](Self::TooManyConnections), [`Busy`](Self::Busy),
    /// [`Network`](Self::Network) and [`TimedOut`](Self::TimedOut).
    #[must_use]
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Refused
                | Self::Dns
                | Self::StartingUp
                | Self::TooManyConnections
                | Self::Busy
                | Self::Network
                | Self::TimedOut
        )
    }

    /// A short lower-case name for logs: `refused`, `dns`, `bad credentials`, ...
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid url",
            Self::WrongKind => "wrong kind of url",
            Self::InvalidSetting => "invalid setting",
            Self::Refused => "connection refused",
            Self::Dns => "dns failure",
            Self::StartingUp => "server starting up",
            Self::TooManyConnections => "too many connections",
            Self::Busy => "database busy",
            Self::Network => "network error",
            Self::TimedOut => "timed out",
            Self::BadCredentials => "bad credentials",
            Self::UnknownDatabase => "unknown database",
            Self::Tls => "tls error",
            Self::Database => "database error",
            Self::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of every fallible function in this crate.
///
/// Its message is `VAR: what is wrong (what was expected)` for a setting
/// (`DATABASE_MIN_CONNECTIONS: too large (at most DATABASE_MAX_CONNECTIONS)`), and
/// `what failed: cause` otherwise, naming the URL with its password hidden
/// (`cannot connect to postgres://app:***@db/app: connection refused: ...`). It never
/// contains a password, a raw URL or a setting's value: messages from drivers are scrubbed
/// of the password before they are kept (a health check's, which has no URL at hand, of
/// every secret registered with dozen-redact, which each [`ServiceUrl`](crate::ServiceUrl)
/// does for its own).
/// For the same reason
/// the driver's error is not kept as a [`source`](std::error::Error::source): its
/// `Debug` may hold the connection options, password included.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    var: Option<&'static str>,
    message: Box<str>,
    attempts: u32,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            var: None,
            message: message.into(),
            attempts: 0,
        }
    }

    /// An invalid setting: `var: what (expected)`.
    #[cfg_attr(not(feature = "_sqlx"), allow(dead_code, reason = "used by the pools"))]
    pub(crate) fn setting(var: &'static str, what: &str, expected: &str) -> Self {
        Self {
            var: Some(var),
            ..Self::new(
                ErrorKind::InvalidSetting,
                format!("{var}: {what} ({expected})"),
            )
        }
    }

    pub(crate) fn invalid_url(scheme: Option<&str>, reason: &str) -> Self {
        let message = match scheme {
            Some(scheme) => format!("invalid {} url: {reason}", scheme.to_ascii_lowercase()),
            None => format!("invalid service url: {reason}"),
        };
        Self::new(ErrorKind::InvalidUrl, message)
    }

    #[cfg_attr(not(feature = "_sqlx"), allow(dead_code, reason = "used by the pools"))]
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The environment variable the error is about (`DATABASE_MAX_CONNECTIONS`), when it is
    /// about one: an [`ErrorKind::InvalidSetting`]. `None` for the others, which name the
    /// URL (redacted) rather than the variable it came from.
    #[must_use]
    pub fn var(&self) -> Option<&str> {
        self.var
    }

    /// Whether waiting and trying again may help; see [`ErrorKind::is_transient`].
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// How many connection attempts were made before this error was returned; 0 when the
    /// error did not come from connecting.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.attempts {
            0 => Ok(()),
            1 => f.write_str(" (1 attempt)"),
            n => write!(f, " ({n} attempts)"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("var", &self.var)
            .field("message", &self.message)
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl std::error::Error for Error {}

/// `message` with every occurrence of each secret replaced by `***`, longest first so that
/// a secret that contains another is hidden whole. The caller gives each secret in every
/// form a driver may echo (as written and decoded, see `ServiceUrl::secrets`). Secrets
/// shorter than 3 bytes are replaced too: a leak is worse than a mangled message.
#[cfg_attr(
    not(any(feature = "_sqlx", feature = "redis")),
    allow(dead_code, reason = "used by the drivers")
)]
pub(crate) fn scrub<S: AsRef<str>>(message: &str, secrets: &[S]) -> String {
    let mut forms: Vec<&str> = secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty())
        .collect();
    forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = message.to_owned();
    for form in forms {
        if out.contains(form) {
            out = out.replace(form, "***");
        }
    }
    out
}
