//! HTTP serving resists slow clients: a header-read timeout, a body-read
//! timeout answered 408, a maximum number of connections (excess ones closed
//! while accepted ones keep being served), and at the drain, connections with
//! no request in flight (idle, or half-open with their headers incomplete)
//! are closed at once, while a request in flight still completes.

use std::time::{Duration, Instant};

use dozen_shutdown::axum::HttpSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::process::{Child, Connection, assert_between, client_runtime, ms, serial};

async fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Reads until the server closes the connection (EOF or reset), at most
/// `limit`; returns what was read and when the close came.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Instant) {
    let mut read = Vec::new();
    let mut buffer = [0; 1024];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => read.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    (String::from_utf8_lossy(&read).into_owned(), closed)
}

#[test]
fn half_open_connections_do_not_hold_the_drain() {
    // The issue's case: 64 connections that sent half a request header held
    // the drain until the budget ran out (exit 124 instead of 0).
    let _serial = serial();
    for delay in ["0s", "300ms"] {
        let mut child = Child::server(delay, "10s");
        let port = child.port;
        let runtime = client_runtime();
        let mut held = runtime.block_on(async {
            let mut held = Vec::new();
            for _ in 0..64 {
                let mut stream = connect(port).await;
                stream
                    .write_all(b"GET / HTTP/1.1\r\nhost: te")
                    .await
                    .unwrap();
                held.push(stream);
            }
            // Let the server read every half header.
            tokio::time::sleep(ms(200)).await;
            held
        });
        let killed = Instant::now();
        child.signal("TERM");
        let (status, exited) = child.exit(Duration::from_secs(15));
        let took = exited - killed;
        println!(
            "64 half-open connections, delay {delay}: exit {:?} {took:?} after SIGTERM (deadline 10 s)",
            status.code()
        );
        assert_eq!(status.code(), Some(0), "delay {delay}:\n{}", child.stderr());
        // Well inside the 10 s deadline: at the end of the delay, plus margin.
        assert!(
            took < ms(2_500),
            "delay {delay}: exited {took:?} after SIGTERM"
        );
        // And each of them was closed, not left to the kernel at the exit.
        runtime.block_on(async {
            for stream in &mut held {
                read_until_closed(stream, Duration::from_secs(1)).await;
            }
        });
    }
}

/// Sends `child` a POST whose 1000-byte body arrives at a normal pace (100
/// bytes every 100 ms), with SIGTERM after its second part, and checks that
/// the response comes whole and the exit is clean.
pub(crate) fn a_post_in_flight_at_sigterm_completes(mut child: Child) {
    let port = child.port;
    let response = client_runtime().block_on(async {
        let mut stream = connect(port).await;
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\n")
            .await
            .unwrap();
        for part in 0..10 {
            stream.write_all(&[b'x'; 100]).await.unwrap();
            if part == 1 {
                child.signal("TERM");
            }
            tokio::time::sleep(ms(100)).await;
        }
        read_until_closed(&mut stream, Duration::from_secs(10))
            .await
            .0
    });
    let (status, _) = child.exit(Duration::from_secs(10));
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "{response:?}\n{}",
        child.stderr()
    );
    assert!(response.ends_with("\r\n\r\n1000"), "{response:?}");
    assert_eq!(status.code(), Some(0), "{}", child.stderr());
}

#[test]
fn a_post_in_flight_at_sigterm_completes_with_its_response() {
    let _serial = serial();
    a_post_in_flight_at_sigterm_completes(Child::server("0s", "5s"));
}

#[test]
fn a_stalled_body_is_answered_408_and_a_stalled_header_is_closed() {
    let _serial = serial();
    let mut child = Child::start(
        "server",
        &[
            ("HTTP_BODY_READ_TIMEOUT", "500ms"),
            ("HTTP_HEADER_READ_TIMEOUT", "700ms"),
        ],
    );
    let port = child.port;
    let runtime = client_runtime();
    runtime.block_on(async {
        // The body stops after 10 of 100 bytes.
        let mut stream = connect(port).await;
        stream
            .write_all(
                b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 100\r\n\r\n0123456789",
            )
            .await
            .unwrap();
        let sent = Instant::now();
        let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
        assert!(response.starts_with("HTTP/1.1 408"), "{response:?}");
        assert!(
            response.to_ascii_lowercase().contains("connection: close"),
            "{response:?}"
        );
        assert_between("body stall to 408", closed - sent, ms(450), ms(3_000));

        // A body that keeps arriving, slower than the timeout in total, is
        // not cut: every part restarts the timer.
        let mut stream = connect(port).await;
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 8\r\n\r\n")
            .await
            .unwrap();
        for _ in 0..8 {
            tokio::time::sleep(ms(150)).await;
            stream.write_all(b"x").await.unwrap();
        }
        let mut head = [0; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");

        // Half a header, then nothing: closed at the header-read timeout.
        let mut stream = connect(port).await;
        stream.write_all(b"GET / HTTP/1.1\r\nho").await.unwrap();
        let sent = Instant::now();
        let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
        assert_between("header stall to close", closed - sent, ms(650), ms(3_000));

        // The server itself is fine.
        let response = Connection::open(port)
            .await
            .unwrap()
            .get("/")
            .await
            .unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "hello"));
    });
    child.signal("TERM");
    let (status, _) = child.exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", child.stderr());
}

#[test]
fn excess_connections_are_refused_while_accepted_ones_are_served() {
    let _serial = serial();
    let mut child = Child::start("server", &[("HTTP_MAX_CONNECTIONS", "4")]);
    let port = child.port;
    let runtime = client_runtime();
    runtime.block_on(async {
        let mut accepted = Vec::new();
        for _ in 0..4 {
            let mut conn = Connection::open(port).await.unwrap();
            assert_eq!(conn.get("/").await.unwrap().status, 200);
            accepted.push(conn);
        }
        // The fifth is closed as soon as it is accepted.
        let mut excess = connect(port).await;
        let _ = excess
            .write_all(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
            .await;
        let (response, _) = read_until_closed(&mut excess, Duration::from_secs(5)).await;
        assert_eq!(response, "", "the fifth connection was served");
        // The four keep being served.
        for conn in &mut accepted {
            let response = conn.get("/").await.unwrap();
            assert_eq!((response.status, response.close), (200, false));
        }
        // Once one ends, a new connection is served again.
        drop(accepted.pop());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let served = async { Connection::open(port).await?.get("/").await }.await;
            if matches!(&served, Ok(r) if r.status == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no connection served again: {served:?}"
            );
            tokio::time::sleep(ms(20)).await;
        }
    });
    assert!(child.stderr().contains("HTTP_MAX_CONNECTIONS reached"));
    child.signal("TERM");
    let (status, _) = child.exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", child.stderr());
}

#[test]
fn http_settings_load_with_bounds_and_errors_hide_values() {
    let s = Duration::from_secs;
    let check = |vars: &[(&str, &str)], expected: Result<(Duration, Duration, u32), &str>| match (
        super::settings::load::<HttpSettings>(vars),
        expected,
    ) {
        (Ok(settings), Ok((header, body, max))) => assert_eq!(
            (
                settings.http_header_read_timeout,
                settings.http_body_read_timeout,
                settings.http_max_connections
            ),
            (header, body, max),
            "{vars:?}"
        ),
        (Err(error), Err(expected)) => super::settings::check_error(vars, &error, expected),
        (got, expected) => panic!("{vars:?}: got {got:?}, expected {expected:?}"),
    };
    check(&[], Ok((s(30), s(30), 1024)));
    check(
        &[
            ("HTTP_HEADER_READ_TIMEOUT", "5s"),
            ("HTTP_BODY_READ_TIMEOUT", " 1m "),
            ("HTTP_MAX_CONNECTIONS", "64"),
        ],
        Ok((s(5), s(60), 64)),
    );
    check(
        &[("HTTP_BODY_READ_TIMEOUT", "1h")],
        Ok((s(30), s(3600), 1024)),
    );
    // Zero turns a limit off, explicitly.
    check(
        &[
            ("HTTP_HEADER_READ_TIMEOUT", "0s"),
            ("HTTP_BODY_READ_TIMEOUT", "0ms"),
            ("HTTP_MAX_CONNECTIONS", "0"),
        ],
        Ok((s(0), s(0), 0)),
    );
    for (variable, value, expected) in [
        (
            "HTTP_HEADER_READ_TIMEOUT",
            "18446744073709551615s",
            "at most 1h",
        ),
        ("HTTP_BODY_READ_TIMEOUT", "61m", "at most 1h"),
        ("HTTP_BODY_READ_TIMEOUT", "s3cr3t", "humantime syntax"),
        ("HTTP_MAX_CONNECTIONS", "99999999999", ""),
        ("HTTP_MAX_CONNECTIONS", "-1", ""),
    ] {
        check(
            &[(variable, value)],
            Err(&format!("{variable}: {expected}")),
        );
    }

    // Deserialized, as any serde loader reads it with an app's settings.
    let settings: HttpSettings =
        serde_json::from_str(r#"{"http_header_read_timeout":"2s","http_max_connections":8}"#)
            .unwrap();
    let mut expected = HttpSettings::default();
    expected.http_header_read_timeout = s(2);
    expected.http_max_connections = 8;
    assert_eq!(settings, expected);
    for json in [
        r#"{"http_header_read_timeout":"2h"}"#,
        r#"{"http_body_read_timeout":"18446744073709551615s"}"#,
    ] {
        let error = serde_json::from_str::<HttpSettings>(json).unwrap_err();
        assert!(error.to_string().contains("at most 1h"), "{json}: {error}");
    }
}
