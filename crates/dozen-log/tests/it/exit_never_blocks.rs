//! Logging never blocks exit. With standard output a pipe that nobody reads and a thread stuck
//! writing to it, `Flusher::flush` returns within its documented bound (`FLUSH_TIMEOUT`) in every
//! writing mode, so a forced exit that flushes first still exits. A panic inside logging (a
//! `Debug` that panics inside `span.record`, a custom writer that panics while holding its own
//! lock) never hangs the panic hook, and its CRITICAL line is still written where it can be.

use std::fmt;
use std::io::Write;
use std::process::{Child, ExitStatus};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::child::{child, from_env, json_lines, read_all};

/// Far above the documented bound (one `FLUSH_TIMEOUT` in all), far below "forever".
const DEADLINE: Duration = Duration::from_secs(60);

/// What a loaded machine may add to a bound: wide, yet less than a second `FLUSH_TIMEOUT`, so
/// that waiting twice fails.
const SLACK: Duration = Duration::from_secs(3);

/// The roles of this module's child processes; `false` for a role that is not one of them.
pub(crate) fn run_role(role: &str) -> bool {
    match role {
        "stalled-stdout" => stalled(from_env()),
        "stalled-queue" => stalled(from_env().with_non_blocking(16)),
        "stalled-lossy" => stalled(from_env().with_non_blocking(16).with_lossy(true)),
        "stalled-panic-stdout" => stalled_panic(from_env()),
        "stalled-panic-queue" => stalled_panic(from_env().with_non_blocking(16)),
        "stalled-panic-lossy" => stalled_panic(from_env().with_non_blocking(16).with_lossy(true)),
        "queue-thread" => queue_thread(),
        "queue-stalled" => queue_stalled(),
        "panic-in-record" => panic_in_record(),
        "panic-in-writer" => panic_in_writer(),
        "queue-writer-died" => queue_writer_died(),
        "panic-in-event-custom-writer" => panic_in_event_custom_writer(),
        "panic-secret" => crate::masks_registered_secrets::panic_with_secret(),
        "pretty-hostile" => crate::terminal_safe::pretty_hostile(),
        "panic-secret-own-hook" => crate::masks_registered_secrets::panic_with_secret_own_hook(),
        _ => return false,
    }
    true
}

/// Logs from a thread until standard output (a pipe nobody reads) is full, then flushes and
/// exits as a watchdog would.
fn stalled(builder: dozen_log::Builder) {
    let guard = builder.init().unwrap();
    fill_stdout();
    let start = Instant::now();
    guard.flusher().flush();
    eprintln!("flushed after ms={}", start.elapsed().as_millis());
    let start = Instant::now();
    drop(guard);
    eprintln!("dropped after ms={}", start.elapsed().as_millis());
    // libtest would print its summary on the stuck standard output: exit as a watchdog does.
    std::process::exit(3);
}

/// Whether this process has the queue's writer thread, which is named once it runs: looked for
/// during up to 2 s.
fn has_writer_thread() -> bool {
    let start = Instant::now();
    loop {
        let found = has_writer_thread_now();
        if found || start.elapsed() > Duration::from_secs(2) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Logging set up by `LOG_QUEUE` alone: says whether lines go through the queue's writer
/// thread, then logs [`QUEUE_LINES`] lines and returns (the guard flushes them).
fn queue_thread() {
    let _guard = from_env().init().unwrap();
    eprintln!("writer={}", has_writer_thread());
    for i in 0..QUEUE_LINES {
        tracing::info!(i, "line");
    }
}

/// Lines a `queue-thread` child logs.
pub(crate) const QUEUE_LINES: u64 = 1000;

/// Logging set up by `LOG_QUEUE` alone, standard output a pipe nobody reads: a thread logs far
/// more than the pipe holds and must finish all the same, then the child reports what was
/// dropped and exits as a watchdog would.
fn queue_stalled() {
    let guard = from_env().init().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let filler = "x".repeat(1000);
        for i in 0..20_000_u64 {
            tracing::info!(i, filler = filler.as_str(), "filling the pipe");
        }
        let _ = done.send(());
    });
    let logged = finished.recv_timeout(Duration::from_secs(30)).is_ok();
    eprintln!("logged all={logged} dropped={}", guard.dropped_lines());
    std::process::exit(3);
}

/// Logs from a thread until standard output (a pipe nobody reads) is full.
fn fill_stdout() {
    std::thread::spawn(|| {
        let filler = "x".repeat(1000);
        loop {
            tracing::info!(filler = filler.as_str(), "filling the pipe");
        }
    });
    // 64 KiB of pipe fill up in well under a second even on a loaded machine.
    std::thread::sleep(Duration::from_millis(1500));
}

/// Panics with standard output full and stuck, and reports how long the panic hook took (it
/// runs before the unwinding that `catch_unwind` stops).
fn stalled_panic(builder: dozen_log::Builder) {
    let _guard = builder.init().unwrap();
    fill_stdout();
    let start = Instant::now();
    let caught = std::panic::catch_unwind(|| panic!("while stdout is stuck"));
    eprintln!("the hook returned after ms={}", start.elapsed().as_millis());
    // `exit` runs no destructor: the guard's drop is the other test's subject, and
    // libtest's summary would block on the stuck standard output.
    std::process::exit(if caught.is_err() { 4 } else { 5 });
}

/// The number of milliseconds `stderr` reports after `prefix`.
fn reported_ms(role: &str, stderr: &str, prefix: &str) -> u128 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("{role}: no {prefix:?} in {stderr}"))
        .parse()
        .unwrap()
}

struct Bomb;

impl fmt::Debug for Bomb {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of Bomb");
    }
}

fn panic_in_record() {
    let _guard = from_env().init().unwrap();
    let span = tracing::info_span!("request", order = 7, bomb = tracing::field::Empty);
    let _entered = span.enter();
    span.record("bomb", tracing::field::debug(&Bomb));
}

static WRITER_LOCK: Mutex<()> = Mutex::new(());

/// Writes to standard output under its own lock, and panics (holding the lock) on a line that
/// says "refuse me".
struct Picky;

impl Write for Picky {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _lock = WRITER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if String::from_utf8_lossy(buf).contains("refuse me") {
            panic!("the writer gave up");
        }
        std::io::stdout().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _lock = WRITER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        std::io::stdout().flush()
    }
}

fn panic_in_writer() {
    let _guard = from_env().with_writer(|| Picky).init().unwrap();
    tracing::info!("written");
    tracing::info!("refuse me");
}

/// The queue's writer thread dies (its custom writer panics on a line); later, the main
/// thread panics: its line, and an ordinary line before it, are written in place.
fn queue_writer_died() {
    let _guard = from_env()
        .with_non_blocking(16)
        .with_writer(|| Picky)
        .init()
        .unwrap();
    assert!(has_writer_thread(), "the writer thread started");
    tracing::info!("refuse me");
    // The writer thread has unwound and dropped its end of the queue.
    let start = Instant::now();
    while has_writer_thread_now() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    tracing::info!("after the writer died");
    panic!("the app panicked later");
}

/// Whether this process has the queue's writer thread at this moment.
fn has_writer_thread_now() -> bool {
    std::fs::read_dir("/proc/self/task").unwrap().any(|task| {
        std::fs::read_to_string(task.unwrap().path().join("comm"))
            // `dozen-log-writer`, cut to the 15 bytes Linux keeps.
            .is_ok_and(|name| name.trim() == "dozen-log-write")
    })
}

/// A `Debug` that panics inside an event, with a custom writer: the writer is innocent and
/// gets the panic line.
fn panic_in_event_custom_writer() {
    let _guard = from_env().with_writer(|| Picky).init().unwrap();
    let span = tracing::info_span!("request", order = 7);
    let _entered = span.enter();
    tracing::info!(bomb = ?Bomb, "never written");
}

/// Waits for `process` until the deadline, killing it if it is still running then.
fn wait(mut process: Child) -> (Option<ExitStatus>, String, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = process.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            process.kill().unwrap();
            process.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = read_all(process.stdout.take());
    let stderr = read_all(process.stderr.take());
    (status, stdout, stderr)
}

/// Runs the child `role`, which must end (with a failure: it panics) before the deadline, and
/// returns its standard output and error.
fn run_panicking(role: &str) -> (String, String) {
    let (status, stdout, stderr) = wait(child(role, &[]).spawn().unwrap());
    let status = status.unwrap_or_else(|| panic!("still running after {DEADLINE:?}: {stderr}"));
    assert!(!status.success());
    (stdout, stderr)
}

/// The message of the CRITICAL line in `text`.
fn panic_message(text: &str) -> String {
    json_lines(text.as_bytes())
        .into_iter()
        .find(|l| l["severity"] == "CRITICAL")
        .unwrap_or_else(|| panic!("no panic line: {text}"))["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs the child `roles` at once (each is mostly waiting, its standard output unread until it
/// has exited) and returns each role's standard error, once it has exited with `code`.
fn run_stalled(roles: [&'static str; 3], code: i32) -> Vec<(&'static str, String)> {
    let children: Vec<_> = roles
        .into_iter()
        .map(|role| (role, child(role, &[]).spawn().unwrap()))
        .collect();
    children
        .into_iter()
        .map(|(role, process)| {
            let (status, _, stderr) = wait(process);
            let status = status
                .unwrap_or_else(|| panic!("{role}: still running after {DEADLINE:?}: {stderr}"));
            assert_eq!(status.code(), Some(code), "{role}: {stderr}");
            (role, stderr)
        })
        .collect()
}

#[test]
fn flush_returns_in_bounded_time_when_stdout_is_a_stalled_pipe() {
    let bound = (dozen_log::FLUSH_TIMEOUT + SLACK).as_millis();
    for (role, stderr) in run_stalled(["stalled-stdout", "stalled-queue", "stalled-lossy"], 3) {
        // The flush waits one FLUSH_TIMEOUT at most; the guard's drop after it gives up at once,
        // since the writer is still stuck: one FLUSH_TIMEOUT in all.
        let flushed = reported_ms(role, &stderr, "flushed after ms=");
        let dropped = reported_ms(role, &stderr, "dropped after ms=");
        assert!(
            flushed < bound,
            "{role}: flush {flushed} ms, bound {bound} ms"
        );
        assert!(
            dropped < SLACK.as_millis(),
            "{role}: the drop after a timed-out flush waited {dropped} ms"
        );
    }
}

#[test]
fn the_panic_hook_returns_in_bounded_time_when_stdout_is_a_stalled_pipe() {
    let bound = (dozen_log::FLUSH_TIMEOUT + SLACK).as_millis();
    let roles = [
        "stalled-panic-stdout",
        "stalled-panic-queue",
        "stalled-panic-lossy",
    ];
    for (role, stderr) in run_stalled(roles, 4) {
        // The hook chains to the previous one, which still says what happened.
        assert!(stderr.contains("while stdout is stuck"), "{role}: {stderr}");
        let took = reported_ms(role, &stderr, "the hook returned after ms=");
        assert!(
            took < bound,
            "{role}: the hook took {took} ms, bound {bound} ms"
        );
    }
}

#[test]
fn a_panicking_debug_in_span_record_does_not_hang_the_panic_hook() {
    let (stdout, _) = run_panicking("panic-in-record");
    assert_eq!(panic_message(&stdout), "panicked: Debug of Bomb");
}

#[test]
fn a_panicking_custom_writer_does_not_hang_the_panic_hook() {
    let (stdout, stderr) = run_panicking("panic-in-writer");
    assert_eq!(
        json_lines(stdout.as_bytes())[0]["message"],
        "written",
        "{stdout}"
    );
    // The writer that panicked cannot take the panic line: it goes to standard error.
    assert_eq!(panic_message(&stderr), "panicked: the writer gave up");
}

/// Once the queue's writer thread is gone, a panic's line is not lost with it: it is written
/// in place through the queue's target, as ordinary lines are.
#[test]
fn a_panic_after_the_queue_writer_died_is_still_written() {
    let (stdout, _) = run_panicking("queue-writer-died");
    assert!(stdout.contains("after the writer died"), "{stdout}");
    assert_eq!(panic_message(&stdout), "panicked: the app panicked later");
}

#[test]
fn a_panicking_debug_in_an_event_with_a_custom_writer_does_not_hang_the_panic_hook() {
    let (stdout, _) = run_panicking("panic-in-event-custom-writer");
    assert_eq!(panic_message(&stdout), "panicked: Debug of Bomb");
    assert!(!stdout.contains("never written"), "{stdout}");
}

/// `LOG_QUEUE` alone chooses how lines are written: `off` in place, `wait` through the queue's
/// writer thread losing nothing.
#[test]
fn log_queue_chooses_the_writing_mode() {
    for (value, writer) in [("off", false), ("wait", true), ("drop", true)] {
        let out = child("queue-thread", &[("LOG_QUEUE", value)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{value}: {stderr}");
        assert!(
            stderr.contains(&format!("writer={writer}")),
            "{value}: {stderr}"
        );
        if value != "drop" {
            let lines = json_lines(&out.stdout);
            assert_eq!(lines.len() as u64, QUEUE_LINES, "{value}");
        }
    }
}

/// With `LOG_QUEUE=drop`, a standard output that nobody reads never stops the thread that logs:
/// it logs 20 MB into a 64 KiB pipe and finishes, and the lines it could not write are counted.
#[test]
fn log_queue_drop_keeps_the_work_going_when_nobody_reads_stdout() {
    let (status, _, stderr) = wait(
        child("queue-stalled", &[("LOG_QUEUE", "drop")])
            .spawn()
            .unwrap(),
    );
    let status = status.unwrap_or_else(|| panic!("still running after {DEADLINE:?}: {stderr}"));
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("logged all=true"), "{stderr}");
    let dropped: u64 = stderr
        .split("dropped=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(dropped > 0, "{stderr}");
}
