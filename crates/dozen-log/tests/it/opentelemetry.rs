//! With tracing-opentelemetry's layer beside the JSON layer, every line of a request carries the
//! trace id and span id of the OpenTelemetry span that the SDK exported for it, so logs and
//! Cloud Trace correlate: for a request with `traceparent` and one with `X-Cloud-Trace-Context`
//! the exported span continues the caller's trace (its parent is the caller's span), and a
//! request with neither gets OpenTelemetry's own root span.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use dozen_log::http::RequestLogLayer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tower_service::Service as _;
use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// What one request wrote: its JSON lines, its pretty text, and the (trace id, span id, parent
/// span id) of each exported span, in hex.
struct Written {
    lines: Vec<serde_json::Value>,
    pretty: String,
    spans: Vec<[String; 3]>,
}

/// Sends one request with `header` (if any) through the request layer, with tracing-opentelemetry's
/// layer, the JSON layer and the pretty layer in one subscriber.
fn request(header: Option<(&str, &str)>) -> Written {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let (capture, pretty) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(dozen_log::json_layer().with_writer(capture.clone()))
        .with(
            dozen_log::pretty_layer()
                .with_ansi(false)
                .with_writer(pretty.clone()),
        );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let mut app = Router::new()
            .route(
                "/work",
                get(|| async {
                    tracing::info!("working");
                    "done"
                }),
            )
            .layer(RequestLogLayer::new());
        let mut req = http::Request::get("/work");
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let req = req.body(Body::empty()).unwrap();
        let response: Result<_, Infallible> = rt.block_on(app.call(req));
        drop(response.unwrap());
    });
    let spans = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|s| {
            [
                s.span_context.trace_id().to_string(),
                s.span_context.span_id().to_string(),
                s.parent_span_id.to_string(),
            ]
        })
        .collect();
    let lines = capture
        .take()
        .lines()
        .map(|l| parse_strict(l).unwrap())
        .collect();
    Written {
        lines,
        pretty: pretty.take(),
        spans,
    }
}

/// Every line carries the ids of an exported span; returns that span.
fn check(header: Option<(&str, &str)>) -> [String; 3] {
    let Written { lines, spans, .. } = request(header);
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let [trace, span, _] = &spans[0];
    for line in &lines {
        assert_eq!(
            line["logging.googleapis.com/trace"],
            trace.as_str(),
            "{line}"
        );
        assert_eq!(
            line["logging.googleapis.com/spanId"],
            span.as_str(),
            "{line}"
        );
        assert_eq!(line["logging.googleapis.com/trace_sampled"], true, "{line}");
    }
    spans[0].clone()
}

#[test]
fn traceparent_continues_in_the_exported_span() {
    let [trace, _, parent] = check(Some((
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )));
    assert_eq!(trace, CALLER_TRACE);
    assert_eq!(parent, "00f067aa0ba902b7");
}

#[test]
fn cloud_trace_context_continues_in_the_exported_span() {
    let [trace, _, parent] = check(Some((
        "x-cloud-trace-context",
        "4bf92f3577b34da6a3ce929d0e0e4736/10;o=1",
    )));
    assert_eq!(trace, CALLER_TRACE);
    assert_eq!(parent, "000000000000000a");
}

#[test]
fn a_request_without_a_trace_gets_the_root_span_ids() {
    let [trace, _, parent] = check(None);
    assert_ne!(trace, CALLER_TRACE);
    assert_eq!(parent, "0000000000000000");
}

/// The pretty format shows the same trace as the JSON lines: the first 8 hex digits of the
/// exported span's trace id, also for a request with no trace header, whose OpenTelemetry root
/// span has a trace id of its own.
#[test]
fn the_pretty_format_shows_the_exported_trace() {
    for header in [
        None,
        Some((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )),
    ] {
        let Written { pretty, spans, .. } = request(header);
        assert_eq!(spans.len(), 1, "{header:?}");
        let trace = &spans[0][0];
        let lines: Vec<&str> = pretty.lines().collect();
        assert_eq!(lines.len(), 2, "{header:?}: {pretty}");
        for line in lines {
            assert!(
                line.contains(&format!("request{{trace={}}}: ", &trace[..8])),
                "{header:?}: {line} (exported trace {trace})"
            );
        }
    }
}
