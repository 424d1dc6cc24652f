//! The README's promises, attacked through the real binary with hostile but
//! ordinary input: absurd durations and a timeout that leaves no drain are
//! configuration errors (exit 78, every variable named, no value shown); a
//! password in a query string never reaches a log line; a token in a request's
//! query string never reaches the request log; the body limit comes from the
//! environment (`HTTP_MAX_BODY_BYTES`, dozen-shutdown's).

use std::process::Command;
use std::time::Duration;

use crate::support::{http, spawn};
use crate::{serve, todo_api};

/// Runs the binary with `env` on an empty environment, expecting exit 78.
fn refused(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(todo_api());
    command.env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("todo-api runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(78), "{env:?}:\n{stderr}");
    assert!(output.stdout.is_empty(), "nothing is served or logged");
    stderr
}

#[test]
fn absurd_durations_are_configuration_errors_naming_each_variable() {
    const HUGE: &str = "18446744073709551615s";
    let vars = [
        "SHUTDOWN_TIMEOUT",
        "SHUTDOWN_DELAY",
        "DATABASE_CONNECT_TIMEOUT",
        "DATABASE_ACQUIRE_TIMEOUT",
        "HTTP_HEADER_READ_TIMEOUT",
        "HTTP_BODY_READ_TIMEOUT",
    ];
    let env: Vec<(&str, &str)> = vars.iter().map(|v| (*v, HUGE)).collect();
    let stderr = refused(&env);
    for var in vars {
        assert!(stderr.contains(var), "{var} is not named in:\n{stderr}");
    }
    assert!(
        !stderr.contains("18446744073709551615"),
        "the value is shown:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The worker's own durations (JOB_*), which the web process does not
    // read, are checked by the worker's tests.
}

#[test]
fn a_shutdown_timeout_that_leaves_no_drain_is_refused_with_the_reason() {
    // 1 s to flush logs + 3 s to close the pool leave nothing of 4 s.
    let stderr = refused(&[("SHUTDOWN_TIMEOUT", "4s"), ("SHUTDOWN_DELAY", "0s")]);
    assert!(
        stderr.contains("SHUTDOWN_TIMEOUT: too short to drain"),
        "no reason in:\n{stderr}"
    );
    for budget in ["flush logs 1s", "close database pool 3s"] {
        assert!(
            stderr.contains(budget),
            "{budget} is not named in:\n{stderr}"
        );
    }
}

#[test]
fn a_password_in_a_query_string_never_reaches_a_log_line() {
    let Some(base) = dozen_testkit::service_url("TEST_POSTGRES_URL") else {
        return;
    };
    let secret = "hunter2-in-the-query";
    let join = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{join}sslmode=disable&password={secret}");
    let mut app = serve(&url, &[]);
    let addr = app.listening();
    let answer = http(addr, "GET", "/todos", None).expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let loaded = app
        .logged()
        .into_iter()
        .find(|l| l["message"] == "configuration loaded")
        .expect("the configuration line comes before listening");
    assert!(
        loaded["config"]
            .as_str()
            .is_some_and(|c| c.contains("password=***")),
        "{loaded}"
    );
    app.signal("TERM");
    app.wait_exit(Duration::from_secs(30));
    let all = app.seen.lock().expect("not poisoned").join("\n");
    assert!(!all.contains(secret), "the password was logged:\n{all}");
}

#[test]
fn a_token_in_a_request_query_never_reaches_the_request_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let mut app = serve(&url, &[]);
    let addr = app.listening();
    let token = "ya29-access-token-value";
    let path = format!("/todos?access_token={token}&limit=5");
    let answer = http(addr, "GET", &path, None).expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let line = app.wait_for_line("the request line", Duration::from_secs(5), |l| {
        l["httpRequest"]["requestMethod"] == "GET"
    });
    assert!(
        line["httpRequest"]["requestUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/todos?access_token=***&limit=5")),
        "{line}"
    );
    app.signal("TERM");
    app.wait_exit(Duration::from_secs(30));
    let all = app.seen.lock().expect("not poisoned").join("\n");
    assert!(!all.contains(token), "the token was logged:\n{all}");
}

#[test]
fn the_body_limit_comes_from_the_environment() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("PORT", "0"),
            ("HTTP_MAX_BODY_BYTES", "64"),
        ],
    );
    let addr = app.listening();
    let body = format!(r#"{{"title": "{}"}}"#, "x".repeat(100));
    let answer = http(addr, "POST", "/todos", Some(&body)).expect("an answer");
    assert_eq!(answer.status, 413, "{}", answer.body);
    let small = http(addr, "POST", "/todos", Some(r#"{"title": "ok"}"#)).expect("an answer");
    assert_eq!(small.status, 201, "{}", small.body);
}
