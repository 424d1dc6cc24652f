//! The worker is a process type of its own: its configuration is what it
//! reads (its database, `JOBS_*` and `JOB_WORK_TIME`, no `PORT`, no `HTTP_*`), its own
//! durations are checked with every other problem (exit 78), and its
//! environment reference needs no database.

use std::process::Command;

use crate::worker;

pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(worker())
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("the worker runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn its_own_durations_are_configuration_errors_naming_each_variable() {
    let jobs = ["JOBS_LEASE", "JOB_WORK_TIME", "JOBS_POLL_INTERVAL"];
    let mut env: Vec<(&str, &str)> = jobs.iter().map(|v| (*v, "2h")).collect();
    // Not read by a worker: not a problem of its configuration.
    env.push(("PORT", "eighty"));
    let (code, stdout, stderr) = run(&[], &env);
    assert_eq!(code, Some(78), "{stderr}");
    assert!(stdout.is_empty(), "nothing is logged");
    for var in jobs {
        assert!(
            stderr.contains(&format!("{var}: too large (at most 1h)")),
            "{var} is not named in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("PORT"), "{stderr}");
}

#[test]
fn config_lists_what_it_reads_with_no_database() {
    let (code, stdout, stderr) = run(
        &["config"],
        &[("DATABASE_URL", "postgres://app:pw@127.0.0.1:9/app")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    for var in [
        "`DATABASE_URL`",
        "`JOBS_LEASE`",
        "`JOB_WORK_TIME`",
        "`DATABASE_CONNECT_TIMEOUT`",
        "`MIGRATE_ON_START`",
        "`SHUTDOWN_TIMEOUT`",
    ] {
        assert!(stdout.contains(var), "{var} missing:\n{stdout}");
    }
    assert!(
        !stdout.contains("`PORT`") && !stdout.contains("`HTTP_"),
        "{stdout}"
    );
}
