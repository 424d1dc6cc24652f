//! Request bodies are bounded by `HTTP_MAX_BODY_BYTES`, whatever the handler
//! does: a declared `content-length` above it is answered 413 without calling
//! the handler or waiting for the body, and the connection is closed; a
//! chunked body that grows past it is 413 from a `Bytes` or `String`
//! handler, and a handler reading the stream sees an error after at most the
//! limit. A body exactly at the limit passes, and so does one above axum's
//! own 2 MB default when the configured limit is higher. Real HTTP/1.1 over
//! loopback, to a server in this process.
//!
//! A handler's own 413 (here axum's extractors') is kept, with the
//! connection closed; any other answer to a body past the limit becomes the
//! server's 413.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::post;
use dozen_shutdown::axum::{DEFAULT_MAX_BODY_BYTES, HttpSettings};
use dozen_shutdown::{Outcome, Shutdown};
use http_body_util::BodyExt as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the handlers saw: how many ran, and what `/stream` read.
#[derive(Default)]
struct Seen {
    calls: AtomicUsize,
    /// `/stream`: the bytes it read and the error that ended the body.
    stream: Mutex<Option<(usize, Option<String>)>>,
}

/// The routes: `/bytes` and `/string` buffer the body with axum's
/// extractors, `/stream` reads it frame by frame, `/small` has a route limit
/// of its own (100 bytes).
fn app(seen: &Arc<Seen>) -> Router {
    let (bytes, string, stream, small) = (
        Arc::clone(seen),
        Arc::clone(seen),
        Arc::clone(seen),
        Arc::clone(seen),
    );
    Router::new()
        .route(
            "/bytes",
            post(move |body: Bytes| async move {
                bytes.calls.fetch_add(1, Ordering::SeqCst);
                body.len().to_string()
            }),
        )
        .route(
            "/string",
            post(move |body: String| async move {
                string.calls.fetch_add(1, Ordering::SeqCst);
                body.len().to_string()
            }),
        )
        .route(
            "/stream",
            post(move |body: Body| async move {
                stream.calls.fetch_add(1, Ordering::SeqCst);
                let mut body = body;
                let mut read = 0;
                let error = loop {
                    match body.frame().await {
                        Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                        Some(Err(error)) => break Some(format!("{error}")),
                        None => break None,
                    }
                };
                let answer = match &error {
                    // What a handler might make of it: the serve makes it 413.
                    Some(_) => (StatusCode::BAD_REQUEST, String::new()),
                    None => (StatusCode::OK, read.to_string()),
                };
                *stream.stream.lock().unwrap() = Some((read, error));
                answer
            }),
        )
        .route(
            "/small",
            post(move |body: Bytes| async move {
                small.calls.fetch_add(1, Ordering::SeqCst);
                body.len().to_string()
            })
            .layer(DefaultBodyLimit::max(100)),
        )
}

/// A body as the client sends it.
#[derive(Clone, Copy, Debug)]
enum Sent {
    /// `content-length: n`, then `n` bytes.
    Sized(usize),
    /// `content-length: declared`, then nothing: the client waits for the
    /// answer (as after `expect: 100-continue`).
    Declared(u64),
    /// `transfer-encoding: chunked`, chunks of these sizes, then the end.
    Chunked(&'static [usize]),
}

/// What the test expects to see.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    body: String,
    /// The server closed the connection after the response.
    closed: bool,
}

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        body: body.to_owned(),
        closed: true,
    }
}

/// Serves [`app`] with `max` bytes (`None`: the default) on loopback and
/// sends each `(path, body)`, each on a new connection, expecting the
/// answer; then checks how many handlers ran.
async fn check(max: Option<u64>, cases: &[(&str, Sent, Answer)], calls: usize) -> Arc<Seen> {
    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::ZERO)
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let seen = Arc::new(Seen::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // A body-read timeout far above the test's patience: a server waiting
    // for a body that never comes would show as a timeout, not as a 408.
    let mut server = dozen_shutdown::axum::serve(listener, app(&seen), shutdown.clone())
        .with_body_read_timeout(Duration::from_secs(60));
    if let Some(max) = max {
        server = server.with_max_body_bytes(max);
    }
    shutdown.spawn("http server", server);
    for (path, sent, expected) in cases {
        let got = exchange(port, path, *sent).await;
        assert_eq!(&got, expected, "max {max:?}: POST {path} with {sent:?}");
    }
    assert_eq!(seen.calls.load(Ordering::SeqCst), calls, "handlers run");
    shutdown.trigger();
    assert_eq!(shutdown.wait().await, Outcome::Clean);
    seen
}

/// Sends `POST path` with `sent` on a new connection and reads the answer:
/// its status, its body, and whether the server closed the connection
/// after it. Gives up after 5 s.
async fn exchange(port: u16, path: &str, sent: Sent) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nhost: test\r\n");
    match sent {
        Sent::Sized(n) => {
            let mut request = format!("{head}content-length: {n}\r\n\r\n").into_bytes();
            request.resize(request.len() + n, b'x');
            stream.write_all(&request).await.unwrap();
        }
        Sent::Declared(n) => {
            let request = format!("{head}content-length: {n}\r\nexpect: 100-continue\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
        }
        Sent::Chunked(chunks) => {
            let head = format!("{head}transfer-encoding: chunked\r\n\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            for &size in chunks {
                let mut chunk = format!("{size:x}\r\n").into_bytes();
                chunk.resize(chunk.len() + size, b'x');
                chunk.extend_from_slice(b"\r\n");
                // The server may stop reading and close: later writes fail.
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
    }
    tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream))
        .await
        .unwrap_or_else(|_| panic!("no answer to POST {path} with {sent:?} within 5 s"))
}

/// Reads one response with a `content-length`, then whether the connection
/// ends there.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut read = Vec::new();
    let mut buffer = [0; 4096];
    let (status, body_at, length) = loop {
        let n = stream.read(&mut buffer).await.unwrap_or(0);
        assert!(n > 0, "closed before a response: {read:?}");
        read.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&read);
        // A `100 Continue` would mean the server asked for the body.
        assert!(!text.starts_with("HTTP/1.1 100"), "{text}");
        let Some((head, _)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no content-length in {head}"));
        break (status, head.len() + 4, length);
    };
    while read.len() < body_at + length {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "cut response");
        read.extend_from_slice(&buffer[..n]);
    }
    let body = String::from_utf8_lossy(&read[body_at..body_at + length]).into_owned();
    // The server's close shows as EOF (or a reset, when it left part of
    // the body unread); a connection kept alive shows as no data for a while.
    let closed =
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => true,
            Ok(Ok(n)) => panic!("more after the response: {:?}", &buffer[..n]),
            Err(_) => false,
        };
    Answer {
        status,
        body,
        closed,
    }
}

fn kept(status: u16, body: &str) -> Answer {
    Answer {
        status,
        body: body.to_owned(),
        closed: false,
    }
}

/// The body of the server's own 413.
const TOO_LARGE: &str = "request body too large";
/// The body of the 413 of axum's `Bytes` and `String` extractors.
const AXUM_413: &str = "Failed to buffer the request body: length limit exceeded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_above_the_limit_is_413_before_the_handler() {
    let since = Instant::now();
    let cases = [
        // 10 GB declared, no byte sent: answered at once, connection closed.
        (
            "/bytes",
            Sent::Declared(10_000_000_000),
            answer(413, TOO_LARGE),
        ),
        ("/stream", Sent::Declared(1001), answer(413, TOO_LARGE)),
        ("/string", Sent::Sized(1001), answer(413, TOO_LARGE)),
    ];
    check(Some(1000), &cases, 0).await;
    // Not waiting for the body (the body-read timeout is 60 s).
    assert!(
        since.elapsed() < Duration::from_secs(5),
        "{:?}",
        since.elapsed()
    );
    // The default limit: 2 MiB.
    let cases = [
        (
            "/bytes",
            Sent::Declared(DEFAULT_MAX_BODY_BYTES + 1),
            answer(413, TOO_LARGE),
        ),
        ("/bytes", Sent::Sized(1000), kept(200, "1000")),
    ];
    check(None, &cases, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_past_the_limit_is_413_and_a_stream_sees_an_error() {
    let cases = [
        // The extractors' own 413 is kept, and the connection closed.
        ("/bytes", Sent::Chunked(&[600, 600]), answer(413, AXUM_413)),
        ("/string", Sent::Chunked(&[1001]), answer(413, AXUM_413)),
        // The handler answered 400: the response is 413 all the same.
        (
            "/stream",
            Sent::Chunked(&[400, 400, 400]),
            answer(413, TOO_LARGE),
        ),
    ];
    // Only `/stream` runs: the extractors fail before their handlers.
    let seen = check(Some(1000), &cases, 1).await;
    let (read, error) = seen.stream.lock().unwrap().clone().expect("/stream ran");
    assert!(read <= 1000, "/stream read {read} bytes");
    assert_eq!(error.as_deref(), Some("length limit exceeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_at_the_limit_passes() {
    let cases = [
        ("/bytes", Sent::Sized(1000), kept(200, "1000")),
        ("/bytes", Sent::Chunked(&[500, 499, 1]), kept(200, "1000")),
        ("/stream", Sent::Chunked(&[1000]), kept(200, "1000")),
        ("/string", Sent::Sized(0), kept(200, "0")),
    ];
    check(Some(1000), &cases, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_limit_lifts_axums_2_mb_default_but_not_a_route_limit() {
    const MIB: usize = 1024 * 1024;
    let cases = [
        ("/bytes", Sent::Sized(5 * MIB / 2), kept(200, "2621440")),
        (
            "/string",
            Sent::Chunked(&[MIB, MIB, MIB / 2]),
            kept(200, "2621440"),
        ),
        (
            "/bytes",
            Sent::Declared(3 * MIB as u64 + 1),
            answer(413, TOO_LARGE),
        ),
        // A route's own, lower limit still holds: axum's extractor answers.
        ("/small", Sent::Sized(100), kept(200, "100")),
        ("/small", Sent::Sized(101), kept(413, AXUM_413)),
    ];
    check(Some(3 * MIB as u64), &cases, 3).await;
}

#[test]
fn http_max_body_bytes_is_a_count_of_at_least_one_byte() {
    let check = |vars: &[(&str, &str)], expected: Result<u64, &str>| match (
        super::settings::load::<HttpSettings>(vars),
        expected,
    ) {
        (Ok(settings), Ok(max)) => assert_eq!(settings.http_max_body_bytes, max, "{vars:?}"),
        (Err(error), Err(expected)) => super::settings::check_error(vars, &error, expected),
        (got, expected) => panic!("{vars:?}: got {got:?}, expected {expected:?}"),
    };
    let var = "HTTP_MAX_BODY_BYTES";
    check(&[], Ok(2_097_152));
    check(&[(var, "1")], Ok(1));
    check(&[(var, " 10485760 ")], Ok(10_485_760));
    check(&[(var, "18446744073709551615")], Ok(u64::MAX));
    check(
        &[(var, "0")],
        Err("HTTP_MAX_BODY_BYTES: too small (at least 1)"),
    );
    for bad in ["10MiB", "2 MB", "-1", "18446744073709551616", "1.5"] {
        check(&[(var, bad)], Err("HTTP_MAX_BODY_BYTES: invalid value"));
    }
}
