//! The JSON line is exactly the documented one, byte for byte (the time fixed through the layer's
//! clock): field types kept, levels mapped to Cloud Logging severities, span fields flattened
//! innermost first, reserved keys renamed and never duplicated, labels and `httpRequest`
//! gathered, trace keys with and without a project, errors with their chain and the Error
//! Reporting shape, and an over-long line cut field by field.

use std::error::Error;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_764_180_000, 123_456_789)
}

const T: &str = "2025-11-26T18:00:00.123456789Z";

/// Runs `emit` under a JSON layer configured by `configure` and compares each line with
/// `expected` after replacing the line numbers (which move with this file) by `LINE`.
fn check(
    configure: impl FnOnce(dozen_log::JsonLayer) -> dozen_log::JsonLayer,
    emit: impl FnOnce(),
    expected: &[&str],
) {
    let capture = Capture::default();
    let layer =
        configure(dozen_log::json_layer().with_clock(fixed_clock)).with_writer(capture.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, emit);
    let out = capture.take();
    let lines: Vec<String> = out
        .lines()
        .map(|l| {
            parse_strict(l).unwrap();
            normalize_lines(l)
        })
        .collect();
    let expected: Vec<String> = expected.iter().map(|e| e.replace("{T}", T)).collect();
    assert_eq!(lines, expected);
    assert!(out.ends_with('\n'));
}

fn normalize_lines(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    for (pat, end) in [("\"line\":\"", '"'), ("\"lineNumber\":", ',')] {
        if let Some(i) = rest.find(pat) {
            let after = &rest[i + pat.len()..];
            let n = after.find(end).unwrap();
            assert!(after[..n].bytes().all(|b| b.is_ascii_digit()), "{line}");
            out.push_str(&rest[..i + pat.len()]);
            out.push_str("LINE");
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    out
}

const LOC: &str = r#""target":"it::golden","logging.googleapis.com/sourceLocation":{"file":"crates/dozen-log/tests/it/golden.rs","line":"LINE","function":"it::golden"}"#;

fn same(l: dozen_log::JsonLayer) -> dozen_log::JsonLayer {
    l
}

#[test]
fn field_types_are_kept() {
    check(
        same,
        || {
            tracing::info!(
                n = -3i64,
                u = 7u64,
                f = 1.5,
                b = true,
                s = "quote \" newline \n tab \t ctl \u{1}",
                d = ?vec![1, 2],
                nan = f64::NAN,
                "hello {}",
                "world"
            );
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"hello world","time":"{{T}}",{LOC},"n":-3,"u":7,"f":1.5,"b":true,"s":"quote \" newline \n tab \t ctl \u0001","d":"[1, 2]","nan":"NaN"}}"#
        )],
    );
}

#[test]
fn levels_map_to_severities() {
    check(
        same,
        || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::warn!("w");
            tracing::error!("e");
            tracing::info!(severity = "notice", "n");
            tracing::error!(severity = "CRITICAL", "c");
            tracing::error!(severity = "Alert", "a");
            tracing::error!(severity = "emergency", "em");
        },
        &[
            &format!(r#"{{"severity":"DEBUG","message":"t","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"DEBUG","message":"d","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"WARNING","message":"w","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"ERROR","message":"e","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"NOTICE","message":"n","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"CRITICAL","message":"c","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"ALERT","message":"a","time":"{{T}}",{LOC}}}"#),
            &format!(r#"{{"severity":"EMERGENCY","message":"em","time":"{{T}}",{LOC}}}"#),
        ],
    );
}

#[test]
fn span_fields_are_flattened_innermost_first() {
    check(
        same,
        || {
            let outer =
                tracing::info_span!("outer", a = 1, b = "outer", late = tracing::field::Empty);
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", b = "inner", c = 2);
            let _i = inner.enter();
            outer.record("late", "recorded");
            tracing::info!(c = 3, "event");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"event","time":"{{T}}",{LOC},"c":3,"b":"inner","a":1,"late":"recorded"}}"#
        )],
    );
}

#[test]
fn reserved_keys_are_renamed_never_duplicated() {
    check(
        same,
        || {
            let span = tracing::info_span!("s", message = "span message", time = 1, target = "x");
            let _s = span.enter();
            tracing::info!(
                time = 2,
                severity = "bogus",
                httpRequest = "flat",
                "logging.googleapis.com/trace" = "mine",
                "m"
            );
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"m","time":"{{T}}",{LOC},"field.time":2,"field.severity":"bogus","field.httpRequest":"flat","field.logging.googleapis.com/trace":"mine","field.message":"span message","field.target":"x"}}"#
        )],
    );
}

#[test]
fn labels_and_http_request_are_gathered() {
    check(
        same,
        || {
            let span = tracing::info_span!("s", labels.tenant = "acme", labels.shard = 3);
            let _s = span.enter();
            tracing::info!(
                labels.shard = 4,
                httpRequest.requestMethod = "GET",
                httpRequest.status = 200,
                httpRequest.latency = "0.012s",
                "served"
            );
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"served","time":"{{T}}",{LOC},"logging.googleapis.com/labels":{{"shard":"4","tenant":"acme"}},"httpRequest":{{"requestMethod":"GET","status":200,"latency":"0.012s"}}}}"#
        )],
    );
}

fn traced_span() -> tracing::Span {
    let span = tracing::info_span!(
        "request",
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
        trace_sampled = tracing::field::Empty,
    );
    let ctx = dozen_log::TraceContext::from_traceparent(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    .unwrap();
    ctx.record(&span);
    span
}

#[test]
fn trace_context_with_and_without_project() {
    let emit = || {
        let span = traced_span();
        let _s = span.enter();
        tracing::info!("traced");
    };
    check(
        |l| l.with_project_id("my-proj"),
        emit,
        &[&format!(
            r#"{{"severity":"INFO","message":"traced","time":"{{T}}",{LOC},"logging.googleapis.com/trace":"projects/my-proj/traces/4bf92f3577b34da6a3ce929d0e0e4736","logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":true}}"#
        )],
    );
    check(
        same,
        emit,
        &[&format!(
            r#"{{"severity":"INFO","message":"traced","time":"{{T}}",{LOC},"logging.googleapis.com/trace":"4bf92f3577b34da6a3ce929d0e0e4736","logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":true}}"#
        )],
    );
}

#[test]
fn malformed_trace_fields_stay_plain_fields() {
    check(
        same,
        || {
            let span =
                tracing::info_span!("s", trace_id = "nope", span_id = 7, trace_sampled = "yes");
            let _s = span.enter();
            tracing::info!("x");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"x","time":"{{T}}",{LOC},"trace_id":"nope","span_id":7,"trace_sampled":"yes"}}"#
        )],
    );
}

/// All-zero ids are invalid in the W3C format: they stay ordinary fields, written as given,
/// rather than vanishing; and a later all-zero `trace_id` does not replace a valid one.
#[test]
fn all_zero_trace_ids_stay_plain_fields() {
    let zeros = "00000000000000000000000000000000";
    check(
        same,
        || {
            let span = tracing::info_span!(
                "s",
                trace_id = "00000000000000000000000000000000",
                span_id = "0000000000000000"
            );
            let _s = span.enter();
            tracing::info!("x");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"x","time":"{{T}}",{LOC},"trace_id":"{zeros}","span_id":"0000000000000000"}}"#
        )],
    );
    check(
        same,
        || {
            let span = tracing::info_span!(
                "s",
                trace_id = tracing::field::Empty,
                span_id = "00f067aa0ba902b7"
            );
            span.record("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
            span.record("trace_id", "00000000000000000000000000000000");
            let _s = span.enter();
            tracing::info!("x");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"x","time":"{{T}}",{LOC},"logging.googleapis.com/trace":"4bf92f3577b34da6a3ce929d0e0e4736","logging.googleapis.com/spanId":"00f067aa0ba902b7","trace_id":"{zeros}"}}"#
        )],
    );
}

#[test]
fn a_trace_id_alone_is_enough() {
    check(
        |l| l.with_project_id("p"),
        || {
            let span = tracing::info_span!("s", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
            let _s = span.enter();
            tracing::info!("x");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"x","time":"{{T}}",{LOC},"logging.googleapis.com/trace":"projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736"}}"#
        )],
    );
}

#[derive(Debug)]
struct Wrapped(&'static str, Option<Box<Wrapped>>);

impl fmt::Display for Wrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for Wrapped {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

#[test]
fn errors_keep_their_chain_and_get_the_error_reporting_shape() {
    let err = Wrapped(
        "loading user failed",
        Some(Box::new(Wrapped(
            "query failed",
            Some(Box::new(Wrapped("connection reset", None))),
        ))),
    );
    check(
        |l| l.with_service("billing", "1.2.3"),
        || {
            let e: &(dyn Error + 'static) = &err;
            tracing::error!(error = e, user = 7, "request failed");
            tracing::warn!(error = e, "only a warning");
        },
        &[
            &format!(
                r#"{{"severity":"ERROR","message":"request failed","time":"{{T}}",{LOC},"error":{{"message":"loading user failed","sources":["query failed","connection reset"]}},"user":7,"@type":"type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent","serviceContext":{{"service":"billing","version":"1.2.3"}},"context":{{"reportLocation":{{"filePath":"crates/dozen-log/tests/it/golden.rs","lineNumber":LINE,"functionName":"it::golden"}}}}}}"#
            ),
            &format!(
                r#"{{"severity":"WARNING","message":"only a warning","time":"{{T}}",{LOC},"error":{{"message":"loading user failed","sources":["query failed","connection reset"]}}}}"#
            ),
        ],
    );
}

#[test]
fn oversized_lines_are_cut_field_by_field() {
    let big = "x".repeat(2000);
    let small_message = "short";
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_clock(fixed_clock)
        .with_max_line_bytes(1024)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(
            keep = 1,
            big = big.as_str(),
            after = "kept",
            "{}",
            small_message
        );
        tracing::info!(keep = 2, "{}", big);
    });
    let out = capture.take();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert!(line.len() < 1024, "{} bytes", line.len());
        let v = parse_strict(line).unwrap();
        assert_eq!(v["dozen.truncated"], true);
    }
    let first = parse_strict(lines[0]).unwrap();
    assert_eq!(first["message"], "short");
    assert_eq!(first["keep"], 1);
    assert_eq!(first["after"], "kept");
    assert!(first.get("big").is_none());
    let second = parse_strict(lines[1]).unwrap();
    let message = second["message"].as_str().unwrap();
    assert!(
        message.len() > 500 && message.len() < 1000,
        "{}",
        message.len()
    );
    assert_eq!(second["keep"], 2);
}

#[test]
fn a_line_at_the_limit_is_not_marked() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_max_line_bytes(1024)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(field = "small", "fits");
    });
    let v = parse_strict(capture.take().trim_end()).unwrap();
    assert!(v.get("dozen.truncated").is_none());
}

#[test]
fn a_field_recorded_again_and_again_keeps_its_last_value() {
    check(
        same,
        || {
            let span = tracing::info_span!(
                "s",
                first = "kept",
                n = tracing::field::Empty,
                text = tracing::field::Empty
            );
            for i in 0..5000u64 {
                span.record("n", i);
                span.record("text", "a value long enough to make garbage pile up");
            }
            let _s = span.enter();
            tracing::info!("x");
        },
        &[&format!(
            r#"{{"severity":"INFO","message":"x","time":"{{T}}",{LOC},"first":"kept","n":4999,"text":"a value long enough to make garbage pile up"}}"#
        )],
    );
}

#[test]
fn at_most_64_labels() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        // 66 labels: 32 on the span, 34 on the event.
        let span = tracing::info_span!(
            "s",
            labels.s0 = 0,
            labels.s1 = 1,
            labels.s2 = 2,
            labels.s3 = 3,
            labels.s4 = 4,
            labels.s5 = 5,
            labels.s6 = 6,
            labels.s7 = 7,
            labels.s8 = 8,
            labels.s9 = 9,
            labels.s10 = 10,
            labels.s11 = 11,
            labels.s12 = 12,
            labels.s13 = 13,
            labels.s14 = 14,
            labels.s15 = 15,
            labels.s16 = 16,
            labels.s17 = 17,
            labels.s18 = 18,
            labels.s19 = 19,
            labels.s20 = 20,
            labels.s21 = 21,
            labels.s22 = 22,
            labels.s23 = 23,
            labels.s24 = 24,
            labels.s25 = 25,
            labels.s26 = 26,
            labels.s27 = 27,
            labels.s28 = 28,
            labels.s29 = 29,
            labels.s30 = 30,
            labels.s31 = 31,
        );
        let _s = span.enter();
        tracing::info!(
            labels.e0 = 0,
            labels.e1 = 1,
            labels.e2 = 2,
            labels.e3 = 3,
            labels.e4 = 4,
            labels.e5 = 5,
            labels.e6 = 6,
            labels.e7 = 7,
            labels.e8 = 8,
            labels.e9 = 9,
            labels.e10 = 10,
            labels.e11 = 11,
            labels.e12 = 12,
            labels.e13 = 13,
            labels.e14 = 14,
            labels.e15 = 15,
            labels.e16 = 16,
            labels.e17 = 17,
            labels.e18 = 18,
            labels.e19 = 19,
            labels.e20 = 20,
            labels.e21 = 21,
            labels.e22 = 22,
            labels.e23 = 23,
            labels.e24 = 24,
            labels.e25 = 25,
            labels.e26 = 26,
            labels.e27 = 27,
            labels.e28 = 28,
            labels.e29 = 29,
            labels.e30 = 30,
            labels.e31 = 31,
            labels.e32 = 32,
            labels.e33 = 33,
            "many labels"
        );
    });
    let v = parse_strict(capture.take().trim_end()).unwrap();
    let labels = v["logging.googleapis.com/labels"].as_object().unwrap();
    assert_eq!(labels.len(), 64);
    // The event's labels come first; the span's last ones are left out.
    assert_eq!(labels["e33"], "33");
    assert_eq!(labels["s29"], "29");
    assert!(!labels.contains_key("s30"));
}

/// The layer keeps the location part of a line per callsite; 100 callsites, more than it keeps,
/// each logged three times in turn, still give every line its own callsite's target.
#[test]
fn every_callsite_keeps_its_own_location() {
    macro_rules! callsites {
        ($($n:literal)*) => {
            [$((concat!("callsite", $n), (|| tracing::info!(target: concat!("callsite", $n), "x")) as fn())),*]
        };
    }
    let callsites = callsites!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99);
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            for (_, emit) in &callsites {
                emit();
            }
        }
    });
    let out = capture.take();
    let targets: Vec<String> = out
        .lines()
        .map(|l| {
            parse_strict(l).unwrap()["target"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<&str> = (0..3).flat_map(|_| callsites.iter().map(|c| c.0)).collect();
    assert_eq!(targets, expected);
}

/// The layer keeps the start of each event field's member (`,"key":`) per field name; 300
/// callsites whose fields have names of their own (plain, reserved, label and `httpRequest`
/// ones), more than it keeps, each logged three times in turn, still give every line its own
/// keys, in their own places.
#[test]
fn every_field_name_keeps_its_own_key() {
    macro_rules! callsites {
        ($($n:literal)*) => {
            [$(
                (|| tracing::info!(
                    { concat!("f", $n) } = $n,
                    { concat!("labels.l", $n) } = $n,
                    "x"
                )) as fn(),
                (|| tracing::info!(
                    { concat!("logging.googleapis.com/k", $n) } = $n,
                    "x"
                )) as fn(),
                (|| tracing::info!(
                    { concat!("httpRequest.h", $n) } = $n,
                    { concat!("g", $n) } = "s",
                    "x"
                )) as fn(),
            )*]
        };
    }
    let callsites = callsites!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99);
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            for emit in &callsites {
                emit();
            }
        }
    });
    let lines: Vec<String> = capture.take().lines().map(normalize_lines).collect();
    let expected: Vec<String> = (0..3)
        .flat_map(|_| {
            (0..100).flat_map(|n| {
                let head = format!(r#"{{"severity":"INFO","message":"x","time":"{T}",{LOC}"#);
                [
                    format!(
                        r#"{head},"f{n}":{n},"logging.googleapis.com/labels":{{"l{n}":"{n}"}}}}"#
                    ),
                    format!(r#"{head},"field.logging.googleapis.com/k{n}":{n}}}"#),
                    format!(r#"{head},"g{n}":"s","httpRequest":{{"h{n}":{n}}}}}"#),
                ]
            })
        })
        .collect();
    assert_eq!(lines.len(), expected.len());
    for (line, expected) in lines.iter().zip(&expected) {
        assert_eq!(line, expected);
    }
}

/// One callsite whose fields are recorded or left empty from one line to the next, and fields of
/// the same name in a span (where `insert_id` is an ordinary field) and in an event (where it is
/// the entry's insert id): each line has exactly the keys of its own fields.
#[test]
fn a_callsite_with_fields_left_empty_and_names_shared_with_spans() {
    check(
        same,
        || {
            for i in 0..3u64 {
                let a = if i == 1 { None } else { Some(i) };
                tracing::info!(
                    a = a.map(tracing::field::display),
                    time = i,
                    insert_id = i,
                    labels.a = i,
                    "m"
                );
                let span = tracing::info_span!("s", insert_id = i, time = "t");
                let _entered = span.enter();
                tracing::info!(insert_id = "e", "n");
            }
        },
        &[
            &format!(
                r#"{{"severity":"INFO","message":"m","time":"{{T}}",{LOC},"a":"0","field.time":0,"logging.googleapis.com/insertId":"0","logging.googleapis.com/labels":{{"a":"0"}}}}"#
            ),
            &format!(
                r#"{{"severity":"INFO","message":"n","time":"{{T}}",{LOC},"logging.googleapis.com/insertId":"e","insert_id":0,"field.time":"t"}}"#
            ),
            &format!(
                r#"{{"severity":"INFO","message":"m","time":"{{T}}",{LOC},"field.time":1,"logging.googleapis.com/insertId":"1","logging.googleapis.com/labels":{{"a":"1"}}}}"#
            ),
            &format!(
                r#"{{"severity":"INFO","message":"n","time":"{{T}}",{LOC},"logging.googleapis.com/insertId":"e","insert_id":1,"field.time":"t"}}"#
            ),
            &format!(
                r#"{{"severity":"INFO","message":"m","time":"{{T}}",{LOC},"a":"2","field.time":2,"logging.googleapis.com/insertId":"2","logging.googleapis.com/labels":{{"a":"2"}}}}"#
            ),
            &format!(
                r#"{{"severity":"INFO","message":"n","time":"{{T}}",{LOC},"logging.googleapis.com/insertId":"e","insert_id":2,"field.time":"t"}}"#
            ),
        ],
    );
}

/// Records of the `log` crate share one callsite per level, with fields (`log.target`, ...) the
/// line leaves out; between events whose fields have the same names, each line keeps its own.
#[cfg(feature = "log")]
#[test]
fn log_records_between_events_with_the_same_field_names() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..2 {
            tracing_log::format_trace(
                &tracing_log::log::Record::builder()
                    .args(format_args!("from log {i}"))
                    .level(tracing_log::log::Level::Warn)
                    .target("legacy")
                    .file(Some("legacy.rs"))
                    .module_path(Some("legacy::m"))
                    .line(Some(7))
                    .build(),
            )
            .unwrap();
            tracing::warn!(log.target = "t", log.line = 3, message2 = i, "event {}", i);
        }
    });
    let lines: Vec<String> = capture.take().lines().map(normalize_lines).collect();
    let log_line = |i| {
        format!(
            r#"{{"severity":"WARNING","message":"from log {i}","time":"{T}","target":"legacy","logging.googleapis.com/sourceLocation":{{"file":"legacy.rs","line":"LINE","function":"legacy::m"}}}}"#
        )
    };
    let event_line = |i| {
        format!(
            r#"{{"severity":"WARNING","message":"event {i}","time":"{T}",{LOC},"log.target":"t","log.line":3,"message2":{i}}}"#
        )
    };
    assert_eq!(
        lines,
        [log_line(0), event_line(0), log_line(1), event_line(1)]
    );
}
