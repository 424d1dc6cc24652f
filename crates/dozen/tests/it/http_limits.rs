//! The limits on request bodies reach the app's port through `Service`:
//! with `HTTP_MAX_BODY_BYTES=1000` a 1001-byte POST is answered 413 without
//! its handler running (and logged as a request all the same) while a
//! 1000-byte one is served, and with
//! `HTTP_BODY_READ_TIMEOUT=500ms` a body that stops after 10 of its 100
//! bytes is answered 408 within seconds, not after the 30 s default. The
//! `config` command and the `configuration loaded` line list
//! `HTTP_MAX_BODY_BYTES` with the other `HTTP_*` variables. The request log
//! says what the client got: a handler that answers 400 to a body that failed
//! is logged with the 413 or 408 the client gets instead.
//!
//! The service runs in a child process: this test binary again, running only
//! [`child`]. `hello`, the example the other facade tests serve, has no route
//! that reads a body.

use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::{Router, routing::post};
use dozen::service::Service;

/// How long a test waits for an answer: wide for a loaded machine, far
/// below the 30 s default of `HTTP_BODY_READ_TIMEOUT`.
const PATIENCE: Duration = Duration::from_secs(5);

#[derive(serde::Deserialize)]
struct Settings {}

/// `POST /echo` answers the length of the body it read and how many bodies
/// it has read so far; `POST /lenient` reads its body and answers 400 when
/// that fails, as a handler with its own error format might.
#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    let served = Arc::new(AtomicUsize::new(0));
    crate::run_child(Service::<Settings>::new("bodies", "1.0.0").web(move |_| {
        let served = Arc::clone(&served);
        async move {
            let route = post(move |body: Bytes| async move {
                let n = served.fetch_add(1, Ordering::SeqCst) + 1;
                format!("{} bytes, body {n}", body.len())
            });
            let lenient = post(|body: axum::body::Body| async move {
                match axum::body::to_bytes(body, usize::MAX).await {
                    Ok(bytes) => (StatusCode::OK, format!("{} bytes", bytes.len())),
                    Err(_) => (StatusCode::BAD_REQUEST, "unreadable body".to_owned()),
                }
            });
            Ok::<_, std::io::Error>(
                Router::new()
                    .route("/echo", route)
                    .route("/lenient", lenient),
            )
        }
    }));
}

/// [`child`] serving with `env`: the process, its port once ready, and its
/// stdout lines as they come.
struct Served {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &[(&str, &str)]) -> Served {
    let mut child = crate::child_command("http_limits", "web")
        .env("PORT", "0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (sink, (ports, port)) = (Arc::clone(&lines), mpsc::channel());
    std::thread::spawn(move || {
        let mut listening = None;
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("\"addr\":\"0.0.0.0:").nth(1) {
                listening = rest.split('"').next().and_then(|p| p.parse::<u16>().ok());
            }
            if line.contains("\"message\":\"ready\"") {
                let _ = ports.send(listening);
            }
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }
    });
    let port = port
        .recv_timeout(Duration::from_secs(30))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no listening and ready lines: {:#?}", lines.lock()));
    Served { child, port, lines }
}

impl Served {
    /// Sends `request` on a new connection and reads until the server
    /// closes it (or [`PATIENCE`] runs out): what came, and how long after
    /// the request it ended; `None` if it never ended.
    fn send(&self, request: &[u8]) -> (String, Option<Duration>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("a timeout");
        stream.write_all(request).expect("sends");
        let sent = Instant::now();
        let mut read = Vec::new();
        let mut buffer = [0; 1024];
        let ended = loop {
            match stream.read(&mut buffer) {
                Ok(0) => break Some(sent.elapsed()),
                Ok(n) => read.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break Some(sent.elapsed()),
                Err(_) => break None,
            }
        };
        (String::from_utf8_lossy(&read).into_owned(), ended)
    }

    /// `POST /echo` with a body of `n` bytes, the connection closed after it.
    fn post(&self, n: usize) -> String {
        let mut request = format!(
            "POST /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {n}\r\n\r\n"
        )
        .into_bytes();
        request.resize(request.len() + n, b'x');
        let (response, ended) = self.send(&request);
        assert!(
            ended.is_some(),
            "POST of {n} bytes: no answer: {response:?}"
        );
        response
    }
}

#[test]
fn http_max_body_bytes_reaches_the_apps_port() {
    let served = serve(&[("HTTP_MAX_BODY_BYTES", "1000")]);
    let response = served.post(1001);
    assert!(response.starts_with("HTTP/1.1 413 "), "{response:?}");
    // Refused before the app, and still logged as a request, at WARNING.
    assert_eq!(served.logged_statuses("/echo", 1), ["413"]);
    let response = served.post(1000);
    assert!(response.starts_with("HTTP/1.1 200 "), "{response:?}");
    // The 1001 bytes never reached the handler: this is its first body.
    assert!(response.ends_with("1000 bytes, body 1"), "{response:?}");
    assert_eq!(served.logged_statuses("/echo", 2), ["413", "200"]);
    let lines = served.lines.lock().unwrap_or_else(PoisonError::into_inner);
    let refused = lines
        .iter()
        .find(|l| l.contains("\"status\":413"))
        .expect("the refused request's line");
    for part in [
        "\"severity\":\"WARNING\"",
        "\"requestMethod\":\"POST\"",
        "\"requestSize\":1001",
        "\"remoteIp\":\"127.0.0.1\"",
        "\"protocol\":\"HTTP/1.1\"",
    ] {
        assert!(refused.contains(part), "{part}: {refused}");
    }
    let loaded = lines
        .iter()
        .find(|l| l.contains("\"configuration loaded\""))
        .expect("a configuration line");
    assert!(loaded.contains("HTTP_MAX_BODY_BYTES=1000"), "{loaded}");
}

#[test]
fn http_body_read_timeout_reaches_the_apps_port() {
    let served = serve(&[("HTTP_BODY_READ_TIMEOUT", "500ms")]);
    // The body stops after 10 of its 100 bytes.
    let (response, ended) =
        served.send(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n0123456789");
    assert!(response.starts_with("HTTP/1.1 408 "), "{response:?}");
    let ended = ended.unwrap_or_else(|| panic!("open after {PATIENCE:?}: {response:?}"));
    assert!(ended >= Duration::from_millis(250), "408 after {ended:?}");
}

impl Served {
    /// The `status` of the request log lines for `path`, once there are
    /// `n` of them (within [`PATIENCE`]).
    fn logged_statuses(&self, path: &str, n: usize) -> Vec<String> {
        let since = Instant::now();
        loop {
            let statuses: Vec<String> = self
                .lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|l| l.contains("\"httpRequest\"") && l.contains(&format!("{path}\"")))
                .filter_map(|l| l.split("\"status\":").nth(1))
                .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
                .collect();
            if statuses.len() >= n || since.elapsed() > PATIENCE {
                return statuses;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A handler that answers 400 to a failed body is overruled: the client
/// gets 413 or 408, and the request log line says so, not 400.
#[test]
fn a_failed_body_is_logged_with_the_status_the_client_gets() {
    let served = serve(&[
        ("HTTP_MAX_BODY_BYTES", "1000"),
        ("HTTP_BODY_READ_TIMEOUT", "500ms"),
    ]);
    // Chunked, so that the limit is found while the handler reads.
    let mut request =
        b"POST /lenient HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        request.extend_from_slice(b"258\r\n");
        request.extend_from_slice(&[b'x'; 600]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let (response, _) = served.send(&request);
    assert!(response.starts_with("HTTP/1.1 413 "), "{response:?}");
    assert_eq!(served.logged_statuses("/lenient", 1), ["413"]);
    // The body stops after 10 of its 100 bytes.
    let (response, _) =
        served.send(b"POST /lenient HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n0123456789");
    assert!(response.starts_with("HTTP/1.1 408 "), "{response:?}");
    assert_eq!(served.logged_statuses("/lenient", 2), ["413", "408"]);
    // A body that arrives whole is the handler's to answer.
    let (response, _) = served.send(
        b"POST /lenient HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: 3\r\n\r\nabc",
    );
    assert!(response.starts_with("HTTP/1.1 200 "), "{response:?}");
    assert_eq!(served.logged_statuses("/lenient", 3), ["413", "408", "200"]);
}

#[test]
fn config_lists_http_max_body_bytes() {
    let output = crate::child_command("http_limits", "config")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for var in [
        "HTTP_HEADER_READ_TIMEOUT",
        "HTTP_BODY_READ_TIMEOUT",
        "HTTP_MAX_CONNECTIONS",
        "HTTP_MAX_BODY_BYTES",
    ] {
        assert!(stdout.contains(&format!("`{var}`")), "{var}: {stdout}");
    }
    // A value that is no count of bytes is refused by name, exit 78.
    let output = crate::child_command("http_limits", "web")
        .env("HTTP_MAX_BODY_BYTES", "10MiB")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("HTTP_MAX_BODY_BYTES: invalid value") && !stderr.contains("10MiB"),
        "{stderr}"
    );
}
