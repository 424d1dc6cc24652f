//! Behind a real axum server on loopback, the request layer writes one line per request with
//! `httpRequest` and the trace of its headers (`traceparent` before `X-Cloud-Trace-Context`), or
//! a fresh trace of its own when it carried none, and
//! `forwarded_for` takes the first address of `X-Forwarded-For`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::routing::get;
use dozen_log::http::{RequestLogLayer, trace_context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

async fn send(addr: SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// Waits for `n` lines with an `httpRequest` in `capture` (the line is written when the server
/// drops the response body, just after the client has read it).
async fn request_lines(capture: &Capture, n: usize) -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines.extend(capture.take().lines().map(|l| parse_strict(l).unwrap()));
        if lines
            .iter()
            .filter(|l| l.get("httpRequest").is_some())
            .count()
            >= n
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    lines
}

/// Serves `app` behind [`RequestLogLayer`] on loopback, on a current-thread runtime whose
/// subscriber writes `layer`'s lines into a capture, and runs `test` with its address and the
/// capture.
fn serve_logged<F, Fut>(layer: dozen_log::JsonLayer, app: Router, test: F)
where
    F: FnOnce(SocketAddr, Capture) -> Fut,
    Fut: Future<Output = ()>,
{
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let app = app.layer(RequestLogLayer::new());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            test(addr, capture).await;
        });
    });
}

#[test]
fn one_line_per_request_with_http_request_and_trace() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_project_id("proj")
        .with_writer(capture.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let app = Router::new()
                .route(
                    "/orders/{id}",
                    get(|| async {
                        tracing::info!("handling");
                        "twelve bytes"
                    }),
                )
                .route(
                    "/fail",
                    get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
                )
                .layer(RequestLogLayer::new().remote_ip(|req| {
                    req.extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip())
                }));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            });

            let response = send(
                addr,
                "GET /orders/7?x=1 HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: probe/1.0\r\n\
                 traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\
                 X-Cloud-Trace-Context: 11111111111111111111111111111111/5;o=0\r\n\
                 Connection: close\r\n\r\n",
            )
            .await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            let lines = request_lines(&capture, 1).await;
            assert_eq!(lines.len(), 2, "{lines:?}");
            let trace = "projects/proj/traces/4bf92f3577b34da6a3ce929d0e0e4736";
            // The handler's own line is correlated too.
            assert_eq!(lines[0]["message"], "handling");
            assert_eq!(lines[0]["logging.googleapis.com/trace"], trace);
            let line = &lines[1];
            assert_eq!(line["severity"], "INFO");
            assert_eq!(line["logging.googleapis.com/trace"], trace);
            assert_eq!(line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
            assert_eq!(line["logging.googleapis.com/trace_sampled"], true);
            let h = &line["httpRequest"];
            assert_eq!(h["requestMethod"], "GET");
            assert_eq!(h["requestUrl"], "http://shop.test/orders/7?x=1");
            assert_eq!(h["status"], 200);
            assert_eq!(h["responseSize"], 12);
            assert_eq!(h["userAgent"], "probe/1.0");
            assert_eq!(h["remoteIp"], "127.0.0.1");
            assert_eq!(h["protocol"], "HTTP/1.1");
            let latency = h["latency"].as_str().unwrap();
            let secs: f64 = latency.strip_suffix('s').unwrap().parse().unwrap();
            assert!((0.0..5.0).contains(&secs), "{latency}");

            // A malformed traceparent is ignored and the Cloud header used; 4xx is a WARNING,
            // 5xx an ERROR.
            let fail = |method: &str, body: &str| {
                format!(
                    "{method} /fail HTTP/1.1\r\nHost: shop.test\r\nContent-Length: {}\r\n\
                     traceparent: garbage\r\n\
                     X-Cloud-Trace-Context: 11111111111111111111111111111111/5;o=0\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let response = send(addr, &fail("POST", "body")).await;
            assert!(response.starts_with("HTTP/1.1 405"), "{response}");
            let response = send(addr, &fail("GET", "")).await;
            assert!(response.starts_with("HTTP/1.1 503"), "{response}");
            let lines = request_lines(&capture, 2).await;
            assert_eq!(lines.len(), 2, "{lines:?}");
            assert_eq!(lines[0]["severity"], "WARNING");
            assert_eq!(lines[0]["httpRequest"]["status"], 405);
            assert_eq!(lines[0]["httpRequest"]["requestSize"], 4);
            let line = &lines[1];
            assert_eq!(line["severity"], "ERROR");
            assert_eq!(line["httpRequest"]["status"], 503);
            assert_eq!(line["httpRequest"]["requestSize"], 0);
            assert_eq!(line["httpRequest"]["responseSize"], 4);
            assert_eq!(
                line["logging.googleapis.com/trace"],
                "projects/proj/traces/11111111111111111111111111111111"
            );
            assert_eq!(line["logging.googleapis.com/spanId"], "0000000000000005");
            assert_eq!(line["logging.googleapis.com/trace_sampled"], false);
        });
    });
}

/// A response body that sends `abc`, then fails.
struct FailingBody {
    sent: bool,
}

impl http_body::Body for FailingBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if std::mem::replace(&mut self.sent, true) {
            std::task::Poll::Ready(Some(Err(std::io::Error::other("upstream reset"))))
        } else {
            let data = axum::body::Bytes::from_static(b"abc");
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data))))
        }
    }
}

/// A body that fails while it is sent: the client gets a cut response, and the line says so at
/// ERROR, with the status and the bytes the body gave (and not the body's error text).
#[test]
fn a_response_body_that_fails_is_logged_at_error() {
    let app = Router::new()
        .route(
            "/cut",
            get(|| async { axum::body::Body::new(FailingBody { sent: false }) }),
        )
        .route("/whole", get(|| async { "abc" }));
    serve_logged(dozen_log::json_layer(), app, |addr, capture| async move {
        for path in ["/cut", "/whole"] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            let response = send(addr, &request).await;
            // The cut one may not have left hyper's buffer before the error.
            if path == "/whole" {
                assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            }
        }
        let lines = request_lines(&capture, 2).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        let (cut, whole) = (&lines[0], &lines[1]);
        assert_eq!(cut["httpRequest"]["requestUrl"], "http://t/cut", "{cut}");
        assert_eq!(cut["severity"], "ERROR", "{cut}");
        assert_eq!(cut["httpRequest"]["status"], 200, "{cut}");
        assert_eq!(cut["httpRequest"]["responseSize"], 3, "{cut}");
        assert_eq!(
            cut["error"],
            "the response body failed while it was being sent"
        );
        assert!(!cut.to_string().contains("upstream reset"), "{cut}");
        assert_eq!(whole["severity"], "INFO", "{whole}");
        assert!(whole.get("error").is_none(), "{whole}");
    });
}

#[test]
fn a_request_without_a_trace_header_gets_a_fresh_trace() {
    let app = Router::new().route(
        "/",
        get(|| async {
            tracing::info!("handling");
            "ok"
        }),
    );
    let layer = dozen_log::json_layer().with_project_id("proj");
    serve_logged(layer, app, |addr, capture| async move {
        // A malformed header counts as none.
        for headers in ["", "", "traceparent: garbage\r\n"] {
            let request =
                format!("GET / HTTP/1.1\r\nHost: t\r\n{headers}Connection: close\r\n\r\n");
            let response = send(addr, &request).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        }
        let lines = request_lines(&capture, 3).await;
        assert_eq!(lines.len(), 6, "{lines:?}");
        let mut traces = Vec::new();
        for pair in lines.chunks(2) {
            let (handler, request) = (&pair[0], &pair[1]);
            assert_eq!(handler["message"], "handling");
            assert!(request.get("httpRequest").is_some(), "{request}");
            let trace = request["logging.googleapis.com/trace"].as_str().unwrap();
            let id = trace.strip_prefix("projects/proj/traces/").unwrap();
            let span = request["logging.googleapis.com/spanId"].as_str().unwrap();
            let hex = |s: &str, n: usize| {
                s.len() == n
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            };
            assert!(hex(id, 32) && id != "0".repeat(32), "trace id {id:?}");
            assert!(hex(span, 16) && span != "0".repeat(16), "span id {span:?}");
            assert_eq!(request["logging.googleapis.com/trace_sampled"], false);
            // The handler's line carries the same trace and span.
            assert_eq!(handler["logging.googleapis.com/trace"], trace);
            assert_eq!(handler["logging.googleapis.com/spanId"], span);
            traces.push(id.to_owned());
        }
        traces.dedup();
        assert_eq!(traces.len(), 3, "a new trace per request: {traces:?}");
    });
}

#[test]
fn header_precedence() {
    fn check(headers: &[(&str, &str)], expected: Option<&str>) {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let got = trace_context(&map).map(|c| c.to_traceparent());
        assert_eq!(got.as_deref(), expected, "{headers:?}");
    }
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let cloud = "11111111111111111111111111111111/5;o=1";
    let from_cloud = "00-11111111111111111111111111111111-0000000000000005-01";
    check(&[], None);
    check(&[("traceparent", tp)], Some(tp));
    check(&[("x-cloud-trace-context", cloud)], Some(from_cloud));
    check(
        &[("traceparent", tp), ("x-cloud-trace-context", cloud)],
        Some(tp),
    );
    check(
        &[("traceparent", "00-bad"), ("x-cloud-trace-context", cloud)],
        Some(from_cloud),
    );
    check(
        &[("traceparent", "00-bad"), ("x-cloud-trace-context", "bad")],
        None,
    );
    check(&[("traceparent", tp), ("traceparent", tp)], None);
}

#[test]
fn forwarded_for_takes_the_first_address() {
    fn check(header: Option<&str>, peer: Option<SocketAddr>, expected: Option<&str>) {
        let mut req = http::Request::get("/");
        if let Some(h) = header {
            req = req.header("x-forwarded-for", h);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts.extensions.insert(peer);
        }
        let got = dozen_log::http::forwarded_for(&parts).map(|ip| ip.to_string());
        assert_eq!(got.as_deref(), expected, "{header:?} {peer:?}");
    }
    let peer: SocketAddr = "10.1.2.3:4567".parse().unwrap();
    check(Some("203.0.113.7"), None, Some("203.0.113.7"));
    check(
        Some(" 203.0.113.7 , 10.0.0.1"),
        Some(peer),
        Some("203.0.113.7"),
    );
    check(Some("2001:db8::1, 10.0.0.1"), None, Some("2001:db8::1"));
    check(Some("unknown"), Some(peer), Some("10.1.2.3"));
    check(Some(""), None, None);
    check(None, Some(peer), Some("10.1.2.3"));
    check(None, None, None);
}
