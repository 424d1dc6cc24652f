//! [`LogSettings`]: what the environment says about logging, loaded by a configuration loader.

use serde::Deserialize;
use serde::de::{Deserializer, Error as _, Unexpected};
use tracing_subscriber::EnvFilter;

use crate::error::{Error, Name};

/// The output format; `LOG_FORMAT` is `json`, `pretty` or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// One Cloud Logging JSON object per line.
    Json,
    /// Coloured lines for a person at a terminal.
    Pretty,
    /// Pretty when standard output is a terminal, JSON otherwise.
    #[default]
    Auto,
}

/// Where a line goes on its way out; `LOG_QUEUE` is `off`, `wait` or `drop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Queue {
    /// Each line is written in place by the thread that logs it: the fastest on few cores,
    /// and a standard output that nobody reads stops every thread that logs.
    #[default]
    Off,
    /// Lines go through a queue of 8192 to a writer thread of their own; a full queue makes
    /// the logging thread wait, so no line is lost.
    Wait,
    /// As `wait`, but a full queue drops the line and counts it
    /// ([`Guard::dropped_lines`](crate::Guard::dropped_lines)): a standard output that
    /// nobody reads never stops the work.
    Drop,
}

/// The logging settings of the environment.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `RUST_LOG` | filter directives (`info,sqlx=warn`), checked when the builder builds | `info` |
/// | `LOG_FORMAT` | `json`, `pretty` or `auto` (pretty on a terminal, JSON otherwise) | `auto` |
/// | `LOG_QUEUE` | `off` (each line written in place), `wait` (through a queue; a full one waits) or `drop` (a full queue drops the line and counts it) | `off` |
/// | `SERVICE_NAME` | Error Reporting `serviceContext.service` | `K_SERVICE`, else the executable's name |
/// | `K_SERVICE` | the service name Cloud Run sets | none |
/// | `SERVICE_VERSION` | Error Reporting `serviceContext.version` | `K_REVISION`, else none |
/// | `K_REVISION` | the revision Cloud Run sets | none |
/// | `GOOGLE_CLOUD_PROJECT` | the project of `logging.googleapis.com/trace` | none (the bare trace id) |
///
/// This crate reads no environment variable itself: the application loads `LogSettings` with a
/// configuration loader such as dozen-config, usually in its own settings tuple, so that its
/// report, strict mode and `describe` list these variables too, and hands it to
/// [`Builder::settings`](crate::Builder::settings). The field names are the variables' names in
/// lower case. A `LOG_FORMAT` or `GOOGLE_CLOUD_PROJECT` that cannot be used is refused while
/// loading (dozen-config reports `LOG_FORMAT: invalid value (one of json, pretty, auto)`); the
/// filter is checked by [`validate`](Self::validate) and when the builder builds.
///
/// ```
/// use dozen_log::{Format, LogSettings};
///
/// let settings: LogSettings = dozen_config::from_iter([
///     ("LOG_FORMAT".to_owned(), "json".to_owned()),
///     ("K_SERVICE".to_owned(), "checkout".to_owned()),
/// ])?;
/// assert_eq!(settings.log_format, Format::Json);
/// assert_eq!(settings.rust_log, "info");
/// assert_eq!(settings.service(), Some(("checkout", "")));
/// # Ok::<(), dozen_config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LogSettings {
    /// Filter directives in `RUST_LOG` syntax (`RUST_LOG`).
    pub rust_log: String,
    /// The output format (`LOG_FORMAT`).
    pub log_format: Format,
    /// How lines reach the output (`LOG_QUEUE`).
    pub log_queue: Queue,
    /// The service name for Error Reporting (`SERVICE_NAME`).
    pub service_name: Option<String>,
    /// Cloud Run's service name, used when `SERVICE_NAME` is unset (`K_SERVICE`).
    pub k_service: Option<String>,
    /// The service version for Error Reporting (`SERVICE_VERSION`).
    pub service_version: Option<String>,
    /// Cloud Run's revision, used when `SERVICE_VERSION` is unset (`K_REVISION`).
    pub k_revision: Option<String>,
    /// The Google Cloud project id for trace correlation (`GOOGLE_CLOUD_PROJECT`).
    #[serde(deserialize_with = "project_id")]
    pub google_cloud_project: Option<String>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            rust_log: "info".to_owned(),
            log_format: Format::Auto,
            log_queue: Queue::Off,
            service_name: None,
            k_service: None,
            service_version: None,
            k_revision: None,
            google_cloud_project: None,
        }
    }
}

impl LogSettings {
    /// The service name and version for Error Reporting: `SERVICE_NAME` (else `K_SERVICE`) and
    /// `SERVICE_VERSION` (else `K_REVISION`, else empty). `None` without a name.
    #[must_use]
    pub fn service(&self) -> Option<(&str, &str)> {
        let name = set(&self.service_name).or_else(|| set(&self.k_service))?;
        let version = set(&self.service_version)
            .or_else(|| set(&self.k_revision))
            .unwrap_or("");
        Some((name, version))
    }

    /// The project id, trimmed; `None` when unset or empty.
    pub(crate) fn project_id(&self) -> Option<&str> {
        self.google_cloud_project
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// Checks what loading cannot: the `RUST_LOG` filter directives; and what loading checks,
    /// for settings built in code: the project id. [`Builder::init`](crate::Builder::init)
    /// runs it too; an app calls it to list a bad filter with its other configuration problems
    /// before it sets anything up.
    ///
    /// # Errors
    ///
    /// `GOOGLE_CLOUD_PROJECT: not a project id (...)` or `RUST_LOG: not a valid filter (...)`.
    pub fn validate(&self) -> Result<(), Error> {
        self.check_project_id()?;
        filter(&self.rust_log, Name::Var("RUST_LOG")).map(drop)
    }

    /// `GOOGLE_CLOUD_PROJECT`, if set, is a project id.
    pub(crate) fn check_project_id(&self) -> Result<(), Error> {
        match self.project_id() {
            Some(p) if !valid_project_id(p) => Err(Error::invalid(
                Name::Var("GOOGLE_CLOUD_PROJECT"),
                "not a project id",
                PROJECT_ID_EXPECTED,
            )),
            _ => Ok(()),
        }
    }
}

/// The filter of `directives`; an error names where they came from.
pub(crate) fn filter(directives: &str, name: Name) -> Result<EnvFilter, Error> {
    EnvFilter::builder().parse(directives).map_err(|_| {
        Error::invalid(
            name,
            "not a valid filter",
            "directives such as info,my_crate=debug",
        )
    })
}

/// A value that is set and not blank.
fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.trim().is_empty())
}

const PROJECT_ID_EXPECTED: &str = "lower-case letters, digits and hyphens";

/// Project ids are lower-case letters, digits and hyphens (older ones may carry a
/// `domain.com:` prefix).
fn valid_project_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b))
}

/// `GOOGLE_CLOUD_PROJECT`: a project id, or unset.
fn project_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() && !valid_project_id(p) => Err(D::Error::invalid_value(
            Unexpected::Other("not a project id"),
            &PROJECT_ID_EXPECTED,
        )),
        _ => Ok(text),
    }
}
