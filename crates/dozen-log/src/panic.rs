//! The panic hook: one CRITICAL line in the Error Reporting shape before the process dies.

use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::PanicHookInfo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::cloud::Severity;
use crate::escape::{escape_into, push_json_str};
use crate::json::{Config, Head, with_scratch};
use crate::pretty::NoControl;
use crate::writer::{FLUSH_TIMEOUT, Sink, is_helper, is_writing};

/// Installs the hook: the JSON line when `json`, a flush in any case, then the standard hook's
/// report on standard error, masked ([`report`]).
///
/// The hook never waits on a lock the panicking thread may hold, and never longer than
/// [`FLUSH_TIMEOUT`]: span fields are formatted before a span's lock is taken (so a panicking
/// `Debug` holds none), the line goes out through [`Sink::write_and_flush_within`], and when
/// the writer itself panicked (it may hold its own lock) the line goes to standard error
/// instead. A helper thread's own panic gets the report only.
///
/// Invariant: the payload reaches standard error only masked. So the standard hook is never
/// called: it would print the payload as it is. A hook installed before this one that is not
/// the standard hook (an error reporter's) is still called after the report; what it does with
/// the payload is its own business, and the README says so.
pub(crate) fn install(config: Arc<Config>, sink: Sink, json: bool) {
    let previous = std::panic::take_hook();
    // `take_hook` left the standard hook in place: taking it once more gives the standard
    // hook's box, the same value `previous` is when nobody had set a hook.
    let standard = std::panic::take_hook();
    let previous = (!std::ptr::eq(&raw const *previous, &raw const *standard)).then_some(previous);
    drop(standard);
    std::panic::set_hook(Box::new(move |info| {
        if !is_helper() {
            let line = json.then(|| panic_line(&config, info));
            if is_writing() {
                if let Some(line) = line {
                    let _ = std::io::stderr().write_all(&line);
                }
            } else {
                sink.write_and_flush_within(line, FLUSH_TIMEOUT);
            }
        }
        let _ = std::io::stderr().write_all(report(info).as_bytes());
        if let Some(previous) = &previous {
            previous(info);
        }
    }));
}

/// Whether a report has said how to get a backtrace.
static NOTED: AtomicBool = AtomicBool::new(false);

/// The standard hook's report, masked, its control characters escaped (the payload's and
/// the thread name's; line feeds and tabs kept): `thread '<name>' panicked at <file>:<line>:<column>:`,
/// the payload on the next line, then a backtrace when `RUST_BACKTRACE` (or
/// `RUST_LIB_BACKTRACE`) asks for one, every frame, or the standard hook's note.
fn report(info: &PanicHookInfo<'_>) -> String {
    let mut out = String::with_capacity(256);
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    out.push_str("\nthread '");
    let _ = NoControl::keeping_lines(&mut out).write_str(name);
    let _ = match info.location() {
        Some(l) => writeln!(out, "' panicked at {l}:"),
        None => writeln!(out, "' panicked:"),
    };
    // A payload made of request data must not move a terminal's cursor, change its colours
    // or overwrite the line before it with a carriage return.
    let _ = NoControl::keeping_lines(&mut out).write_str(payload(info));
    out.push('\n');
    // std decides from `RUST_LIB_BACKTRACE` and `RUST_BACKTRACE` whether to
    // capture; this crate reads no variable of its own. A backtrace taken is
    // printed whole (std's `full` form): the short form's trimming depends on
    // which of the variables asked, which only std knows.
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        let _ = write!(out, "stack backtrace:\n{backtrace:#}");
    } else if !NOTED.swap(true, Ordering::Relaxed) {
        // As the standard hook, once per process.
        out.push_str(
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        );
    }
    crate::mask::mask_line(&mut out);
    out
}

/// The panic payload as text (`&str` and `String` payloads; anything else is named as such).
fn payload<'a>(info: &'a PanicHookInfo<'_>) -> &'a str {
    info.payload_as_str().unwrap_or("Box<dyn Any>")
}

/// The CRITICAL line for a panic, masked.
fn panic_line(config: &Config, info: &PanicHookInfo<'_>) -> Vec<u8> {
    let current = tracing::Span::current();
    let location = info.location();
    with_scratch(|s| {
        s.begin();
        if let Some(id) = current.id() {
            tracing::dispatcher::get_default(|d| {
                if let Some(span) = d.downcast_ref::<Registry>().and_then(|r| r.span(&id)) {
                    s.add_spans(span.scope());
                }
            });
        }
        let thread = std::thread::current();
        s.push_field("thread", |out| {
            push_json_str(out, thread.name().unwrap_or("<unnamed>"));
        });
        if let Some(l) = location {
            s.push_field("column", |out| {
                out.push_str(itoa::Buffer::new().format(l.column()));
            });
        }
        let mut message = String::with_capacity(64);
        message.push_str("\"panicked: ");
        escape_into(&mut message, payload(info));
        message.push('"');
        let head = Head {
            severity: Severity::Critical,
            target: "panic",
            file: location.map(|l| l.file()),
            line: location.map(|l| l.line()),
            function: None,
            report_error: true,
            trace: s.trace(),
            callsite: None,
        };
        config.assemble(&head, &message, s);
        crate::mask::mask_line(&mut s.out);
        s.out.as_bytes().to_vec()
    })
}
