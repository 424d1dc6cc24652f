#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod fields;
mod json;
mod log_bridge;
mod mask;
mod panic;
mod pretty;
mod time;
mod trace;
mod writer;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

use std::env::{self, VarError};
use std::fmt;
use std::io::IsTerminal as _;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

pub use json::JsonLayer;
pub use pretty::PrettyLayer;
pub use trace::TraceContext;
pub use writer::{FLUSH_TIMEOUT, Flusher};

use writer::Sink;

/// Sets up logging from the environment for the whole process: one call at the top of `main`.
///
/// Reads `RUST_LOG` (default `info`), `LOG_FORMAT` (`json`, `pretty` or `auto`, the default:
/// pretty when standard output is a terminal, JSON otherwise), `SERVICE_NAME` and
/// `SERVICE_VERSION` (falling back to Cloud Run's `K_SERVICE` and `K_REVISION`) and
/// `GOOGLE_CLOUD_PROJECT`; installs the subscriber as the global default and the panic hook.
/// Keep the returned [`Guard`] alive until the end of `main`: dropping it flushes the output.
///
/// # Errors
///
/// A variable with a bad value (the error names the variable, never the value), or a global
/// subscriber that is already set. See [`Builder::from_env`] and [`Builder::init`].
pub fn init() -> Result<Guard, Error> {
    Builder::from_env()?.init()
}

/// The JSON layer on standard output, to compose with other layers yourself.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::EnvFilter::new("info"))
///     .with(dozen_log::json_layer().with_service("billing", "2.0.1"));
/// # let _ = subscriber;
/// ```
#[must_use]
pub fn json_layer() -> JsonLayer {
    JsonLayer::new()
}

/// The pretty layer on standard output, to compose with other layers yourself.
#[must_use]
pub fn pretty_layer() -> PrettyLayer<fn() -> std::io::Stdout> {
    PrettyLayer::new()
}

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

impl Format {
    /// `json`, `pretty` or `auto`, in any case.
    fn parse(s: &str) -> Option<Self> {
        [
            ("json", Self::Json),
            ("pretty", Self::Pretty),
            ("auto", Self::Auto),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s.trim()))
        .map(|(_, f)| f)
    }
}

/// The filter directives and where they came from, for the error message.
#[derive(Clone, Debug)]
struct FilterSpec {
    directives: String,
    source: &'static str,
}

/// Logging set up in code: service, project, format, filter and writer.
///
/// ```no_run
/// # fn main() -> Result<(), dozen_log::Error> {
/// let _guard = dozen_log::Builder::from_env()?
///     .service("checkout", env!("CARGO_PKG_VERSION"))
///     .non_blocking(8192)
///     .init()?;
/// tracing::info!("started");
/// # Ok(()) }
/// ```
#[must_use]
pub struct Builder {
    format: Format,
    filter: FilterSpec,
    service: Option<(String, String)>,
    project_id: Option<String>,
    writer: Option<BoxMakeWriter>,
    queue: Option<(usize, bool)>,
    panic_hook: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("format", &self.format)
            .field("filter", &self.filter.directives)
            .field("service", &self.service)
            .field("project_id", &self.project_id)
            .field("custom_writer", &self.writer.is_some())
            .field("queue", &self.queue)
            .field("panic_hook", &self.panic_hook)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// An environment variable's value; unset and empty are both `None`.
fn var(name: &'static str) -> Result<Option<String>, Error> {
    match env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(_)) => Err(Error::invalid(name, "not valid unicode")),
    }
}

/// Project ids are lower-case letters, digits and hyphens (older ones may carry a
/// `domain.com:` prefix).
fn valid_project_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:".contains(&b))
}

impl Builder {
    /// JSON or pretty by terminal, filter `info`, standard output, no service or project, the
    /// panic hook on.
    pub fn new() -> Self {
        Self {
            format: Format::Auto,
            filter: FilterSpec {
                directives: "info".to_owned(),
                source: "filter",
            },
            service: None,
            project_id: None,
            writer: None,
            queue: None,
            panic_hook: true,
        }
    }

    /// The settings [`init()`] reads from the environment, to adjust in code.
    ///
    /// # Errors
    ///
    /// `LOG_FORMAT` other than `json`, `pretty` or `auto`, a `GOOGLE_CLOUD_PROJECT` that is not a
    /// project id, or a variable that is not valid Unicode. `RUST_LOG` is checked by
    /// [`Builder::init`].
    pub fn from_env() -> Result<Self, Error> {
        let mut b = Self::new();
        if let Some(directives) = var("RUST_LOG")? {
            b.filter = FilterSpec {
                directives,
                source: "RUST_LOG",
            };
        }
        if let Some(format) = var("LOG_FORMAT")? {
            b.format = Format::parse(&format)
                .ok_or_else(|| Error::invalid("LOG_FORMAT", "expected json, pretty or auto"))?;
        }
        let name = match var("SERVICE_NAME")? {
            Some(n) => Some(n),
            None => var("K_SERVICE")?,
        };
        let version = match var("SERVICE_VERSION")? {
            Some(v) => Some(v),
            None => var("K_REVISION")?,
        };
        if let Some(name) = name {
            b.service = Some((name, version.unwrap_or_default()));
        }
        if let Some(project) = var("GOOGLE_CLOUD_PROJECT")? {
            let project = project.trim().to_owned();
            if !valid_project_id(&project) {
                return Err(Error::invalid("GOOGLE_CLOUD_PROJECT", "not a project id"));
            }
            b.project_id = Some(project);
        }
        Ok(b)
    }

    /// The output format.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Filter directives in `RUST_LOG` syntax, such as `info,my_crate=debug`.
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = FilterSpec {
            directives: directives.into(),
            source: "filter",
        };
        self
    }

    /// The service name and version for Error Reporting (an empty version is left out).
    pub fn service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.service = Some((name.into(), version.into()));
        self
    }

    /// The Google Cloud project id for trace correlation.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Writes to `make_writer` instead of standard output (one `write_all` per line; a custom
    /// writer costs one allocation per line for its boxed writer). [`Format::Auto`] means JSON
    /// with a custom writer.
    pub fn writer<W>(mut self, make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        self.writer = Some(BoxMakeWriter::new(make_writer));
        self
    }

    /// Hands lines to a writer thread through a queue of `capacity` lines. A full queue makes the
    /// logging thread wait (no line is lost) unless [`lossy`](Self::lossy) is set. Each queued
    /// line costs one allocation; on a machine with few cores writing in place is often faster.
    pub fn non_blocking(mut self, capacity: usize) -> Self {
        self.queue = Some((capacity, self.queue.is_some_and(|(_, lossy)| lossy)));
        self
    }

    /// In the non-blocking mode, drops a line when the queue is full instead of waiting, and
    /// counts it ([`Guard::dropped_lines`]). Sets up a queue of 8192 lines if none was asked
    /// for.
    pub fn lossy(mut self) -> Self {
        self.queue = Some((self.queue.map_or(8192, |(capacity, _)| capacity), true));
        self
    }

    /// Whether [`init`](Self::init) installs the panic hook (default: yes).
    pub fn panic_hook(mut self, install: bool) -> Self {
        self.panic_hook = install;
        self
    }

    fn env_filter(&self) -> Result<EnvFilter, Error> {
        EnvFilter::builder()
            .parse(&self.filter.directives)
            .map_err(|_| Error::invalid(self.filter.source, "not a valid filter"))
    }

    fn parts(self) -> Result<Parts, Error> {
        let filter = self.env_filter()?;
        let (mut sink, custom) = match self.writer {
            Some(w) => (Sink::Custom(Arc::new(w)), true),
            None => (Sink::Stdout, false),
        };
        if let Some((capacity, lossy)) = self.queue {
            sink = sink
                .into_queue(capacity, lossy)
                .map_err(|e| Error(ErrorKind::Spawn(e)))?;
        }
        let pretty = match self.format {
            Format::Json => false,
            Format::Pretty => true,
            Format::Auto => !custom && std::io::stdout().is_terminal(),
        };
        let mut json = json_layer().with_writer(sink.clone());
        if let Some((name, version)) = self.service {
            json = json.with_service(name, version);
        }
        if let Some(p) = self.project_id {
            json = json.with_project_id(p);
        }
        let ansi = !custom && std::io::stdout().is_terminal();
        let pretty = pretty.then(|| pretty_layer().with_ansi(ansi).with_writer(sink.clone()));
        Ok(Parts {
            filter,
            json,
            pretty,
            sink,
        })
    }

    /// The filter and the formatting layer, for a subscriber you build yourself, with the
    /// [`Guard`] that flushes them. No panic hook is installed.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, _guard) = dozen_log::Builder::new().format(dozen_log::Format::Json).layer()?;
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// # let _ = subscriber;
    /// # Ok::<(), dozen_log::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// An invalid filter, or a writer thread that cannot start.
    pub fn layer<S>(self) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard), Error>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        let parts = self.parts()?;
        let (json, pretty) = match parts.pretty {
            Some(p) => (None, Some(p)),
            None => (Some(parts.json), None),
        };
        let layer = parts.filter.and_then(json).and_then(pretty);
        Ok((
            layer,
            Guard {
                flusher: Flusher { sink: parts.sink },
            },
        ))
    }

    /// Installs the subscriber as the global default and, unless turned off, the panic hook.
    ///
    /// # Errors
    ///
    /// An invalid filter (naming `RUST_LOG` when it came from there), a writer thread that cannot
    /// start, or a global subscriber that is already set.
    pub fn init(self) -> Result<Guard, Error> {
        let panic_hook = self.panic_hook;
        let parts = self.parts()?;
        let parts_pretty = parts.pretty.is_some();
        let config = parts.json.config();
        let sink = parts.sink.clone();
        let (json, pretty) = match parts.pretty {
            Some(p) => (None, Some(p)),
            None => (Some(parts.json), None),
        };
        let max_level = Layer::<tracing_subscriber::Registry>::max_level_hint(&parts.filter);
        let subscriber = tracing_subscriber::registry()
            .with(parts.filter)
            .with(json)
            .with(pretty);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| Error(ErrorKind::AlreadySet))?;
        log_bridge::install(max_level);
        if panic_hook {
            // In the pretty format the previous hook's message is the readable report; the
            // hook then only makes sure the lines logged before the panic are out first.
            panic::install(config, sink.clone(), !parts_pretty);
        }
        Ok(Guard {
            flusher: Flusher { sink },
        })
    }
}

struct Parts {
    filter: EnvFilter,
    json: JsonLayer<Sink>,
    pretty: Option<PrettyLayer<Sink>>,
    sink: Sink,
}

/// Flushes the log output when dropped; keep it alive until the end of `main`.
///
/// For a shutdown sequence that runs elsewhere, [`Guard::flusher`] hands out a cheap clone of
/// the flushing handle.
#[must_use = "the guard flushes the log output when dropped: keep it alive until the end of main"]
#[derive(Debug)]
pub struct Guard {
    flusher: Flusher,
}

impl Guard {
    /// Waits until every line logged so far has been written and flushed, for at most
    /// [`FLUSH_TIMEOUT`] (see [`Flusher::flush`]).
    pub fn flush(&self) {
        self.flusher.flush();
    }

    /// A handle that flushes, for a shutdown hook: `move || flusher.flush()`.
    pub fn flusher(&self) -> Flusher {
        self.flusher.clone()
    }

    /// Lines dropped because the queue was full (only in the lossy non-blocking mode).
    #[must_use]
    pub fn dropped_lines(&self) -> u64 {
        self.flusher.dropped_lines()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.flusher.flush();
    }
}

/// Why logging could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub struct Error(ErrorKind);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
enum ErrorKind {
    #[error("invalid {name}: {reason}")]
    Invalid {
        name: &'static str,
        reason: &'static str,
    },
    #[error("a global tracing subscriber is already set")]
    AlreadySet,
    #[error("cannot start the log writer thread")]
    Spawn(#[source] std::io::Error),
}

impl Error {
    fn invalid(name: &'static str, reason: &'static str) -> Self {
        Self(ErrorKind::Invalid { name, reason })
    }

    /// The environment variable (or the builder setting) whose value was wrong, if that was the
    /// cause.
    #[must_use]
    pub fn variable(&self) -> Option<&str> {
        match &self.0 {
            ErrorKind::Invalid { name, .. } => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}
