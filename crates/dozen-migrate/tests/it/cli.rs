//! Promise: `myapp migrate ...`, run as a child process, prints a line per
//! migration and a summary on stdout, errors on stderr (a usage error naming
//! the flag, a failed connect the URL with its password hidden, never a
//! password), and returns the documented exit code of each outcome.

use dozen_migrate::Cli;

use crate::support::{Kind, check_cli_rows, run_cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_print_progress_and_return_documented_exit_codes() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_cli").await else {
        return;
    };
    // In order, on one database: arguments, exit code, a line fragment expected
    // on stdout (or on stderr for failures).
    let rows: &[(&str, u8, &str)] = &[
        ("status --check", Cli::CHECK_FAILED, "20 pending"),
        ("--dry-run", Cli::SUCCESS, "would apply V10__slow_backfill"),
        (
            "validate",
            Cli::SUCCESS,
            "0 applied migrations match this binary; 20 pending",
        ),
        ("wait --timeout 200ms", Cli::FAILURE, "timed out after"),
        ("", Cli::SUCCESS, "applied V10__slow_backfill ("),
        (
            "apply",
            Cli::SUCCESS,
            "nothing to apply; the schema is at V20",
        ),
        (
            "status --check",
            Cli::SUCCESS,
            "the schema is at V20; this binary's latest is V20; 0 pending",
        ),
        (
            "wait --timeout 1s",
            Cli::SUCCESS,
            "the schema is at V20 after waiting",
        ),
        (
            "repair 3 --applied",
            Cli::FAILURE,
            "migration V3 is not marked in progress (nothing is)",
        ),
        (
            "status --chekc",
            Cli::USAGE,
            "unexpected argument `--chekc`",
        ),
        (
            "--lock-timeout 25h",
            Cli::USAGE,
            "error: --lock-timeout: too large (at most 24h)",
        ),
        (
            "wait --timeout 90",
            Cli::USAGE,
            "error: --timeout: not a duration (such as 500ms, 30s or 1m 30s)",
        ),
        ("help", Cli::SUCCESS, "myapp migrate status [--check]"),
    ];
    check_cli_rows(Kind::Sqlite, &fresh.url, rows);
    // The apply run printed one progress line per migration and a summary.
    let (_, stdout, _) = run_cli(Kind::Sqlite, &fresh.url, "status");
    assert_eq!(
        stdout.lines().filter(|l| l.contains(" applied ")).count(),
        20,
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prints_a_line_per_migration() {
    let Some(fresh) = Kind::Postgres.fresh("dm_cli").await else {
        return;
    };
    let (code, stdout, stderr) = run_cli(Kind::Postgres, &fresh.url, "");
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("applied V"))
        .collect();
    // Whole lines, one per migration, each printed once it is done.
    assert_eq!(lines.len(), 20, "{stdout}");
    assert!(lines.iter().all(|l| l.ends_with("s)")), "{stdout}");
    assert!(
        stdout.contains("migrate: applied 20 migrations in "),
        "{stdout}"
    );
    // A URL the build does not support: exit 1, and the password is not shown.
    let (code, stdout, stderr) = run_cli(Kind::Postgres, "redis://:hunter2@127.0.0.1/0", "status");
    assert_eq!(code, Cli::FAILURE);
    assert!(
        stderr.contains("unsupported database URL scheme `redis`"),
        "{stderr}"
    );
    assert!(!stdout.contains("hunter2") && !stderr.contains("hunter2"));
}

/// `url` with `password` as its user's password.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("a URL with a user");
    let user = user.split(':').next().unwrap_or(user);
    format!("{scheme}://{user}:{password}@{host}")
}

/// A connect that fails at once, for a password the server refuses (MariaDB's
/// root has none) or a database that does not exist (PostgreSQL): exit 1, the
/// URL named with its password hidden, in text and in JSON, and the password
/// nowhere on stdout or stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_connect_never_prints_the_password() {
    let secret = "Hunter2-cli";
    let mut targets = Vec::new();
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) {
        targets.push((Kind::MySql, with_password(&url, secret)));
    }
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) {
        let missing = dozen_testkit::with_database(&url, &dozen_testkit::unique_name("missing"));
        targets.push((Kind::Postgres, with_password(&missing, secret)));
    }
    for (kind, url) in targets {
        for args in ["status", "status --format json", ""] {
            let (code, stdout, stderr) = run_cli(kind, &url, args);
            let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
            assert_eq!(code, Cli::FAILURE, "{kind:?} `migrate {args}`\n{shown}");
            assert!(
                shown.contains(":***@"),
                "{kind:?} `migrate {args}`\n{shown}"
            );
            assert!(
                !shown.contains(secret),
                "{kind:?} `migrate {args}`\n{shown}"
            );
            assert!(
                !shown.contains("Hunter2"),
                "{kind:?} `migrate {args}`\n{shown}"
            );
        }
    }
}
