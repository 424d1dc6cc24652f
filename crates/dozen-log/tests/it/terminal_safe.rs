//! The pretty format never hands a control character to the terminal: ANSI escapes and line
//! breaks in a message, a field value, a `Debug` or `Display` output or an error chain are
//! shown escaped (`\u{1b}`, `\n`), so a log line can neither recolour the terminal nor forge
//! another line.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::Capture;

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
