//! The one error type of the crate, and the problems it lists.

use std::fmt;
use std::path::PathBuf;

/// Every problem found while loading a configuration, in field order.
///
/// `Display` writes one problem per line, each `VAR: what is wrong (what was
/// expected)`; no value read from the environment or a file ever appears in
/// the text or in `Debug`, since a mistyped secret is still a secret.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Config {
///     port: u16,
///     workers: u8,
/// }
///
/// let err = dozen_config::prefixed("APP_")
///     .from_iter::<_, Config>([("APP_PORT".to_string(), "80a".to_string())])
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "APP_PORT: invalid value (an integer from 0 to 65535)\nAPP_WORKERS: missing (required)",
/// );
/// assert_eq!(err.problems().count(), 2);
/// ```
///
/// An application's own checks report in the same list, so a service
/// prints one list of what to fix: build a [`Problem`] with
/// [`Problem::new`], then an `Error` with [`Error::from_problems`], or add
/// the problems to a load's error with [`Extend`].
///
/// ```
/// use dozen_config::{Error, Problem};
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Config {
///     port: u16,
///     workers: u8,
/// }
///
/// let pairs = [("WORKERS".to_string(), "0".to_string())];
/// // The application's own check, next to the load: `WORKERS` must not be 0.
/// let own = [Problem::new("WORKERS", "zero", "at least 1")];
///
/// let err = match dozen_config::from_iter::<_, Config>(pairs) {
///     Ok(_) => Error::from_problems(own),
///     Err(mut err) => {
///         err.extend(own);
///         err
///     }
/// };
/// assert_eq!(
///     err.to_string(),
///     "PORT: missing (required)\nWORKERS: zero (at least 1)",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Error {
    problems: Vec<Problem>,
}

impl Error {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// An error listing these problems, such as those of an application's
    /// own checks ([`Problem::new`]). An error with no problem displays as
    /// the empty string.
    pub fn from_problems(problems: impl IntoIterator<Item = Problem>) -> Self {
        Self {
            problems: problems.into_iter().collect(),
        }
    }

    /// The problems, in the order of the fields that caused them (and then
    /// in the order they were added).
    pub fn problems(&self) -> impl ExactSizeIterator<Item = &Problem> + '_ {
        self.problems.iter()
    }
}

/// Adds problems after those already listed: an application's own checks
/// after the problems of a load.
impl Extend<Problem> for Error {
    fn extend<I: IntoIterator<Item = Problem>>(&mut self, problems: I) {
        self.problems.extend(problems);
    }
}

impl From<Problem> for Error {
    fn from(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            fmt::Display::fmt(problem, f)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    var: String,
    kind: ProblemKind,
}

impl Problem {
    pub(crate) fn from_kind(var: impl Into<String>, kind: ProblemKind) -> Self {
        Self {
            var: var.into(),
            kind,
        }
    }

    /// A problem found by an application's own check, shown as
    /// `VAR: what is wrong (what was expected)`, such as
    /// `Problem::new("SHUTDOWN_TIMEOUT", "too short", "at least 1s more than
    /// SHUTDOWN_DELAY")`. Its kind is [`ProblemKind::Refused`].
    ///
    /// Never put the value in either text: the error may be logged, and a
    /// mistyped secret is still a secret.
    #[must_use]
    pub fn new(
        var: impl Into<String>,
        what_is_wrong: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self::from_kind(
            var,
            ProblemKind::Refused {
                reason: what_is_wrong.into(),
                expected: expected.into(),
                item: None,
            },
        )
    }

    /// The full name of the variable as it was looked up, such as
    /// `APP_DB__PORT` or `APP_PASSWORD_FILE`.
    ///
    /// For a problem with a `.env` file ([`ProblemKind::Dotenv`]) this is
    /// the empty string.
    #[must_use]
    pub fn var(&self) -> &str {
        &self.var
    }

    /// What is wrong with it.
    #[must_use]
    pub fn kind(&self) -> &ProblemKind {
        &self.kind
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let var = &self.var;
        match &self.kind {
            ProblemKind::Missing => write!(f, "{var}: missing (required)"),
            ProblemKind::Empty { expected } => write!(f, "{var}: empty ({expected})"),
            ProblemKind::Invalid {
                expected,
                item: None,
            } => write!(f, "{var}: invalid value ({expected})"),
            ProblemKind::Invalid {
                expected,
                item: Some(item),
            } => write!(f, "{var}: invalid item {} ({expected})", item + 1),
            ProblemKind::NotUnicode => write!(f, "{var}: invalid value (valid UTF-8)"),
            // The path is not shown: a secret set by mistake in `X_FILE`
            // instead of `X` would be echoed.
            ProblemKind::Unreadable { reason, .. } => write!(
                f,
                "{var}: cannot read the file it names, {reason} (a readable file of UTF-8 text)"
            ),
            ProblemKind::TooLarge { .. } => {
                write!(f, "{var}: the file it names is too large (at most 1 MiB)")
            }
            ProblemKind::Refused {
                reason,
                expected,
                item: None,
            } => write!(f, "{var}: {reason} ({expected})"),
            ProblemKind::Refused {
                reason,
                expected,
                item: Some(item),
            } => write!(f, "{var}: invalid item {}, {reason} ({expected})", item + 1),
            ProblemKind::Conflict { file_var } => {
                write!(f, "{var}: both {var} and {file_var} are set (one of them)")
            }
            ProblemKind::Unknown {
                suggestion: Some(s),
            } => write!(f, "{var}: unknown variable (did you mean {s}?)"),
            ProblemKind::Unknown { suggestion: None } => {
                write!(f, "{var}: unknown variable (no field reads it)")
            }
            // Not about a variable: the file, and what failed.
            ProblemKind::Dotenv { path, entry } => match entry {
                Some(n) => write!(f, "{}: cannot parse entry {n}", path.display()),
                None => write!(f, "{}: cannot read the file", path.display()),
            },
        }
    }
}

/// What is wrong with a variable.
///
/// `Debug` and `Display` never show a value, nor the path a `_FILE`
/// variable holds (a secret set in `X_FILE` by mistake would be echoed);
/// the path is kept in [`ProblemKind::Unreadable`] and
/// [`ProblemKind::TooLarge`] for a program that chooses to show it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The variable (and its `_FILE` variant) is not set, and the field has
    /// no default.
    Missing,
    /// The variable is set to the empty string, which the field's type does
    /// not accept.
    Empty {
        /// What the field accepts, such as `an integer from 0 to 65535`.
        expected: String,
    },
    /// The value does not parse as the field's type.
    Invalid {
        /// What the field accepts, such as `a duration such as 30s or 1m 30s`.
        expected: String,
        /// For a list or a map, the position of the bad item (from 0).
        item: Option<usize>,
    },
    /// The value (or the `_FILE` path) is not valid UTF-8.
    NotUnicode,
    /// The file named by a `_FILE` variable could not be read; the problem
    /// names the `_FILE` variable.
    Unreadable {
        /// The path, as given in the variable.
        path: PathBuf,
        /// Why, such as `entity not found` or `not valid UTF-8`.
        reason: String,
    },
    /// The file named by a `_FILE` variable is larger than 1 MiB.
    TooLarge {
        /// The path, as given in the variable.
        path: PathBuf,
    },
    /// The value parsed, but a check refused it: the field's own (a
    /// `deserialize_with` or a hand-written `Deserialize` that returned
    /// `serde::de::Error::invalid_value(Unexpected::Other(reason), &expected)`
    /// with an `expected` other than the visitor's own, such as a bounded
    /// duration), or the application's ([`Problem::new`]). Shown as
    /// `VAR: too large (at most 1h)`.
    ///
    /// Other errors raised there (`Error::custom`, which may quote the value)
    /// are shown as [`ProblemKind::Invalid`], as is a reason or expectation
    /// that contains the value itself.
    Refused {
        /// What is wrong, as the field's check says it (`too large`).
        reason: String,
        /// What the check accepts (`at most 1h`).
        expected: String,
        /// For a list or a map, the position of the bad item (from 0).
        item: Option<usize>,
    },
    /// Both `X` and `X_FILE` are set; the problem names `X`.
    Conflict {
        /// The name of the `_FILE` variable.
        file_var: String,
    },
    /// In strict mode: the variable starts with the prefix but matches no
    /// field.
    Unknown {
        /// A known variable within edit distance 2, if there is one.
        suggestion: Option<String>,
    },
    /// A `.env` file could not be read or parsed.
    Dotenv {
        /// The file.
        path: PathBuf,
        /// The entry (from 1) that does not parse; `None` if the file could
        /// not be read at all.
        entry: Option<usize>,
    },
}

impl fmt::Debug for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Missing => f.write_str("Missing"),
            ProblemKind::Empty { expected } => {
                f.debug_struct("Empty").field("expected", expected).finish()
            }
            ProblemKind::Invalid { expected, item } => f
                .debug_struct("Invalid")
                .field("expected", expected)
                .field("item", item)
                .finish(),
            ProblemKind::NotUnicode => f.write_str("NotUnicode"),
            ProblemKind::Unreadable { reason, .. } => f
                .debug_struct("Unreadable")
                .field("reason", reason)
                .finish_non_exhaustive(),
            ProblemKind::TooLarge { .. } => f.debug_struct("TooLarge").finish_non_exhaustive(),
            ProblemKind::Refused {
                reason,
                expected,
                item,
            } => f
                .debug_struct("Refused")
                .field("reason", reason)
                .field("expected", expected)
                .field("item", item)
                .finish(),
            ProblemKind::Conflict { file_var } => f
                .debug_struct("Conflict")
                .field("file_var", file_var)
                .finish(),
            ProblemKind::Unknown { suggestion } => f
                .debug_struct("Unknown")
                .field("suggestion", suggestion)
                .finish(),
            ProblemKind::Dotenv { path, entry } => f
                .debug_struct("Dotenv")
                .field("path", path)
                .field("entry", entry)
                .finish(),
        }
    }
}
