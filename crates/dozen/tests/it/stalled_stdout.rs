//! A standard output that nobody reads wedges the runtime: every request
//! blocks writing its line once the pipe is full. The watchdog must still end
//! the process with 70 within `WEDGED_AFTER` plus one `FLUSH_TIMEOUT`, saying
//! why on standard error since its own line cannot get through. Before, it
//! blocked on the same output and the process hung until it was killed.
//! With `LOG_QUEUE=drop` the same process keeps serving: lines are dropped
//! and counted, and it stops cleanly on SIGTERM.
//!
//! The service runs in a child process: this test binary again, running only
//! [`child`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use dozen::service::Service;

#[derive(serde::Deserialize)]
struct Settings {}

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(Service::<Settings>::new("stalled", "1.0.0").web(|_| async {
        Ok::<_, std::io::Error>(Router::new().route("/", get(|| async { "ok" })))
    }));
}

/// [`child`] with `workers` worker threads and `env`, its standard output
/// read up to the ready line and then never again (the pipe stays open in the
/// reader returned), and its port.
fn started(workers: u8, env: &[(&str, &str)]) -> (Child, BufReader<ChildStdout>, u16) {
    let mut child = crate::child_command("stalled_stdout", "web")
        .env("PORT", "0")
        .env("TOKIO_WORKER_THREADS", workers.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut port = None;
    let mut line = String::new();
    while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
        if let Some(rest) = line.split("\"addr\":\"0.0.0.0:").nth(1) {
            port = rest.split('"').next().and_then(|p| p.parse::<u16>().ok());
        }
        if line.contains("\"ready\"") {
            break;
        }
        line.clear();
    }
    (
        child,
        stdout,
        port.expect("a listening line before the ready one"),
    )
}

/// Waits for `child` until `limit`, killing it then: its status, if it
/// exited, and its standard error.
fn exited(child: &mut Child, limit: Duration) -> (Option<ExitStatus>, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr);
    (status, stderr)
}

/// One request on a new connection; whether its response came within 2 s.
fn answered(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = Vec::new();
    stream.read_to_end(&mut response).is_ok() && response.starts_with(b"HTTP/1.1 200")
}

#[test]
fn a_stdout_nobody_reads_still_ends_a_wedged_process_with_70() {
    let (mut child, stdout, port) = started(1, &[]);
    // Each request logs a line; a few hundred fill the 64 KiB pipe.
    let mut unanswered = None;
    for _ in 0..5_000 {
        let sent = Instant::now();
        if !answered(port) {
            unanswered = Some(sent);
            break;
        }
    }
    let wedged = unanswered.expect("the requests filled the pipe and went unanswered");
    let limit = dozen::service::WEDGED_AFTER + dozen::log::FLUSH_TIMEOUT + Duration::from_secs(8);
    let (status, stderr) = exited(&mut child, limit + Duration::from_secs(20));
    let took = wedged.elapsed();
    drop(stdout);
    let status =
        status.unwrap_or_else(|| panic!("still running {took:?} after the wedge: {stderr}"));
    assert_eq!(status.code(), Some(70), "{stderr}");
    assert!(took < limit, "exited {took:?} after the wedge: {stderr}");
    assert!(
        stderr.contains("the async runtime made no progress") && stderr.contains("\"silent_ms\":"),
        "the reason is on stderr: {stderr}"
    );
}

/// With `LOG_QUEUE=drop`, the requests that wedged the process above are all
/// answered while nobody reads standard output, and SIGTERM still stops it
/// with 0 within the flush's bound, whatever the number of worker threads:
/// the final flush keeps to its teardown budget (it used to block a worker
/// thread for the whole `FLUSH_TIMEOUT`, and with two the teardown then
/// overran, exit 124).
#[test]
fn with_log_queue_drop_a_stdout_nobody_reads_never_stops_the_service() {
    for workers in [1, 2] {
        stops_cleanly_with_a_stdout_nobody_reads(workers);
    }
}

fn stops_cleanly_with_a_stdout_nobody_reads(workers: u8) {
    let (mut child, stdout, port) = started(workers, &[("LOG_QUEUE", "drop")]);
    // Several times what filled the pipe and wedged the process without a queue.
    for n in 0..2_000 {
        assert!(
            answered(port),
            "{workers} workers: request {n} went unanswered"
        );
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let (status, stderr) = exited(
        &mut child,
        dozen::log::FLUSH_TIMEOUT + Duration::from_secs(15),
    );
    drop(stdout);
    let status = status.unwrap_or_else(|| panic!("still running after SIGTERM: {stderr}"));
    assert_eq!(status.code(), Some(0), "{workers} workers: {stderr}");
}
