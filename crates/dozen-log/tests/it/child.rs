//! What only a real process shows: eight threads writing to a pipe lose no line and never
//! interleave two, returning from `main` loses no line (in place or through the queue), the lossy
//! queue counts what it drops, a panic becomes one complete CRITICAL line, and a `log` record
//! keeps its own location. This test binary runs itself with `DOZEN_LOG_CHILD` naming a role and
//! reads the child's real standard output through a pipe; the child loads `LogSettings` from its
//! environment as an application does.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::parse_strict;

const ROLE: &str = "DOZEN_LOG_CHILD";
const THREADS: u64 = 8;
const EVENTS_PER_THREAD: u64 = 100_000;
const EXIT_LINES: u64 = 10_000;

/// The child's entry point: does nothing unless started by one of the tests below.
#[test]
fn entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        "stress" => stress(),
        "panic" => {
            let _guard = from_env().init().unwrap();
            let span = tracing::info_span!(
                "request",
                order = 7,
                trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                span_id = "00f067aa0ba902b7",
                trace_sampled = true,
            );
            let _entered = span.enter();
            tracing::info!("about to panic");
            // Control characters, as request data might bring: escaped in the stderr report.
            panic!("boom {}\u{1b}[2K\rfine", 42);
        }
        "exit" => {
            let _guard = from_env().init().unwrap();
            for i in 0..EXIT_LINES {
                tracing::info!(i, "line");
            }
        }
        "exit-queue" => {
            let _guard = from_env().with_non_blocking(16).init().unwrap();
            for i in 0..EXIT_LINES {
                tracing::info!(i, "line");
            }
        }
        "lossy" => {
            let guard = from_env()
                .with_non_blocking(4)
                .with_lossy(true)
                .init()
                .unwrap();
            for i in 0..EXIT_LINES {
                tracing::info!(i, "line");
            }
            guard.flush();
            eprintln!("dropped={}", guard.dropped_lines());
        }
        #[cfg(feature = "log")]
        "log" => {
            let _guard = from_env().init().unwrap();
            tracing_log::log::info!(target: "legacy", "from log {}", 1);
            tracing_log::log::debug!(target: "legacy", "filtered out");
        }
        other => {
            if !crate::exit_never_blocks::run_role(other) {
                panic!("unknown role {other}");
            }
        }
    }
}

/// A builder with the child's environment: an application loads `LogSettings` the same way.
pub(crate) fn from_env() -> dozen_log::Builder {
    let settings: dozen_log::LogSettings = dozen_config::from_env().unwrap();
    dozen_log::Builder::new().settings(settings)
}

fn stress() {
    let _guard = from_env().init().unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let span = tracing::info_span!("worker", thread = t, kind = "stress");
                let _entered = span.enter();
                for seq in 0..EVENTS_PER_THREAD {
                    tracing::info!(seq, text = "some \"quoted\" text", "event");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

pub(crate) fn child(role: &str, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child::entry",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env_clear()
    .env(ROLE, role)
    .env("LOG_FORMAT", "json")
    .env("SERVICE_NAME", "child")
    .envs(envs.iter().copied())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Everything left in a child's pipe, as text.
pub(crate) fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    pipe.unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The JSON lines of a finished child (libtest's own lines do not start with `{`).
pub(crate) fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| parse_strict(l).unwrap())
        .collect()
}

#[test]
fn eight_threads_through_a_pipe_lose_nothing_and_never_interleave() {
    let mut process = child("stress", &[]).spawn().unwrap();
    let stdout = process.stdout.take().unwrap();
    let mut seen = vec![vec![false; EVENTS_PER_THREAD as usize]; THREADS as usize];
    let mut count = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if !line.starts_with('{') {
            continue;
        }
        let v = parse_strict(&line).unwrap();
        assert_eq!(v["message"], "event", "{line}");
        let t = v["thread"].as_u64().unwrap() as usize;
        let seq = v["seq"].as_u64().unwrap() as usize;
        assert!(!seen[t][seq], "duplicate line {line}");
        seen[t][seq] = true;
        count += 1;
    }
    let stderr = read_all(process.stderr.take());
    assert!(process.wait().unwrap().success(), "{stderr}");
    assert_eq!(count, THREADS * EVENTS_PER_THREAD);
    assert!(seen.iter().flatten().all(|&s| s));
}

#[test]
fn a_panic_becomes_one_complete_critical_line() {
    let out = child(
        "panic",
        &[
            ("GOOGLE_CLOUD_PROJECT", "my-proj"),
            ("SERVICE_VERSION", "9"),
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["message"], "about to panic");
    let p = &lines[1];
    assert_eq!(p["severity"], "CRITICAL");
    assert_eq!(p["message"], "panicked: boom 42\u{1b}[2K\rfine");
    assert_eq!(p["order"], 7);
    assert!(!p["thread"].as_str().unwrap().is_empty());
    assert_eq!(
        p["logging.googleapis.com/trace"],
        "projects/my-proj/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(p["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
    assert_eq!(p["logging.googleapis.com/trace_sampled"], true);
    assert_eq!(
        p["@type"],
        "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
    );
    assert_eq!(p["serviceContext"]["service"], "child");
    assert_eq!(p["serviceContext"]["version"], "9");
    let file = "crates/dozen-log/tests/it/child.rs";
    assert_eq!(p["logging.googleapis.com/sourceLocation"]["file"], file);
    assert_eq!(p["context"]["reportLocation"]["filePath"], file);
    assert!(
        p["context"]["reportLocation"]["lineNumber"]
            .as_u64()
            .unwrap()
            > 0
    );
    // The standard hook's report, written by dozen-log's hook.
    assert!(String::from_utf8_lossy(&out.stderr).contains("panicked at"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\nboom 42\\u{1b}[2K\\rfine\n"), "{stderr}");
    assert!(!stderr.contains(['\u{1b}', '\r']), "{stderr}");
}

#[test]
fn returning_from_main_loses_no_line() {
    for role in ["exit", "exit-queue"] {
        let out = child(role, &[]).output().unwrap();
        assert!(
            out.status.success(),
            "{role}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = json_lines(&out.stdout);
        assert_eq!(lines.len() as u64, EXIT_LINES, "{role}");
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["i"], i as u64, "{role}");
        }
    }
}

#[test]
fn the_lossy_queue_counts_what_it_drops() {
    let out = child("lossy", &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let dropped: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("dropped="))
        .unwrap_or_else(|| panic!("{stderr}"))
        .parse()
        .unwrap();
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len() as u64 + dropped, EXIT_LINES);
}

#[cfg(feature = "log")]
#[test]
fn log_records_keep_their_own_location() {
    let out = child("log", &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["message"], "from log 1");
    assert_eq!(line["severity"], "INFO");
    assert_eq!(line["target"], "legacy");
    let location = &line["logging.googleapis.com/sourceLocation"];
    assert_eq!(location["file"], "crates/dozen-log/tests/it/child.rs");
    assert_eq!(location["function"], "it::child");
    let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
    assert!(keys.iter().all(|k| !k.starts_with("log.")), "{keys:?}");
}
