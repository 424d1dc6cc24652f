//! Logging can never block exit: the forced exits (a second signal, the
//! watchdog) wait at most `FORCED_EXIT_FLUSH_LIMIT` (1 s) for the
//! `on_forced_exit` callbacks, so a log flush stuck on a stalled stdout
//! cannot hold the process: it still exits with its documented code.

use std::time::{Duration, Instant};

use dozen_shutdown::{FORCED_EXIT_FLUSH_LIMIT, exit_code};

use super::process::{Child, Connection, assert_between, client_runtime, ms, serial};

#[test]
fn a_second_signal_exits_within_the_limit_when_the_flush_blocks_forever() {
    let _serial = serial();
    let mut child = Child::start(
        "server",
        &[
            ("SHUTDOWN_DELAY", "5s"),
            ("SHUTDOWN_TIMEOUT", "20s"),
            ("CHILD_STUCK_FLUSH", "1"),
        ],
    );
    child.signal("TERM");
    std::thread::sleep(ms(200));
    let second = Instant::now();
    child.signal("TERM");
    let (status, exited) = child.exit(Duration::from_secs(10));
    let took = exited - second;
    println!(
        "second SIGTERM, flush stuck: exit {:?} after {took:?}",
        status.code()
    );
    assert_eq!(
        status.code(),
        Some(i32::from(exit_code::FORCED_SIGTERM)),
        "{}",
        child.stderr()
    );
    assert_between(
        "second SIGTERM to exit",
        took,
        FORCED_EXIT_FLUSH_LIMIT - ms(100),
        FORCED_EXIT_FLUSH_LIMIT + ms(1_000),
    );
}

#[test]
fn the_watchdog_exits_within_the_limit_when_the_flush_blocks_forever() {
    let _serial = serial();
    let mut child = Child::start(
        "server",
        &[
            ("SHUTDOWN_DELAY", "0s"),
            ("SHUTDOWN_TIMEOUT", "2s"),
            ("CHILD_STUCK_FLUSH", "1"),
        ],
    );
    let port = child.port;
    // A tracked blocking task that outlives the deadline: the watchdog fires.
    let response = client_runtime()
        .block_on(async { Connection::open(port).await?.get("/blocking").await })
        .unwrap();
    assert_eq!(response.body, "started");
    let killed = Instant::now();
    child.signal("TERM");
    let (status, exited) = child.exit(Duration::from_secs(15));
    let took = exited - killed;
    println!(
        "watchdog, flush stuck: exit {:?} {took:?} after SIGTERM",
        status.code()
    );
    assert_eq!(
        status.code(),
        Some(i32::from(exit_code::DEADLINE_EXCEEDED)),
        "{}",
        child.stderr()
    );
    let deadline = ms(2_000);
    assert_between(
        "SIGTERM to exit",
        took,
        deadline + FORCED_EXIT_FLUSH_LIMIT - ms(100),
        deadline + FORCED_EXIT_FLUSH_LIMIT + ms(1_000),
    );
}
