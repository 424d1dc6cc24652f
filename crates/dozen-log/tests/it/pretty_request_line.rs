//! On a terminal a request reads like `POST /todos 201 2.8ms`: the request
//! log's `httpRequest` fields stay in JSON, its latency is shown for people
//! after the message, and the trace id of the request span is cut to 8 hex
//! digits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::Capture;

fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_764_180_000, 123_456_789)
}

fn pretty(capture: &Capture) -> impl tracing::Subscriber + Send + Sync {
    let layer = dozen_log::pretty_layer()
        .with_ansi(false)
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing_subscriber::registry().with(layer)
}

/// The request log's event as `RequestLogLayer` writes it, with `latency`.
fn request_event(latency: &str) {
    tracing::info!(
        httpRequest.requestMethod = "POST",
        httpRequest.requestUrl = "/todos",
        httpRequest.status = 201_u16,
        httpRequest.requestSize = 18_u64,
        httpRequest.responseSize = 42_u64,
        httpRequest.userAgent = "curl/8.5.0",
        httpRequest.remoteIp = "127.0.0.1",
        httpRequest.protocol = "HTTP/1.1",
        httpRequest.latency = latency,
        "{} {} {}",
        "POST",
        "/todos",
        201,
    );
}

#[test]
fn a_request_line_is_method_url_status_and_latency() {
    for (latency, shown) in [
        ("0.000850s", "850µs"),
        ("0.002800s", "2.8ms"),
        ("0.012s", "12.0ms"),
        ("0.120s", "120ms"),
        ("1.250s", "1.25s"),
        ("62.000s", "62.00s"),
    ] {
        let capture = Capture::default();
        tracing::subscriber::with_default(pretty(&capture), || request_event(latency));
        assert_eq!(
            capture.take(),
            format!("18:00:00.123  INFO it::pretty_request_line: POST /todos 201 {shown}\n"),
            "{latency}"
        );
    }
}

/// An absolute URL is shown from its path; a path is shown whole, with a URL inside it.
#[test]
fn the_request_line_shows_the_path_even_with_a_url_inside() {
    for (url, shown) in [
        ("https://api.test/todos?page=2", "/todos?page=2"),
        (
            "/login?next=https://app.test/x",
            "/login?next=https://app.test/x",
        ),
        (
            "http://api.test/proxy/https://bob:pw@evil.test/x",
            "/proxy/https://***@evil.test/x",
        ),
    ] {
        let capture = Capture::default();
        tracing::subscriber::with_default(pretty(&capture), || {
            tracing::info!(
                httpRequest.requestMethod = "GET",
                httpRequest.requestUrl = url,
                httpRequest.status = 200_u16,
                "GET {url} 200"
            );
        });
        assert!(
            capture.take().contains(&format!(": GET {shown} 200")),
            "{url}"
        );
    }
}

#[test]
fn other_fields_stay_and_a_latency_that_is_not_one_is_left_out() {
    let capture = Capture::default();
    tracing::subscriber::with_default(pretty(&capture), || {
        tracing::warn!(
            httpRequest.status = 404_u16,
            httpRequest.latency = "soon",
            route = "/todos/{id}",
            "GET /todos/9 404"
        );
    });
    assert_eq!(
        capture.take(),
        "18:00:00.123  WARN it::pretty_request_line: GET /todos/9 404 route=\"/todos/{id}\"\n"
    );
}

/// Through the real layer behind a real server on loopback, with a known
/// `traceparent`: only the latency varies.
#[cfg(feature = "http")]
#[test]
fn the_real_request_log_reads_the_same_on_a_terminal() {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let capture = Capture::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(pretty(&capture), || {
        rt.block_on(async {
            let app = Router::new()
                .route("/todos", post(|| async { (StatusCode::CREATED, "{}") }))
                .layer(dozen_log::http::RequestLogLayer::new());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(
                    b"POST /todos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                      traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\
                      Content-Length: 0\r\n\r\n",
                )
                .await
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            for _ in 0..200 {
                if String::from_utf8_lossy(&capture.0.lock().unwrap()).contains("POST /todos 201") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    });
    let out = capture.take();
    let line = out
        .lines()
        .find(|l| l.contains("POST /todos 201"))
        .unwrap_or_else(|| panic!("no request line in {out:?}"));
    let (head, latency) = line.rsplit_once(' ').unwrap();
    assert_eq!(
        head,
        "18:00:00.123  INFO request{trace=4bf92f35}: dozen_log::http: POST /todos 201"
    );
    let digits = latency.trim_end_matches(|c: char| c.is_alphabetic() || c == 'µ');
    assert!(
        !digits.is_empty()
            && digits.parse::<f64>().is_ok()
            && ["µs", "ms", "s"].iter().any(|unit| latency.ends_with(unit)),
        "latency {latency:?} in {line:?}"
    );
}
