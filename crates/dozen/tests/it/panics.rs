//! A panic ends only what panicked, never the service: a handler's panic is
//! answered 500 on a connection that stays open and logged as a 500 request
//! (not as a client that went away), and a readiness check that panics
//! counts as failing (`/readyz` 503 naming it) until a run passes. Through
//! all of it the process keeps serving and stops with 0 on SIGTERM. A body
//! that panics while streaming ends its connection, and its request line is
//! at ERROR, saying the body failed.
//!
//! The service runs in a child process: this test binary again, running only
//! [`child`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use dozen::service::{Check, Service};

#[derive(serde::Deserialize)]
struct Settings {
    /// `FLAKY_CHECK`: registers the checks `flaky` and `eager`.
    #[serde(default)]
    flaky_check: bool,
}

/// Set by `GET /recover`: the checks `flaky` and `eager` pass from then on.
static RECOVERED: AtomicBool = AtomicBool::new(false);

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(
        Service::<Settings>::new("panics", "1.0.0").web(|ctx| async move {
            if ctx.settings().flaky_check {
                // Panics inside its future until told to recover, as `v[1]` on
                // an empty Vec does.
                ctx.health().add(
                    Check::new("flaky", || async {
                        if !RECOVERED.load(Ordering::SeqCst) {
                            let empty = std::hint::black_box(Vec::<u8>::new());
                            std::hint::black_box(empty[1]);
                        }
                        Ok::<(), std::io::Error>(())
                    })
                    .with_interval(Duration::from_millis(50)),
                );
                // Panics in its function, before it has a future to return.
                ctx.health().add(
                    Check::new("eager", || {
                        assert!(RECOVERED.load(Ordering::SeqCst), "not yet");
                        async { Ok::<(), std::io::Error>(()) }
                    })
                    .with_interval(Duration::from_millis(50)),
                );
            }
            Ok::<_, std::io::Error>(
                Router::new()
                    .route("/", get(|| async { "ok" }))
                    .route(
                        "/panic",
                        get(|| async {
                            let empty = std::hint::black_box(Vec::<u8>::new());
                            empty[3].to_string()
                        }),
                    )
                    .route(
                        "/panic-body",
                        get(|| async { axum::body::Body::new(PanickingBody { sent: false }) }),
                    )
                    .route(
                        "/recover",
                        get(|| async {
                            RECOVERED.store(true, Ordering::SeqCst);
                            "recovering"
                        }),
                    ),
            )
        }),
    );
}

/// A response body that sends `abc`, then panics.
struct PanickingBody {
    sent: bool,
}

impl http_body::Body for PanickingBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        assert!(
            !std::mem::replace(&mut self.sent, true),
            "the body gives out"
        );
        let data = axum::body::Bytes::from_static(b"abc");
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(data))))
    }
}

/// The running [`child`]: its port and every line of its standard output.
struct Running {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// [`child`], with the checks `flaky` and `eager` if `flaky_check`.
    fn start(flaky_check: bool) -> Self {
        let mut child = crate::child_command("panics", "web")
            .env("PORT", "0")
            .env("FLAKY_CHECK", flaky_check.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("\"addr\":\"0.0.0.0:").nth(1) {
                    let _ = tx.send(rest.split('"').next().and_then(|p| p.parse::<u16>().ok()));
                }
                collected.lock().unwrap().push(line);
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(20))
            .ok()
            .flatten()
            .expect("a listening line");
        Self { child, port, lines }
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Whether the process is still running.
    fn alive(&mut self) -> bool {
        self.child.try_wait().expect("waits").is_none()
    }

    /// SIGTERM, then the exit code within 10 s.
    fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                break status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "still running 10 s after SIGTERM: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread takes the last lines after the exit.
        std::thread::sleep(Duration::from_millis(200));
        (status.code(), self.log())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive connection.
struct Client(BufReader<TcpStream>);

impl Client {
    fn open(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Self(BufReader::new(stream))
    }

    /// `GET path`: the status and the body (read by its `content-length`),
    /// or `None` when the connection ends before a whole response.
    fn get(&mut self, path: &str) -> Option<(u16, String)> {
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
        self.0.get_mut().write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        self.0.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let status = line.split(' ').nth(1)?.parse().ok()?;
        let mut length = 0;
        loop {
            line.clear();
            self.0.read_line(&mut line).ok().filter(|n| *n > 0)?;
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).ok()?;
        Some((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// Asks `/readyz` on new connections until it answers `status` with `body`,
/// within 5 s.
fn until_readyz(running: &Running, status: u16, body: &str) {
    let since = Instant::now();
    loop {
        let got = Client::open(running.port).get("/readyz");
        if got.as_ref().is_some_and(|(s, b)| *s == status && b == body) {
            return;
        }
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "/readyz answers {got:?}, not {status} {body}: {}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The service's JSON lines that hold every one of `parts`.
fn lines_with<'a>(log: &'a str, parts: &[&str]) -> Vec<&'a str> {
    log.lines()
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .collect()
}

#[test]
fn a_panicking_handler_is_answered_500_logged_500_and_the_service_goes_on() {
    let mut running = Running::start(false);
    until_readyz(&running, 200, r#"{"status":"ready"}"#);
    let mut client = Client::open(running.port);
    // The same request three times on one keep-alive connection: each is
    // answered, and the connection stays open for the next request.
    for _ in 0..3 {
        assert_eq!(
            client.get("/panic"),
            Some((500, String::new())),
            "{}",
            running.log()
        );
        assert_eq!(client.get("/"), Some((200, "ok".to_owned())));
    }
    assert!(running.alive(), "{}", running.log());

    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    // Each panic is reported by the panic hook, and each request line says
    // what the client got: 500, at ERROR, never 499 (a client that left).
    assert_eq!(
        lines_with(&log, &["\"CRITICAL\"", "the index is 3"]).len(),
        3,
        "{log}"
    );
    let logged = lines_with(&log, &["\"requestUrl\":\"", "/panic\""]);
    assert_eq!(logged.len(), 3, "{log}");
    for line in logged {
        assert!(
            line.contains("\"status\":500") && line.contains("\"severity\":\"ERROR\""),
            "{line}"
        );
    }
    assert!(
        !log.contains(" 499\"") && !log.contains("\"status\":499"),
        "{log}"
    );
    assert!(!log.contains("tracked task failed"), "{log}");
}

#[test]
fn a_body_that_panics_while_streaming_is_logged_at_error_and_the_service_goes_on() {
    let running = Running::start(false);
    until_readyz(&running, 200, r#"{"status":"ready"}"#);
    // The connection ends without a whole response, then the next is served.
    assert_eq!(Client::open(running.port).get("/panic-body"), None);
    assert_eq!(
        Client::open(running.port).get("/"),
        Some((200, "ok".to_owned()))
    );
    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        lines_with(&log, &["\"CRITICAL\"", "the body gives out"]).len(),
        1,
        "{log}"
    );
    let logged = lines_with(&log, &["\"requestUrl\":\"", "/panic-body\""]);
    assert_eq!(logged.len(), 1, "{log}");
    assert!(
        logged[0].contains("\"severity\":\"ERROR\"")
            && logged[0].contains("\"error\":\"the response body failed while it was being sent\""),
        "{log}"
    );
}

#[test]
fn a_panicking_readiness_check_fails_until_a_run_passes() {
    let failing = r#"{"status":"failing","failing":["flaky","eager"]}"#;
    let mut running = Running::start(true);
    until_readyz(&running, 503, failing);
    // They keep panicking, run after run, and the process keeps answering.
    std::thread::sleep(Duration::from_millis(300));
    until_readyz(&running, 503, failing);
    assert!(running.alive(), "{}", running.log());
    assert_eq!(
        Client::open(running.port).get("/recover"),
        Some((200, "recovering".to_owned()))
    );
    until_readyz(&running, 200, r#"{"status":"ready"}"#);

    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("tracked task failed"), "{log}");
    // Each is logged failing once, with the panic's message, however many
    // runs panicked, and passing again once.
    for (check, message) in [
        ("flaky", "panicked: index out of bounds"),
        ("eager", "panicked: not yet"),
    ] {
        let name = format!("\"check\":\"{check}\"");
        let failing = lines_with(&log, &["readiness check failing", &name]);
        assert_eq!(failing.len(), 1, "{check}: {log}");
        assert!(failing[0].contains(message), "{}", failing[0]);
        let passing = lines_with(&log, &["readiness check passing again", &name]);
        assert_eq!(passing.len(), 1, "{check}: {log}");
    }
}
