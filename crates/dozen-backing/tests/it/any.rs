//! Promise: one code path serves every backend. The same `AnyPool` code, connected with
//! `connect`, creates, writes and reads a table on SQLite and on PostgreSQL, the backend
//! chosen by the URL alone.

use std::time::Duration;

use dozen_backing::{AnyPool, PoolSettings, ServiceUrl};

async fn count_rows(url: &ServiceUrl) -> i64 {
    let mut settings = PoolSettings::default();
    settings.database_connect_timeout = Duration::from_secs(10);
    let pool: AnyPool = dozen_backing::connect(url, &settings).await.unwrap();
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS items (id INTEGER)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO items (id) VALUES (1)")
        .execute(&pool)
        .await
        .unwrap();
    dozen_backing::ping(&pool, Duration::from_secs(1))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn the_same_code_runs_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("any.db");
    let sqlite: ServiceUrl = format!("sqlite3://{}", path.display()).parse().unwrap();
    assert_eq!(count_rows(&sqlite).await, 1);
    assert!(path.exists(), "created when missing");
    let mut settings = PoolSettings::default();
    settings.database_max_connections = 1;
    let pool: AnyPool = dozen_backing::connect(&sqlite, &settings).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    pool.close().await;

    let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url: ServiceUrl = dozen_testkit::fresh_postgres(&url, "backing_any")
        .await
        .parse()
        .unwrap();
    assert_eq!(count_rows(&url).await, 1);
}
