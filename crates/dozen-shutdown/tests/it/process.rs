//! Under real signals, a real process keeps its promises: load during the
//! propagation delay never fails and requests in flight complete; a second
//! signal exits at once even with the runtime wedged; the watchdog ends the
//! process at the deadline; streams and idle keep-alive connections do not
//! hold the drain; and settings loaded from the environment give the
//! documented delay, with errors that never echo a value.
//!
//! Each test re-runs this test binary as a child (`--ignored --exact
//! process::child`) with `DOZEN_SHUTDOWN_CHILD` naming its role, sends it
//! signals with the `kill` command and talks HTTP/1.1 to it over loopback.
//! The tests run one at a time, so their timings do not disturb each other.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use dozen_shutdown::{Shutdown, ShutdownSettings, exit_code};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

const ROLE: &str = "DOZEN_SHUTDOWN_CHILD";
/// How long `/slow` takes: the drain time of the load tests.
const SLOW: Duration = Duration::from_millis(300);

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Asserts `low <= took <= high`, saying what took how long otherwise.
#[track_caller]
pub(crate) fn assert_between(what: &str, took: Duration, low: Duration, high: Duration) {
    assert!(
        low <= took && took <= high,
        "{what}: took {took:?}, expected {low:?} to {high:?}"
    );
}

// ---------------------------------------------------------------- the child

/// A `Shutdown` with signals and the watchdog on, its settings loaded from
/// the child's environment as an app loads them (the crate reads none).
pub(crate) fn from_env() -> Result<Shutdown, Box<dyn std::error::Error>> {
    let settings = dozen_config::from_env::<ShutdownSettings>()?;
    Ok(Shutdown::builder().settings(settings).build()?)
}

/// The child process: not a test by itself, run by the tests below.
#[test]
#[ignore = "the child process of the process tests, which run it"]
fn child() {
    let role =
        std::env::var(ROLE).expect("run by the process tests, with DOZEN_SHUTDOWN_CHILD set");
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    if role == "config" {
        let shown = match dozen_config::from_env::<ShutdownSettings>() {
            Ok(settings) => format!(
                "delay={:?} timeout={:?}",
                settings.delay(),
                settings.shutdown_timeout
            ),
            Err(error) => format!("error: {error}"),
        };
        println!("CONFIG {shown}");
        std::process::exit(0);
    }
    // One worker thread, so that `/block` wedges the whole runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        if role == "startup" {
            super::startup_phases::startup().await
        } else if role == "raise-twice" {
            raise_twice().await
        } else {
            server().await
        }
    });
    println!("OUTCOME {outcome}");
    // Like returning from `#[tokio::main]`: dropping the runtime waits for
    // its blocking tasks.
    drop(runtime);
    std::process::exit(i32::from(outcome.code()));
}

/// Two SIGTERMs delivered before the signal thread can read the first:
/// `raise` runs the handlers on this thread before it returns, so both
/// deliveries are over within microseconds of each other.
async fn raise_twice() -> dozen_shutdown::Outcome {
    let shutdown = from_env().expect("valid settings");
    for _ in 0..2 {
        signal_hook::low_level::raise(signal_hook::consts::SIGTERM).expect("raise");
    }
    println!("RAISED");
    shutdown.wait().await
}

async fn server() -> dozen_shutdown::Outcome {
    let shutdown = from_env().expect("valid settings");
    let blocking = shutdown.clone();
    let streaming = shutdown.clone();
    let triggering = shutdown.clone();
    let failing = shutdown.clone();
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(SLOW).await;
                "slow"
            }),
        )
        .route(
            "/block",
            get(|| async {
                println!("BLOCKING");
                block_forever();
                "unreachable"
            }),
        )
        .route(
            "/blocking",
            get(move || async move {
                blocking.spawn_blocking("blocking sleeper", || {
                    std::thread::sleep(Duration::from_secs(60));
                });
                "started"
            }),
        )
        .route(
            "/untracked-blocking",
            get(|| async {
                tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_secs(60)));
                "started"
            }),
        )
        .route(
            "/stream",
            get(move || async move {
                dozen_shutdown::axum::close_on_drain(&streaming, Body::new(ticks()))
            }),
        )
        .route(
            "/events",
            get(|| async { ([(CONTENT_TYPE, "text/event-stream")], Body::new(ticks())) }),
        )
        .route("/endless", get(|| async { Body::new(ticks()) }))
        .route(
            "/echo",
            axum::routing::post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route(
            "/trigger",
            get(move || async move {
                triggering.trigger();
                "triggered"
            }),
        )
        .route(
            "/fail",
            get(move || async move {
                failing.trigger_failure("admin");
                "failed"
            }),
        )
        .merge(super::panics::routes())
        .merge(dozen_shutdown::axum::health_routes(&shutdown));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap().port());
    let settings = dozen_config::from_env::<dozen_shutdown::axum::HttpSettings>()
        .expect("valid HTTP settings");
    shutdown.spawn(
        "http server",
        dozen_shutdown::axum::serve(listener, app, shutdown.clone()).settings(settings),
    );
    // The example app's budgets, when asked for; a short one otherwise.
    let hooks: &[(&str, Duration)] = if std::env::var_os("CHILD_APP_BUDGETS").is_some() {
        &[
            ("flush logs", Duration::from_secs(1)),
            ("close database pool", Duration::from_secs(3)),
        ]
    } else {
        &[("flush", ms(200))]
    };
    for &(name, budget) in hooks {
        let registered = shutdown.on_teardown(name, budget, || async {
            println!("TEARDOWN");
        });
        if let Err(error) = registered {
            println!("SETUP ERROR {error}");
            std::process::exit(78);
        }
    }
    // What an app does with its log flusher: the forced exits must run it.
    shutdown.on_forced_exit(|| println!("FORCED EXIT"));
    if std::env::var_os("CHILD_STUCK_FLUSH").is_some() {
        // A log flush stuck on a stalled stdout; registered last, so it
        // runs first.
        shutdown.on_forced_exit(block_forever);
    }
    shutdown.wait().await
}

/// Blocks the calling thread (a runtime worker, in `/block`) for good.
fn block_forever() {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// An endless body: one `tick\n` chunk every 50 ms.
fn ticks() -> Ticks {
    Ticks(tokio::time::interval(ms(50)))
}

struct Ticks(tokio::time::Interval);

impl http_body::Body for Ticks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_tick(cx)
            .map(|_| Some(Ok(http_body::Frame::data(Bytes::from_static(b"tick\n")))))
    }
}

// --------------------------------------------------------------- the parent

/// A runtime for the test's own HTTP client.
pub(crate) fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Child {
    pub(crate) process: std::process::Child,
    pub(crate) port: u16,
    pub(crate) stdout: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread collecting stderr, joined at the exit so nothing is missed.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Child {
    pub(crate) fn start(role: &str, env: &[(&str, &str)]) -> Self {
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "process::child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE, role)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("SHUTDOWN_DELAY")
            .env_remove("SHUTDOWN_TIMEOUT")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, stdout) = mpsc::channel();
        let out = BufReader::new(process.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = process.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut child = Self {
            process,
            port: 0,
            stdout,
            stderr,
            stderr_reader: Some(stderr_reader),
        };
        if role == "server" {
            let line = child.line("LISTENING ");
            child.port = line.parse().unwrap();
        }
        child
    }

    /// A server child with these `SHUTDOWN_DELAY` and `SHUTDOWN_TIMEOUT`.
    pub(crate) fn server(delay: &str, timeout: &str) -> Self {
        Self::start(
            "server",
            &[("SHUTDOWN_DELAY", delay), ("SHUTDOWN_TIMEOUT", timeout)],
        )
    }

    /// What follows `prefix` in the first stdout line that holds it.
    pub(crate) fn line(&self, prefix: &str) -> String {
        loop {
            match self.stdout.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    // libtest's "test process::child ... " may precede the first line.
                    if let Some((_, rest)) = line.split_once(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(error) => panic!("no {prefix:?} line ({error}); stderr:\n{}", self.stderr()),
            }
        }
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits for the exit (at most `limit`) and says when it happened.
    pub(crate) fn exit(&mut self, limit: Duration) -> (ExitStatus, Instant) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.process.try_wait().unwrap() {
                let exited = Instant::now();
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return (status, exited);
            }
            if started.elapsed() > limit {
                let _ = self.process.kill();
                panic!(
                    "child still running after {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(ms(1));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A response: status, whether the server asked to close, and the body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) close: bool,
    pub(crate) body: String,
}

/// A keep-alive HTTP/1.1 client connection, as a load balancer holds one.
pub(crate) struct Connection {
    pub(crate) stream: AsyncBufReader<TcpStream>,
}

impl Connection {
    pub(crate) async fn open(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: AsyncBufReader::new(stream),
        })
    }

    pub(crate) async fn get(&mut self, path: &str) -> std::io::Result<Response> {
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let (mut length, mut close) = (0, false);
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end().to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("content-length:") {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| std::io::ErrorKind::InvalidData)?;
            }
            if header == "connection: close" {
                close = true;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(Response {
            status,
            close,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// One request of a load run: when it was sent and whether it succeeded.
#[derive(Debug)]
struct Sent {
    at: Instant,
    path: &'static str,
    ok: bool,
}

/// Sends `path` back to back on keep-alive connections (reconnecting when the
/// server asks to close or a request fails) until `until` is set.
async fn load(
    port: u16,
    path: &'static str,
    until: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Sent> {
    let mut sent = Vec::new();
    let mut connection: Option<Connection> = None;
    while !until.load(std::sync::atomic::Ordering::Relaxed) {
        let at = Instant::now();
        let result = async {
            let conn = match connection.as_mut() {
                Some(conn) => conn,
                None => connection.insert(Connection::open(port).await?),
            };
            conn.get(path).await
        }
        .await;
        let ok = matches!(&result, Ok(r) if r.status == 200);
        if !matches!(&result, Ok(r) if !r.close) {
            connection = None;
        }
        sent.push(Sent { at, path, ok });
        if !ok {
            // A refused connection fails at once: do not spin.
            tokio::time::sleep(ms(5)).await;
        }
    }
    sent
}

/// Runs load against a fresh server, sends SIGTERM after 300 ms and keeps the
/// load going until the server has exited. Returns the exit status, the time
/// from SIGTERM to exit, the requests with their send time relative to
/// SIGTERM, and the child's stderr.
fn run_under_load(
    delay: &str,
) -> (
    ExitStatus,
    Duration,
    Vec<(Duration, &'static str, bool)>,
    String,
) {
    let mut child = Child::start(
        "server",
        &[("SHUTDOWN_DELAY", delay), ("SHUTDOWN_TIMEOUT", "10s")],
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let until = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for path in ["/", "/", "/", "/slow", "/slow"] {
        clients.push(runtime.spawn(load(child.port, path, Arc::clone(&until))));
        std::thread::sleep(ms(60));
    }
    std::thread::sleep(ms(300));
    let killed = Instant::now();
    child.signal("TERM");
    let (status, exited) = child.exit(Duration::from_secs(15));
    // A lagging load balancer keeps sending a little after the exit.
    std::thread::sleep(ms(200));
    until.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = Vec::new();
    for client in clients {
        sent.extend(runtime.block_on(client).unwrap());
    }
    // Requests sent before SIGTERM count as sent at 0.
    let sent = sent
        .into_iter()
        .map(|s| (s.at.saturating_duration_since(killed), s.path, s.ok))
        .collect();
    (status, exited - killed, sent, child.stderr())
}

#[test]
fn load_during_the_delay_never_fails_and_in_flight_requests_complete() {
    let _serial = serial();
    let delay = ms(1_000);
    let (status, took, sent, stderr) = run_under_load("1s");
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    // Requests sent up to the end of the delay (less 10 ms for the one racing
    // the listener's close) must all have succeeded, the 300 ms `/slow` ones
    // in flight when the listener closed included.
    let during: Vec<_> = sent
        .iter()
        .filter(|(at, _, _)| *at < delay - ms(10))
        .collect();
    let failed: Vec<_> = during.iter().filter(|(_, _, ok)| !ok).collect();
    assert!(
        failed.is_empty(),
        "failed during the delay: {failed:?}\nstderr:\n{stderr}"
    );
    let slow_late = during
        .iter()
        .filter(|(at, path, _)| *path == "/slow" && *at > delay - SLOW)
        .count();
    assert!(
        slow_late >= 1,
        "no /slow request was in flight at the end of the delay"
    );
    let in_delay = during
        .iter()
        .filter(|(at, _, _)| *at > Duration::ZERO)
        .count();
    assert!(
        in_delay > 50,
        "only {in_delay} requests sent during the delay"
    );
    let late_failed = sent
        .iter()
        .filter(|(at, _, ok)| *at >= delay && !ok)
        .count();
    println!(
        "delay 1 s: {} requests sent before the end of the delay, none failed; \
         {late_failed} failed after it; SIGTERM to exit {took:?}",
        during.len()
    );
    // Exit within delay + drain + 100 ms, and not before the delay.
    assert!(took >= delay, "exited after {took:?}, before the delay");
    assert!(took <= delay + SLOW + ms(100), "exited after {took:?}");
    // After the delay the server is gone: late requests fail.
    assert!(sent.iter().any(|(at, _, ok)| *at > took && !ok));
    for phase in ["draining", "stopping", "teardown", "exit"] {
        assert!(
            stderr.contains(&format!("phase=\"{phase}\"")),
            "no {phase} event:\n{stderr}"
        );
    }
}

#[test]
fn without_a_delay_a_lagging_load_balancer_sees_failures() {
    let _serial = serial();
    let (status, took, sent, stderr) = run_under_load("0s");
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    // The same client as above, the same first second after SIGTERM: now
    // requests fail, because nothing kept the listener open.
    let window: Vec<_> = sent
        .iter()
        .filter(|(at, _, _)| *at > Duration::ZERO && *at < ms(1_000))
        .collect();
    let failed = window.iter().filter(|(_, _, ok)| !ok).count();
    println!(
        "delay 0: {failed} of {} requests sent in the first second after SIGTERM failed; exit after {took:?}",
        window.len()
    );
    assert!(
        failed > 0,
        "no failure among {} requests: {window:?}",
        window.len()
    );
    assert!(took <= SLOW + ms(100), "exited after {took:?}");
}

#[test]
fn a_second_signal_exits_at_once_even_with_the_runtime_wedged() {
    let _serial = serial();
    let check = |signal: &str, code: u8| {
        let mut child = Child::server("5s", "20s");
        // `/block` blocks the runtime's only worker thread forever.
        let port = child.port;
        std::thread::spawn(move || {
            let runtime = client_runtime();
            let _ = runtime.block_on(async { Connection::open(port).await?.get("/block").await });
        });
        child.line("BLOCKING");
        child.signal(signal);
        std::thread::sleep(ms(200));
        assert!(
            child.process.try_wait().unwrap().is_none(),
            "the first {signal} must not end it"
        );
        let second = Instant::now();
        child.signal(signal);
        let (status, exited) = child.exit(Duration::from_secs(5));
        let took = exited - second;
        assert_eq!(
            status.code(),
            Some(i32::from(code)),
            "{signal}; stderr:\n{}",
            child.stderr()
        );
        println!(
            "second SIG{signal}: exit {:?} after {took:?}",
            status.code()
        );
        assert!(
            took <= ms(100),
            "{signal}: exited {took:?} after the second signal"
        );
        child.line("FORCED EXIT");
    };
    check("TERM", exit_code::FORCED_SIGTERM);
    check("INT", exit_code::FORCED_SIGINT);
    check("QUIT", exit_code::FORCED_SIGQUIT);
}

#[test]
fn the_watchdog_ends_the_process_at_the_deadline() {
    let _serial = serial();
    // A tracked `spawn_blocking` task holds the drain; an untracked one lets
    // shutdown finish but keeps the runtime (and the process) alive.
    let check = |path: &str, named: &str| {
        let mut child = Child::server("0s", "2s");
        let port = child.port;
        let runtime = client_runtime();
        let response = runtime
            .block_on(async { Connection::open(port).await?.get(path).await })
            .unwrap();
        assert_eq!(response.body, "started");
        let killed = Instant::now();
        child.signal("TERM");
        let (status, exited) = child.exit(Duration::from_secs(10));
        let took = exited - killed;
        let stderr = child.stderr();
        assert_eq!(
            status.code(),
            Some(i32::from(exit_code::DEADLINE_EXCEEDED)),
            "{path}:\n{stderr}"
        );
        println!(
            "{path}: exit {:?} {took:?} after SIGTERM, deadline 2 s",
            status.code()
        );
        assert_between(
            &format!("{path}: SIGTERM to exit"),
            took,
            ms(2_000),
            ms(2_300),
        );
        let watchdog = stderr
            .lines()
            .find(|line| line.contains("phase=\"watchdog\""))
            .unwrap_or_else(|| panic!("{path}: no watchdog event:\n{stderr}"));
        assert!(watchdog.contains(named), "{path}: {watchdog}");
        child.line("FORCED EXIT");
    };
    check("/blocking", "running=[\"blocking sleeper\"]");
    check("/untracked-blocking", "running=[]");
}

/// How a streaming response open at SIGTERM ended.
#[derive(Debug, PartialEq)]
enum StreamEnd {
    /// The body's last chunk arrived this long after SIGTERM; the connection
    /// closed later, at `closed`.
    Clean { ended: Duration, closed: Duration },
    /// The connection was dropped mid-body this long after SIGTERM.
    Cut(Duration),
}

/// Opens `path` (an endless stream), sends SIGTERM, and reports how the
/// stream ended, how long until the exit, and the exit code.
fn stream_at_sigterm(path: &str, delay: &str, timeout: &str) -> (StreamEnd, Duration, Option<i32>) {
    let mut child = Child::server(delay, timeout);
    let port = child.port;
    let runtime = client_runtime();
    let mut stream = runtime.block_on(async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !String::from_utf8_lossy(&head).contains("tick\n") {
            let mut buffer = [0; 512];
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(
                n > 0,
                "{path} ended early: {:?}",
                String::from_utf8_lossy(&head)
            );
            head.extend_from_slice(&buffer[..n]);
        }
        stream
    });
    let killed = Instant::now();
    child.signal("TERM");
    let end = runtime.block_on(async {
        let mut tail = Vec::new();
        let mut buffer = [0; 512];
        let clean = tokio::time::timeout(Duration::from_secs(10), async {
            while !tail.ends_with(b"0\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => tail.extend_from_slice(&buffer[..n]),
                }
            }
            true
        })
        .await
        .expect("the stream ends");
        let ended = killed.elapsed();
        if !clean {
            return StreamEnd::Cut(ended);
        }
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "{rest:?}");
        StreamEnd::Clean {
            ended,
            closed: killed.elapsed(),
        }
    });
    let (status, exited) = child.exit(Duration::from_secs(10));
    let took = exited - killed;
    println!(
        "{path}: {end:?}; exit {:?} after {took:?} (delay {delay}, deadline {timeout})",
        status.code()
    );
    (end, took, status.code())
}

#[test]
fn a_stream_open_at_sigterm_ends_when_draining_starts() {
    let _serial = serial();
    // Server-sent events by themselves, other bodies through `close_on_drain`:
    // the body ends at SIGTERM, the idle connection closes when the 500 ms
    // delay is over, and the process exits then, far from its 20 s deadline.
    for path in ["/events", "/stream"] {
        let (end, took, code) = stream_at_sigterm(path, "500ms", "20s");
        let StreamEnd::Clean { ended, closed } = end else {
            panic!("{path}: {end:?}");
        };
        assert!(
            ended < ms(300),
            "{path}: ended {ended:?} after SIGTERM, not when draining started"
        );
        assert!(
            closed >= ms(500),
            "{path}: connection closed {closed:?} after SIGTERM, during the delay"
        );
        assert_eq!(code, Some(0), "{path}");
        assert_between(&format!("{path}: SIGTERM to exit"), took, ms(500), ms(600));
    }
}

#[test]
fn an_unmarked_endless_stream_is_cut_at_the_drain_budget() {
    let _serial = serial();
    // Nothing tells this body to end: the drain budget (2 s deadline less the
    // 200 ms teardown hook) bounds it, and the outcome says so.
    let (end, took, code) = stream_at_sigterm("/endless", "500ms", "2s");
    let StreamEnd::Cut(cut) = end else {
        panic!("{end:?}");
    };
    assert_between("SIGTERM to the cut", cut, ms(1_800), ms(2_000));
    assert_eq!(code, Some(i32::from(exit_code::DEADLINE_EXCEEDED)));
    assert_between("SIGTERM to exit", took, ms(1_800), ms(2_000));
}

#[test]
fn idle_keep_alive_connections_are_told_to_close_and_do_not_hold_the_drain() {
    let _serial = serial();
    let mut child = Child::server("300ms", "20s");
    let port = child.port;
    let runtime = client_runtime();
    let (mut busy, mut idle) = runtime.block_on(async {
        let mut busy = Connection::open(port).await.unwrap();
        let mut idle = Connection::open(port).await.unwrap();
        for conn in [&mut busy, &mut idle] {
            let ready = conn.get("/readyz").await.unwrap();
            assert_eq!(
                (ready.status, ready.close, ready.body.as_str()),
                (200, false, "ready")
            );
        }
        (busy, idle)
    });
    let killed = Instant::now();
    child.signal("TERM");
    std::thread::sleep(ms(50));
    // During the delay: still served, but not ready, and asked to close.
    let response = runtime.block_on(busy.get("/readyz")).unwrap();
    assert_eq!(
        (response.status, response.close, response.body.as_str()),
        (503, true, "draining")
    );
    // The idle connection is closed by the server when the delay ends.
    let eof = runtime.block_on(async {
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), idle.stream.read_to_end(&mut rest))
            .await
            .expect("the idle connection is closed")
            .map(|_| (rest, Instant::now()))
    });
    let (rest, closed) = eof.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    let closed_after = closed - killed;
    assert_between(
        "SIGTERM to the idle connection's close",
        closed_after,
        ms(300),
        ms(400),
    );
    let (status, exited) = child.exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stderr:\n{}", child.stderr());
    assert!(
        exited - killed < ms(450),
        "exited after {:?}",
        exited - killed
    );
    child.line("TEARDOWN");
}

#[test]
fn settings_loaded_from_the_environment_give_the_delay_and_errors_hide_values() {
    let _serial = serial();
    let check = |env: &[(&str, &str)], expected: &str| {
        let child = Child::start("config", env);
        let shown = child.line("CONFIG ");
        if let Some(error) = expected.strip_prefix("error: ") {
            // The loader's wording; the variable first, then what was expected.
            let (var, expected) = error.split_once(": ").unwrap();
            assert!(shown.starts_with(&format!("error: {var}: ")), "{shown}");
            assert!(shown.contains(expected), "{shown} lacks {expected}");
            for (_, value) in env {
                assert!(!shown.contains(value), "{shown} echoes {value}");
            }
        } else {
            assert_eq!(shown, expected, "{env:?}");
        }
    };
    check(&[], "delay=0ns timeout=25s");
    check(
        &[("KUBERNETES_SERVICE_HOST", "10.0.0.1")],
        "delay=5s timeout=25s",
    );
    check(
        &[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("SHUTDOWN_DELAY", "0s"),
        ],
        "delay=0ns timeout=25s",
    );
    check(
        &[("SHUTDOWN_DELAY", "2s"), ("SHUTDOWN_TIMEOUT", "20s")],
        "delay=2s timeout=20s",
    );
    check(
        &[("SHUTDOWN_TIMEOUT", "hunter2")],
        "error: SHUTDOWN_TIMEOUT: humantime syntax such as `5s` or `1m 30s`",
    );
    // The case: this value used to be accepted, then panicked the
    // signal thread on SIGTERM and left the process hanging.
    check(
        &[("SHUTDOWN_TIMEOUT", "18446744073709551615s")],
        "error: SHUTDOWN_TIMEOUT: at most 1h",
    );
}
