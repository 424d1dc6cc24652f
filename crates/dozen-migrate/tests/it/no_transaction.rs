//! Promise: a migration whose first line is `-- no-transaction` runs outside
//! a transaction, under the same lock, and its history row is written only
//! once its SQL succeeded. On PostgreSQL, `CREATE INDEX CONCURRENTLY` (which
//! fails inside a transaction) applies once with four migrators racing; when
//! it fails on a duplicate key it leaves an INVALID index, which `status` and
//! `validate` report with the fix, and which stops the next run until it is
//! dropped. On MariaDB and SQLite the marker is honoured too (SQLite's
//! `VACUUM` fails inside a transaction).

use dozen_migrate::{Database, ErrorKind, TransactionMode};

use crate::support::{Kind, set};

const TABLE: (&str, &str) = (
    "V1__t",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)",
);
const ROWS: (&str, &str) = (
    "V2__rows",
    "INSERT INTO t (id, a) VALUES (1, 1), (2, 1), (3, 2)",
);
const AFTER: (&str, &str) = ("V4__after", "CREATE TABLE after_index (id INTEGER)");

/// The versions in the history table, in order.
async fn recorded(db: &Database) -> Vec<i64> {
    let sql = "SELECT version FROM refinery_schema_history ORDER BY version";
    match db {
        Database::Postgres(p) => sqlx::query_scalar::<_, i32>(sql)
            .fetch_all(p)
            .await
            .map(|v| v.into_iter().map(i64::from).collect()),
        Database::MySql(p) => sqlx::query_scalar::<_, i32>(sql)
            .fetch_all(p)
            .await
            .map(|v| v.into_iter().map(i64::from).collect()),
        Database::Sqlite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_all(p).await,
        _ => unreachable!("all features are on in tests"),
    }
    .expect("history")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_applies_once_with_four_migrators_racing() {
    let Some(fresh) = Kind::Postgres.fresh("dm_concurrently").await else {
        return;
    };
    let index = (
        "V3__index",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a)",
    );
    let migrator = set(&[TABLE, ROWS, index, AFTER]);
    assert_eq!(
        TransactionMode::of(&migrator.migrations()[2]),
        TransactionMode::NoTransaction
    );
    let mut runs = Vec::new();
    for _ in 0..4 {
        let db = crate::support::connect(&fresh.url).await;
        let migrator = migrator.clone();
        runs.push(tokio::spawn(async move { migrator.apply(&db).await }));
    }
    let mut counts = Vec::new();
    for run in runs {
        counts.push(run.await.expect("task").expect("apply").applied.len());
    }
    counts.sort_unstable();
    assert_eq!(counts, [0, 0, 0, 4], "one migrator applies all four");
    let db = crate::support::connect(&fresh.url).await;
    assert_eq!(recorded(&db).await, [1, 2, 3, 4]);
    let Database::Postgres(pool) = &db else {
        unreachable!()
    };
    let valid: bool =
        sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a'::regclass")
            .fetch_one(pool)
            .await
            .expect("the index exists");
    assert!(valid);
    let status = migrator.validate(&db).await.expect("valid");
    assert!(status.is_up_to_date() && status.invalid_indexes().is_empty());
}

#[tokio::test]
async fn a_failed_create_index_concurrently_leaves_an_invalid_index_that_status_reports() {
    let Some(fresh) = Kind::Postgres.fresh("dm_invalid_index").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let unique = (
        "V3__unique",
        "-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY t_a_unique ON t (a)",
    );
    let migrator = set(&[TABLE, ROWS, unique, AFTER]);
    // Rows 1 and 2 share a = 1: the build fails after the index was created.
    let err = migrator.apply(&db).await.expect_err("duplicate key");
    assert_eq!(
        (err.kind(), err.version()),
        (ErrorKind::MigrationFailed, Some(3))
    );
    assert_eq!(
        recorded(&db).await,
        [1, 2],
        "no history row for the failed one"
    );

    let status = migrator.status(&db).await.expect("status");
    assert_eq!(status.invalid_indexes(), ["t_a_unique"]);
    assert!(!status.is_up_to_date());
    let fix = "drop it with `DROP INDEX CONCURRENTLY t_a_unique`";
    for err in [
        status.problem().expect("a problem"),
        migrator.validate(&db).await.expect_err("invalid index"),
        // A retry would keep the INVALID index (or fail on its name): refused.
        migrator.apply(&db).await.expect_err("refused"),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidIndex, "{err}");
        assert!(err.to_string().contains(fix), "{err}");
    }

    // The fix the message names, and the duplicate removed: the run completes.
    let Database::Postgres(pool) = &db else {
        unreachable!()
    };
    sqlx::raw_sql("DROP INDEX CONCURRENTLY t_a_unique")
        .execute(pool)
        .await
        .expect("drop");
    sqlx::raw_sql("DELETE FROM t WHERE id = 2")
        .execute(pool)
        .await
        .expect("dedupe");
    let report = migrator.apply(&db).await.expect("apply");
    assert_eq!(report.applied.len(), 2);
    assert_eq!(recorded(&db).await, [1, 2, 3, 4]);
    assert!(migrator.validate(&db).await.expect("valid").is_up_to_date());
}

#[tokio::test]
async fn mariadb_runs_a_marked_migration_and_records_it_only_on_success() {
    let Some(fresh) = Kind::MySql.fresh("dm_notx_mysql").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let index = ("V3__index", "-- no-transaction\nCREATE INDEX t_a ON t (a)");
    set(&[TABLE, ROWS, index]).apply(&db).await.expect("apply");
    assert_eq!(recorded(&db).await, [1, 2, 3]);

    let broken = (
        "V4__broken",
        "-- no-transaction\nINSERT INTO t (id, a) VALUES (9, 9);\nINSERT INTO missing VALUES (1)",
    );
    let err = set(&[TABLE, ROWS, index, broken])
        .apply(&db)
        .await
        .expect_err("missing table");
    assert_eq!(
        (err.kind(), err.version()),
        (ErrorKind::MigrationFailed, Some(4))
    );
    assert_eq!(
        recorded(&db).await,
        [1, 2, 3],
        "no history row for the failed one"
    );
    // Its first statement ran outside a transaction and stays: the marker
    // says so, as for DDL.
    let status = set(&[TABLE, ROWS, index, broken])
        .status(&db)
        .await
        .expect("status");
    assert_eq!(
        status.problem().map(|e| e.kind()),
        Some(ErrorKind::Dirty),
        "{status:?}"
    );
}

#[tokio::test]
async fn sqlite_runs_vacuum_outside_the_run_transaction() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_notx_sqlite").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let vacuum = ("V3__vacuum", "-- no-transaction\nVACUUM");
    let migrator = set(&[TABLE, ROWS, vacuum, AFTER]);
    let report = migrator.apply(&db).await.expect("apply");
    assert_eq!(report.applied.len(), 4);
    assert_eq!(recorded(&db).await, [1, 2, 3, 4]);

    // Unmarked, VACUUM fails inside the run's transaction.
    let Some(fresh) = Kind::Sqlite.fresh("dm_notx_sqlite_unmarked").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let err = set(&[TABLE, ROWS, ("V3__vacuum", "VACUUM")])
        .apply(&db)
        .await
        .expect_err("VACUUM inside a transaction");
    assert_eq!(err.version(), Some(3));

    // A marked migration that fails is not recorded; the ones before it are.
    let broken = (
        "V3__broken",
        "-- no-transaction\nVACUUM;\nSELECT * FROM missing",
    );
    let err = set(&[TABLE, ROWS, broken])
        .apply(&db)
        .await
        .expect_err("missing table");
    assert_eq!(
        (err.kind(), err.version()),
        (ErrorKind::MigrationFailed, Some(3))
    );
    assert_eq!(recorded(&db).await, [1, 2]);
}

/// A migration file saved with a byte order mark (as some editors on Windows save one)
/// applies on every database, with and without a transaction: the mark is not SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_at_the_start_of_a_migration_is_not_sent() {
    for (kind, name) in [
        (Kind::Sqlite, "dm_bom_sqlite"),
        (Kind::Postgres, "dm_bom_pg"),
        (Kind::MySql, "dm_bom_mysql"),
    ] {
        let Some(fresh) = kind.fresh(name).await else {
            continue;
        };
        let db = crate::support::connect(&fresh.url).await;
        let migrator = set(&[
            (
                "V1__t",
                "\u{feff}CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)",
            ),
            (
                "V2__rows",
                "\u{feff}-- no-transaction\nINSERT INTO t (id, a) VALUES (1, 1)",
            ),
        ]);
        assert_eq!(
            TransactionMode::of(&migrator.migrations()[1]),
            TransactionMode::NoTransaction
        );
        let report = migrator
            .apply(&db)
            .await
            .expect("a migration with a BOM applies");
        assert_eq!(report.applied.len(), 2, "{name}");
        assert_eq!(recorded(&db).await, [1, 2], "{name}");
    }
}
