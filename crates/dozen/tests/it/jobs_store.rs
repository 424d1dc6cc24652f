//! `jobs status` through the entry point when the queue's store fails after
//! the queue was opened: its PostgreSQL database dropped `WITH (FORCE)`
//! between the open and the command. The command exits 69 (the README's
//! "its store failed"), promptly, with nothing on stdout and the password
//! of the URL nowhere; on the same database left alone it exits 0.
//!
//! The service runs in a child process: this test binary again, running
//! only [`child`].

use std::process::Output;
use std::time::{Duration, Instant};

use dozen::backing::{Postgres, ServiceUrl};
use dozen::jobs::sql::{Dialect, SqlQueue};
use dozen::migrate::Migrator;
use dozen::service::{BoxError, Context, Service};
use sqlx::Connection as _;

#[derive(serde::Deserialize)]
struct Settings {
    /// `DATABASE_URL`.
    database_url: ServiceUrl,
}

/// `DROP_AFTER_OPEN`: a URL of the same server from which the opener drops
/// the queue's database once the queue is open.
const DROP_AFTER_OPEN: &str = "DROP_AFTER_OPEN";

/// A service whose `jobs` command opens dozen-jobs' PostgreSQL queue on the
/// attached database (migrated on start), then, when told to, drops that
/// database under it.
fn service() -> Service<Settings> {
    Service::<Settings>::new("queue", "1.0.0")
        .with_database(|s: &Settings| &s.database_url)
        .with_migrations(|_url: &ServiceUrl| {
            let queue = dozen::jobs::sql::migrations(Dialect::Postgres, 1)?;
            Ok::<_, BoxError>(Migrator::from_migrations(queue)?)
        })
        .with_jobs(|ctx: Context<Settings>| {
            assert!(
                std::env::var_os(PANIC_AT_OPEN).is_none(),
                "the opener panicked at once"
            );
            opened(ctx)
        })
}

/// `PANIC_AT_OPEN`: the opener panics before it returns its future.
const PANIC_AT_OPEN: &str = "PANIC_AT_OPEN";

/// The queue, opened on the attached database (and that database dropped under it when
/// [`DROP_AFTER_OPEN`] says so).
async fn opened(ctx: Context<Settings>) -> Result<SqlQueue<Postgres>, BoxError> {
    let pool = ctx.database::<Postgres>().await?;
    let queue = SqlQueue::<Postgres>::new(pool.clone());
    if let Ok(server) = std::env::var(DROP_AFTER_OPEN) {
        let name: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&pool)
            .await?;
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
    }
    Ok(queue)
}

#[test]
#[ignore = "the service of the other tests, run by them in a child process"]
fn child() {
    crate::run_child(service());
}

/// [`child`] run to its end with `args` and `env`, and how long it took.
fn run(args: &str, env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let output = crate::child_command("jobs_store", args)
        .env("MIGRATE_ON_START", "true")
        .env("SHUTDOWN_DELAY", "0s")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    (output, started.elapsed())
}

/// The test PostgreSQL server's URL and that of a fresh database on it named from
/// `prefix`; `None` without a server.
fn fresh(prefix: &str) -> Option<(String, String)> {
    let server = dozen_testkit::service_url(dozen_testkit::POSTGRES)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let url = rt.block_on(dozen_testkit::fresh_postgres(&server, prefix));
    Some((server, url))
}

#[test]
fn jobs_exit_69_when_the_store_fails_after_the_queue_is_open() {
    let Some((server, url)) = fresh("dozen_jobs_store") else {
        return;
    };
    let secret = "Hunter2-jobs";
    // The test server trusts local connections: the password is sent, never checked.
    let url = url.replacen("://postgres@", &format!("://postgres:{secret}@"), 1);
    assert!(url.contains(secret), "a URL with a user: {url}");

    // Left alone, the database answers: exit 0 and the counts.
    let (alone, took) = run("jobs status", &[("DATABASE_URL", &url)]);
    let stderr = String::from_utf8_lossy(&alone.stderr);
    assert_eq!(alone.status.code(), Some(0), "took {took:?}\n{stderr}");
    assert!(
        crate::command_stdout(&alone.stdout).contains("pending 0"),
        "{}",
        crate::command_stdout(&alone.stdout)
    );

    // Dropped under the open queue: exit 69, no result, within a bound
    // (sqlx waits up to `DATABASE_ACQUIRE_TIMEOUT` for a connection).
    let (dropped, took) = run(
        "jobs status",
        &[
            ("DATABASE_URL", &url),
            ("DATABASE_ACQUIRE_TIMEOUT", "5s"),
            (DROP_AFTER_OPEN, &server),
        ],
    );
    let stdout = crate::command_stdout(&dropped.stdout);
    let stderr = String::from_utf8_lossy(&dropped.stderr);
    let shown = format!("took {took:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(dropped.status.code(), Some(69), "{shown}");
    assert!(took < Duration::from_secs(20), "{shown}");
    assert!(stdout.is_empty(), "no result: {shown}");
    // Opened, then failed: the command's own problem, not the open's.
    assert!(
        stderr.contains("jobs: count jobs: ") && stderr.contains("does not exist"),
        "the problem on stderr: {shown}"
    );
    assert!(!stderr.contains("cannot open the job queue"), "{shown}");
    assert!(
        !shown.contains(secret) && !shown.contains("Hunter2"),
        "{shown}"
    );
}

/// An opener that panics before it returns its future fails the command as one that errs
/// does: exit 69 with the panic's message, not 101 from a panic unwinding out of the
/// runtime.
#[test]
fn jobs_exit_69_when_the_opener_panics_at_once() {
    let Some((_, url)) = fresh("dozen_jobs_panic") else {
        return;
    };
    let (out, took) = run(
        "jobs status",
        &[("DATABASE_URL", &url), (PANIC_AT_OPEN, "1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "took {took:?}\n{stderr}");
    assert!(
        stderr.contains("cannot open the job queue")
            && stderr.contains("the opener panicked at once"),
        "{stderr}"
    );
}
