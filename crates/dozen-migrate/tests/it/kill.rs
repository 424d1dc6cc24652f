//! Promise: a migrator killed with SIGKILL in the middle of a migration (the
//! slow V10) leaves nothing half done that goes unnoticed: PostgreSQL and
//! SQLite roll it back and the next run applies it; MySQL/MariaDB refuse to
//! continue, naming V10, until `repair` says how the operator resolved it.

use std::io::{BufRead as _, BufReader};
use std::process::Command;
use std::time::Duration;

use dozen_migrate::{Database, ErrorKind, Resolution, State};

use crate::support::{Kind, failed_with, is, log_counts, once_each, run_cli, spawn_migrator};

/// Starts a migrator, waits until it is inside V10, kills it with SIGKILL.
fn kill_during_slow_migration(kind: Kind, url: &str) {
    let mut child = spawn_migrator(kind, url, None);
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{kind:?} migrator ended before V10"))
            .expect("read");
        if line == "applying 10" {
            break;
        }
    }
    // Well inside the one-second migration.
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the migrator was killed, not finished");
}

async fn check_rolled_back(kind: Kind) {
    let Some(fresh) = kind.fresh("dm_kill").await else {
        return;
    };
    kill_during_slow_migration(kind, &fresh.url);
    let db = crate::support::connect(&fresh.url).await;
    let report = kind
        .migrator()
        .with_lock_timeout(Duration::from_secs(60))
        .apply(&db)
        .await
        .expect("the next run applies cleanly");
    let versions: Vec<i32> = report.applied.iter().map(|a| a.version).collect();
    assert!(
        versions.contains(&10),
        "{kind:?}: V10 applied by the next run: {versions:?}"
    );
    assert_eq!(versions.last(), Some(&20));
    assert_eq!(log_counts(&db).await, once_each(20), "{kind:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_postgres_migration_is_rolled_back_and_reapplied() {
    check_rolled_back(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_sqlite_migration_is_rolled_back_and_reapplied() {
    check_rolled_back(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mysql_migration_is_refused_until_repaired() {
    let kind = Kind::MySql;
    let Some(fresh) = kind.fresh("dm_kill").await else {
        return;
    };
    kill_during_slow_migration(kind, &fresh.url);
    let db = crate::support::connect(&fresh.url).await;
    let migrator = kind.migrator().with_lock_timeout(Duration::from_secs(60));

    let err = migrator.apply(&db).await.expect_err("refuses");
    assert!(is(&err, ErrorKind::Dirty, Some(10)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("V10__slow_backfill") && message.contains("repair 10"),
        "{message}"
    );

    let status = migrator.status(&db).await.expect("status");
    let v10 = status
        .entries()
        .iter()
        .find(|e| e.version == 10)
        .expect("V10");
    assert!(matches!(v10.state, State::InProgress { .. }), "{v10:?}");
    let (code, _, stderr) = run_cli(kind, &fresh.url, "status --check");
    assert_eq!(code, dozen_migrate::Cli::DIRTY, "{stderr}");

    // Refused a second time: nothing changed.
    assert!(failed_with(
        &migrator.apply(&db).await,
        ErrorKind::Dirty,
        Some(10)
    ));
    // The wrong version is not accepted as a repair.
    let err = migrator
        .repair(&db, 11, Resolution::NotApplied)
        .await
        .expect_err("V10 is the one in progress");
    assert!(is(&err, ErrorKind::NotInProgress, Some(11)), "{err:?}");
    assert!(err.to_string().ends_with("(V10 is)"), "{err}");

    // The operator undoes what V10 did (which statements ran depends on when
    // the server noticed the client was gone), then marks it not applied.
    let Database::MySql(pool) = &db else {
        unreachable!()
    };
    sqlx::raw_sql("DROP TABLE IF EXISTS t10a; DROP TABLE IF EXISTS t10b; DELETE FROM migration_log WHERE version = 10")
        .execute(pool)
        .await
        .expect("undo");
    let (code, stdout, stderr) = run_cli(kind, &fresh.url, "repair 10 --not-applied");
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report = migrator.apply(&db).await.expect("applies after repair");
    assert_eq!(report.applied.first().map(|a| a.version), Some(10));
    assert_eq!(log_counts(&db).await, once_each(20));
}
