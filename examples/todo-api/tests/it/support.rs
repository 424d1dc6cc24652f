//! Real processes, real databases, real HTTP over loopback: the pieces the
//! example apps' tests share (the worker's tests include this file too).

#![allow(dead_code, reason = "each test binary uses its own part of this file")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A database to run a test against: a URL and a name for messages.
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite file, and fresh PostgreSQL and MariaDB databases where
/// their test URLs are set (skipped with a notice otherwise; never under CI).
pub(crate) fn targets(prefix: &str) -> Vec<Target> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("todo.db");
    let mut out = vec![Target {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", file.display()),
        _dir: Some(dir),
    }];
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) {
        let url = runtime().block_on(dozen_testkit::fresh_postgres(&url, prefix));
        out.push(Target {
            name: "postgres",
            url,
            _dir: None,
        });
    }
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) {
        let url = runtime().block_on(dozen_testkit::fresh_mysql(&url, prefix));
        out.push(Target {
            name: "mariadb",
            url,
            _dir: None,
        });
    }
    out
}

/// A small runtime for the async database calls of a synchronous test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A running child process whose stdout lines (JSON logs) are collected.
pub(crate) struct Proc {
    pub(crate) child: Child,
    lines: Receiver<String>,
    pub(crate) seen: Arc<Mutex<Vec<String>>>,
    pub(crate) started: Instant,
}

/// Starts `program` with `args` and `env` (on top of a minimal environment:
/// `PATH` and `LOG_FORMAT=json`), capturing stdout and stderr as one stream of lines.
pub(crate) fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    // Both outputs, as they come: a process type logs to stdout, an admin
    // command to stderr (its stdout holds its result).
    let (tx, rx) = channel();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().expect("piped"));
    let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().expect("piped"));
    for output in [stdout, stderr] {
        let (tx, seen) = (tx.clone(), Arc::clone(&seen));
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { break };
                seen.lock().expect("not poisoned").push(line.clone());
                if tx.send(line).is_err() {
                    // Nobody waits for lines any more; keep collecting them.
                }
            }
        });
    }
    Proc {
        child,
        lines: rx,
        seen,
        started: Instant::now(),
    }
}

impl Proc {
    /// The process id, for `kill`.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the first JSON log line whose `message` is `message`.
    pub(crate) fn wait_for(&self, message: &str, timeout: Duration) -> Value {
        self.wait_for_line(message, timeout, |line| line["message"] == message)
    }

    /// Waits for the first JSON log line that `matches` (`what` describes it).
    pub(crate) fn wait_for_line(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let message = what;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Ok(value) = serde_json::from_str::<Value>(&line)
                        && matches(&value)
                    {
                        return value;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no log line {message:?} within {timeout:?}; seen:\n{}",
                    self.seen.lock().expect("not poisoned").join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the process ended before logging {message:?}; seen:\n{}",
                    self.seen.lock().expect("not poisoned").join("\n")
                ),
            }
        }
    }

    /// Waits for the first log line saying a connection is retried: the
    /// process is connecting with retry at start-up.
    pub(crate) fn wait_for_retry(&self) -> Value {
        self.wait_for_line("a connection retried", Duration::from_secs(30), |l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("yet, retrying"))
        })
    }

    /// The loopback address of a server that logged `listening` with its
    /// `addr`, once it is `ready` (the port is bound, and answers its health
    /// probes, before the database is attached).
    pub(crate) fn listening(&self) -> SocketAddr {
        let line = self.wait_for("listening", Duration::from_secs(60));
        self.wait_for("ready", Duration::from_secs(60));
        let addr: SocketAddr = line["addr"]
            .as_str()
            .expect("addr")
            .parse()
            .expect("an address");
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    }

    /// Sends `signal` (`TERM`, `KILL`, ...) with the `kill` command.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the process did not exit within {timeout:?}; seen:\n{}",
                    self.seen.lock().expect("not poisoned").join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every JSON line logged so far.
    pub(crate) fn logged(&self) -> Vec<Value> {
        self.seen
            .lock()
            .expect("not poisoned")
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback TCP port that refuses connections (bound, then closed).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// Asserts that `proc` stopped in start-up `phase` (its log says so) and that
/// nothing after it ran: it never turned ready, no migrations applied, no
/// jobs taken.
pub(crate) fn stopped_in(proc: &Proc, phase: &str) {
    let logged = proc.logged();
    assert!(
        logged.iter().any(
            |l| l["message"] == "shutdown began during start-up; stopping there"
                && l["phase"] == phase
        ),
        "no line saying start-up stopped in {phase}; seen:\n{logged:#?}"
    );
    for after in [
        "ready",
        "migrations up to date",
        "schema up to date",
        "taking jobs",
    ] {
        assert!(
            !logged.iter().any(|l| l["message"] == after),
            "{after:?} was logged after a signal in {phase}"
        );
    }
}

/// A response: status and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// The status line and headers, as received.
    pub(crate) head: String,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<Response> {
    http_held(addr, method, path, body, || {})
}

/// As [`http`], but the last byte of the request is sent only once `hold`
/// returns: requests that wait on one barrier there reach their handlers
/// together, as truly concurrent requests do.
pub(crate) fn http_held(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    hold: impl FnOnce(),
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (most, last) = request.split_at(request.len() - 1);
    stream.write_all(most.as_bytes())?;
    stream.flush()?;
    hold();
    stream.write_all(last.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, rest) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no end of headers in {raw:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok(Response {
        status,
        head: head.to_owned(),
        body,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}
