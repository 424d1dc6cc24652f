//! An admin command's standard output holds its result and nothing else: its
//! log lines go to standard error (Kubernetes collects both), so
//! `todo-api migrate status --format json | jq` and a Job's output read the
//! result alone.

use std::process::{Command, Stdio};

#[test]
fn migrate_writes_its_result_to_stdout_and_its_logs_to_stderr() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_todo-api"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &url)
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .output()
            .expect("todo-api runs");
        assert!(out.status.success(), "{args:?}: {}", out.status);
        (
            String::from_utf8(out.stdout).expect("UTF-8"),
            String::from_utf8(out.stderr).expect("UTF-8"),
        )
    };
    let (stdout, stderr) = run(&["migrate", "status", "--format", "json"]);
    let status: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: stdout is {stdout:?}"));
    assert!(status.is_object(), "{status}");
    assert!(stderr.contains("\"configuration loaded\""), "{stderr}");

    let (stdout, stderr) = run(&["migrate"]);
    assert!(
        stdout.lines().all(|line| !line.starts_with('{')),
        "a log line on stdout: {stdout}"
    );
    assert!(stdout.contains("applied V1__todos ("), "{stdout}");
    assert!(stderr.contains("\"applied migration\""), "{stderr}");
}
