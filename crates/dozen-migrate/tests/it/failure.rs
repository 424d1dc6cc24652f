//! Promise: when a migration fails, the lock is released and the migrations
//! before it are kept; on MySQL/MariaDB the failed one stays marked in
//! progress, and runs refuse to continue until `repair` (or a history row
//! that shows it finished) resolves the mark.

use std::time::Duration;

use dozen_migrate::{Database, Error, ErrorKind, Migrator};
use refinery::Migration;

use crate::support::{Kind, failed_with, is};

fn failing_set() -> Migrator {
    let m = |name: &str, sql: &str| Migration::unapplied(name, sql).expect("valid name");
    Migrator::from_migrations([
        m("V1__one", "CREATE TABLE one (id INTEGER)"),
        m("V2__two", "CREATE TABLE two (id INTEGER)"),
        m(
            "V3__broken",
            "CREATE TABLE three (id INTEGER); SELECT no_such_column FROM one",
        ),
        m("V4__four", "CREATE TABLE four (id INTEGER)"),
    ])
    .expect("valid set")
    .with_lock_timeout(Duration::from_secs(5))
}

async fn fail(db: &Database) -> Error {
    let err = failing_set().apply(db).await.expect_err("V3 fails");
    assert!(is(&err, ErrorKind::MigrationFailed, Some(3)), "{err:?}");
    assert!(err.to_string().contains("V3__broken"), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failure_leaves_no_advisory_lock() {
    let Some(fresh) = Kind::Postgres.fresh("dm_fail").await else {
        return;
    };
    // One connection: the run's connection is the one checked afterwards, as a
    // pooled connection in an application would be.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&fresh.url)
        .await
        .expect("connect");
    fail(&Database::from(&pool)).await;
    let locks = crate::support::advisory_locks(&pool).await;
    assert_eq!(locks, 0, "an advisory lock outlived the failed run");
    let kept: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM refinery_schema_history ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("history");
    assert_eq!(kept, [1, 2], "V1 and V2 kept, V3 rolled back");
    let three: Option<String> = sqlx::query_scalar("SELECT to_regclass('three')::text")
        .fetch_one(&pool)
        .await
        .expect("regclass");
    assert_eq!(three, None, "V3's first statement rolled back with it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_failure_releases_get_lock_and_marks_the_version() {
    let Some(fresh) = Kind::MySql.fresh("dm_fail").await else {
        return;
    };
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&fresh.url)
        .await
        .expect("connect");
    let db = Database::from(&pool);
    fail(&db).await;
    // The lock's name, computed as dozen-migrate does (deployed releases must
    // agree on it, so it is pinned here): nobody holds it.
    let name = crate::support::mysql_lock_name(&pool).await;
    let holder: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
        .bind(&name)
        .fetch_one(&pool)
        .await
        .expect("IS_USED_LOCK");
    assert_eq!(holder, None, "GET_LOCK({name}) outlived the failed run");
    // A second run takes the lock at once (so it was released) and refuses,
    // naming V3: its first statement (DDL) committed before the failure.
    let start = std::time::Instant::now();
    let err = failing_set()
        .with_lock_timeout(Duration::from_secs(2))
        .apply(&db)
        .await
        .expect_err("refuses");
    assert!(is(&err, ErrorKind::Dirty, Some(3)), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "waited for a lock nobody should hold"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failure_keeps_earlier_migrations_and_unlocks() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_fail").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    fail(&db).await;
    let Database::Sqlite(pool) = &db else {
        unreachable!()
    };
    let kept: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM refinery_schema_history ORDER BY version")
            .fetch_all(pool)
            .await
            .expect("history");
    assert_eq!(kept, [1, 2]);
    // The write lock is free: a write from another connection succeeds at once.
    sqlx::query("CREATE TABLE after_failure (id INTEGER)")
        .execute(pool)
        .await
        .expect("write after the failed run");
    let three: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'three'")
        .fetch_one(pool)
        .await
        .expect("schema");
    assert_eq!(three, 0, "V3's first statement rolled back with it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_in_progress_mark_is_resolved_by_repair_or_by_a_finished_history_row() {
    let Some(fresh) = Kind::MySql.fresh("dm_mark").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let Database::MySql(pool) = &db else {
        unreachable!()
    };
    let v1 = Migration::unapplied("V1__a", "CREATE TABLE a (id INTEGER)").expect("name");
    let v2 = Migration::unapplied("V2__b", "CREATE TABLE b (id INTEGER)").expect("name");
    let both = Migrator::from_migrations([v1.clone(), v2.clone()]).expect("set");
    Migrator::from_migrations([v1])
        .expect("set")
        .apply(&db)
        .await
        .expect("V1");
    // What a run killed inside V2 leaves behind.
    let mark = || async {
        sqlx::query("REPLACE INTO dozen_migrate_state VALUES ('refinery_schema_history', 2, 'b', ?, '2026-01-01T00:00:00Z')")
            .bind(v2.checksum().to_string())
            .execute(pool)
            .await
            .expect("mark");
    };
    mark().await;

    let status = both.status(&db).await.expect("status");
    assert!(
        matches!(&status.entries()[1].state, dozen_migrate::State::InProgress { started_on } if started_on == "2026-01-01T00:00:00Z"),
        "{status:?}"
    );
    assert!(failed_with(
        &both.validate(&db).await,
        ErrorKind::Dirty,
        Some(2)
    ));
    assert!(failed_with(
        &both.apply(&db).await,
        ErrorKind::Dirty,
        Some(2)
    ));

    // The operator finished V2 by hand: `repair 2 --applied` records it.
    sqlx::query("CREATE TABLE b (id INTEGER)")
        .execute(pool)
        .await
        .expect("by hand");
    both.repair(&db, 2, dozen_migrate::Resolution::Applied)
        .await
        .expect("repair");
    assert!(both.apply(&db).await.expect("apply").applied.is_empty());
    assert!(both.status(&db).await.expect("status").is_up_to_date());
    let err = both
        .repair(&db, 2, dozen_migrate::Resolution::Applied)
        .await
        .expect_err("nothing is in progress");
    assert!(is(&err, ErrorKind::NotInProgress, Some(2)), "{err:?}");
    assert!(err.to_string().ends_with("(nothing is)"), "{err}");

    // A mark whose history row exists (the process died between the two):
    // the migration is complete, and the next run clears the mark itself.
    mark().await;
    assert!(both.apply(&db).await.expect("apply").applied.is_empty());
    let marks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dozen_migrate_state")
        .fetch_one(pool)
        .await
        .expect("marks");
    assert_eq!(marks, 0);
}
