//! The pretty format never hands a control character to the terminal: ANSI escapes and line
//! breaks in a message, a field value, a `Debug` or `Display` output or an error chain are
//! shown escaped (`\u{1b}`, `\n`), so a log line can neither recolour the terminal nor forge
//! another line. That holds for span fields and the request line too, DEL and the C1 controls
//! included, and the request line's URL loses its secret query values as in JSON.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::Capture;
use crate::child::{child, read_all};

fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_180_000)
}

struct Raw;

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("raw\x1b[2Jdebug\u{9b}31m")
    }
}

#[derive(Debug)]
struct Evil;

impl fmt::Display for Evil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bad\x1b]0;title\x07error")
    }
}

impl std::error::Error for Evil {}

#[test]
fn control_characters_are_escaped_in_the_pretty_format() {
    let capture = Capture::default();
    let layer = dozen_log::pretty_layer()
        .with_ansi(false)
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("req", path = "/a\x1b[31m");
        let _e = span.enter();
        tracing::info!(
            field = "v\x1b[1m",
            debug = ?Raw,
            shown = %"disp\x1b[4m",
            error = &Evil as &dyn std::error::Error,
            "hello \x1b[31mred\r\n18:00:00.000 ERROR forged line"
        );
    });
    let out = capture.take();
    let body = out.strip_suffix('\n').unwrap();
    assert!(
        !body.chars().any(char::is_control),
        "a control character reached the terminal: {out:?}"
    );
    assert!(
        out.contains("hello \\u{1b}[31mred\\r\\n18:00:00.000"),
        "{out:?}"
    );
    assert!(out.contains("raw\\u{1b}[2Jdebug\\u{9b}31m"), "{out:?}");
    assert!(out.contains("disp\\u{1b}[4m"), "{out:?}");
    assert!(out.contains("bad\\u{1b}]0;title\\u{7}error"), "{out:?}");
}

/// Written around the child's log lines, to tell them from the test harness's.
const BEGIN: &str = "--- begin ---\n";
const END: &str = "--- end ---\n";

/// The child role `pretty-hostile`: hostile values where the pretty format once printed them
/// raw, a span field and an application's own request fields (in dozen-log's names and in
/// tracing-stackdriver's).
pub(crate) fn pretty_hostile() {
    use std::io::Write as _;
    let _guard = crate::child::from_env().init().unwrap();
    std::io::stdout().write_all(BEGIN.as_bytes()).unwrap();
    let span = tracing::info_span!("upstream", host = "a\u{7f}b\u{9b}31mRED\u{85}c");
    span.in_scope(|| tracing::info!("calling"));
    tracing::info!(
        httpRequest.requestMethod = "GET",
        httpRequest.requestUrl =
            "/callback?access_token=SECRETTOKEN123&x=1\n12:00:00.000  INFO forged: line\x1b[31m",
        httpRequest.status = 200,
    );
    // tracing-stackdriver's names for the same fields.
    tracing::info!(
        http_request.request_method = "POST",
        http_request.request_url = "/reset\r\x1b[2K?token=SECRETTOKEN123",
        http_request.status = 302,
        "reset"
    );
    std::io::stdout().write_all(END.as_bytes()).unwrap();
}

#[test]
fn span_fields_and_request_lines_reach_a_real_terminal_escaped() {
    let mut process = child("pretty-hostile", &[("LOG_FORMAT", "pretty")])
        .spawn()
        .unwrap();
    let stdout = read_all(process.stdout.take());
    let stderr = read_all(process.stderr.take());
    assert!(process.wait().unwrap().success(), "{stderr}");
    let (_, rest) = stdout
        .split_once(BEGIN)
        .unwrap_or_else(|| panic!("{stdout:?}"));
    let (lines, _) = rest.split_once(END).unwrap_or_else(|| panic!("{stdout:?}"));
    assert_eq!(lines.lines().count(), 3, "{lines:?}");
    assert!(!lines.contains("SECRETTOKEN123"), "{lines:?}");
    assert!(lines.contains("access_token=***&x=1\\n12:00"), "{lines:?}");
    assert!(
        lines.contains("a\\u{7f}b\\u{9b}31mRED\\u{85}c"),
        "{lines:?}"
    );
    assert!(lines.contains("line\\u{1b}[31m 200\n"), "{lines:?}");
    assert!(
        lines.contains("POST /reset\\r\\u{1b}[2K?token=*** 302\n"),
        "{lines:?}"
    );
    for line in lines.lines() {
        // Only the colours the format itself paints an INFO line with.
        let mut bare = line.to_owned();
        for own in ["\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[32m"] {
            bare = bare.replace(own, "");
        }
        assert!(
            !bare.chars().any(char::is_control),
            "a control character reached the terminal: {line:?}"
        );
    }
}
