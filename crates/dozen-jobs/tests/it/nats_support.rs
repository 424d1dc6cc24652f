//! A private nats-server per test, queues on it, and the handler shared by
//! the NATS and SQL runtime tests.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dozen_jobs::JobContext;
use dozen_jobs::nats::{NatsQueue, NatsSettings};

use crate::support::Work;

/// A `nats-server -js` on a free port with a store of its own, killed on
/// drop.
pub(crate) struct NatsServer {
    child: Option<Child>,
    pub(crate) port: u16,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server and waits until it accepts connections; `None`, after
    /// a skip note, when `nats-server` is not installed (a failure when `CI`
    /// is set: CI must never skip silently).
    pub(crate) fn start() -> Option<Self> {
        if Command::new("nats-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
                "nats-server is not on PATH, but CI is set: the NATS tests would be skipped silently"
            );
            eprintln!("skipped: install nats-server to run the NATS tests");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            child: None,
            port,
            dir: tempfile::tempdir().expect("a store directory"),
        };
        server.restart();
        Some(server)
    }

    /// The server's URL.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A directory for the test's own files, removed with the server.
    pub(crate) fn scratch(&self) -> PathBuf {
        self.dir.path().join("scratch")
    }

    /// Starts the server again on the same port and store (after
    /// [`kill9`](Self::kill9)), and waits until it accepts connections.
    pub(crate) fn restart(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.dir.path().join("store"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts (is it on PATH?)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server does not accept");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server with SIGKILL and waits for it.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A queue on `server`'s stream `stream`, retried while JetStream starts.
pub(crate) async fn queue(url: &str, stream: &str) -> NatsQueue {
    let settings = NatsSettings::new(url).with_stream(stream);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match NatsQueue::connect(&settings).await {
            Ok(queue) => return queue,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for JetStream: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no queue on {url}: {e}"),
        }
    }
}

/// What the shared handler saw: the attempts that succeeded, by job `n`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Seen(Arc<Mutex<BTreeMap<i64, u32>>>);

impl Seen {
    pub(crate) fn record(&self, n: i64) {
        *self.0.lock().unwrap().entry(n).or_default() += 1;
    }

    /// The jobs done, each with how often.
    pub(crate) fn done(&self) -> BTreeMap<i64, u32> {
        self.0.lock().unwrap().clone()
    }
}

/// The handler both backends run: sleeps `sleep_ms`, fails (or panics)
/// before attempt `fail_until`, then records `n` in `seen`.
pub(crate) async fn work(seen: Seen, ctx: JobContext, job: Work) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    if ctx.attempt() < job.fail_until {
        assert!(!job.panic, "attempt {} panics", ctx.attempt());
        return Err(std::io::Error::other(format!(
            "attempt {} fails",
            ctx.attempt()
        )));
    }
    seen.record(job.n);
    Ok(())
}

/// The environment variable marking a child process, naming its role.
pub(crate) const CHILD: &str = "DOZEN_JOBS_NATS_CHILD";

/// A child process, killed on drop (when its test fails).
pub(crate) struct Spawned(pub(crate) Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts this test binary again on test `name` (its path below the crate)
/// as a child with `env` set.
pub(crate) fn spawn_child(name: &str, env: &[(&str, String)]) -> Spawned {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    Spawned(command.spawn().expect("the test binary starts again"))
}

/// Sends SIGTERM to `child`.
pub(crate) fn sigterm(child: &Spawned) {
    let pid = child.0.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {pid}");
}

/// The numbers on the lines of the files in `dir` starting with `prefix`.
pub(crate) fn lines(dir: &std::path::Path, prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            lines.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
    }
    lines
}

/// Appends `line` to `path`.
pub(crate) fn append(path: &std::path::Path, line: &str) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the child's file");
    // One write, so that lines from concurrent jobs never interleave.
    file.write_all(format!("{line}\n").as_bytes())
        .expect("write the child's file");
}
