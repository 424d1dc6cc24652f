//! SIGTERM at any start-up phase ends cleanly: once the `Shutdown` is built,
//! a phase run through `run_until_shutdown` stops when shutdown starts, the
//! next phase never begins, the teardown registered so far runs and the exit
//! code is the documented one (0).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dozen_shutdown::{Outcome, Shutdown, exit_code};

use super::process::{Child, assert_between, ms, serial};

/// The child's start-up: two phases (think migrations, then binding), each
/// taking a minute unless shutdown starts.
pub(crate) async fn startup() -> Outcome {
    let shutdown = super::process::from_env().expect("valid settings");
    shutdown
        .on_teardown("close pool", ms(200), || async {
            println!("TEARDOWN");
        })
        .expect("the deadline leaves time to drain");
    for phase in ["migrations", "bind"] {
        println!("PHASE {phase}");
        let finished = shutdown
            .run_until_shutdown(tokio::time::sleep(Duration::from_secs(60)))
            .await;
        if finished.is_none() {
            println!("STOPPED {phase}");
            return shutdown.wait().await;
        }
    }
    println!("SERVING");
    shutdown.wait().await
}

#[test]
fn sigterm_during_a_start_up_phase_stops_it_and_exits_cleanly() {
    let _serial = serial();
    let mut child = Child::start(
        "startup",
        &[("SHUTDOWN_DELAY", "0s"), ("SHUTDOWN_TIMEOUT", "10s")],
    );
    assert_eq!(child.line("PHASE "), "migrations");
    let killed = Instant::now();
    child.signal("TERM");
    let (status, exited) = child.exit(Duration::from_secs(15));
    let took = exited - killed;
    let stderr = child.stderr();
    assert_eq!(status.code(), Some(i32::from(exit_code::CLEAN)), "{stderr}");
    // The shutdown sequence runs on its own: its teardown may print before
    // or after the start-up notices the stop, so the order is not checked.
    let mut rest = Vec::new();
    while let Ok(line) = child.stdout.recv_timeout(Duration::from_secs(5)) {
        rest.push(line);
    }
    assert!(
        rest.iter().any(|line| line.ends_with("STOPPED migrations")),
        "{rest:?}\n{stderr}"
    );
    assert!(
        rest.iter().any(|line| line.contains("TEARDOWN")),
        "{rest:?}\n{stderr}"
    );
    assert!(
        !rest
            .iter()
            .any(|line| line.contains("PHASE bind") || line.contains("SERVING")),
        "a phase carried on after SIGTERM: {rest:?}"
    );
    assert_between("SIGTERM to exit", took, ms(0), ms(1_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_shutdown_never_starts_a_phase_once_shutdown_has_begun() {
    let shutdown = Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(ms(0))
        .with_timeout(ms(5_000))
        .build()
        .unwrap();
    // Before shutdown: the phase runs to its end.
    assert_eq!(shutdown.run_until_shutdown(async { 7 }).await, Some(7));
    // During a phase: it is dropped where it stands.
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(ms(50)).await;
        trigger.trigger();
    });
    let stopped = tokio::time::timeout(
        Duration::from_secs(5),
        shutdown.run_until_shutdown(std::future::pending::<()>()),
    )
    .await
    .expect("the phase stops when shutdown starts");
    assert_eq!(stopped, None);
    // After: the next phase is never polled, even one that is ready at once.
    let started = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&started);
    let next = shutdown
        .run_until_shutdown(async move {
            flag.store(true, Ordering::SeqCst);
        })
        .await;
    assert_eq!(next, None);
    assert!(
        !started.load(Ordering::SeqCst),
        "a phase started after shutdown"
    );
    assert_eq!(shutdown.wait().await, Outcome::Clean);
}
