//! Durations are bounded: every duration the crate reads is at most
//! `MAX_DURATION` (1 h), a larger one is an error naming the variable, the
//! deadline must leave `MIN_DRAIN_BUDGET` (1 s) to drain after the delay and
//! the teardown budgets, and no duration given to the public API can make
//! the crate panic.

use std::time::Duration;

use dozen_shutdown::{
    ErrorKind, MAX_DURATION, MIN_DRAIN_BUDGET, Outcome, Shutdown, ShutdownSettings,
};
use proptest::prelude::*;

use super::settings::check;

const TOO_LONG: &str = "too large (at most 1h)";

#[test]
fn a_duration_above_an_hour_is_an_error_naming_the_variable() {
    let s = Duration::from_secs;
    let huge = "18446744073709551615s";
    check(&[("SHUTDOWN_TIMEOUT", "1h")], Ok((None, s(3600))));
    check(&[("SHUTDOWN_DELAY", "59m 59s")], Ok((Some(s(3599)), s(25))));
    for (variable, value) in [
        ("SHUTDOWN_TIMEOUT", huge),
        ("SHUTDOWN_TIMEOUT", "1h 1ns"),
        ("SHUTDOWN_TIMEOUT", "100years"),
        ("SHUTDOWN_DELAY", huge),
        ("SHUTDOWN_DELAY", "2h"),
    ] {
        check(
            &[(variable, value)],
            Err(&format!("{variable}: at most 1h")),
        );
    }
    // Deserialized by a loader (serde_json here, dozen-config in an app):
    // rejected too, with the bound as what was expected.
    for json in [
        format!(r#"{{"shutdown_timeout":"{huge}"}}"#),
        format!(r#"{{"shutdown_delay":"{huge}"}}"#),
        r#"{"shutdown_timeout":"61m"}"#.to_owned(),
    ] {
        let error = serde_json::from_str::<ShutdownSettings>(&json).unwrap_err();
        assert!(error.to_string().contains("at most 1h"), "{json}: {error}");
    }
    assert_eq!(MAX_DURATION, s(3600));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

fn builder(delay: Duration, timeout: Duration) -> dozen_shutdown::Builder {
    Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(delay)
        .with_timeout(timeout)
}

#[test]
fn the_builder_rejects_durations_above_an_hour_and_deadlines_that_leave_no_drain() {
    let rt = runtime();
    let ms = Duration::from_millis;
    let check = |delay: Duration, timeout: Duration, expected: Option<&str>| {
        let built = rt.block_on(async { builder(delay, timeout).build() });
        assert_eq!(
            built.err().map(|e| e.to_string()).as_deref(),
            expected,
            "{delay:?} {timeout:?}"
        );
    };
    let no_drain =
        "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY)";
    check(ms(0), ms(1000), None);
    check(ms(4000), ms(5000), None);
    check(ms(0), ms(999), Some(no_drain));
    check(ms(1), ms(1000), Some(no_drain));
    check(ms(4001), ms(5000), Some(no_drain));
    check(ms(0), ms(0), Some(no_drain));
    check(ms(0), MAX_DURATION, None);
    check(
        ms(0),
        MAX_DURATION + Duration::from_nanos(1),
        Some(&format!("SHUTDOWN_TIMEOUT: {TOO_LONG}")),
    );
    check(
        Duration::MAX,
        Duration::MAX,
        Some(&format!("SHUTDOWN_DELAY: {TOO_LONG}")),
    );
    check(
        ms(0),
        Duration::MAX,
        Some(&format!("SHUTDOWN_TIMEOUT: {TOO_LONG}")),
    );
    assert_eq!(MIN_DRAIN_BUDGET, Duration::from_secs(1));
    // Outside a runtime: an error, not a panic.
    let outside = Shutdown::builder().with_signals(false).build();
    let error = outside.expect_err("outside a runtime");
    assert_eq!((error.kind(), error.var()), (ErrorKind::NoRuntime, None));
}

#[test]
fn teardown_budgets_that_leave_no_drain_are_rejected_when_registered() {
    // The issue's case: SHUTDOWN_TIMEOUT=4s with the example's budgets of
    // 1 s (flush logs) and 3 s (close the pool) left a drain of zero, and a
    // request in flight was cut off. 5 s leaves 1 s.
    let rt = runtime();
    let s = Duration::from_secs;
    let check = |delay: Duration, timeout: Duration, expected: &[Result<(), &str>]| {
        rt.block_on(async {
            let shutdown = builder(delay, timeout).build().unwrap();
            let hooks = [("flush logs", s(1)), ("close database pool", s(3))];
            for ((name, budget), expected) in hooks.into_iter().zip(expected) {
                let got = shutdown.on_teardown(name, budget, || async {});
                assert_eq!(
                    got.map_err(|e| e.to_string()),
                    expected.map_err(str::to_owned),
                    "{name} with {delay:?} {timeout:?}"
                );
            }
        });
    };
    check(s(0), s(5), &[Ok(()), Ok(())]);
    check(
        s(0),
        s(4),
        &[
            Ok(()),
            Err(
                "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after \
                 SHUTDOWN_DELAY and the teardown budgets flush logs 1s, close database pool 3s)",
            ),
        ],
    );
    check(
        s(2),
        s(3),
        &[Err(
            "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after \
             SHUTDOWN_DELAY and the teardown budgets flush logs 1s)",
        )],
    );
    // A rejected hook is not registered: it does not run and its budget
    // reserves nothing.
    rt.block_on(async {
        let shutdown = builder(s(0), s(5)).build().unwrap();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&ran);
        assert!(
            shutdown
                .on_teardown("greedy", Duration::MAX, move || async move {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                })
                .is_err()
        );
        shutdown.on_teardown("fits", s(4), || async {}).unwrap();
        shutdown.trigger();
        assert_eq!(shutdown.wait().await, Outcome::Clean);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    });
}

/// Any duration at all: mostly small, some near the bound, some huge.
fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..10_000).prop_map(Duration::from_millis),
        (3_590u64..3_610, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        Just(Duration::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Through the whole public API, with the clock paused so an hour passes
    /// at once: build, register hooks, trigger, ask for the time left, wait.
    /// Errors are fine; a panic (which would leave `wait` pending) is not.
    #[test]
    fn no_duration_can_panic_the_crate(
        delay in any_duration(),
        timeout in any_duration(),
        budgets in proptest::collection::vec(any_duration(), 0..4),
        config in any_duration(),
    ) {
        let rt = runtime();
        let ended = rt.block_on(async {
            let mut settings = ShutdownSettings::default();
            settings.shutdown_delay = Some(config);
            settings.shutdown_timeout = config;
            let _ = settings.validate();
            let _ = Shutdown::builder().with_signals(false).with_watchdog(false).settings(settings).build();
            let Ok(shutdown) = builder(delay, timeout).build() else {
                return Ok(None);
            };
            let stuck = shutdown.spawn("stuck", std::future::pending::<()>());
            for budget in budgets {
                let _ = shutdown.on_teardown("hook", budget, std::future::pending::<()>);
            }
            assert_eq!(shutdown.remaining(), None);
            shutdown.trigger();
            assert!(shutdown.remaining().expect("started") <= timeout);
            let Ok(outcome) = tokio::time::timeout(2 * MAX_DURATION, shutdown.wait()).await
            else {
                return Err("shutdown never finished");
            };
            assert!(stuck.await.unwrap_err().is_cancelled());
            Ok(Some(outcome))
        });
        match ended {
            Ok(None) => {}
            Ok(Some(outcome)) => prop_assert_eq!(outcome, Outcome::DeadlineExceeded),
            Err(error) => prop_assert!(false, "{} with {:?}", error, (delay, timeout)),
        }
    }
}

#[cfg(feature = "axum")]
#[test]
fn a_configuration_loader_reports_every_out_of_range_setting_by_name() {
    // What an app sees through dozen-config (which exits 78 on it): each
    // variable named, with what was expected, and no value.
    let vars = [
        ("SHUTDOWN_TIMEOUT", "18446744073709551615s"),
        ("SHUTDOWN_DELAY", "2h"),
        ("HTTP_HEADER_READ_TIMEOUT", "99999h"),
        ("HTTP_BODY_READ_TIMEOUT", "61m"),
        ("HTTP_MAX_CONNECTIONS", "-1"),
    ];
    let error =
        super::settings::load::<(ShutdownSettings, dozen_shutdown::axum::HttpSettings)>(&vars)
            .unwrap_err()
            .to_string();
    println!("{error}");
    for (variable, value) in vars {
        let line = error
            .lines()
            .find(|line| line.contains(variable))
            .unwrap_or_else(|| panic!("{variable} is not named in:\n{error}"));
        assert!(!line.contains(value), "{value} leaked into {line}");
        if variable.ends_with("_TIMEOUT") || variable.ends_with("_DELAY") {
            assert!(line.contains("at most 1h"), "{line}");
        }
    }
}

#[cfg(feature = "axum")]
#[test]
fn a_timeout_that_leaves_no_drain_is_refused_at_start_and_one_that_does_completes_a_post() {
    use super::process::{Child, serial};
    use super::slow_clients::a_post_in_flight_at_sigterm_completes;

    // The issue's case, with the example app's teardown budgets (1 s + 3 s):
    // SHUTDOWN_TIMEOUT=4s cut a POST in flight off with exit 124. Now it is
    // refused at start-up, saying why.
    let _serial = serial();
    let budgets = ("CHILD_APP_BUDGETS", "1");
    let mut child = Child::start(
        "server",
        &[
            ("SHUTDOWN_DELAY", "0s"),
            ("SHUTDOWN_TIMEOUT", "4s"),
            budgets,
        ],
    );
    assert_eq!(
        child.line("SETUP ERROR "),
        "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY \
         and the teardown budgets flush logs 1s, close database pool 3s)"
    );
    let (status, _) = child.exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(78));

    // 5 s leaves a 1 s drain: the POST in flight completes, exit 0.
    let child = Child::start(
        "server",
        &[
            ("SHUTDOWN_DELAY", "0s"),
            ("SHUTDOWN_TIMEOUT", "5s"),
            budgets,
        ],
    );
    a_post_in_flight_at_sigterm_completes(child);
}

#[cfg(feature = "axum")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any timeouts, connection limit and body limit given to `serve`, from the builder
    /// or read from the environment: it serves or closes, and never panics
    /// (a panic in the server or a connection task would end the shutdown
    /// as `TaskFailed`).
    #[test]
    fn no_http_setting_can_panic_the_server(
        header in any_duration(),
        body in any_duration(),
        max in any::<u32>(),
        bytes in any::<u64>(),
        text in any::<u64>(),
    ) {
        use dozen_shutdown::axum::HttpSettings;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let variable = format!("{text}s");
        let read = super::settings::load::<HttpSettings>(&[("HTTP_BODY_READ_TIMEOUT", &variable)]);
        prop_assert_eq!(read.is_ok(), text <= 3600, "{}", variable);

        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = rt.block_on(async {
            let shutdown = builder(Duration::ZERO, Duration::from_secs(2)).build().unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let app = axum::Router::new().route("/", axum::routing::post(|| async { "ok" }));
            shutdown.spawn(
                "http server",
                dozen_shutdown::axum::serve(listener, app, shutdown.clone())
                    .with_header_read_timeout(header)
                    .with_body_read_timeout(body)
                    .with_max_connections(max)
                    .with_max_body_bytes(bytes),
            );
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let _ = stream
                .write_all(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 2\r\n\r\nhi")
                .await;
            let mut buffer = [0; 64];
            let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await;
            shutdown.trigger();
            shutdown.wait().await
        });
        prop_assert_ne!(outcome, Outcome::TaskFailed);
    }
}
