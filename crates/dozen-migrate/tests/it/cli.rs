//! Promise: `myapp migrate ...`, run as a child process, prints a line per
//! migration and a summary on stdout, errors on stderr (a usage error naming
//! the flag, a failed connect the URL with its password hidden, never a
//! password), and returns the documented exit code of each outcome.

use std::time::{Duration, Instant};

use dozen_migrate::Cli;

use crate::support::{Kind, check_cli_rows, run_cli, run_cli_with};

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
            assert_error_document(args, &stdout, "connect");
        }
    }
}

/// With `--format json`, stdout holds one document even when an error ended
/// the command, `{"error": {"kind", "message", "version"}}`, the message
/// naming the URL with its password hidden; without it, stdout is empty.
fn assert_error_document(args: &str, stdout: &str, kind: &str) {
    if !args.contains("--format json") {
        assert_eq!(stdout, "", "`migrate {args}` printed a result");
        return;
    }
    let doc: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| {
        panic!("`migrate {args}`: stdout is not one JSON document ({e}):\n{stdout}")
    });
    assert_eq!(doc["error"]["kind"], kind, "`migrate {args}`: {doc}");
    assert_eq!(doc["error"]["version"], serde_json::Value::Null, "{doc}");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "`migrate {args}`: {doc}");
    if kind == "connect" {
        assert!(message.contains(":***@"), "`migrate {args}`: {doc}");
    }
    assert_eq!(doc.as_object().map(serde_json::Map::len), Some(1), "{doc}");
}

/// An error from the command itself (here `adopt-sqlx` on a database sqlx
/// never migrated), with `--format json`: its exit code, the error on stderr,
/// and the error document on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_that_ends_a_json_command_is_a_json_document() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_json_error").await else {
        return;
    };
    for args in ["adopt-sqlx --format json", "adopt-sqlx"] {
        let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, args);
        assert_ne!(code, Cli::SUCCESS, "`migrate {args}`: {stdout}{stderr}");
        assert!(
            stderr.contains("_sqlx_migrations"),
            "`migrate {args}`: {stderr}"
        );
        assert_error_document(args, &stdout, "no_sqlx_history");
    }
}

/// A port nothing listens on: refused at once, and retried until
/// `DATABASE_CONNECT_TIMEOUT`, read from the environment as the app's other
/// settings are. The run gives up at that deadline, not at the default 30 s
/// and never hangs: exit 1, the URL named with its password hidden, the
/// password nowhere on stdout or stderr.
#[test]
fn a_refused_connect_gives_up_at_the_connect_timeout() {
    let secret = "Hunter2-refused";
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let url = format!("postgres://app:{secret}@127.0.0.1:{port}/app");
    let shown_url = format!("postgres://app:***@127.0.0.1:{port}/app");
    let deadline = Duration::from_secs(1);
    for args in ["status", "status --format json", ""] {
        let started = Instant::now();
        let (code, stdout, stderr) = run_cli_with(
            Kind::Postgres,
            &url,
            args,
            &[("DATABASE_CONNECT_TIMEOUT", "1s")],
        );
        let took = started.elapsed();
        let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(code, Cli::FAILURE, "`migrate {args}`\n{shown}");
        // Retried until the deadline (a refused connect is transient), then
        // stopped well before the 30 s default.
        assert!(
            took >= deadline,
            "`migrate {args}` gave up after {took:?}\n{shown}"
        );
        assert!(
            took < Duration::from_secs(20),
            "`migrate {args}` took {took:?}\n{shown}"
        );
        assert!(
            stderr.contains(&format!("cannot connect to {shown_url} within 1s")),
            "`migrate {args}`\n{shown}"
        );
        assert!(!shown.contains(secret), "`migrate {args}`\n{shown}");
        assert!(!shown.contains("Hunter2"), "`migrate {args}`\n{shown}");
        assert_error_document(args, &stdout, "connect");
    }
}
