//! A service moving from tracing-stackdriver keeps its Cloud Logging entries: the events of
//! tracing-stackdriver's own test suite (default, labels, insert_id, http_request,
//! source_location), replayed through both layers, carry the same severity, message, source
//! location, labels, insert id and `httpRequest` once Cloud Logging reads them. The differences
//! kept on purpose are shown too: span fields flattened (not under `span`), field names kept as
//! written (not camelCased). `operation.*` fields become `logging.googleapis.com/operation`, and a
//! `requestUrl` or `latency` is made valid for Cloud Logging, which tracing-stackdriver leaves as
//! given.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

/// The lines `emit` writes through dozen-log's JSON layer, parsed.
fn dozen(emit: impl Fn()) -> Vec<Value> {
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_clock(|| UNIX_EPOCH + Duration::from_secs(1_764_180_000))
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    parse_all(&capture.take())
}

/// The lines `emit` writes through tracing-stackdriver's layer, parsed.
fn stackdriver(emit: impl Fn()) -> Vec<Value> {
    let capture = Capture::default();
    let layer = tracing_stackdriver::layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    parse_all(&capture.take())
}

fn parse_all(out: &str) -> Vec<Value> {
    out.lines().map(|l| parse_strict(l).unwrap()).collect()
}

/// What Cloud Logging makes of a line: the `LogEntry` members it lifts out of the JSON
/// (severity, message, source location, labels, insert id, operation, `httpRequest`, trace),
/// with the line number as the string Cloud Logging stores and the function left out (dozen-log
/// adds the module path, tracing-stackdriver nothing).
fn meaning(line: &Value) -> Value {
    let mut m = Map::new();
    for key in [
        "severity",
        "message",
        "httpRequest",
        "logging.googleapis.com/labels",
        "logging.googleapis.com/insertId",
        "logging.googleapis.com/operation",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/spanId",
    ] {
        if let Some(v) = line.get(key) {
            m.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(loc) = line.get("logging.googleapis.com/sourceLocation") {
        let line_number = match &loc["line"] {
            Value::Number(n) => n.to_string(),
            other => other.as_str().unwrap_or_default().to_owned(),
        };
        m.insert(
            "sourceLocation".to_owned(),
            json!({ "file": loc["file"], "line": line_number }),
        );
    }
    Value::Object(m)
}

/// Both layers give `emit`'s lines the same meaning; returns dozen-log's lines.
fn same_meaning(emit: impl Fn()) -> Vec<Value> {
    let ours = dozen(&emit);
    let theirs = stackdriver(&emit);
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(
            meaning(o),
            meaning(t),
            "\ndozen-log: {o}\ntracing-stackdriver: {t}"
        );
    }
    ours
}

#[test]
fn default_severity_message_target_and_fields_carry_over() {
    let lines = same_meaning(|| {
        let span = tracing::info_span!("stackdriver_span", foo = "bar");
        let _entered = span.enter();
        tracing::info!(target: "test target", "some stackdriver message");
        tracing::info!(severity = "notice", "notice me");
        tracing::info!(baz = 123, "with a field");
    });
    assert_eq!(lines[0]["target"], "test target");
    assert_eq!(lines[1]["severity"], "NOTICE");
    assert_eq!(lines[2]["baz"], 123);
    // Kept on purpose: the span's fields are flattened into the line, not under `span`.
    assert_eq!(lines[0]["foo"], "bar");
    assert_eq!(lines[0].get("span"), None);
    let theirs = stackdriver(|| {
        let span = tracing::info_span!("stackdriver_span", foo = "bar");
        let _entered = span.enter();
        tracing::info!("some stackdriver message");
    });
    assert_eq!(
        theirs[0]["span"],
        json!({ "name": "stackdriver_span", "foo": "bar" })
    );
}

#[test]
fn field_names_are_kept_not_camel_cased() {
    let emit = || tracing::info!(foo.bar = "value", "message");
    assert_eq!(dozen(emit)[0]["foo.bar"], "value");
    assert_eq!(stackdriver(emit)[0]["fooBar"], "value");
}

#[test]
fn labels_nest_as_strings() {
    let lines = same_meaning(|| {
        tracing::info!(labels.foo = "bar", labels.baz = "luhrmann", "hello!");
        tracing::info!(
            labels.number = 2,
            labels.boolean = false,
            labels.string = "a short note",
            "hello!"
        );
        tracing::info!("hello!");
    });
    assert_eq!(
        lines[1]["logging.googleapis.com/labels"],
        json!({ "number": "2", "boolean": "false", "string": "a short note" })
    );
    assert_eq!(lines[2].get("logging.googleapis.com/labels"), None);
}

#[test]
fn insert_id_becomes_the_entry_insert_id_as_a_string() {
    let lines = same_meaning(|| {
        tracing::info!(insert_id = "my-new-event", "hello!");
        tracing::info!(insert_id = 123, "hello!");
        tracing::info!("hello!");
    });
    assert_eq!(lines[0]["logging.googleapis.com/insertId"], "my-new-event");
    assert_eq!(lines[1]["logging.googleapis.com/insertId"], "123");
    assert_eq!(lines[2].get("logging.googleapis.com/insertId"), None);
    assert_eq!(lines[0].get("insert_id"), None);
}

#[test]
fn http_request_fields_nest_in_camel_case() {
    let lines = same_meaning(|| {
        tracing::info!(
            http_request.request_method = "GET",
            http_request.latency = "0.23s",
            http_request.remote_ip = "192.168.1.1",
            http_request.status = 200,
            "some stackdriver message"
        );
        tracing::info!(
            http_request.request_size = 12,
            http_request.response_size = 34,
            http_request.user_agent = "curl/8",
            http_request.server_ip = "10.0.0.1",
            http_request.referer = "https://example.test/",
            http_request.protocol = "HTTP/1.1",
            http_request.cache_hit = false,
            "all members"
        );
    });
    assert_eq!(
        lines[0]["httpRequest"],
        json!({ "requestMethod": "GET", "latency": "0.23s", "remoteIp": "192.168.1.1", "status": 200 })
    );
}

#[test]
fn source_location_names_file_and_line() {
    let lines = same_meaning(|| tracing::info!("hello!"));
    let loc = &lines[0]["logging.googleapis.com/sourceLocation"];
    assert!(
        loc["file"]
            .as_str()
            .unwrap()
            .ends_with("stackdriver_conventions.rs")
    );
    assert_ne!(loc["line"], "0");
}

/// dozen-log's lines for `emit`, without `time`, `target` and `sourceLocation`.
fn bare(emit: impl Fn()) -> Vec<Value> {
    let mut lines = dozen(emit);
    for line in &mut lines {
        let map = line.as_object_mut().unwrap();
        for key in ["time", "target", "logging.googleapis.com/sourceLocation"] {
            map.remove(key);
        }
    }
    lines
}

#[test]
fn request_url_loses_its_secrets_and_latency_becomes_a_duration() {
    let took = Duration::from_millis(230);
    let lines = bare(|| {
        tracing::info!(
            http_request.request_url = "https://ann:pw@shop.test/cb?code=abc&page=2#frag",
            http_request.referer = "/login?password=hunter2",
            http_request.latency = ?took,
            "a"
        );
        tracing::info!(
            httpRequest.requestUrl = "https://ghp_T0kenAsUserName1234@github.com/org/repo.git",
            httpRequest.referer = "https://ghp_T0kenAsUserName1234@github.com/",
            "c"
        );
        tracing::info!(
            httpRequest.requestUrl = "/reset?token=t0k3n",
            httpRequest.latency = 1.5,
            "b"
        );
        // A path is a path even with a URL inside it; a fragment goes even without a query.
        tracing::info!(
            httpRequest.requestUrl = "/login?password=hunter2&next=https://app.test/",
            httpRequest.referer = "/cb#access_token=fr4g",
            "d"
        );
        tracing::info!(
            httpRequest.requestUrl = "/proxy/https://bob:pw@evil.test/x?sig=s1g#f",
            httpRequest.referer = "/proxy/https://u:pa#ss@h.test/x",
            "e"
        );
    });
    assert_eq!(
        lines,
        [
            json!({ "severity": "INFO", "message": "a", "httpRequest": {
                "requestUrl": "https://***@shop.test/cb?code=***&page=2#***",
                "referer": "/login?password=***",
                "latency": "0.230s" } }),
            json!({ "severity": "INFO", "message": "c", "httpRequest": {
                "requestUrl": "https://***@github.com/org/repo.git",
                "referer": "https://***@github.com/" } }),
            json!({ "severity": "INFO", "message": "b", "httpRequest": {
                "requestUrl": "/reset?token=***", "latency": "1.500s" } }),
            json!({ "severity": "INFO", "message": "d", "httpRequest": {
                "requestUrl": "/login?password=***&next=https://app.test/",
                "referer": "/cb" } }),
            json!({ "severity": "INFO", "message": "e", "httpRequest": {
                "requestUrl": "/proxy/https://***@evil.test/x?sig=***",
                // The `#` in the inner password leaves the rest unreadable: hidden too.
                "referer": "/proxy/https://***@***" } }),
        ]
    );
}

#[test]
fn operation_fields_become_the_entry_operation() {
    let lines = bare(|| {
        let job = tracing::info_span!(
            "job",
            operation.id = "import-7",
            operation.producer = "importer"
        );
        let _entered = job.enter();
        tracing::info!(operation.first = true, "started");
        tracing::info!("working");
        tracing::info!(operation.last = true, operation.producer = "other", "done");
        tracing::info!(operation.first = "yes", "not a bool: an ordinary field");
    });
    let with = |line: &Value| line["logging.googleapis.com/operation"].clone();
    assert_eq!(
        with(&lines[0]),
        json!({ "id": "import-7", "producer": "importer", "first": true })
    );
    assert_eq!(
        with(&lines[1]),
        json!({ "id": "import-7", "producer": "importer" })
    );
    assert_eq!(
        with(&lines[2]),
        json!({ "id": "import-7", "producer": "other", "last": true })
    );
    assert_eq!(lines[3]["operation.first"], "yes");
    assert_eq!(
        with(&lines[3]),
        json!({ "id": "import-7", "producer": "importer" })
    );
    // A span's later `record` adds members.
    let lines = bare(|| {
        let job = tracing::info_span!(
            "job",
            operation.id = "x",
            operation.last = tracing::field::Empty
        );
        job.record("operation.last", true);
        job.in_scope(|| tracing::info!("done"));
    });
    assert_eq!(with(&lines[0]), json!({ "id": "x", "last": true }));
}
