//! Promise: a SQLite URL gives the database it names, with the pool's settings. A missing
//! file is created, in WAL mode with the busy timeout; the relative default URL names a
//! file in the working directory; `mode=rw` does not create and fails at once; an
//! in-memory database keeps its data across connections; a URL of another kind and
//! invalid settings are refused before anything connects, redacted.

use std::time::{Duration, Instant};

use dozen_backing::{ErrorKind, PoolSettings, ServiceUrl, Sqlite, SqlitePool};

fn url_for(path: &std::path::Path, query: &str) -> ServiceUrl {
    format!("sqlite://{}{query}", path.display())
        .parse()
        .unwrap()
}

fn settings() -> PoolSettings {
    let mut settings = PoolSettings::default();
    settings.database_max_connections = 3;
    settings.database_min_connections = 2;
    settings.database_acquire_timeout = Duration::from_secs(7);
    settings.database_idle_timeout = Some(Duration::from_secs(42));
    settings.database_busy_timeout = Duration::from_millis(1234);
    settings.database_connect_timeout = Duration::from_secs(10);
    settings
}

#[tokio::test]
async fn a_missing_file_is_created_in_wal_mode_with_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    assert!(!path.exists());
    let pool: SqlitePool = dozen_backing::connect(&url_for(&path, ""), &settings())
        .await
        .unwrap();
    assert!(path.exists());

    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(busy, 1234);

    let options = pool.options();
    assert_eq!(options.get_max_connections(), 3);
    assert_eq!(options.get_min_connections(), 2);
    assert_eq!(options.get_acquire_timeout(), Duration::from_secs(7));
    assert_eq!(options.get_idle_timeout(), Some(Duration::from_secs(42)));
    assert!(pool.size() >= 2, "min_connections opened: {}", pool.size());

    sqlx::raw_sql("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)")
        .execute(&pool)
        .await
        .unwrap();
    dozen_backing::ping(&pool, Duration::from_secs(1))
        .await
        .unwrap();
    pool.close().await;

    // A second start on the same file finds the data.
    let pool: SqlitePool = dozen_backing::connect(&url_for(&path, "?mode=rwc"), &settings())
        .await
        .unwrap();
    let x: i64 = sqlx::query_scalar("SELECT x FROM t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(x, 7);
}

#[tokio::test]
async fn the_relative_default_url_names_a_file() {
    // `sqlite://todo.db?mode=rwc`, the examples' default, is the relative path `todo.db`,
    // as sqlx reads it; parsed as a URL it would be a host.
    let url: ServiceUrl = "sqlite://todo.db?mode=rwc".parse().unwrap();
    assert_eq!(url.database().as_deref(), Some("todo.db"));
    assert_eq!(url.host(), None);
}

#[tokio::test]
async fn mode_rw_does_not_create_and_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let started = Instant::now();
    let error = dozen_backing::connect::<Sqlite>(&url_for(&path, "?mode=rw"), &settings())
        .await
        .unwrap_err();
    assert!(!path.exists());
    assert_eq!(error.attempts(), 1, "{error}");
    assert!(!error.is_transient(), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn in_memory_keeps_its_data_across_connections() {
    let url: ServiceUrl = "sqlite::memory:".parse().unwrap();
    let mut settings = settings();
    settings.database_min_connections = 0;
    let pool: SqlitePool = dozen_backing::connect(&url, &settings).await.unwrap();
    assert_eq!(pool.options().get_min_connections(), 1);
    assert_eq!(pool.options().get_idle_timeout(), None);
    sqlx::raw_sql("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
        .execute(&pool)
        .await
        .unwrap();
    // Hold one connection so the next query runs on another.
    let held = pool.acquire().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(held);
}

#[tokio::test]
async fn a_url_of_another_kind_is_refused_redacted() {
    let url: ServiceUrl = "postgres://app:s3cret@db/app".parse().unwrap();
    let error = dozen_backing::connect::<Sqlite>(&url, &settings())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WrongKind);
    assert_eq!(
        error.to_string(),
        "a sqlite pool cannot connect to a postgres url: postgres://app:***@db/app"
    );
}

#[tokio::test]
async fn invalid_settings_are_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings();
    settings.database_min_connections = 5;
    let error = dozen_backing::connect::<Sqlite>(&url_for(&dir.path().join("x.db"), ""), &settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidSetting);
}

/// Replicas that open one database at once may find it locked while another switches it to
/// WAL: `SQLITE_BUSY` at connect is waited out with the retry, not returned at once.
#[tokio::test]
async fn a_database_locked_at_connect_is_retried_until_it_is_free() {
    use sqlx::Connection as _;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let mut holder =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
    sqlx::raw_sql("CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)")
        .execute(&mut holder)
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
        holder.close().await.unwrap();
    });

    let mut settings = PoolSettings::default();
    settings.database_busy_timeout = Duration::from_millis(100);
    settings.database_connect_timeout = Duration::from_secs(20);
    let started = Instant::now();
    let pool: SqlitePool = dozen_backing::connect(&url_for(&path, ""), &settings)
        .await
        .unwrap_or_else(|e| panic!("{:?}: {e}", e.kind()));
    let waited = started.elapsed();
    release.await.unwrap();
    assert!(
        waited >= Duration::from_millis(1000),
        "connected while locked: {waited:?}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(ErrorKind::Busy.is_transient());
}
