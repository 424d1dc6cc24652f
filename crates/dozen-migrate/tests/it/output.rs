//! Promise: a command's result goes to stdout and nothing else does:
//! `status`, `validate` and `plan` print with `--format json` one JSON
//! document in the documented shape (golden files under tests/golden, which
//! `UPDATE_GOLDEN=1` rewrites); `plan` prints the pending SQL in order with
//! each migration's transaction mode; progress while waiting for another
//! process's lock, naming the holder and the time waited, goes to stderr.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use dozen_migrate::Cli;
use sqlx::Connection as _;

use crate::support::{Kind, run_cli};

/// `applied_on` and `started_on` are times: replaced by a placeholder.
fn normalized(json: &str) -> String {
    json.lines()
        .map(|l| {
            for key in ["\"applied_on\": \"", "\"started_on\": \""] {
                if let Some(at) = l.find(key) {
                    let start = at + key.len();
                    let end = start + l[start..].find('"').expect("closing quote");
                    return format!("{}<time>{}", &l[..start], &l[end..]);
                }
            }
            l.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Compares `stdout` with the golden file, after checking it is one JSON document.
pub(crate) fn golden(name: &str, stdout: &str) {
    serde_json::from_str::<serde_json::Value>(stdout)
        .unwrap_or_else(|e| panic!("{name}: stdout is not one JSON document ({e}):\n{stdout}"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let got = normalized(stdout);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write golden file");
        return;
    }
    let want = std::fs::read_to_string(&path).expect("golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(got, want, "{name} differs from its golden file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_documents_match_their_golden_files() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_json").await else {
        return;
    };
    let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, "plan --target 2 --format json");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    golden("plan.json", &stdout);
    let (code, _, stderr) = run_cli(Kind::Sqlite, &fresh.url, "--target 2");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, "status --format json");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    golden("status.json", &stdout);
    let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, "validate --format json");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    golden("validate.json", &stdout);

    // A newer release's migration: the failing documents, with their exit code.
    let db = crate::support::connect(&fresh.url).await;
    let newer = Kind::Sqlite.newer_release();
    newer.apply(&db).await.expect("the newer release");
    let (code, stdout, _) = run_cli(Kind::Sqlite, &fresh.url, "status --check --format json");
    assert_eq!(code, Cli::CHECK_FAILED);
    golden("status-newer.json", &stdout);
    let (code, stdout, _) = run_cli(Kind::Sqlite, &fresh.url, "validate --format json");
    assert_eq!(code, Cli::CHECK_FAILED);
    golden("validate-newer.json", &stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_the_pending_sql_with_each_transaction_mode() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_plan").await else {
        return;
    };
    let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, "--target 18");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    let (code, stdout_plan, stderr) = run_cli(Kind::Sqlite, &fresh.url, "plan");
    assert_eq!(code, Cli::SUCCESS, "{stdout}{stderr}");
    let sql = |v: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/migrations/sqlite/{v}.sql")),
        )
        .expect("migration file")
    };
    let expected = format!(
        "-- V19__add_webhook_secret_ref (transaction)\n{}\n\n\
         -- V20__create_exports (transaction)\n{}\n\n\
         -- migrate: 2 pending up to V20; the schema is at V18\n",
        sql("V19__add_webhook_secret_ref").trim_end(),
        sql("V20__create_exports").trim_end()
    );
    assert_eq!(stdout_plan, expected);
    assert!(stderr.is_empty(), "{stderr}");
}

/// Runs `migrate --target 1` while another connection holds the lock, which
/// `release` gives up after 7 seconds: the wait is told on stderr, naming
/// the holder (`holder` is a fragment of its description), and stdout has
/// the result only.
async fn check_waiting(kind: Kind, url: &str, holder: &str, release: impl Future<Output = ()>) {
    let url = url.to_owned();
    let run = tokio::task::spawn_blocking(move || run_cli(kind, &url, "--target 1"));
    tokio::time::sleep(Duration::from_secs(7)).await;
    release.await;
    let (code, stdout, stderr) = run.await.expect("cli");
    assert_eq!(code, Cli::SUCCESS, "{kind:?}: {stderr}");
    let waiting: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("migrate: waiting for the migration lock for "))
        .collect();
    assert!(!waiting.is_empty(), "{kind:?}: {stderr}");
    assert!(
        waiting.iter().all(|l| l.contains(holder)),
        "{kind:?}: {holder:?} in {stderr}"
    );
    assert!(
        stderr.contains("migrate: took the migration lock after "),
        "{kind:?}: {stderr}"
    );
    assert!(!stdout.contains("lock"), "{kind:?}: {stdout}");
    assert!(
        stdout.starts_with("applied V1__create_migration_log ("),
        "{kind:?}: {stdout}"
    );
    assert!(
        stdout.contains("migrate: applied 1 migration in "),
        "{kind:?}: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waiting_for_the_lock_says_so_on_stderr_naming_the_holder() {
    if let Some(fresh) = Kind::Postgres.fresh("dm_lock_wait").await {
        // Another process's lock: the key dozen-migrate takes for the default table.
        let url = format!("{}?application_name=other-migrator", fresh.url);
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        let key = i64::from_ne_bytes(0xd383_eab6_99cb_7857_u64.to_ne_bytes());
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut conn)
            .await
            .expect("lock");
        let release = async move {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .execute(&mut conn)
                .await
                .expect("unlock");
        };
        let holder = ", application_name \"other-migrator\")";
        check_waiting(Kind::Postgres, &fresh.url, holder, release).await;
    }
    if let Some(fresh) = Kind::MySql.fresh("dm_lock_wait").await {
        let mut conn = sqlx::MySqlConnection::connect(&fresh.url)
            .await
            .expect("connect");
        let name = crate::support::mysql_lock_name(&mut conn).await;
        let id: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
            .fetch_one(&mut conn)
            .await
            .expect("id");
        sqlx::query("DO GET_LOCK(?, 0)")
            .bind(&name)
            .execute(&mut conn)
            .await
            .expect("lock");
        let release = async move {
            sqlx::query("DO RELEASE_LOCK(?)")
                .bind(&name)
                .execute(&mut conn)
                .await
                .expect("unlock");
        };
        let holder = format!("(held by connection {id}");
        check_waiting(Kind::MySql, &fresh.url, &holder, release).await;
    }
    // SQLite: the lock is the write lock of the database file, held here by
    // another connection's write transaction.
    let fresh = Kind::Sqlite.fresh("dm_lock_wait").await.expect("SQLite");
    let mut conn = sqlx::SqliteConnection::connect(&fresh.url)
        .await
        .expect("connect");
    // In WAL mode, as dozen-backing opens every SQLite file: readers and the
    // migrator's connection are not blocked, only its write lock.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await
        .expect("WAL");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("take the write lock");
    let release = async move {
        sqlx::query("ROLLBACK")
            .execute(&mut conn)
            .await
            .expect("release the write lock");
    };
    check_waiting(
        Kind::Sqlite,
        &fresh.url,
        "another connection's write transaction",
        release,
    )
    .await;
}
