//! The phases run in order and keep their budgets: readiness only moves
//! forward (`Starting → Ready → Draining → Stopping`), teardown hooks run in reverse
//! order within their budgets, a failed or panicked task starts shutdown
//! with `TaskFailed`, and the drain waits for tracked tasks and aborts them
//! at its budget. In-process, with signals and the watchdog off (they act on
//! the whole test process; `process.rs` covers them with real processes).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dozen_shutdown::{Outcome, Readiness, Shutdown};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn build(delay: u64, timeout: u64) -> Shutdown {
    Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(ms(delay))
        .with_timeout(ms(timeout))
        .build()
        .expect("valid settings")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_moves_forward_through_the_phases() {
    let shutdown = build(200, 5_000);
    let mut states = shutdown.subscribe();
    let first = *states.borrow_and_update();
    let seen = tokio::spawn(async move {
        let mut seen = vec![first];
        while states.changed().await.is_ok() {
            seen.push(*states.borrow_and_update());
            if seen.last() == Some(&Readiness::Stopping) {
                break;
            }
        }
        seen
    });
    assert_eq!(shutdown.readiness(), Readiness::Ready);
    assert_eq!(shutdown.remaining(), None);

    let started = Instant::now();
    assert!(shutdown.trigger());
    assert!(!shutdown.trigger(), "a second trigger is a no-op");
    assert_eq!(shutdown.readiness(), Readiness::Draining);
    let remaining = shutdown.remaining().expect("started");
    assert!(
        remaining <= ms(5_000) && remaining > ms(4_500),
        "{remaining:?}"
    );
    tokio::time::timeout(ms(50), shutdown.draining())
        .await
        .expect("draining resolves at once");
    assert!(
        tokio::time::timeout(ms(100), shutdown.stopping())
            .await
            .is_err(),
        "stopping waits for the delay"
    );
    shutdown.stopping().await;
    let at_stop = started.elapsed();
    assert!(
        at_stop >= ms(200) && at_stop < ms(600),
        "stopping after {at_stop:?}"
    );
    assert_eq!(shutdown.wait().await, Outcome::Clean);
    assert_eq!(
        seen.await.unwrap(),
        [Readiness::Ready, Readiness::Draining, Readiness::Stopping]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_service_turns_ready_once_and_never_after_shutdown() {
    let starting = || {
        Shutdown::builder()
            .with_signals(false)
            .with_watchdog(false)
            .with_delay(ms(0))
            .with_timeout(ms(2_000))
            .with_starting(true)
    };
    // Start-up finishes: Starting → Ready, once.
    let shutdown = starting().build().unwrap();
    assert_eq!(shutdown.readiness(), Readiness::Starting);
    assert!(!shutdown.is_ready());
    assert!(shutdown.mark_ready());
    assert_eq!(shutdown.readiness(), Readiness::Ready);
    assert!(!shutdown.mark_ready(), "ready only once");
    shutdown.trigger();
    assert!(!shutdown.mark_ready(), "never ready again once draining");
    assert_eq!(shutdown.readiness(), Readiness::Draining);
    assert_eq!(shutdown.wait().await, Outcome::Clean);

    // Shutdown begins during start-up: Starting → Draining, never Ready.
    let shutdown = starting().build().unwrap();
    shutdown.trigger();
    assert_eq!(shutdown.readiness(), Readiness::Draining);
    assert!(!shutdown.mark_ready());
    assert_eq!(shutdown.wait().await, Outcome::Clean);
    assert_eq!(shutdown.readiness(), Readiness::Stopping);

    // Without with_starting, a handle is ready from the start.
    assert!(!build(0, 2_000).mark_ready());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_in_reverse_order_within_their_budgets() {
    // (name, budget, how long the hook takes)
    async fn check(hooks: &[(&'static str, u64, u64)], order: &[&str], expected: Outcome) {
        let shutdown = build(0, 5_000);
        let ran = Arc::new(Mutex::new(Vec::new()));
        for &(name, budget, takes) in hooks {
            let ran = Arc::clone(&ran);
            shutdown
                .on_teardown(name, ms(budget), move || async move {
                    ran.lock().unwrap().push(format!("{name} started"));
                    tokio::time::sleep(ms(takes)).await;
                    ran.lock().unwrap().push(format!("{name} done"));
                })
                .unwrap();
        }
        let started = Instant::now();
        shutdown.trigger();
        assert_eq!(shutdown.wait().await, expected, "{hooks:?}");
        assert!(started.elapsed() < ms(2_000), "{:?}", started.elapsed());
        assert_eq!(*ran.lock().unwrap(), order, "{hooks:?}");
        // Too late: teardown is over, the hook must not run.
        let late = Arc::clone(&ran);
        shutdown
            .on_teardown("late", ms(100), move || async move {
                late.lock().unwrap().push("late".into());
            })
            .unwrap();
        tokio::time::sleep(ms(20)).await;
        assert_eq!(*ran.lock().unwrap(), order);
    }
    check(
        &[("pool", 1_000, 10), ("logs", 1_000, 10)],
        &["logs started", "logs done", "pool started", "pool done"],
        Outcome::Clean,
    )
    .await;
    check(
        &[
            ("first", 1_000, 0),
            ("stuck", 50, 10_000),
            ("last", 1_000, 0),
        ],
        &[
            "last started",
            "last done",
            "stuck started",
            "first started",
            "first done",
        ],
        Outcome::DeadlineExceeded,
    )
    .await;
}

fn boom() {
    panic!("boom")
}

/// A hook whose closure panics before it returns its future (an `unwrap` on
/// a poisoned lock, say) is a hook that panicked: the hooks registered
/// before it still run, and shutdown ends at once with `TaskFailed`, not at
/// the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_whose_closure_panics_does_not_stop_the_teardown() {
    let shutdown = build(0, 5_000);
    let ran = Arc::new(Mutex::new(Vec::new()));
    let first = Arc::clone(&ran);
    shutdown
        .on_teardown("flush logs", ms(1_000), move || async move {
            first.lock().unwrap().push("flush logs");
        })
        .unwrap();
    shutdown
        .on_teardown("close thing", ms(1_000), || {
            boom();
            async {}
        })
        .unwrap();
    let started = Instant::now();
    shutdown.trigger();
    let outcome = tokio::time::timeout(ms(4_000), shutdown.wait()).await;
    assert_eq!(outcome, Ok(Outcome::TaskFailed), "{:?}", started.elapsed());
    assert_eq!(*ran.lock().unwrap(), ["flush logs"]);
}

/// The teardown's reserve is the sum of the budgets registered, before and
/// after the teardown takes the hooks, and the drain's time left is the
/// deadline's less that reserve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_teardown_reserve_is_the_sum_of_the_budgets() {
    let shutdown = build(0, 10_000);
    assert_eq!(shutdown.teardown_reserve(), Duration::ZERO);
    assert_eq!(shutdown.drain_remaining(), None);
    for (name, budget) in [("flush logs", 1_000), ("close pool", 3_000)] {
        shutdown.on_teardown(name, ms(budget), || async {}).unwrap();
    }
    assert_eq!(shutdown.teardown_reserve(), ms(4_000));
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    let work = shutdown.spawn("work", async move {
        let _ = finished.await;
    });
    shutdown.trigger();
    shutdown.stopping().await;
    let (left, drain) = (
        shutdown.remaining().unwrap(),
        shutdown.drain_remaining().unwrap(),
    );
    assert_eq!(
        shutdown.teardown_reserve(),
        ms(4_000),
        "after the teardown took the hooks"
    );
    assert!(left > ms(9_000) && left <= ms(10_000), "{left:?}");
    assert!(
        drain <= left.saturating_sub(ms(4_000)) && drain > ms(5_000),
        "{drain:?} of {left:?}"
    );
    let _ = done.send(());
    work.await.unwrap();
    assert_eq!(shutdown.wait().await, Outcome::Clean);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_or_panicked_task_starts_shutdown() {
    async fn check(kind: &str) {
        let shutdown = build(0, 5_000);
        let handle_failed = match kind {
            "err" => shutdown
                .spawn("job", async { Err::<(), _>("boom") })
                .await
                .is_ok_and(|r| r.is_err()),
            "panic" => shutdown
                .spawn("job", async { boom() })
                .await
                .is_err_and(|e| e.is_panic()),
            "blocking err" => shutdown
                .spawn_blocking("job", || Err::<(), _>("boom"))
                .await
                .is_ok_and(|r| r.is_err()),
            "blocking panic" => shutdown
                .spawn_blocking("job", boom)
                .await
                .is_err_and(|e| e.is_panic()),
            "trigger_failure" => {
                shutdown.trigger_failure("admin");
                true
            }
            _ => unreachable!(),
        };
        assert!(handle_failed, "{kind}: the JoinHandle reports the failure");
        assert_ne!(shutdown.readiness(), Readiness::Ready, "{kind}");
        assert_eq!(shutdown.wait().await, Outcome::TaskFailed, "{kind}");
        assert_eq!(Outcome::TaskFailed.code(), 70);
    }
    for kind in [
        "err",
        "panic",
        "blocking err",
        "blocking panic",
        "trigger_failure",
    ] {
        check(kind).await;
    }
    // And a task that succeeds does not.
    let shutdown = build(0, 5_000);
    shutdown
        .spawn("job", async { Ok::<_, String>(1) })
        .await
        .unwrap()
        .unwrap();
    assert!(shutdown.is_ready());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_waits_for_tracked_tasks_and_aborts_them_at_the_budget() {
    // A task that finishes within the budget is waited for.
    let shutdown = build(0, 2_000);
    let stop = shutdown.clone();
    let finished = shutdown.spawn("finisher", async move {
        stop.stopping().await;
        tokio::time::sleep(ms(150)).await;
        Ok::<_, std::convert::Infallible>("finished")
    });
    assert_eq!(shutdown.tasks_in_flight(), 1);
    assert_eq!(shutdown.running_tasks(), ["finisher"]);
    let started = Instant::now();
    shutdown.trigger();
    assert_eq!(shutdown.wait().await, Outcome::Clean);
    assert!(started.elapsed() >= ms(150), "{:?}", started.elapsed());
    assert_eq!(finished.await.unwrap(), Ok("finished"));
    assert_eq!(shutdown.tasks_in_flight(), 0);

    // One that never finishes is aborted when the drain budget runs out,
    // which leaves the hooks their budget before the deadline.
    let shutdown = build(0, 1_500);
    let stuck = shutdown.spawn("stuck", std::future::pending::<()>());
    let hook_ran = Arc::new(Mutex::new(None));
    let ran = Arc::clone(&hook_ran);
    let remaining = shutdown.clone();
    shutdown
        .on_teardown("close", ms(400), move || async move {
            *ran.lock().unwrap() = remaining.remaining();
        })
        .unwrap();
    let started = Instant::now();
    shutdown.trigger();
    assert_eq!(shutdown.wait().await, Outcome::DeadlineExceeded);
    let took = started.elapsed();
    assert!(took >= ms(1_100) && took < ms(1_500), "took {took:?}");
    assert!(stuck.await.unwrap_err().is_cancelled());
    let left = hook_ran.lock().unwrap().expect("the hook ran");
    assert!(
        left > ms(250) && left <= ms(400),
        "hook saw {left:?} remaining"
    );
}

/// The fields of one captured event: numbers as numbers, anything else as text.
#[derive(Debug, Default)]
struct Fields(std::collections::BTreeMap<&'static str, String>);

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name(), value.to_string());
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name(), value.to_string());
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

/// Keeps the fields of every event that has a `phase`.
#[derive(Clone, Default)]
struct Phases(Arc<Mutex<Vec<Fields>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Phases {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.0.contains_key("phase") {
            self.0.lock().unwrap().push(fields);
        }
    }
}

/// The README's promise: every phase emits an event with `phase`, `elapsed_ms` and `tasks`.
/// One task outlives the propagation delay, so the phases see it in flight, then gone; the
/// elapsed times grow with the phases and respect the delay.
#[tokio::test(flavor = "current_thread")]
async fn every_phase_emits_an_event_with_its_elapsed_time_and_tasks() {
    use tracing_subscriber::prelude::*;

    let phases = Phases::default();
    // A current-thread runtime: the phases' task runs on this thread, under this subscriber.
    let _default = tracing_subscriber::registry()
        .with(phases.clone())
        .set_default();
    let shutdown = build(150, 5_000);
    let job = shutdown.spawn("job", async {
        tokio::time::sleep(ms(400)).await;
    });
    assert!(shutdown.trigger());
    assert_eq!(shutdown.wait().await, Outcome::Clean);
    job.await.unwrap();

    let events = phases.0.lock().unwrap();
    let names: Vec<&str> = events.iter().map(|f| f.0["phase"].as_str()).collect();
    assert_eq!(
        names,
        ["draining", "stopping", "teardown", "exit"],
        "{events:?}"
    );
    let number = |i: usize, key: &str| -> u64 {
        events[i]
            .0
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", events[i]))
            .parse()
            .unwrap()
    };
    let elapsed: Vec<u64> = (0..events.len()).map(|i| number(i, "elapsed_ms")).collect();
    assert!(elapsed.is_sorted(), "{elapsed:?}");
    assert!(elapsed[1] >= 150, "stopping before the delay: {elapsed:?}");
    assert!(
        elapsed[2] >= 400,
        "teardown before the task ended: {elapsed:?}"
    );
    let tasks: Vec<u64> = (0..events.len()).map(|i| number(i, "tasks")).collect();
    assert_eq!(tasks, [1, 1, 0, 0], "{events:?}");
}
