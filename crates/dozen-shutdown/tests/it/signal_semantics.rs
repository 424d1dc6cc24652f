//! Signal semantics: only a second OS signal forces the exit. A shutdown
//! started from code (`trigger`, `trigger_failure`) followed by one SIGTERM
//! still drains, tears down and exits with its own code; a second OS signal
//! after that, or SIGTERM twice, still forces 143.

use std::time::{Duration, Instant};

use dozen_shutdown::exit_code;

use super::process::{Child, Connection, assert_between, client_runtime, ms, serial};

/// Starts shutdown from code through `path`, then sends `signals` SIGTERMs
/// 100 ms apart; returns the exit code and the time from the first SIGTERM
/// to the exit.
fn started_from_code_then_sigterm(path: &str, signals: usize) -> (Child, Option<i32>, Duration) {
    let mut child = Child::server("1s", "10s");
    let port = child.port;
    let response = client_runtime()
        .block_on(async { Connection::open(port).await?.get(path).await })
        .unwrap();
    assert_eq!(response.status, 200, "{path}");
    std::thread::sleep(ms(100));
    let first = Instant::now();
    for i in 0..signals {
        if i > 0 {
            std::thread::sleep(ms(100));
        }
        child.signal("TERM");
    }
    let (status, exited) = child.exit(Duration::from_secs(15));
    (child, status.code(), exited - first)
}

#[test]
fn trigger_then_one_sigterm_still_drains_and_tears_down() {
    let _serial = serial();
    for (path, code) in [
        ("/trigger", exit_code::CLEAN),
        ("/fail", exit_code::TASK_FAILED),
    ] {
        let (child, got, took) = started_from_code_then_sigterm(path, 1);
        let stderr = child.stderr();
        assert_eq!(got, Some(i32::from(code)), "{path}:\n{stderr}");
        println!("{path} then SIGTERM: exit {got:?} {took:?} after SIGTERM");
        // The delay (1 s from the trigger, 100 ms before SIGTERM) ran out.
        assert_between(
            &format!("{path}: SIGTERM to exit"),
            took,
            ms(800),
            ms(1_500),
        );
        child.line("TEARDOWN");
        assert!(stderr.contains("phase=\"teardown\""), "{path}:\n{stderr}");
        assert!(!stderr.contains("phase=\"forced\""), "{path}:\n{stderr}");
    }
}

#[test]
fn a_second_os_signal_after_a_trigger_still_forces() {
    let _serial = serial();
    let (child, got, took) = started_from_code_then_sigterm("/trigger", 2);
    assert_eq!(
        got,
        Some(i32::from(exit_code::FORCED_SIGTERM)),
        "{}",
        child.stderr()
    );
    // At the second SIGTERM, 100 ms after the first: well before the delay.
    assert!(took < ms(800), "exited {took:?} after the first SIGTERM");
    child.line("FORCED EXIT");
}

/// Two SIGTERMs delivered back to back, before the signal thread has read
/// the first (the child raises both on one thread): each delivery counts,
/// so the second forces 143 at once instead of merging into the first and
/// letting the 5 s propagation delay run.
#[test]
fn two_sigterms_delivered_back_to_back_force_the_exit() {
    let _serial = serial();
    for round in 0..5 {
        let mut child = Child::start(
            "raise-twice",
            &[("SHUTDOWN_DELAY", "5s"), ("SHUTDOWN_TIMEOUT", "20s")],
        );
        let started = Instant::now();
        let (status, exited) = child.exit(Duration::from_secs(10));
        let took = exited - started;
        assert_eq!(
            status.code(),
            Some(i32::from(exit_code::FORCED_SIGTERM)),
            "round {round}: exit after {took:?}; stderr:\n{}",
            child.stderr()
        );
        assert!(took < ms(2_000), "round {round}: exit after {took:?}");
    }
}
