//! The Cloud Logging JSON layer.

mod line;
mod scratch;

use std::fmt;
use std::io::{self, Write as _};
use std::sync::Arc;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::cloud::Severity;
use crate::spans::{for_each_stored, record_new_span, record_span_values};

pub(crate) use line::{Config, Head};
pub(crate) use scratch::with_scratch;

/// A [`tracing_subscriber::Layer`] that writes each event as one Cloud Logging JSON line.
///
/// Made by [`json_layer()`](crate::json_layer); see the [crate docs](crate) for the line format.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let layer = dozen_log::json_layer()
///     .with_service("checkout", "1.4.2")
///     .with_project_id("my-project")
///     .with_writer(std::io::stderr);
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order = 42, "placed"));
/// ```
pub struct JsonLayer<W = fn() -> io::Stdout> {
    make_writer: W,
    config: Arc<Config>,
    /// The subscriber this layer is part of, to ask tracing-opentelemetry for a span's ids.
    #[cfg(feature = "opentelemetry")]
    dispatch: Arc<std::sync::OnceLock<tracing::dispatcher::WeakDispatch>>,
}

impl<W> fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLayer")
            .field("project_id", &self.config.project_id)
            .field("service", &self.config.service)
            .finish_non_exhaustive()
    }
}

impl JsonLayer {
    pub(crate) fn new() -> Self {
        Self {
            make_writer: io::stdout,
            config: Arc::new(Config::new()),
            #[cfg(feature = "opentelemetry")]
            dispatch: Arc::default(),
        }
    }
}

impl<W> JsonLayer<W> {
    /// Writes lines to `make_writer` instead of standard output. The layer calls `write_all`
    /// once per line on the writer it gets from `make_writer`.
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        JsonLayer {
            make_writer,
            config: self.config,
            #[cfg(feature = "opentelemetry")]
            dispatch: self.dispatch,
        }
    }

    /// The Google Cloud project id, used to write `logging.googleapis.com/trace` as
    /// `projects/PROJECT_ID/traces/TRACE_ID`. Without it the bare trace id is written.
    #[must_use]
    pub fn with_project_id(mut self, project_id: impl Into<String>) -> Self {
        let project_id = project_id.into();
        self.config_mut().project_id = (!project_id.is_empty()).then_some(project_id);
        self.config_mut().rebuild();
        self
    }

    /// The service name and version written in the Error Reporting `serviceContext` (an empty
    /// version is left out). Without it the executable's file name is the service.
    #[must_use]
    pub fn with_service(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.config_mut().service = Some((name.into(), version.into()));
        self.config_mut().rebuild();
        self
    }

    /// The clock that stamps `time`, for tests that compare exact lines.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.config_mut().clock = clock;
        self
    }

    /// The size limit of a line, 256 KiB by default (Cloud Logging's limit for an entry); at
    /// least 512 bytes. Every line is within it whatever makes it long: a longer line is cut
    /// down (head strings, then fields one by one, then the message; see the crate docs) and
    /// marked `"dozen.truncated":true`.
    #[must_use]
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.config_mut().max_bytes = max.max(512);
        self.config_mut().rebuild();
        self
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }
}

impl<S, W> tracing_subscriber::Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    #[cfg(feature = "opentelemetry")]
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        record_new_span(attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        record_span_values(id, values, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        with_scratch(|s| {
            s.begin();
            event.record(&mut s.event.cached_recorder(&mut s.keys));
            if s.event.has_operation()
                && let Some(scope) = ctx.event_scope(event)
            {
                // The event's operation members, completed by its spans' (innermost first).
                for_each_stored(scope, |set| s.event.fill_operation_from(set));
            }
            let normalized = crate::log_bridge::normalized_metadata(event);
            let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
            let mut severity = Severity::from_level(meta.level());
            let mut severity_field = None;
            if let Some(at) = s.event.severity {
                let v = s.event.value(&s.event.entries[at]);
                let name = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                if let Some(sev) = name.and_then(Severity::parse) {
                    severity = sev;
                    severity_field = Some(at);
                }
            }
            let report_error = severity >= Severity::Error && s.event.get("error").is_some();
            let event_fields = std::mem::take(&mut s.event);
            let message_field = event_fields.message;
            let log_fields = normalized.is_some();
            s.add(&event_fields, |i, e| {
                Some(i) == message_field
                    || Some(i) == severity_field
                    || (log_fields && crate::log_bridge::FIELDS.contains(&e.key))
            });
            if let Some(scope) = ctx.event_scope(event) {
                s.add_spans(scope);
            }
            let message =
                message_field.map_or("\"\"", |at| event_fields.value(&event_fields.entries[at]));
            let mut head = Head::from_metadata(meta, severity, report_error);
            head.trace = s.trace;
            if normalized.is_none() {
                head.callsite = Some(std::ptr::from_ref(event.metadata()).addr());
            }
            #[cfg(feature = "opentelemetry")]
            if let Some(otel) = crate::otel::event_trace(event, &ctx, &self.dispatch) {
                head.trace = Some(otel);
            }
            self.config.assemble(&head, message, s);
            s.event = event_fields;
            crate::mask::mask_line(&mut s.out);
            crate::writer::while_writing(|| {
                let mut w = self.make_writer.make_writer_for(meta);
                let _ = w.write_all(s.out.as_bytes());
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::MAX_LINE_BYTES;

    #[test]
    fn buffers_grown_by_a_huge_line_do_not_stay_grown() {
        use tracing_subscriber::prelude::*;

        let layer = JsonLayer::new().with_writer(io::sink);
        let huge = "h".repeat(3 * MAX_LINE_BYTES);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(a = huge.as_str(), labels.b = huge.as_str(), "{huge}");
        });
        with_scratch(|s| {
            for (name, capacity) in [
                ("out", s.out.capacity()),
                ("fields", s.fields.capacity()),
                ("event", s.event.buf.capacity()),
                ("labels", s.labels.capacity()),
                ("http", s.http.capacity()),
            ] {
                assert!(capacity <= MAX_LINE_BYTES, "{name}: {capacity}");
            }
        });
    }
}
