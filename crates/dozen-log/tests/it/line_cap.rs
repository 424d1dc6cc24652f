//! Every JSON line is at most the size limit (256 KiB by default) whatever makes it long: the
//! message, many fields, long span fields, a long target, file or module path (a `log` record
//! carries its own), a long service name. An over-long line stays valid JSON and says
//! `"dozen.truncated":true`.

use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

const LIMIT: usize = 256 * 1024;

/// Every line of `out`: at most `limit` bytes, strict JSON, marked as truncated.
fn check_lines(out: &str, limit: usize, expected: usize) -> Vec<serde_json::Value> {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), expected);
    lines
        .iter()
        .map(|line| {
            assert!(line.len() < limit, "{} bytes over {limit}", line.len());
            let v = parse_strict(line).unwrap();
            assert_eq!(v["dozen.truncated"], true, "{}", &line[..200]);
            v
        })
        .collect()
}

#[test]
fn long_messages_fields_and_span_fields_are_cut_to_the_limit() {
    let huge = "y\"\\".repeat(200_000);
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_service("svc".repeat(100_000), "v".repeat(100_000))
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        // 40 nested spans of 20 KB each: 800 KB of span fields.
        let spans: Vec<_> = (0..40)
            .map(|i| {
                let s = tracing::info_span!("level", i, data = "z".repeat(20_000).as_str());
                s
            })
            .collect();
        let _entered: Vec<_> = spans.iter().map(|s| s.enter()).collect();
        tracing::info!("{huge}");
        tracing::error!(
            a = huge.as_str(),
            b = huge.as_str(),
            labels.l = huge.as_str(),
            httpRequest.requestUrl = huge.as_str(),
            error = "e",
            "{huge}"
        );
    });
    let lines = check_lines(&capture.take(), LIMIT, 2);
    assert!(lines[0]["message"].as_str().unwrap().len() > 1000);
    assert_eq!(lines[1]["severity"], "ERROR");
}

#[cfg(feature = "log")]
#[test]
fn a_huge_target_file_and_module_path_are_cut_too() {
    for limit in [LIMIT, 1024, 512] {
        let capture = Capture::default();
        let layer = dozen_log::json_layer()
            .with_max_line_bytes(limit)
            .with_writer(capture.clone());
        let target = "t".repeat(300_000);
        let file = "f\u{e9}".repeat(150_000);
        let module = "m".repeat(300_000);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let record = tracing_log::log::Record::builder()
                .args(format_args!("from a driver"))
                .level(tracing_log::log::Level::Error)
                .target(&target)
                .file(Some(&file))
                .module_path(Some(&module))
                .line(Some(7))
                .build();
            tracing_log::format_trace(&record).unwrap();
        });
        let lines = check_lines(&capture.take(), limit, 1);
        assert_eq!(lines[0]["severity"], "ERROR");
    }
}

#[test]
fn a_long_error_chain_is_cut_too() {
    #[derive(Debug)]
    struct Chain;
    impl std::fmt::Display for Chain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&"c".repeat(10_000))
        }
    }
    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            None
        }
    }
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_max_line_bytes(512)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(error = &Chain as &dyn std::error::Error, "failed");
    });
    check_lines(&capture.take(), 512, 1);
}

/// A `Debug` that would write 64 MiB, counting the bytes it was allowed to write.
struct Endless(std::sync::atomic::AtomicUsize);

impl std::fmt::Debug for Endless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chunk = "d".repeat(1024);
        for _ in 0..64 * 1024 {
            f.write_str(&chunk)?;
            self.0
                .fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

#[test]
fn a_huge_debug_value_is_formatted_only_up_to_the_value_cap() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    let endless = Endless(Default::default());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(value = ?endless, "huge");
        let span = tracing::info_span!("s", value = ?endless);
        let _e = span.enter();
        tracing::info!("in a huge span");
    });
    let written = endless.0.load(std::sync::atomic::Ordering::Relaxed);
    // Two formattings, each stopped at 1 MiB (the value cap) instead of 64 MiB.
    assert!(written <= 2 * 1024 * 1024, "{written} bytes formatted");
    let lines = check_lines(&capture.take(), LIMIT, 2);
    assert_eq!(lines[0]["message"], "huge");
    assert_eq!(lines[1]["message"], "in a huge span");
}

/// A line cut field by field, then lines of the same callsite that fit: the fields kept in the
/// cut line are whole members with their own keys, and the next lines have all their fields.
#[test]
fn a_cut_line_keeps_whole_fields_and_the_next_lines_are_whole() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_max_line_bytes(1024)
        .with_writer(capture.clone());
    let long = "v".repeat(600);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for value in [long.as_str(), "short", long.as_str(), "s"] {
            tracing::info!(a = value, b = "b", time = value, c = 3, "m");
        }
    });
    let out = capture.take();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| parse_strict(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    for i in [0, 2] {
        let raw = out.lines().nth(i).unwrap();
        assert!(raw.len() <= 1024);
        // The first long field fits the room left, the second does not; the short ones do.
        let kept = format!(r#","a":"{long}","b":"b","c":3,"dozen.truncated":true}}"#);
        assert!(raw.ends_with(&kept), "{raw}");
        assert!(lines[i].get("field.time").is_none());
    }
    for (i, value) in [(1, "short"), (3, "s")] {
        let line = lines[i].as_object().unwrap();
        assert!(line.get("dozen.truncated").is_none());
        assert_eq!(line["a"], value);
        assert_eq!(line["b"], "b");
        assert_eq!(line["field.time"], value);
        assert_eq!(line["c"], 3);
    }
}
