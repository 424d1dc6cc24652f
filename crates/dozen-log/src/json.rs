//! The Cloud Logging JSON layer.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write as _};
use std::sync::Arc;
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::fields::{Entry, FieldSet, Kind, TraceParts, escape_into, push_json_str};
use crate::time::SecondsCache;
use crate::trace::push_hex;

/// The largest line written: Cloud Logging accepts entries up to 256 KB.
pub(crate) const MAX_LINE_BYTES: usize = 256 * 1024;

/// The `@type` that makes Error Reporting pick an entry up.
const REPORTED_ERROR_EVENT: &str =
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";

/// Cloud Logging severities, in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Severity {
    Default,
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Severity {
    const ALL: [Self; 9] = [
        Self::Default,
        Self::Debug,
        Self::Info,
        Self::Notice,
        Self::Warning,
        Self::Error,
        Self::Critical,
        Self::Alert,
        Self::Emergency,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Notice => "NOTICE",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
            Self::Critical => "CRITICAL",
            Self::Alert => "ALERT",
            Self::Emergency => "EMERGENCY",
        }
    }

    pub(crate) fn from_level(level: &Level) -> Self {
        match *level {
            Level::TRACE | Level::DEBUG => Self::Debug,
            Level::INFO => Self::Info,
            Level::WARN => Self::Warning,
            _ => Self::Error,
        }
    }

    /// A severity name, in any case.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.name().eq_ignore_ascii_case(s))
    }
}

/// Keys the JSON line owns. A user field with one of these names is written as `field.<name>`.
pub(crate) fn is_reserved(key: &str) -> bool {
    matches!(
        key,
        "severity"
            | "message"
            | "time"
            | "target"
            | "httpRequest"
            | "@type"
            | "serviceContext"
            | "context"
            | "dozen.truncated"
    ) || key.starts_with("logging.googleapis.com/")
}

/// The prefix of a renamed user field.
const RENAMED_PREFIX: &str = "field.";

/// What the layer writes besides the event: project, service, clock, size limit.
#[derive(Clone)]
pub(crate) struct Config {
    /// `projects/P/traces/`, JSON-escaped, or empty without a project id.
    trace_prefix: String,
    /// `"serviceContext":{...}`, precomputed.
    service_context: String,
    /// The same with the name and the version cut for a truncated line.
    service_context_cut: String,
    service: Option<(String, String)>,
    project_id: Option<String>,
    pub(crate) clock: fn() -> SystemTime,
    max_bytes: usize,
}

impl Config {
    fn new() -> Self {
        let mut c = Self {
            trace_prefix: String::new(),
            service_context: String::new(),
            service_context_cut: String::new(),
            service: None,
            project_id: None,
            clock: SystemTime::now,
            max_bytes: MAX_LINE_BYTES,
        };
        c.rebuild();
        c
    }

    fn rebuild(&mut self) {
        self.trace_prefix.clear();
        if let Some(p) = &self.project_id {
            self.trace_prefix.push_str("projects/");
            escape_into(&mut self.trace_prefix, p);
            self.trace_prefix.push_str("/traces/");
        }
        let default_name;
        let (name, version) = match &self.service {
            Some((name, version)) => (name.as_str(), version.as_str()),
            None => {
                default_name = default_service_name();
                (default_name.as_str(), "")
            }
        };
        let cap = self.head_cap();
        self.service_context = service_context(name, version);
        self.service_context_cut =
            service_context(cut_for_json(name, cap), cut_for_json(version, cap));
    }
}

/// `"serviceContext":{"service":NAME,"version":VERSION}` (no version when it is empty).
fn service_context(name: &str, version: &str) -> String {
    let mut s = String::with_capacity(40 + name.len() + version.len());
    s.push_str("\"serviceContext\":{\"service\":");
    push_json_str(&mut s, name);
    if !version.is_empty() {
        s.push_str(",\"version\":");
        push_json_str(&mut s, version);
    }
    s.push('}');
    s
}

/// The executable's file name, the service name when none is configured.
fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
}

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

/// Per-thread buffers reused by every event, so a line costs no allocation once warm.
pub(crate) struct Scratch {
    event: FieldSet,
    fields: String,
    field_ends: Vec<usize>,
    labels: String,
    label_count: usize,
    http: String,
    seen: Vec<(bool, &'static str)>,
    seen_labels: Vec<&'static str>,
    seen_http: Vec<&'static str>,
    trace: Option<TraceParts>,
    time: SecondsCache,
    pub(crate) out: String,
}

impl Scratch {
    pub(crate) const fn new() -> Self {
        Self {
            event: FieldSet::new(),
            fields: String::new(),
            field_ends: Vec::new(),
            labels: String::new(),
            label_count: 0,
            http: String::new(),
            seen: Vec::new(),
            seen_labels: Vec::new(),
            seen_http: Vec::new(),
            trace: None,
            time: SecondsCache::new(),
            out: String::new(),
        }
    }

    pub(crate) fn begin(&mut self) {
        self.event.clear();
        self.fields.clear();
        self.field_ends.clear();
        self.labels.clear();
        self.label_count = 0;
        self.http.clear();
        self.seen.clear();
        self.seen_labels.clear();
        self.seen_http.clear();
        self.trace = None;
        self.out.clear();
    }

    /// Keeps a huge line's buffers from living on in every thread.
    fn end(&mut self) {
        const KEEP: usize = 64 * 1024;
        for s in [
            &mut self.out,
            &mut self.fields,
            &mut self.event.buf,
            &mut self.labels,
            &mut self.http,
        ] {
            if s.capacity() > 4 * KEEP {
                s.clear();
                s.shrink_to(KEEP);
            }
        }
    }

    /// Adds the fields of one field set (the event's first, then spans from the innermost out);
    /// the first of two equal keys wins.
    fn add(&mut self, set: &FieldSet, skip: &[&str]) {
        for e in &set.entries {
            if skip.contains(&e.key) {
                continue;
            }
            let value = set.value(e);
            match e.kind {
                Kind::Plain => self.add_plain(e, value),
                Kind::Label => {
                    let sub = &e.key["labels.".len()..];
                    if self.label_count >= 64 || self.seen_labels.contains(&e.key) {
                        continue;
                    }
                    self.seen_labels.push(e.key);
                    self.label_count += 1;
                    push_member(&mut self.labels, sub, value);
                }
                Kind::Http => {
                    let sub = &e.key["httpRequest.".len()..];
                    if self.seen_http.contains(&e.key) {
                        continue;
                    }
                    self.seen_http.push(e.key);
                    push_member(&mut self.http, sub, value);
                }
            }
        }
        if self.trace.is_none() {
            self.trace = set.trace();
        }
    }

    fn add_plain(&mut self, e: &Entry, value: &str) {
        let renamed = e.reserved;
        let dup = self.seen.iter().any(|&(r, k)| match (r, renamed) {
            (false, false) | (true, true) => k == e.key,
            (true, false) => e.key.strip_prefix(RENAMED_PREFIX) == Some(k),
            (false, true) => k.strip_prefix(RENAMED_PREFIX) == Some(e.key),
        });
        if dup {
            return;
        }
        self.seen.push((renamed, e.key));
        self.fields.push_str(",\"");
        if renamed {
            self.fields.push_str(RENAMED_PREFIX);
        }
        escape_into(&mut self.fields, e.key);
        self.fields.push_str("\":");
        self.fields.push_str(value);
        self.field_ends.push(self.fields.len());
    }

    /// Adds the fields and trace context of every span in `scope`, innermost first.
    pub(crate) fn add_spans<'a, R: LookupSpan<'a> + 'a>(
        &mut self,
        scope: impl Iterator<Item = SpanRef<'a, R>>,
    ) {
        for span in scope {
            let ext = span.extensions();
            if let Some(set) = ext.get::<FieldSet>() {
                self.add(set, &[]);
            }
        }
    }
}

fn push_member(out: &mut String, key: &str, value: &str) {
    out.push_str(",\"");
    escape_into(out, key);
    out.push_str("\":");
    out.push_str(value);
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// Runs `f` with this thread's scratch buffers, or fresh ones when they are in use (a writer that
/// logs) or gone (thread teardown).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let r = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            let f = f.take().unwrap_or_else(|| unreachable!());
            let r = f(&mut s);
            s.end();
            Some(r)
        }
        Err(_) => None,
    });
    match r {
        Ok(Some(r)) => r,
        _ => {
            let f = f.take().unwrap_or_else(|| unreachable!("f runs once"));
            f(&mut Scratch::new())
        }
    }
}

/// What the first keys of a line say.
pub(crate) struct Head<'a> {
    pub(crate) severity: Severity,
    pub(crate) target: &'a str,
    pub(crate) file: Option<&'a str>,
    pub(crate) line: Option<u32>,
    pub(crate) function: Option<&'a str>,
    /// Adds the Error Reporting shape.
    pub(crate) report_error: bool,
    /// The trace of the innermost span that has one.
    pub(crate) trace: Option<TraceParts>,
}

impl<'a> Head<'a> {
    fn from_metadata(meta: &'a Metadata<'a>, severity: Severity, report_error: bool) -> Self {
        Self {
            severity,
            target: meta.target(),
            file: meta.file(),
            line: meta.line(),
            function: meta.module_path(),
            report_error,
            trace: None,
        }
    }
}

impl Config {
    /// Writes the whole line for `head`, a JSON-string `message` and the fields gathered in `s`.
    pub(crate) fn assemble(&self, head: &Head<'_>, message: &str, s: &mut Scratch) {
        let mut out = std::mem::take(&mut s.out);
        out.clear();
        let mut time = Time {
            now: (self.clock)(),
            cache: std::mem::take(&mut s.time),
        };
        self.assemble_into(
            &mut out, head, &mut time, message, &s.fields, &s.labels, &s.http, false,
        );
        if out.len() > self.max_bytes {
            self.assemble_truncated(&mut out, head, &mut time, message, s);
        }
        s.out = out;
        s.time = time.cache;
    }

    /// The line for a `head`, `message` and fields that together are over the limit: the head's
    /// strings (target, file, function, service) are cut to a sixteenth of the limit each, the
    /// fields that fit are kept in order, then as much of the message as fits. Whatever the
    /// input, the line is at most `max_bytes` long, valid JSON, and marked
    /// `"dozen.truncated":true`.
    fn assemble_truncated(
        &self,
        out: &mut String,
        head: &Head<'_>,
        time: &mut Time,
        message: &str,
        s: &Scratch,
    ) {
        // Registered secrets are masked before anything is cut, so that no cut leaves a part of
        // one that the mask of the whole line would no longer recognise.
        let secrets = dozen_redact::secrets();
        let message = secrets.mask(message);
        let message = message.as_ref();
        let target = secrets.mask(head.target);
        let file = head.file.map(|f| secrets.mask(f));
        let function = head.function.map(|f| secrets.mask(f));
        let cap = self.head_cap();
        let head = Head {
            severity: head.severity,
            target: cut_for_json(&target, cap),
            file: file.as_deref().map(|f| cut_for_json(f, cap)),
            line: head.line,
            function: function.as_deref().map(|f| cut_for_json(f, cap)),
            report_error: head.report_error,
            trace: head.trace,
        };
        // The fixed part: the line without message, fields, labels and httpRequest.
        out.clear();
        self.assemble_into(out, &head, time, "\"\"", "", "", "", true);
        let Some(mut room) = self.max_bytes.checked_sub(out.len()) else {
            self.assemble_minimal(out, head.severity, time, message);
            return;
        };
        // The message keeps at least half of the room when it needs it.
        let reserve = message.len().min(room / 2);
        let mut fields = String::new();
        let mut start = 0;
        for &end in &s.field_ends {
            let field = secrets.mask(&s.fields[start..end]);
            if field.len() + reserve <= room {
                fields.push_str(&field);
                room -= field.len();
            }
            start = end;
        }
        let labels = secrets.mask(&s.labels);
        let http = secrets.mask(&s.http);
        let mut objects = [
            ("logging.googleapis.com/labels", labels.as_ref()),
            ("httpRequest", http.as_ref()),
        ];
        for (key, members) in &mut objects {
            let len = object_len(key, members);
            if len + reserve <= room {
                room -= len;
            } else {
                *members = "";
            }
        }
        let cut = quoted_cut(message, room);
        out.clear();
        self.assemble_into(
            out,
            &head,
            time,
            &cut,
            &fields,
            objects[0].1,
            objects[1].1,
            true,
        );
        if out.len() > self.max_bytes {
            // Not expected (the room was measured), but the limit is a promise.
            self.assemble_minimal(out, head.severity, time, message);
        }
    }

    /// The last resort: severity, as much of the message as fits, time, and the mark.
    fn assemble_minimal(
        &self,
        out: &mut String,
        severity: Severity,
        time: &mut Time,
        message: &str,
    ) {
        let write = |out: &mut String, time: &mut Time, message: &str| {
            out.clear();
            out.push_str("{\"severity\":\"");
            out.push_str(severity.name());
            out.push_str("\",\"message\":");
            out.push_str(message);
            out.push_str(",\"time\":\"");
            time.cache.push(out, time.now);
            out.push_str("\",\"dozen.truncated\":true}\n");
        };
        write(out, time, "\"\"");
        let room = self.max_bytes.saturating_sub(out.len());
        let cut = quoted_cut(message, room);
        write(out, time, &cut);
    }

    /// The most bytes each string of the head may take in a truncated line.
    fn head_cap(&self) -> usize {
        self.max_bytes / 16
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one private function with the pieces of a line"
    )]
    fn assemble_into(
        &self,
        out: &mut String,
        head: &Head<'_>,
        time: &mut Time,
        message: &str,
        fields: &str,
        labels: &str,
        http: &str,
        truncated: bool,
    ) {
        out.push_str("{\"severity\":\"");
        out.push_str(head.severity.name());
        out.push_str("\",\"message\":");
        out.push_str(message);
        out.push_str(",\"time\":\"");
        time.cache.push(out, time.now);
        out.push_str("\",\"target\":");
        push_json_str(out, head.target);
        if head.file.is_some() || head.line.is_some() || head.function.is_some() {
            out.push_str(",\"logging.googleapis.com/sourceLocation\":{");
            let mut sep = "";
            if let Some(file) = head.file {
                out.push_str("\"file\":");
                push_json_str(out, file);
                sep = ",";
            }
            if let Some(line) = head.line {
                out.push_str(sep);
                out.push_str("\"line\":\"");
                out.push_str(itoa::Buffer::new().format(line));
                out.push('"');
                sep = ",";
            }
            if let Some(function) = head.function {
                out.push_str(sep);
                out.push_str("\"function\":");
                push_json_str(out, function);
            }
            out.push('}');
        }
        if let Some(t) = &head.trace {
            out.push_str(",\"logging.googleapis.com/trace\":\"");
            if !truncated || self.trace_prefix.len() <= self.head_cap() {
                out.push_str(&self.trace_prefix);
            }
            push_hex(out, &t.trace_id);
            out.push('"');
            if let Some(span_id) = &t.span_id {
                out.push_str(",\"logging.googleapis.com/spanId\":\"");
                push_hex(out, span_id);
                out.push('"');
            }
            if let Some(sampled) = t.sampled {
                out.push_str(",\"logging.googleapis.com/trace_sampled\":");
                out.push_str(if sampled { "true" } else { "false" });
            }
        }
        out.push_str(fields);
        push_object(out, "logging.googleapis.com/labels", labels);
        push_object(out, "httpRequest", http);
        if head.report_error {
            out.push_str(",\"@type\":\"");
            out.push_str(REPORTED_ERROR_EVENT);
            out.push_str("\",");
            out.push_str(if truncated {
                &self.service_context_cut
            } else {
                &self.service_context
            });
            out.push_str(",\"context\":{\"reportLocation\":{\"filePath\":");
            push_json_str(out, head.file.unwrap_or("<unknown>"));
            out.push_str(",\"lineNumber\":");
            out.push_str(itoa::Buffer::new().format(head.line.unwrap_or(0)));
            out.push_str(",\"functionName\":");
            push_json_str(out, head.function.unwrap_or("<unknown>"));
            out.push_str("}}");
        }
        if truncated {
            out.push_str(",\"dozen.truncated\":true");
        }
        out.push_str("}\n");
    }
}

/// The time of a line and the formatter's cache.
struct Time {
    now: SystemTime,
    cache: SecondsCache,
}

/// The length of `,"key":{members}` (nothing without members).
fn object_len(key: &str, members: &str) -> usize {
    if members.is_empty() {
        0
    } else {
        5 + key.len() + members.len()
    }
}

fn push_object(out: &mut String, key: &str, members: &str) {
    if let Some(members) = members.strip_prefix(',') {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":{");
        out.push_str(members);
        out.push('}');
    }
}

/// The longest prefix of the escaped JSON string content `s` of at most `max` bytes that ends
/// neither inside a UTF-8 character nor inside an escape sequence.
pub(crate) fn cut_escaped(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut last_ok = 0;
    while i < bytes.len() {
        let step = if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') {
                6
            } else {
                2
            }
        } else {
            let mut n = 1;
            while i + n < bytes.len() && !s.is_char_boundary(i + n) {
                n += 1;
            }
            n
        };
        if i + step > max {
            break;
        }
        i += step;
        last_ok = i;
    }
    &s[..last_ok]
}

/// `message` (a JSON string, quotes included) with its content cut to at most `room` bytes.
fn quoted_cut(message: &str, room: usize) -> String {
    let inner = message
        .strip_prefix('"')
        .and_then(|m| m.strip_suffix('"'))
        .unwrap_or("");
    let inner = cut_escaped(inner, room);
    let mut cut = String::with_capacity(inner.len() + 2);
    cut.push('"');
    cut.push_str(inner);
    cut.push('"');
    cut
}

/// The longest prefix of `s`, ending on a character boundary, whose JSON escape is at most
/// `max` bytes long.
fn cut_for_json(s: &str, max: usize) -> &str {
    if s.len() <= max / 6 {
        return s;
    }
    let mut len = 0;
    for (i, c) in s.char_indices() {
        len += match c {
            '"' | '\\' | '\n' | '\r' | '\t' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        };
        if len > max {
            return &s[..i];
        }
    }
    s
}

impl<S, W> tracing_subscriber::Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        record_new_span(attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        record_span_values(id, values, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        with_scratch(|s| {
            s.begin();
            event.record(&mut s.event.recorder(false));
            let normalized = crate::log_bridge::normalized_metadata(event);
            let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
            let mut severity = Severity::from_level(meta.level());
            let mut skip: [&str; 6] = ["message", "", "", "", "", ""];
            if normalized.is_some() {
                skip[2..].copy_from_slice(&crate::log_bridge::FIELDS);
            }
            if let Some(e) = s.event.get("severity") {
                let v = s.event.value(e);
                let name = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                if let Some(sev) = name.and_then(Severity::parse) {
                    severity = sev;
                    skip[1] = "severity";
                }
            }
            let report_error = severity >= Severity::Error && s.event.get("error").is_some();
            let event_fields = std::mem::take(&mut s.event);
            s.add(&event_fields, &skip);
            if let Some(scope) = ctx.event_scope(event) {
                s.add_spans(scope);
            }
            let message = event_fields
                .get("message")
                .map_or("\"\"", |e| event_fields.value(e));
            let mut head = Head::from_metadata(meta, severity, report_error);
            head.trace = s.trace;
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

pub(crate) fn record_new_span<S>(attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    // The values are formatted before the span's lock is taken: a `Debug` that panics must not
    // leave the panic hook waiting on a lock this thread holds.
    let mut set = FieldSet::new();
    attrs.record(&mut set.recorder(true));
    let mut ext = span.extensions_mut();
    if ext.get_mut::<FieldSet>().is_none() {
        ext.insert(set);
    }
}

pub(crate) fn record_span_values<S>(id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    // As in `record_new_span`: no user code runs under the span's lock.
    let mut recorded = FieldSet::new();
    values.record(&mut recorded.recorder(true));
    let mut ext = span.extensions_mut();
    if let Some(set) = ext.get_mut::<FieldSet>() {
        set.merge(&recorded);
    }
}

impl Scratch {
    /// Adds a top-level field written by `value`, unless a span already gave one of that name.
    pub(crate) fn push_field(&mut self, key: &'static str, value: impl FnOnce(&mut String)) {
        if self.seen.iter().any(|&(r, k)| !r && k == key) {
            return;
        }
        self.seen.push((false, key));
        self.fields.push_str(",\"");
        self.fields.push_str(key);
        self.fields.push_str("\":");
        value(&mut self.fields);
        self.field_ends.push(self.fields.len());
    }

    pub(crate) fn trace(&self) -> Option<TraceParts> {
        self.trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_escaped_never_splits_an_escape_or_a_char() {
        fn check(s: &str, max: usize, expected: &str) {
            assert_eq!(cut_escaped(s, max), expected, "{s:?} cut at {max}");
        }
        check("abc", 5, "abc");
        check("abcdef", 3, "abc");
        check("ab\\ncd", 3, "ab");
        check("ab\\ncd", 4, "ab\\n");
        check("a\\u001fb", 5, "a");
        check("a\\u001fb", 7, "a\\u001f");
        check("aé", 2, "a");
        check("aé", 3, "aé");
    }

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

    #[test]
    fn severity_names_parse_in_any_case() {
        assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
        assert_eq!(Severity::parse("Notice"), Some(Severity::Notice));
        assert_eq!(Severity::parse("fatal"), None);
    }
}
