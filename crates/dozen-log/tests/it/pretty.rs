//! The terminal format shows time, level, spans with their fields, target, message and fields on
//! one line, and its colours mark the level and can be turned off.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::Capture;

fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_764_180_000, 123_456_789)
}

fn render(ansi: bool, emit: impl FnOnce()) -> String {
    let capture = Capture::default();
    let layer = dozen_log::pretty_layer()
        .with_ansi(ansi)
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    capture.take()
}

#[test]
fn lines_show_time_level_spans_target_message_and_fields() {
    fn check(emit: impl FnOnce(), expected: &str) {
        assert_eq!(render(false, emit), expected);
    }
    check(
        || tracing::info!("plain"),
        "18:00:00.123  INFO it::pretty: plain\n",
    );
    check(
        || {
            let span = tracing::info_span!("request", method = "GET", id = 7);
            let _e = span.enter();
            let inner = tracing::debug_span!("db");
            let _i = inner.enter();
            tracing::warn!(rows = 3, table = "orders", "slow query");
        },
        "18:00:00.123  WARN request{method=\"GET\" id=7}: db: it::pretty: slow query rows=3 table=\"orders\"\n",
    );
    check(
        || tracing::error!(error = &std::fmt::Error as &dyn std::error::Error, "failed"),
        "18:00:00.123 ERROR it::pretty: failed error=an error occurred when formatting an argument\n",
    );
}

#[test]
fn colours_mark_the_level() {
    let out = render(true, || tracing::error!("red"));
    assert!(out.contains("\x1b[1;31mERROR\x1b[0m"), "{out:?}");
    assert!(out.ends_with("red\n"));
}
