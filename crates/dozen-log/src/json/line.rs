//! One JSON line: the layer's fixed settings ([`Config`]), the head of a line ([`Head`]), the
//! assembly of the pieces gathered in a [`Scratch`], and the cutting of a line over the size
//! limit.

use std::time::SystemTime;

use tracing::Metadata;

use super::scratch::Scratch;
use crate::cloud::{MAX_LINE_BYTES, REPORTED_ERROR_EVENT, Severity};
use crate::escape::{cut_escaped, escape_into, push_json_str};
use crate::fields::TraceParts;
use crate::time::SecondsCache;
use crate::trace::push_hex;

/// What the layer writes besides the event: project, service, clock, size limit.
#[derive(Clone)]
pub(crate) struct Config {
    /// `projects/P/traces/`, JSON-escaped, or empty without a project id.
    trace_prefix: String,
    /// `"serviceContext":{...}`, precomputed.
    service_context: String,
    /// The same with the name and the version cut for a truncated line.
    service_context_cut: String,
    pub(super) service: Option<(String, String)>,
    pub(super) project_id: Option<String>,
    pub(crate) clock: fn() -> SystemTime,
    pub(super) max_bytes: usize,
}

impl Config {
    pub(super) fn new() -> Self {
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

    pub(super) fn rebuild(&mut self) {
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
    /// The address of the event's `'static` metadata, which names its callsite, when `target`,
    /// `file`, `line` and `function` are that metadata's: their part of the line is then kept
    /// in a [`LocationCache`].
    pub(crate) callsite: Option<usize>,
}

impl<'a> Head<'a> {
    pub(super) fn from_metadata(
        meta: &'a Metadata<'a>,
        severity: Severity,
        report_error: bool,
    ) -> Self {
        Self {
            severity,
            target: meta.target(),
            file: meta.file(),
            line: meta.line(),
            function: meta.module_path(),
            report_error,
            trace: None,
            callsite: None,
        }
    }
}

/// The number of callsites whose location part a [`LocationCache`] keeps.
const LOCATION_SLOTS: usize = 64;

/// The `,"target":..,"logging.googleapis.com/sourceLocation":{..}` part of the lines of recent
/// callsites, which is the same for every line of a callsite: one slot per callsite address,
/// direct-mapped.
#[derive(Default)]
pub(crate) struct LocationCache {
    slots: Vec<(usize, String)>,
}

impl LocationCache {
    pub(crate) const fn new() -> Self {
        Self { slots: Vec::new() }
    }

    /// The location part of `head`'s lines, written by `push_location` when not kept.
    fn get(&mut self, callsite: usize, head: &Head<'_>) -> &str {
        if self.slots.is_empty() {
            self.slots.resize_with(LOCATION_SLOTS, Default::default);
        }
        // Metadata is at least 8-byte aligned: the low bits say nothing.
        let slot = &mut self.slots[(callsite >> 3) % LOCATION_SLOTS];
        if slot.0 != callsite || slot.1.is_empty() {
            slot.1.clear();
            push_location(&mut slot.1, head);
            slot.0 = callsite;
        }
        &slot.1
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
        let location = head.callsite.map(|c| s.locations.get(c, head));
        self.assemble_into(
            &mut out, head, &mut time, message, location, &s.fields, &s.labels, &s.http, false,
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
            callsite: None,
        };
        // The fixed part: the line without message, fields, labels and httpRequest.
        out.clear();
        self.assemble_into(out, &head, time, "\"\"", None, "", "", "", true);
        let Some(mut room) = self.max_bytes.checked_sub(out.len()) else {
            self.assemble_minimal(out, head.severity, time, message);
            return;
        };
        // The message keeps at least half of the room when it needs it.
        let reserve = message.len().min(room / 2);
        let mut fields = String::new();
        let mut start = 0;
        for &super::scratch::Written { end, .. } in &s.written {
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
            None,
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

    /// The line of `head`, with `location` (`head`'s part as [`push_location`] writes it), if
    /// given, instead of writing it again.
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
        location: Option<&str>,
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
        out.push('"');
        match location {
            Some(location) => out.push_str(location),
            None => push_location(out, head),
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

/// Appends `,"target":..` and the `logging.googleapis.com/sourceLocation` of `head`.
fn push_location(out: &mut String, head: &Head<'_>) {
    out.push_str(",\"target\":");
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
