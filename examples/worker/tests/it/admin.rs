//! `worker jobs status|dead|retry` through the service entry point: the
//! arguments are parsed before any setting, results go to stdout (text or
//! JSON) and log lines to stderr, and each outcome has its exit code: 69
//! when the queue cannot be opened, 143 when a signal stops the command.

use std::time::Duration;

use crate::leases::prepare;
use crate::reads_only_its_own::run;
use crate::support::{closed_port, runtime, spawn, targets};
use crate::worker;

#[test]
fn jobs_commands_print_results_on_stdout_and_logs_on_stderr() {
    let rt = runtime();
    for target in targets("worker_admin") {
        let name = target.name;
        let _db = rt.block_on(prepare(&target, 2));
        let env = [
            ("DATABASE_URL", target.url.as_str()),
            ("LOG_FORMAT", "json"),
        ];

        let (code, stdout, stderr) = run(&["jobs", "status", "--format", "json"], &env);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let counts: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
        assert_eq!(
            counts,
            serde_json::json!({"pending": 2, "due": 2, "running": 0, "done": 0, "dead": 0}),
            "{name}"
        );
        assert!(
            stderr.contains("configuration loaded"),
            "{name}: logs go to stderr: {stderr}"
        );

        let (code, stdout, _) = run(&["jobs", "dead"], &env);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(0), "no dead jobs\n"),
            "{name}"
        );

        let (code, stdout, stderr) = run(&["jobs", "retry", "424242"], &env);
        assert_eq!((code, stdout.as_str()), (Some(1), ""), "{name}");
        assert!(
            stderr.contains("jobs: job 424242: no dead job with this id"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn jobs_arguments_are_checked_before_the_configuration() {
    // An invalid configuration does not stop --help or a usage error.
    let bad = [("JOBS_LEASE", "0s")];
    let (code, stdout, stderr) = run(&["jobs", "--help"], &bad);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("todo-worker jobs status [--format text|json]"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");

    let (code, stdout, stderr) = run(&["jobs", "stats"], &bad);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("todo-worker jobs: unknown jobs command \"stats\""),
        "{stderr}"
    );

    // Well-formed, it reads the configuration: exit 78, naming the variable.
    let (code, _, stderr) = run(&["jobs", "status"], &bad);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(
        stderr.contains("JOBS_LEASE: too small (at least 1s)"),
        "{stderr}"
    );

    // And the usage of the service lists the command.
    let (code, stdout, _) = run(&["--help"], &[]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("todo-worker jobs status|dead|retry"),
        "{stdout}"
    );
}

#[test]
fn jobs_exit_69_when_the_queue_cannot_be_opened() {
    // A SQLite file under a regular file: it can never be created, and
    // that is no reason to retry.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").expect("a file");
    let url = format!("sqlite://{}?mode=rwc", file.join("todo.db").display());
    let (code, stdout, stderr) = run(&["jobs", "status"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, Some(69), "{stderr}");
    assert!(stdout.is_empty(), "no result: {stdout}");
    assert!(stderr.contains("cannot open the job queue"), "{stderr}");
}

#[test]
fn sigterm_while_jobs_connects_with_retry_exits_143() {
    let url = format!("postgres://app:pw@127.0.0.1:{}/app", closed_port());
    let mut jobs = spawn(
        worker(),
        &["jobs", "status"],
        &[("DATABASE_URL", &url), ("DATABASE_CONNECT_TIMEOUT", "120s")],
    );
    jobs.wait_for_retry();
    jobs.signal("TERM");
    assert_eq!(
        jobs.wait_exit(Duration::from_secs(15)).code(),
        Some(143),
        "a Job stopped while connecting must not count as done"
    );
    // Nothing but log lines: no result was printed.
    let seen = jobs.seen.lock().expect("not poisoned").clone();
    for line in &seen {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a log line: {line}\n{}",
            seen.join("\n")
        );
    }
}
