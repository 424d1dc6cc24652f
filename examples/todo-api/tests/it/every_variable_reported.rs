//! Every variable the process reads is part of the app's configuration: the
//! libraries read none of their own, so the "configuration loaded" report and
//! `describe` (the environment reference) list the same variables, among them
//! those of dozen-log, dozen-shutdown, dozen-backing and dozen-migrate, and a
//! bad value of any of them is a configuration error like the app's own.

use std::collections::BTreeSet;

use example_todo_api::config::Settings;

fn pairs(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What the report of a load from `vars` lists, by variable name.
fn reported(vars: &[(&str, &str)]) -> BTreeSet<String> {
    let (_, report) = dozen_config::Loader::new()
        .from_iter_with_report::<_, Settings>(pairs(vars))
        .expect("a valid configuration");
    report.entries().map(|e| e.var().to_owned()).collect()
}

#[test]
fn the_report_and_describe_list_every_variable_the_process_reads() {
    let reported = reported(&[]);
    let described: BTreeSet<String> = dozen_config::describe::<Settings>()
        .vars()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(reported, described, "the report and describe differ");
    for var in [
        "PORT",
        "DATABASE_URL",
        "MIGRATE_ON_START",
        // dozen-log
        "RUST_LOG",
        "LOG_FORMAT",
        "SERVICE_NAME",
        "SERVICE_VERSION",
        "K_SERVICE",
        "K_REVISION",
        "GOOGLE_CLOUD_PROJECT",
        // dozen-shutdown
        "SHUTDOWN_DELAY",
        "SHUTDOWN_TIMEOUT",
        "KUBERNETES_SERVICE_HOST",
        "HTTP_HEADER_READ_TIMEOUT",
        "HTTP_BODY_READ_TIMEOUT",
        "HTTP_MAX_CONNECTIONS",
        "HTTP_MAX_BODY_BYTES",
        // dozen-backing
        "DATABASE_MAX_CONNECTIONS",
        "DATABASE_MIN_CONNECTIONS",
        "DATABASE_ACQUIRE_TIMEOUT",
        "DATABASE_IDLE_TIMEOUT",
        "DATABASE_CONNECT_TIMEOUT",
        "DATABASE_BUSY_TIMEOUT",
        // dozen-migrate
        "MIGRATE_TABLE",
        "MIGRATE_LOCK_TIMEOUT",
        "MIGRATE_WAIT_TIMEOUT",
        "MIGRATE_POLL_INTERVAL",
    ] {
        assert!(reported.contains(var), "{var} missing from {reported:?}");
    }
}

#[test]
fn values_set_in_the_environment_are_shown_in_the_report() {
    let (_, report) = dozen_config::Loader::new()
        .from_iter_with_report::<_, Settings>(pairs(&[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "debug"),
            ("SHUTDOWN_TIMEOUT", "20s"),
            ("MIGRATE_LOCK_TIMEOUT", "1m 30s"),
        ]))
        .unwrap();
    let report = report.to_string();
    for shown in [
        "LOG_FORMAT=json",
        "RUST_LOG=debug",
        "SHUTDOWN_TIMEOUT=20s",
        "MIGRATE_LOCK_TIMEOUT=\"1m 30s\"",
    ] {
        assert!(report.contains(shown), "{shown} in {report}");
    }
}

/// A bad value of each library's variables is reported with the app's own,
/// all at once, each as `VAR: what is wrong (what was expected)`.
#[test]
fn a_bad_library_setting_is_a_configuration_error_listed_with_the_others() {
    let err = dozen_config::from_iter::<_, Settings>(pairs(&[
        ("PORT", "eighty"),
        ("LOG_FORMAT", "xml"),
        ("SHUTDOWN_TIMEOUT", "2h"),
        ("DATABASE_MAX_CONNECTIONS", "0"),
        ("MIGRATE_LOCK_TIMEOUT", "2 days"),
    ]))
    .unwrap_err();
    let vars: Vec<&str> = err.problems().map(|p| p.var()).collect();
    assert_eq!(
        vars,
        [
            "PORT",
            "DATABASE_MAX_CONNECTIONS",
            "SHUTDOWN_TIMEOUT",
            "LOG_FORMAT",
            "MIGRATE_LOCK_TIMEOUT"
        ],
        "{err}"
    );
    let text = err.to_string();
    for line in [
        "PORT: invalid value (an integer from 0 to 65535)",
        "LOG_FORMAT: invalid value (one of json, pretty, auto)",
        "SHUTDOWN_TIMEOUT: too large (at most 1h)",
        "DATABASE_MAX_CONNECTIONS: too small (at least 1)",
        "MIGRATE_LOCK_TIMEOUT: too large (at most 24h)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in {text}");
    }
}

/// `todo-api config` prints every variable the web process reads, with no
/// database reachable and a configuration that would not load, and exits 0.
#[test]
fn todo_api_config_lists_every_variable_with_no_database() {
    let output = std::process::Command::new(crate::todo_api())
        .env_clear()
        .env("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:9/app")
        .env("PORT", "eighty")
        .arg("config")
        .output()
        .expect("todo-api runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for var in [
        "PORT",
        "DATABASE_URL",
        "HTTP_MAX_BODY_BYTES",
        "LOG_FORMAT",
        "RUST_LOG",
        "SHUTDOWN_DELAY",
        "SHUTDOWN_TIMEOUT",
        "DATABASE_MAX_CONNECTIONS",
        "DATABASE_CONNECT_TIMEOUT",
        "MIGRATE_ON_START",
        "MIGRATE_TABLE",
    ] {
        assert!(
            stdout.contains(&format!("`{var}`")),
            "{var} missing:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("JOB_"),
        "the worker's variables:\n{stdout}"
    );
    assert!(!stdout.contains("hunter2"));
}
