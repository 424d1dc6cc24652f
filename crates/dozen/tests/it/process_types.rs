//! A named process type runs on the same start-up as the web one, with no
//! port: its report and its `config` list no `PORT`, its problems are
//! listed with the app's own, it stops cleanly on SIGTERM (exit 0), one
//! that does not stop is ended by a second signal (130 for SIGINT) or at
//! `SHUTDOWN_TIMEOUT` (124), and a function that fails exits 70. A web start-up that fails or panics exits
//! 1 without turning ready.
//!
//! The service runs in a child process: this test binary again, running
//! only [`child`], which hands `SERVICE_ARGS` to the service.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use axum::{Router, routing::get};
use dozen::config::Problem;
use dozen::service::Service;

#[derive(serde::Deserialize)]
struct Settings {
    /// `TICK_EVERY`: the ticker's period.
    #[serde(default = "second", with = "humantime_serde")]
    tick_every: Duration,
    /// `START_FAILS`: `error` or `panic` makes the web start-up fail so;
    /// `panic-at-once` makes the web function panic before it returns its
    /// future.
    #[serde(default)]
    start_fails: Option<String>,
}

fn second() -> Duration {
    Duration::from_secs(1)
}

/// Five process types: `web` (the default), `ticker`, which logs a line
/// every `TICK_EVERY` until told to stop, `broken`, which fails at once,
/// `panics-at-once`, whose function panics before it returns its future, and
/// `stubborn`, which logs that it started and never stops.
fn service() -> Service<Settings> {
    Service::<Settings>::new("processes", "1.0.0")
        .with_validate(|s: &Settings| {
            (s.tick_every < Duration::from_millis(1))
                .then(|| Problem::new("TICK_EVERY", "too short", "at least 1ms"))
        })
        .web(|ctx| {
            let at_once = ctx.settings().start_fails.as_deref() == Some("panic-at-once");
            assert!(!at_once, "the start-up panicked at once");
            async move {
                match ctx.settings().start_fails.as_deref() {
                    Some("error") => Err(std::io::Error::other("no route to the cache")),
                    Some("panic") => panic!("the start-up panicked"),
                    _ => Ok(Router::new().route("/", get(|| async { "web" })).route(
                        "/block",
                        // Blocks the worker thread that runs it: with one worker,
                        // the whole runtime.
                        get(|| async {
                            std::thread::sleep(Duration::from_secs(60));
                            "unblocked"
                        }),
                    )),
                }
            }
        })
        .process("ticker", |ctx| async move {
            let stop = ctx.shutdown().stopping();
            tokio::pin!(stop);
            let mut ticks = 0_u64;
            loop {
                tokio::select! {
                    () = &mut stop => break,
                    () = tokio::time::sleep(ctx.settings().tick_every) => {
                        ticks += 1;
                        tracing::info!(ticks, "tick");
                    }
                }
            }
            tracing::info!(ticks, "ticker stopped");
        })
        .process("broken", |_| async {
            Err::<(), _>(std::io::Error::other("the queue is gone"))
        })
        .process("panics-at-once", |_| -> std::future::Ready<()> {
            panic!("the process panicked at once")
        })
        .process("stubborn", |_| async {
            tracing::info!("stubborn started");
            std::future::pending::<()>().await;
        })
}

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(service());
}

/// [`child`] in a new process, with `args` for the service, `PORT=eighty`
/// (which only the web process type reads) and JSON logs.
fn processes(args: &str) -> Command {
    let mut command = crate::child_command("process_types", args);
    command.env("PORT", "eighty");
    command
}

fn output(args: &str, env: &[(&str, &str)]) -> Output {
    processes(args)
        .envs(env.iter().copied())
        .output()
        .expect("runs")
}

/// The service's own lines: the test harness writes a line or two first.
fn service_lines(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|line| line.starts_with('{') || line.starts_with('|'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_named_process_type_reads_no_port() {
    let out = output("config ticker", &[]);
    let stdout = service_lines(&out.stdout).join("\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("`TICK_EVERY`") && stdout.contains("`SHUTDOWN_TIMEOUT`"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("PORT") && !stdout.contains("HTTP_"),
        "{stdout}"
    );
    // The web process type reads PORT, and PORT=eighty is refused.
    let out = output("web", &[]);
    assert_eq!(out.status.code(), Some(78));
    // Every problem at once: the app's own check too.
    let out = output(
        "ticker",
        &[("TICK_EVERY", "0s"), ("SHUTDOWN_TIMEOUT", "soon")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("TICK_EVERY: too short (at least 1ms)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SHUTDOWN_TIMEOUT: invalid value"),
        "{stderr}"
    );
    assert!(service_lines(&out.stdout).is_empty(), "no log line");
}

#[test]
fn a_named_process_type_stops_cleanly_on_sigterm() {
    let (code, _, lines) = stop("ticker", &[("TICK_EVERY", "10ms")], "\"tick\"", None);
    let lines: Vec<String> = lines
        .into_iter()
        .filter(|line| line.starts_with('{'))
        .collect();
    assert_eq!(code, Some(0), "{lines:#?}");
    let text = lines.join("\n");
    let loaded = &lines[0];
    assert!(
        loaded.contains("\"configuration loaded\"") && loaded.contains("\"process\":\"ticker\""),
        "{loaded}"
    );
    assert!(
        loaded.contains("TICK_EVERY=10ms") && !loaded.contains("PORT"),
        "{loaded}"
    );
    assert!(!text.contains("\"listening\""), "{text}");
    assert!(text.contains("\"ticker stopped\""), "{text}");
    // Its shutdown speaks of its work, not of requests.
    assert!(text.contains("taking no new jobs"), "{text}");
    assert!(
        !text.contains("in-flight") && !text.contains("accepting"),
        "{text}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("\"shutdown finished\"")),
        "{text}"
    );
}

/// Starts process type `args` with `env`, sends it SIGTERM once a line holds
/// `started`, and `second` (if any) once its shutdown has started; answers
/// its exit code, the time from the last signal to the exit, and its lines.
fn stop(
    args: &str,
    env: &[(&str, &str)],
    started: &'static str,
    second: Option<&str>,
) -> (Option<i32>, Duration, Vec<String>) {
    let mut child = processes(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"shutdown started") {
                let _ = tx.send(true);
            } else if line.contains(started) {
                let _ = tx.send(false);
            }
            lines.push(line);
        }
        lines
    });
    let kill = |signal: &str| {
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    rx.recv_timeout(Duration::from_secs(20)).expect("started");
    kill("-TERM");
    let mut last = std::time::Instant::now();
    if let Some(signal) = second {
        // Lines that matched `started` before the signal come first.
        while !rx
            .recv_timeout(Duration::from_secs(20))
            .expect("shutdown started")
        {}
        kill(signal);
        last = std::time::Instant::now();
    }
    let status = child.wait().expect("exits");
    let took = last.elapsed();
    (status.code(), took, reader.join().expect("lines"))
}

/// A second signal during shutdown ends the process at once, with 128 +
/// the signal, however long the deadline; the line that says why is written
/// first, also when lines go through the queue's writer thread.
#[test]
fn a_second_signal_ends_a_stubborn_process_at_once() {
    for queue in ["off", "wait"] {
        let (code, took, lines) = stop(
            "stubborn",
            &[("SHUTDOWN_TIMEOUT", "60s"), ("LOG_QUEUE", queue)],
            "\"stubborn started\"",
            Some("-INT"),
        );
        let lines = lines.join("\n");
        assert_eq!(code, Some(130), "LOG_QUEUE={queue}: {lines}");
        assert!(
            took < Duration::from_secs(10),
            "LOG_QUEUE={queue}: {took:?}\n{lines}"
        );
        assert!(
            lines.contains("second signal during shutdown; exiting now"),
            "LOG_QUEUE={queue}: {lines}"
        );
    }
}

/// A process that does not stop is ended with 124 once its drain budget is
/// spent: `SHUTDOWN_TIMEOUT` (3 s) less the 1 s kept for the final flush.
#[test]
fn a_stubborn_process_is_ended_at_the_deadline_with_124() {
    let (code, took, lines) = stop(
        "stubborn",
        &[("SHUTDOWN_TIMEOUT", "3s")],
        "\"stubborn started\"",
        None,
    );
    let lines = lines.join("\n");
    assert_eq!(code, Some(124), "{lines}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(13),
        "{took:?}\n{lines}"
    );
}

#[test]
fn a_named_process_type_that_fails_exits_70() {
    for (process, logged) in [
        ("broken", "the queue is gone"),
        ("panics-at-once", "panicked: the process panicked at once"),
    ] {
        let out = output(process, &[]);
        let stdout = service_lines(&out.stdout).join("\n");
        assert_eq!(out.status.code(), Some(70), "{process}: {stdout}");
        assert!(
            stdout.contains(logged),
            "{process}: the error is logged: {stdout}"
        );
        // Shutdown began and ran its teardown, which a panic unwinding out
        // of `run` skipped.
        assert!(stdout.contains("\"teardown\""), "{process}: {stdout}");
    }
}

#[test]
fn a_web_start_up_that_fails_exits_1() {
    for (how, logged) in [
        ("error", "no route to the cache"),
        ("panic", "it panicked"),
        ("panic-at-once", "panicked: the start-up panicked at once"),
    ] {
        let out = output("", &[("PORT", "0"), ("START_FAILS", how)]);
        let stdout = service_lines(&out.stdout).join("\n");
        assert_eq!(out.status.code(), Some(1), "{how}: {stdout}");
        assert!(stdout.contains("\"listening\""), "{how}: {stdout}");
        assert!(
            stdout.contains("\"start-up failed\"") && stdout.contains(logged),
            "{how}: {stdout}"
        );
        assert!(!stdout.contains("\"ready\""), "{how}: {stdout}");
    }
}

/// A handler that blocks the runtime's only worker thread wedges it: no
/// probe can be answered; the watchdog notices within `WEDGED_AFTER` (plus
/// its half-second look) and the process exits 70 with a line saying why.
#[test]
fn a_wedged_runtime_ends_the_process_with_70() {
    let mut child = processes("web")
        .env("PORT", "0")
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"ready\"") {
                let _ = tx.send(
                    lines
                        .iter()
                        .find(|l: &&String| l.contains("\"listening\""))
                        .cloned(),
                );
            }
            lines.push(line);
        }
        lines
    });
    let listening = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("ready")
        .expect("listening");
    let port = listening
        .split("\"addr\":\"0.0.0.0:")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a port");
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("a port")))
            .expect("connects");
    std::io::Write::write_all(&mut stream, b"GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sends");
    let blocked = std::time::Instant::now();
    let status = child.wait().expect("exits");
    let took = blocked.elapsed();
    let lines = reader.join().expect("lines").join("\n");
    assert_eq!(status.code(), Some(70), "{lines}");
    assert!(
        took >= dozen::service::WEDGED_AFTER
            && took < dozen::service::WEDGED_AFTER + Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        lines.contains("the async runtime made no progress"),
        "{lines}"
    );
}

/// `check_settings` lists what the start-up of each process type would,
/// from the variables given, and starts nothing.
#[test]
fn check_settings_lists_what_start_up_would() {
    let check = |process: &str, pairs: &[(&str, &str)], expected: &[&str]| {
        let vars = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let got = match service().check_settings(process, vars) {
            Ok(()) => String::new(),
            Err(error) => error.to_string(),
        };
        assert_eq!(got, expected.join("\n"), "{process} {pairs:?}");
    };
    check("web", &[], &[]);
    check("ticker", &[("TICK_EVERY", "5ms")], &[]);
    // Only the web process type reads PORT.
    check(
        "web",
        &[("PORT", "eighty")],
        &["PORT: invalid value (an integer from 0 to 65535)"],
    );
    check("ticker", &[("PORT", "eighty")], &[]);
    // The app's own check, and dozen's across settings (the drain budget).
    check(
        "ticker",
        &[("TICK_EVERY", "0s")],
        &["TICK_EVERY: too short (at least 1ms)"],
    );
    check(
        "web",
        &[("SHUTDOWN_DELAY", "24s"), ("SHUTDOWN_TIMEOUT", "25s")],
        &[
            "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY and the teardown budgets flush logs 1s)",
        ],
    );
    // A process type that receives no traffic does not wait SHUTDOWN_DELAY,
    // so the same environment (a ConfigMap shared with web) passes its check,
    // while a deadline too short for its own teardown still fails.
    check(
        "ticker",
        &[("SHUTDOWN_DELAY", "24s"), ("SHUTDOWN_TIMEOUT", "25s")],
        &[],
    );
    check(
        "ticker",
        &[("SHUTDOWN_DELAY", "24s"), ("SHUTDOWN_TIMEOUT", "1500ms")],
        &[
            "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY and the teardown budgets flush logs 1s)",
        ],
    );
}

#[test]
#[should_panic(expected = "no process type or command named \"tickr\"")]
fn check_settings_of_an_unknown_process_type_panics() {
    let _ = service().check_settings("tickr", []);
}

/// A port another process holds is a start-up failure: exit 1 and a line that names the
/// variable and the port, for `PORT` and for `MANAGEMENT_PORT` (here the same port as
/// `PORT`, which the web process bound first).
#[test]
fn a_port_in_use_fails_start_up_with_1() {
    let taken = std::net::TcpListener::bind("0.0.0.0:0").expect("a port");
    let port = taken.local_addr().unwrap().port().to_string();
    let free = std::net::TcpListener::bind("0.0.0.0:0").expect("a port");
    let other = free.local_addr().unwrap().port().to_string();
    drop(free);
    for (env, var) in [
        (vec![("PORT", port.as_str())], "PORT"),
        (
            vec![
                ("PORT", other.as_str()),
                ("MANAGEMENT_PORT", other.as_str()),
            ],
            "MANAGEMENT_PORT",
        ),
    ] {
        let out = output("web", &env);
        let stdout = service_lines(&out.stdout).join("\n");
        assert_eq!(out.status.code(), Some(1), "{var}: {stdout}");
        assert!(
            stdout.contains("cannot bind the port")
                && stdout.contains(&format!("\"var\":\"{var}\"")),
            "{var}: {stdout}"
        );
    }
}
