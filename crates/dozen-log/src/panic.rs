//! The panic hook: one CRITICAL line in the Error Reporting shape before the process dies.

use std::io::Write as _;
use std::panic::PanicHookInfo;
use std::sync::Arc;

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::cloud::Severity;
use crate::escape::{escape_into, push_json_str};
use crate::json::{Config, Head, with_scratch};
use crate::writer::{FLUSH_TIMEOUT, Sink, is_helper, is_writing};

/// Installs the hook (writing the JSON line when `json`, flushing in any case), chaining to the
/// one installed before.
///
/// The hook never waits on a lock the panicking thread may hold, and never longer than
/// [`FLUSH_TIMEOUT`]: span fields are formatted before a span's lock is taken (so a panicking
/// `Debug` holds none), the line goes out through [`Sink::write_and_flush_within`], and when
/// the writer itself panicked (it may hold its own lock) the line goes to standard error
/// instead. A helper thread's own panic is left to the previous hook.
pub(crate) fn install(config: Arc<Config>, sink: Sink, json: bool) {
    let previous = std::panic::take_hook();
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
        previous(info);
    }));
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
