//! Running `hello`: one-shot commands, and a served process whose JSON log
//! lines are collected as they come.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long anything may take before a test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// `hello` with `args`, in an environment holding only `PATH` and `env`.
fn hello(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hello"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs `hello` to its end: exit status, stdout, stderr.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    hello(args, env).output().expect("hello runs")
}

/// A served `hello` on a free port, logging JSON.
pub(crate) struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
    reader: Option<JoinHandle<()>>,
}

/// Starts serving with `env` on top of `PORT=0` and `LOG_FORMAT=json`.
pub(crate) fn serve(env: &[(&str, &str)]) -> Served {
    let mut child = hello(&[], &[("PORT", "0"), ("LOG_FORMAT", "json")])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("hello starts");
    let stdout = child.stdout.take().expect("piped");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(value);
        }
    });
    Served {
        child,
        lines,
        reader: Some(reader),
    }
}

impl Served {
    /// The lines logged so far.
    pub(crate) fn logged(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first line whose message is `message`, waiting for it.
    pub(crate) fn line(&self, message: &str) -> Value {
        let since = Instant::now();
        loop {
            let logged = self.logged();
            if let Some(line) = logged.iter().find(|l| l["message"] == message) {
                return line.clone();
            }
            assert!(
                since.elapsed() < PATIENCE,
                "no {message:?} line; logged:\n{logged:#?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The loopback address of the port it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.loopback("addr")
    }

    /// The loopback address of `MANAGEMENT_PORT`, which it must have been
    /// given.
    pub(crate) fn management_addr(&self) -> SocketAddr {
        self.loopback("management_addr")
    }

    /// The loopback address of the port that the `listening` line gives as
    /// `field`.
    fn loopback(&self, field: &str) -> SocketAddr {
        let listening = self.line("listening");
        let addr: SocketAddr = listening[field]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {listening}"));
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    }

    /// Sends SIGTERM, as Kubernetes does.
    pub(crate) fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the exit; the status and every line logged.
    pub(crate) fn exit(mut self) -> (ExitStatus, Vec<Value>) {
        let since = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                since.elapsed() < PATIENCE,
                "no exit; logged:\n{:#?}",
                self.logged()
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().expect("every line is JSON");
        }
        (status, self.logged())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on a new connection: the status and the body.
pub(crate) fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).expect("a timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: hello\r\nconnection: close\r\n\r\n"
    )
    .expect("sends");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("reads");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

/// `GET path` until it answers `status`, as a probe would.
pub(crate) fn probe_until(addr: SocketAddr, path: &str, status: u16) -> String {
    let since = Instant::now();
    loop {
        let (got, body) = get(addr, path);
        if got == status {
            return body;
        }
        assert!(
            since.elapsed() < PATIENCE,
            "{path} answers {got} {body}, not {status}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
