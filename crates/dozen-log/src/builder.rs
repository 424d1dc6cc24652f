//! [`Builder`]: settings plus single overrides, resolved into the subscriber's parts.

use std::fmt;
use std::io::IsTerminal as _;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

use crate::error::{Error, Name};
use crate::guard::Guard;
use crate::json::JsonLayer;
use crate::log_bridge;
use crate::panic;
use crate::pretty::PrettyLayer;
use crate::settings::{self, Format, LogSettings, Queue};
use crate::writer::{Flusher, Sink};

/// The queue of [`Builder::with_lossy`] and of `LOG_QUEUE` when no capacity was asked for.
const DEFAULT_QUEUE: usize = 8192;

/// Logging set up in code: [`LogSettings`] from the environment, single overrides, the writer.
///
/// [`settings`](Self::settings) takes every field of a [`LogSettings`]; a `with_*` method
/// overrides one, whatever the order of the calls: `.with_format(Format::Json).settings(s)`
/// keeps JSON.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let settings: dozen_log::LogSettings = dozen_config::from_env()?;
/// let _guard = dozen_log::Builder::new()
///     .settings(settings)
///     .with_service("checkout", env!("CARGO_PKG_VERSION"))
///     .with_non_blocking(8192)
///     .init()?;
/// tracing::info!("started");
/// # Ok(()) }
/// ```
#[must_use]
pub struct Builder {
    settings: LogSettings,
    format: Option<Format>,
    filter: Option<String>,
    service: Option<(String, String)>,
    project_id: Option<String>,
    writer: Option<BoxMakeWriter>,
    queue: Option<usize>,
    lossy: Option<bool>,
    panic_hook: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("settings", &self.settings)
            .field("format", &self.format)
            .field("filter", &self.filter)
            .field("service", &self.service)
            .field("project_id", &self.project_id)
            .field("custom_writer", &self.writer.is_some())
            .field("queue", &self.queue)
            .field("lossy", &self.lossy)
            .field("panic_hook", &self.panic_hook)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// The defaults of [`LogSettings`] (JSON or pretty by terminal, filter `info`, no service
    /// or project), standard output written in place, the panic hook on.
    pub fn new() -> Self {
        Self {
            settings: LogSettings::default(),
            format: None,
            filter: None,
            service: None,
            project_id: None,
            writer: None,
            queue: None,
            lossy: None,
            panic_hook: true,
        }
    }

    /// Takes every field of `settings`, usually loaded from the environment. A value given to a
    /// `with_*` method, before or after, wins over the field.
    pub fn settings(mut self, settings: LogSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The output format, instead of `LOG_FORMAT`.
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Filter directives in `RUST_LOG` syntax, such as `info,my_crate=debug`, instead of
    /// `RUST_LOG`.
    pub fn with_filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// The service name and version for Error Reporting (an empty version is left out), instead
    /// of `SERVICE_NAME` and `SERVICE_VERSION`.
    pub fn with_service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.service = Some((name.into(), version.into()));
        self
    }

    /// The Google Cloud project id for trace correlation, instead of `GOOGLE_CLOUD_PROJECT`.
    pub fn with_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Writes to `make_writer` instead of standard output (one `write_all` per line; a custom
    /// writer costs one allocation per line for its boxed writer). [`Format::Auto`] means JSON
    /// with a custom writer.
    pub fn with_writer<W>(mut self, make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        self.writer = Some(BoxMakeWriter::new(make_writer));
        self
    }

    /// Hands lines to a writer thread through a queue of `capacity` lines. A full queue makes the
    /// logging thread wait (no line is lost) unless [`with_lossy`](Self::with_lossy) is set.
    /// Each queued line costs one allocation; on a machine with few cores writing in place is
    /// often faster. Instead of `LOG_QUEUE=wait`, with the capacity chosen.
    pub fn with_non_blocking(mut self, capacity: usize) -> Self {
        self.queue = Some(capacity);
        self
    }

    /// In the non-blocking mode, drops a line when the queue is full instead of waiting, and
    /// counts it ([`Guard::dropped_lines`]). Sets up a queue of 8192 lines if
    /// [`with_non_blocking`](Self::with_non_blocking) asked for none. `true` is
    /// `LOG_QUEUE=drop`; `false` makes a full queue wait whatever `LOG_QUEUE` says.
    pub fn with_lossy(mut self, lossy: bool) -> Self {
        self.lossy = Some(lossy);
        self
    }

    /// Whether [`init`](Self::init) installs the panic hook (default: yes).
    pub fn with_panic_hook(mut self, install: bool) -> Self {
        self.panic_hook = install;
        self
    }

    /// The filter, from the override or else `RUST_LOG`; an error names where it came from.
    fn env_filter(&self) -> Result<EnvFilter, Error> {
        match &self.filter {
            Some(d) => settings::filter(d, Name::Method("with_filter")),
            None => settings::filter(&self.settings.rust_log, Name::Var("RUST_LOG")),
        }
    }

    /// Resolves the settings and the overrides into the layers and the sink.
    fn parts(self) -> Result<Parts, Error> {
        // Not `validate`: a `with_filter` override replaces RUST_LOG, checked as it is built.
        self.settings.check_project_id()?;
        let filter = self.env_filter()?;
        let (mut sink, custom) = match self.writer {
            Some(w) => (Sink::Custom(Arc::new(w)), true),
            None => (Sink::Stdout, false),
        };
        // `with_non_blocking` and `with_lossy` win over `LOG_QUEUE`.
        let lossy = self.lossy.unwrap_or(self.settings.log_queue == Queue::Drop);
        let queue = match self.queue {
            Some(capacity) => Some(capacity),
            None if lossy || self.settings.log_queue != Queue::Off => Some(DEFAULT_QUEUE),
            None => None,
        };
        if let Some(capacity) = queue {
            sink = sink.into_queue(capacity, lossy).map_err(Error::spawn)?;
        }
        let pretty = match self.format.unwrap_or(self.settings.log_format) {
            Format::Json => false,
            Format::Pretty => true,
            Format::Auto => !custom && std::io::stdout().is_terminal(),
        };
        let mut json = JsonLayer::new().with_writer(sink.clone());
        let service = match &self.service {
            Some((name, version)) => Some((name.as_str(), version.as_str())),
            None => self.settings.service(),
        };
        if let Some((name, version)) = service {
            json = json.with_service(name, version);
        }
        if let Some(p) = self.project_id.as_deref().or(self.settings.project_id()) {
            json = json.with_project_id(p);
        }
        let ansi = !custom && std::io::stdout().is_terminal();
        let pretty = pretty.then(|| PrettyLayer::new().with_ansi(ansi).with_writer(sink.clone()));
        Ok(Parts {
            filter,
            json,
            pretty,
            sink,
            panic_hook: self.panic_hook,
        })
    }

    /// The filter and the formatting layer, for a subscriber you build yourself, with the
    /// [`Guard`] that flushes them. No panic hook is installed.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, _guard) = dozen_log::Builder::new()
    ///     .with_format(dozen_log::Format::Json)
    ///     .layer()?;
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// # let _ = subscriber;
    /// # Ok::<(), dozen_log::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// An invalid filter (naming `RUST_LOG` when it came from there) or project id, or a writer
    /// thread that cannot start.
    pub fn layer<S>(self) -> Result<(impl Layer<S> + Send + Sync + 'static, Guard), Error>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        let parts = self.parts()?;
        let resolved = parts.format();
        // One boxed layer, not `Option`s: a `None` layer joined with `and_then` (rather than
        // added to a subscriber with `with`) turns every event away through its level hint.
        let format: Box<dyn Layer<S> + Send + Sync> = match parts.pretty {
            Some(p) => Box::new(p),
            None => Box::new(parts.json),
        };
        let layer = parts.filter.and_then(format);
        Ok((layer, Guard::new(Flusher { sink: parts.sink }, resolved)))
    }

    /// Installs the subscriber as the global default and, unless turned off, the panic hook.
    ///
    /// # Errors
    ///
    /// An invalid filter (naming `RUST_LOG` when it came from there) or project id, a writer
    /// thread that cannot start, or a global subscriber that is already set.
    pub fn init(self) -> Result<Guard, Error> {
        let parts = self.parts()?;
        let is_pretty = parts.pretty.is_some();
        let resolved = parts.format();
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
        tracing::subscriber::set_global_default(subscriber).map_err(|_| Error::already_set())?;
        log_bridge::install(max_level);
        if parts.panic_hook {
            // In the pretty format the hook's masked report on standard error is the readable
            // one; the hook also makes sure the lines logged before the panic are out first.
            panic::install(config, sink.clone(), !is_pretty);
        }
        Ok(Guard::new(Flusher { sink }, resolved))
    }
}

/// What a builder resolves into.
impl Parts {
    /// The format in effect: [`Format::Auto`] resolved.
    fn format(&self) -> Format {
        if self.pretty.is_some() {
            Format::Pretty
        } else {
            Format::Json
        }
    }
}

struct Parts {
    filter: EnvFilter,
    json: JsonLayer<Sink>,
    pretty: Option<PrettyLayer<Sink>>,
    sink: Sink,
    panic_hook: bool,
}
