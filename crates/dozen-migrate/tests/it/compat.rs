//! The history table is refinery's own: databases migrated by refinery's
//! drivers are picked up as they are, and the other way round.

use dozen_migrate::{Database, PgDriver, SqliteDriver};

use crate::support::{Kind, embedded, log_counts, once_each};

async fn tokio_postgres_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("tokio-postgres connect");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_migrated_by_refinery_tokio_postgres_is_picked_up() {
    let Some(fresh) = Kind::Postgres.fresh("dm_compat").await else {
        return;
    };
    let mut client = tokio_postgres_client(&fresh.url).await;
    let report = embedded::postgres::migrations::runner()
        .run_async(&mut client)
        .await
        .expect("refinery migrates");
    assert_eq!(report.applied_migrations().len(), 20);

    let db = crate::support::connect(&fresh.url).await;
    let migrator = Kind::Postgres.migrator();
    let status = migrator.status(&db).await.expect("status");
    assert!(status.is_up_to_date(), "{status:?}");
    let report = migrator.apply(&db).await.expect("apply");
    assert!(
        report.applied.is_empty(),
        "applied again: {:?}",
        report.applied
    );
    assert_eq!(log_counts(&db).await, once_each(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refinery_tokio_postgres_accepts_a_database_we_migrated() {
    let Some(fresh) = Kind::Postgres.fresh("dm_compat").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let report = Kind::Postgres.migrator().apply(&db).await.expect("apply");
    assert_eq!(report.applied.len(), 20);

    let mut client = tokio_postgres_client(&fresh.url).await;
    let runner = embedded::postgres::migrations::runner();
    let applied = runner
        .get_applied_migrations_async(&mut client)
        .await
        .expect("history");
    assert_eq!(applied.len(), 20);
    let mut embedded = runner.get_migrations().clone();
    embedded.sort();
    assert_eq!(applied, embedded, "same versions, names and checksums");
    let report = runner.run_async(&mut client).await.expect("refinery run");
    assert!(report.applied_migrations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refinery_runner_over_the_sqlx_drivers() {
    // refinery's own runner, through our AsyncMigrate impls, on SQLite ...
    let Some(fresh) = Kind::Sqlite.fresh("dm_driver").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let Database::Sqlite(pool) = &db else {
        unreachable!()
    };
    let mut driver = SqliteDriver::new(pool.acquire().await.expect("acquire"));
    let report = embedded::sqlite::migrations::runner()
        .run_async(&mut driver)
        .await
        .expect("refinery over sqlx sqlite");
    assert_eq!(report.applied_migrations().len(), 20);
    drop(driver);
    assert!(
        Kind::Sqlite
            .migrator()
            .status(&db)
            .await
            .expect("status")
            .is_up_to_date()
    );

    // ... and on PostgreSQL, where a migrator then finds nothing to do.
    let Some(fresh) = Kind::Postgres.fresh("dm_driver").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let Database::Postgres(pool) = &db else {
        unreachable!()
    };
    let mut driver = PgDriver::new(pool.acquire().await.expect("acquire"));
    let runner = embedded::postgres::migrations::runner();
    runner
        .run_async(&mut driver)
        .await
        .expect("refinery over sqlx postgres");
    let last = runner
        .get_last_applied_migration_async(&mut driver)
        .await
        .expect("last")
        .expect("some");
    assert_eq!(last.version(), 20);
    drop(driver);
    let report = Kind::Postgres.migrator().apply(&db).await.expect("apply");
    assert!(report.applied.is_empty());
}

/// PostgreSQL sends a migration and its history row as scripts: a last line
/// that is a `--` comment, with no newline or `;` after it, must not swallow
/// the history row, and refinery must read the row back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_ending_in_a_comment_gets_its_history_row() {
    let Some(fresh) = Kind::Postgres.fresh("dm_comment").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let migrator = crate::support::set(&[
        ("V1__a", "CREATE TABLE a (id INTEGER) -- a trailing comment"),
        ("V2__b", "CREATE TABLE b (id INTEGER);\n-- the end"),
    ]);
    assert_eq!(migrator.apply(&db).await.expect("apply").applied.len(), 2);
    assert!(migrator.status(&db).await.expect("status").is_up_to_date());
    let mut client = tokio_postgres_client(&fresh.url).await;
    let runner = refinery::Runner::new(migrator.migrations());
    let report = runner
        .run_async(&mut client)
        .await
        .expect("refinery reads the rows");
    assert!(report.applied_migrations().is_empty());
}
