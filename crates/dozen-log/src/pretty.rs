//! The format for people at a terminal: one coloured line per event, spans and fields inline.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::fields::FieldSet;
use crate::spans::{record_new_span, record_span_values};
use crate::time::{Utc, push_fraction, push_hms};

const RESET: &str = "\x1b[0m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const ITALIC: &str = "\x1b[3m";

/// A [`tracing_subscriber::Layer`] that writes events for a person at a terminal:
///
/// ```text
/// 18:02:11.504  INFO request{method="GET" path="/orders/7"}: shop::orders: loaded order id=7 items=3
/// 18:02:11.509  INFO request{trace=4bf92f35}: dozen_log::http: GET /orders/7 200 4.1ms
/// ```
///
/// Time (UTC, milliseconds), level, the spans from the outermost in with their fields, the target
/// and the message, then the event's fields. A request line of
/// [`RequestLogLayer`](crate::http::RequestLogLayer) reads `METHOD PATH STATUS LATENCY`: its
/// other `httpRequest` fields (size, user agent, remote address, ...) stay in the JSON format,
/// and a span's trace id is cut to its first 8 hex digits, enough to tell requests apart. Made by [`Builder`](crate::Builder) when the format
/// is [`Format::Pretty`](crate::Format::Pretty), or by [`pretty_layer()`](crate::pretty_layer).
pub struct PrettyLayer<W = fn() -> io::Stderr> {
    make_writer: W,
    ansi: bool,
    clock: fn() -> SystemTime,
    /// The subscriber this layer is in, to ask tracing-opentelemetry for a span's ids.
    #[cfg(feature = "opentelemetry")]
    dispatch: std::sync::Arc<std::sync::OnceLock<tracing::dispatcher::WeakDispatch>>,
}

impl<W> fmt::Debug for PrettyLayer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrettyLayer")
            .field("ansi", &self.ansi)
            .finish_non_exhaustive()
    }
}

impl PrettyLayer<fn() -> io::Stdout> {
    pub(crate) fn new() -> Self {
        Self {
            make_writer: io::stdout,
            ansi: true,
            clock: SystemTime::now,
            #[cfg(feature = "opentelemetry")]
            dispatch: std::sync::Arc::default(),
        }
    }
}

impl<W> PrettyLayer<W> {
    /// Writes lines to `make_writer` instead of standard output.
    pub fn with_writer<W2>(self, make_writer: W2) -> PrettyLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        PrettyLayer {
            make_writer,
            ansi: self.ansi,
            clock: self.clock,
            #[cfg(feature = "opentelemetry")]
            dispatch: self.dispatch,
        }
    }

    /// Colours on (the default) or off.
    #[must_use]
    pub fn with_ansi(mut self, ansi: bool) -> Self {
        self.ansi = ansi;
        self
    }

    /// The clock that stamps each line, for tests that compare exact lines.
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    fn paint(&self, out: &mut String, style: &str, text: &str) {
        if self.ansi {
            out.push_str(style);
            out.push_str(text);
            out.push_str(RESET);
        } else {
            out.push_str(text);
        }
    }
}

fn level_style(level: &Level) -> (&'static str, &'static str) {
    match *level {
        Level::TRACE => ("\x1b[35m", "TRACE"),
        Level::DEBUG => ("\x1b[34m", "DEBUG"),
        Level::INFO => ("\x1b[32m", " INFO"),
        Level::WARN => ("\x1b[33m", " WARN"),
        _ => ("\x1b[1;31m", "ERROR"),
    }
}

impl<S, W> tracing_subscriber::Layer<S> for PrettyLayer<W>
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
        let normalized = crate::log_bridge::normalized_metadata(event);
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        let mut out = String::with_capacity(256);
        let now = Utc::from_system_time((self.clock)());
        let mut time = String::with_capacity(12);
        push_hms(&mut time, &now);
        time.push('.');
        push_fraction(&mut time, now.nanos, 3);
        self.paint(&mut out, DIM, &time);
        out.push(' ');
        let (style, name) = level_style(meta.level());
        self.paint(&mut out, style, name);
        out.push(' ');
        // With OpenTelemetry, its trace id, as the JSON format writes it.
        #[cfg(feature = "opentelemetry")]
        let otel = crate::otel::event_trace(event, &ctx, &self.dispatch);
        #[cfg(not(feature = "opentelemetry"))]
        let otel: Option<crate::fields::TraceParts> = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                self.paint(&mut out, BOLD, span.name());
                let ext = span.extensions();
                if let Some(set) = ext.get::<FieldSet>() {
                    let has_fields = !set.entries.is_empty() || set.trace().is_some();
                    if has_fields {
                        self.paint(&mut out, BOLD, "{");
                        let mut sep = "";
                        for e in &set.entries {
                            out.push_str(sep);
                            self.paint(&mut out, ITALIC, e.key);
                            out.push('=');
                            // JSON-escaped, which leaves DEL and the C1 controls as they are.
                            let _ = NoControl::new(&mut out).write_str(set.value(e));
                            sep = " ";
                        }
                        if let Some(t) = set.trace() {
                            out.push_str(sep);
                            self.paint(&mut out, ITALIC, "trace");
                            out.push('=');
                            let mut hex = String::with_capacity(32);
                            let id = otel.as_ref().map_or(&t.trace_id, |o| &o.trace_id);
                            crate::trace::push_hex(&mut hex, id);
                            out.push_str(&hex[..SHORT_TRACE]);
                        }
                        self.paint(&mut out, BOLD, "}");
                    }
                }
                out.push_str(": ");
            }
        }
        // A `log` record's target is any text.
        let mut escaped = String::new();
        let target = if has_control(meta.target()) {
            let _ = NoControl::new(&mut escaped).write_str(meta.target());
            &escaped
        } else {
            meta.target()
        };
        self.paint(&mut out, DIM, target);
        out.push_str(": ");
        let mut visitor = PrettyFields {
            out: &mut out,
            ansi: self.ansi,
            first: true,
            skip_log_fields: normalized.is_some(),
            message: None,
            request: Request::default(),
        };
        event.record(&mut visitor);
        let (message, request) = (visitor.message, visitor.request);
        if let Some(line) = request.line() {
            // The request log's own message, `METHOD URL STATUS`, said for people.
            match message {
                Some(range) => out.replace_range(range, &line),
                None => out.push_str(&line),
            }
        }
        out.push('\n');
        crate::mask::mask_line(&mut out);
        crate::writer::while_writing(|| {
            let _ = self
                .make_writer
                .make_writer_for(meta)
                .write_all(out.as_bytes());
        });
    }
}

/// How many hex digits of a trace id the terminal shows.
const SHORT_TRACE: usize = 8;

/// The prefix of the request log's fields, which the terminal leaves to JSON.
const HTTP_REQUEST: &str = "httpRequest.";

struct PrettyFields<'a> {
    out: &'a mut String,
    ansi: bool,
    first: bool,
    /// The event came from the `log` crate: its `log.*` fields are in the metadata already.
    skip_log_fields: bool,
    /// Where the message stands in `out`, once written.
    message: Option<std::ops::Range<usize>>,
    /// What the request log's `httpRequest.*` fields said, if the event has them.
    request: Request,
}

/// The request log's fields that the terminal shows: `METHOD PATH STATUS LATENCY`.
#[derive(Default)]
struct Request {
    method: Option<String>,
    url: Option<String>,
    status: Option<String>,
    /// As the request log writes it (`0.002800s`).
    latency: Option<String>,
}

impl Request {
    /// `POST /todos 201 2.8ms`, if the event is a request log line: the URL without its secrets
    /// (as the JSON format writes it), control characters escaped.
    fn line(&self) -> Option<String> {
        let (Some(method), Some(url), Some(status)) = (&self.method, &self.url, &self.status)
        else {
            return None;
        };
        let url = crate::stackdriver::redact_url(url);
        // An absolute URL is shown from its path: the host is the terminal's own server. A
        // path is shown whole, a URL inside it (`/login?next=https://app/`) included.
        let path = match url.split_once("://") {
            Some((_, rest)) if dozen_redact::starts_with_url(&url) => {
                rest.find('/').map_or("/", |i| &rest[i..])
            }
            _ => url.as_ref(),
        };
        let mut line = String::with_capacity(method.len() + path.len() + status.len() + 16);
        let _ = write!(NoControl::new(&mut line), "{method} {path} {status}");
        if let Some(latency) = self.latency.as_deref().and_then(human_latency) {
            line.push(' ');
            line.push_str(&latency);
        }
        Some(line)
    }
}

impl PrettyFields<'_> {
    /// Whether the field is left out of the line: a `log` record's own fields, or the request
    /// log's `httpRequest.*` (or tracing-stackdriver's `http_request.*`; method, URL, status
    /// and latency make the message).
    fn skipped(&mut self, field: &Field, value: &dyn fmt::Display) -> bool {
        let name = field.name();
        if self.skip_log_fields && crate::log_bridge::FIELDS.contains(&name) {
            return true;
        }
        // tracing-stackdriver's names too, as the JSON format reads them.
        let Some(key) = name.strip_prefix(HTTP_REQUEST).or_else(|| {
            crate::stackdriver::http_request_key(name)
                .and_then(|key| key.strip_prefix(HTTP_REQUEST))
        }) else {
            return false;
        };
        let slot = match key {
            "requestMethod" => &mut self.request.method,
            "requestUrl" => &mut self.request.url,
            "status" => &mut self.request.status,
            "latency" => &mut self.request.latency,
            _ => return true,
        };
        *slot = Some(value.to_string());
        true
    }
}

/// A request log latency (`0.002800s`) for people: `850µs`, `2.8ms`, `120ms`, `1.25s`.
fn human_latency(latency: &str) -> Option<String> {
    let secs: f64 = latency.strip_suffix('s')?.parse().ok()?;
    Some(if secs < 0.001 {
        format!("{:.0}µs", secs * 1e6)
    } else if secs < 0.1 {
        format!("{:.1}ms", secs * 1e3)
    } else if secs < 1.0 {
        format!("{:.0}ms", secs * 1e3)
    } else {
        format!("{secs:.2}s")
    })
}

impl PrettyFields<'_> {
    fn key(&mut self, field: &Field) {
        if !self.first {
            self.out.push(' ');
        }
        self.first = false;
        if self.ansi {
            self.out.push_str(ITALIC);
            self.out.push_str(field.name());
            self.out.push_str(RESET);
        } else {
            self.out.push_str(field.name());
        }
        self.out.push('=');
    }
}

impl Visit for PrettyFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.skipped(field, &value) {
            return;
        }
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.key(field);
            let _ = write!(NoControl::new(self.out), "{value:?}");
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        self.key(field);
        let _ = write!(NoControl::new(self.out), "{value}");
        let mut source = value.source();
        while let Some(s) = source {
            let _ = write!(NoControl::new(self.out), ": {s}");
            source = s.source();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.skipped(field, &format_args!("{value:?}")) {
            return;
        }
        if field.name() == "message" {
            if !self.first {
                self.out.push(' ');
            }
            self.first = false;
            let start = self.out.len();
            let _ = write!(NoControl::new(self.out), "{value:?}");
            self.message = Some(start..self.out.len());
        } else {
            self.key(field);
            let _ = write!(NoControl::new(self.out), "{value:?}");
        }
    }
}

/// Whether `s` holds a control character (below 0x20, DEL, or a C1 control).
fn has_control(s: &str) -> bool {
    maybe_control(s) && s.chars().any(char::is_control)
}

/// Whether `s` may hold a control character: a byte below 0x20, 0x7f (DEL), or any byte of a
/// character beyond ASCII (a C1 control is one; for the others [`has_control`] looks again).
/// Eight bytes at a time, as every value of every line passes here.
fn maybe_control(s: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = s.as_bytes().chunks_exact(8);
    for word in &mut words {
        let w = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        // A byte below 0x20 borrows into its high bit, and only such a byte borrows at all; a
        // byte at or above 0x7f has its high bit set once 1 is added, and only 0xff carries.
        let below = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let above = (w | w.wrapping_add(ONES)) & HIGH;
        if below | above != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| !(0x20..0x7f).contains(&b))
}

/// A `fmt::Write` adapter that shows control characters escaped (`\n`, `\r`, `\t`, else
/// `\u{1b}`), so that nothing logged can move the cursor, recolour the terminal or start a
/// line of its own. The panic report uses it too, keeping line feeds and tabs.
pub(crate) struct NoControl<'a> {
    out: &'a mut String,
    keep_lines: bool,
}

impl<'a> NoControl<'a> {
    /// Every control character escaped.
    pub(crate) fn new(out: &'a mut String) -> Self {
        Self {
            out,
            keep_lines: false,
        }
    }

    /// Line feeds and tabs kept as they are, every other control character escaped: for a
    /// text read as lines of its own, such as a panic's payload (`assert_eq!`'s has several).
    pub(crate) fn keeping_lines(out: &'a mut String) -> Self {
        Self {
            out,
            keep_lines: true,
        }
    }
}

impl fmt::Write for NoControl<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !has_control(s) {
            self.out.push_str(s);
            return Ok(());
        }
        for c in s.chars() {
            match c {
                '\n' | '\t' if self.keep_lines => self.out.push(c),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(self.out, "\\u{{{:x}}}", u32::from(c));
                }
                c => self.out.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeping_lines_escapes_every_control_character_but_line_feeds_and_tabs() {
        let text = "id \u{1b}[31mred\u{1b}[0m\rfake\u{7}\u{7f}\u{9b}2J\nleft:\t1 \u{e9}";
        let mut kept = String::new();
        let _ = NoControl::keeping_lines(&mut kept).write_str(text);
        assert_eq!(
            kept,
            "id \\u{1b}[31mred\\u{1b}[0m\\rfake\\u{7}\\u{7f}\\u{9b}2J\nleft:\t1 \u{e9}"
        );
        let mut escaped = String::new();
        let _ = NoControl::new(&mut escaped).write_str(text);
        assert_eq!(
            escaped,
            "id \\u{1b}[31mred\\u{1b}[0m\\rfake\\u{7}\\u{7f}\\u{9b}2J\\nleft:\\t1 \u{e9}"
        );
    }

    /// What [`maybe_control`] must answer, a byte at a time.
    fn slow(s: &str) -> bool {
        s.bytes().any(|b| !(0x20..0x7f).contains(&b))
    }

    #[test]
    fn every_byte_at_every_place_of_a_word_is_seen() {
        for c in (0..=0x7f_u8)
            .map(char::from)
            .chain(['\u{80}', '\u{9b}', '\u{9f}', 'é', '中'])
        {
            for len in 0..20 {
                for at in 0..=len {
                    let text: String = (0..len).map(|i| if i == at { c } else { 'a' }).collect();
                    assert_eq!(maybe_control(&text), slow(&text), "{text:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_check_answers_as_the_slow_one(s in "\\PC{0,40}|[\\x00-\\u{a0}]{0,40}") {
            proptest::prop_assert_eq!(maybe_control(&s), slow(&s));
            proptest::prop_assert_eq!(has_control(&s), s.chars().any(char::is_control));
        }
    }
}
