//! Promise: the modes other than a plain run tell the schema as it is.
//! `status` compares the history with the embedded set; a divergent, unknown
//! or out-of-order migration stops a run, and the dry run lists what is
//! pending; `wait` returns once another process migrated, accepts a newer
//! schema and fails at once on a divergent one; a cancelled run releases the
//! lock; a lock timeout names who holds the lock; an invalid set or table
//! name is refused before anything runs.

use std::time::{Duration, Instant};

use dozen_migrate::{Database, Error, ErrorKind, Migrator, State};
use refinery::Migration;

use crate::support::{Kind, failed_with, is, set};

fn m(name: &str, sql: &str) -> Migration {
    Migration::unapplied(name, sql).expect("valid name")
}

fn states(status: &dozen_migrate::Status) -> Vec<(i32, &'static str)> {
    status
        .entries()
        .iter()
        .map(|e| {
            let s = match e.state {
                State::Applied { .. } => "applied",
                State::Pending => "pending",
                State::Divergent { .. } => "divergent",
                State::Unknown => "unknown",
                State::OutOfOrder => "out-of-order",
                State::InProgress { .. } => "in-progress",
                _ => "?",
            };
            (e.version, s)
        })
        .collect()
}

#[tokio::test]
async fn status_compares_history_with_the_embedded_set() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_status").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let base = [
        ("V1__a", "CREATE TABLE a (id INTEGER)"),
        ("V2__b", "CREATE TABLE b (id INTEGER)"),
    ];
    set(&base).apply(&db).await.expect("apply");

    // Each row: the migrator's set, the expected states, the error a run gives.
    let check =
        |migrator: Migrator, expected: Vec<(i32, &'static str)>, error: Option<&'static str>| {
            let db = db.clone();
            async move {
                let status = migrator.status(&db).await.expect("status");
                assert_eq!(states(&status), expected);
                let problem = status.problem().map(|e| e.to_string());
                match (problem.as_deref(), error) {
                    (None, None) => {}
                    (Some(p), Some(e)) => assert!(p.contains(e), "{p}"),
                    (p, e) => panic!("problem {p:?}, expected {e:?}"),
                }
                let validated = migrator.validate(&db).await;
                assert_eq!(validated.is_ok(), error.is_none());
            }
        };
    check(set(&base), vec![(1, "applied"), (2, "applied")], None).await;
    check(
        set(&[base[0], base[1], ("V3__c", "CREATE TABLE c (id INTEGER)")]),
        vec![(1, "applied"), (2, "applied"), (3, "pending")],
        None,
    )
    .await;
    check(
        set(&[
            base[0],
            ("V2__b", "CREATE TABLE b (id INTEGER, edited INTEGER)"),
        ]),
        vec![(1, "applied"), (2, "divergent")],
        Some("migration V2 diverges"),
    )
    .await;
    check(
        set(&[base[0]]),
        vec![(1, "applied"), (2, "unknown")],
        Some(
            "the database holds a migration newer than this binary's latest (V1): V2__b; \
             if the app was rolled back, accept it with MIGRATE_ALLOW_NEWER=true or --allow-newer",
        ),
    )
    .await;
    // A deleted file, not a newer release: no option accepts it.
    check(
        set(&[base[0], ("V3__c", "CREATE TABLE c (id INTEGER)")]),
        vec![(1, "applied"), (2, "unknown"), (3, "pending")],
        Some("V2__b is applied in the database but not embedded"),
    )
    .await;
    check(
        set(&[("V0__zero", "SELECT 1"), base[0], base[1]]),
        vec![(0, "out-of-order"), (1, "applied"), (2, "applied")],
        Some("V0__zero was never applied but is older"),
    )
    .await;
}

#[tokio::test]
async fn wait_accepts_a_newer_schema_and_rejects_a_divergent_one_at_once() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_wait_newer").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let (a, b) = (
        ("V1__a", "CREATE TABLE a (id INTEGER)"),
        ("V2__b", "CREATE TABLE b (id INTEGER)"),
    );
    set(&[a, b]).apply(&db).await.expect("apply");
    // An older release's replica: its migrations are all there, and more.
    let status = set(&[a])
        .with_wait_timeout(Duration::from_secs(1))
        .wait(&db)
        .await
        .expect("reached");
    assert_eq!(status.current_version(), Some(2));
    // A binary without V1 and with an edited V2: V1 is unknown to it, which is
    // fine, but V2 diverges, which no waiting resolves: it fails at once.
    let start = Instant::now();
    let err = set(&[("V2__b", "CREATE TABLE b (id BIGINT)")])
        .with_wait_timeout(Duration::from_secs(30))
        .wait(&db)
        .await
        .expect_err("divergent");
    assert!(is(&err, ErrorKind::Divergent, Some(2)), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn divergent_history_stops_apply_and_dry_run_lists_pending() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_div").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    set(&[
        ("V1__a", "CREATE TABLE a (id INTEGER)"),
        ("V3__c", "CREATE TABLE c (id INTEGER)"),
    ])
    .apply(&db)
    .await
    .expect("apply");

    let out_of_order = set(&[
        ("V1__a", "CREATE TABLE a (id INTEGER)"),
        ("V2__b", "CREATE TABLE b (id INTEGER)"),
        ("V3__c", "CREATE TABLE c (id INTEGER)"),
    ]);
    let err = out_of_order.apply(&db).await.expect_err("out of order");
    assert!(is(&err, ErrorKind::OutOfOrder, Some(2)), "{err}");

    let edited = set(&[
        ("V1__a", "CREATE TABLE a (id BIGINT)"),
        ("V3__c", "CREATE TABLE c (id INTEGER)"),
    ]);
    let err = edited.apply(&db).await.expect_err("divergent");
    assert!(is(&err, ErrorKind::Divergent, Some(1)), "{err}");

    let next = set(&[
        ("V1__a", "CREATE TABLE a (id INTEGER)"),
        ("V3__c", "CREATE TABLE c (id INTEGER)"),
        ("V4__d", "CREATE TABLE d (id INTEGER)"),
        ("U5__e", "CREATE TABLE e (id INTEGER)"),
    ]);
    let status = next.status(&db).await.expect("status");
    let pending: Vec<i32> = status.pending().map(|e| e.version).collect();
    assert_eq!(pending, [4, 5], "the dry run lists what would run");
    assert_eq!(status.current_version(), Some(3));
    // The dry run changed nothing.
    assert_eq!(next.status(&db).await.expect("status"), status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_once_another_process_migrated() {
    let Some(fresh) = Kind::Postgres.fresh("dm_wait").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let migrator = Kind::Postgres
        .migrator()
        .with_poll_interval(Duration::from_millis(100));

    // Nothing migrates: the deadline is kept, with a margin for a loaded machine.
    let start = Instant::now();
    let err = migrator
        .clone()
        .with_wait_timeout(Duration::from_millis(500))
        .wait(&db)
        .await
        .expect_err("times out");
    let waited = start.elapsed();
    assert!(is(&err, ErrorKind::WaitTimeout, Some(20)), "{err:?}");
    assert!(
        err.to_string().ends_with("(no migration is applied)"),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // A migrator starts 200 ms later; the waiter returns when it is done.
    let applier = {
        let (db, migrator) = (db.clone(), migrator.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            migrator.apply(&db).await
        })
    };
    let status = migrator
        .with_wait_timeout(Duration::from_secs(60))
        .wait(&db)
        .await
        .expect("reached");
    assert_eq!(status.current_version(), Some(20));
    assert_eq!(
        applier.await.expect("join").expect("apply").applied.len(),
        20
    );
}

/// A run dropped in the middle of its slow V1, on a pool of one connection;
/// then the next run on the same pool.
async fn cancel_then_rerun(kind: Kind, slow_sql: &str) -> Option<(Database, Result<usize, Error>)> {
    let fresh = kind.fresh("dm_cancel").await?;
    let db = match kind {
        Kind::Postgres => Database::from(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&fresh.url)
                .await
                .expect("pool"),
        ),
        Kind::MySql => Database::from(
            sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(1)
                .connect(&fresh.url)
                .await
                .expect("pool"),
        ),
        Kind::Sqlite => Database::from(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect(&fresh.url)
                .await
                .expect("pool"),
        ),
    };
    let slow = set(&[
        ("V1__slow", slow_sql),
        ("V2__b", "CREATE TABLE b (id INTEGER)"),
    ]);
    let cancelled = tokio::time::timeout(Duration::from_millis(300), slow.apply(&db)).await;
    assert!(cancelled.is_err(), "{kind:?}: the run was still inside V1");
    // The dropped run's connection is closed, not returned with the lock held:
    // the next run gets a connection and the lock once the server (or SQLite's
    // worker) is done with the sleeping statement.
    let next = slow
        .with_lock_timeout(Duration::from_secs(20))
        .apply(&db)
        .await
        .map(|r| r.applied.len());
    drop(fresh);
    Some((db, next))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_run_releases_the_lock() {
    if let Some((db, next)) = cancel_then_rerun(Kind::Postgres, "SELECT pg_sleep(1)").await {
        assert_eq!(next.expect("next run"), 2, "rolled back, so both applied");
        let Database::Postgres(pool) = &db else {
            unreachable!()
        };
        assert_eq!(crate::support::advisory_locks(pool).await, 0);
    }
    let slow_sqlite = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c";
    if let Some((_, next)) = cancel_then_rerun(Kind::Sqlite, slow_sqlite).await {
        assert_eq!(next.expect("next run"), 2, "rolled back, so both applied");
    }
    // MariaDB cannot tell how far a dropped migration got: the next run takes
    // the lock (it is free) and refuses, naming V1.
    if let Some((_, next)) = cancel_then_rerun(Kind::MySql, "DO SLEEP(1)").await {
        assert!(failed_with(&next, ErrorKind::Dirty, Some(1)), "{next:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_names_the_holder() {
    let Some(fresh) = Kind::Postgres.fresh("dm_holder").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let slow = set(&[("V1__slow", "SELECT pg_sleep(2)")]);
    let first = {
        let (db, slow) = (db.clone(), slow.clone());
        tokio::spawn(async move { slow.apply(&db).await })
    };
    // Until the first run holds the lock (it then sleeps two seconds in V1).
    let Database::Postgres(pool) = &db else {
        unreachable!()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while crate::support::advisory_locks(pool).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first run never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    let err = slow
        .clone()
        .with_lock_timeout(Duration::from_millis(300))
        .apply(&db)
        .await
        .expect_err("lock held");
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::LockTimeout, "{err:?}");
    let holder = err.lock_holder().expect("PostgreSQL names the holder");
    assert!(holder.starts_with("pid "), "{holder}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(first.await.expect("join").expect("first").applied.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_lock_timeout_names_the_holding_connection() {
    use sqlx::Connection as _;
    let Some(fresh) = Kind::MySql.fresh("dm_holder").await else {
        return;
    };
    let mut holder = sqlx::MySqlConnection::connect(&fresh.url)
        .await
        .expect("connect");
    let name = crate::support::mysql_lock_name(&mut holder).await;
    let (got, id): (i64, i64) =
        sqlx::query_as("SELECT CAST(GET_LOCK(?, 0) AS SIGNED), CAST(CONNECTION_ID() AS SIGNED)")
            .bind(&name)
            .fetch_one(&mut holder)
            .await
            .expect("GET_LOCK");
    assert_eq!(got, 1);

    let db = crate::support::connect(&fresh.url).await;
    let start = Instant::now();
    let err = set(&[("V1__a", "CREATE TABLE a (id INTEGER)")])
        .with_lock_timeout(Duration::from_millis(1500))
        .apply(&db)
        .await
        .expect_err("lock held");
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::LockTimeout, "{err:?}");
    let who = err.lock_holder().expect("MariaDB names the holder");
    assert!(who.starts_with(&format!("connection {id}")), "{who}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(6),
        "{waited:?}"
    );

    // Released by its holder: the next run goes through.
    sqlx::query("DO RELEASE_LOCK(?)")
        .bind(&name)
        .execute(&mut holder)
        .await
        .expect("release");
    let report = set(&[("V1__a", "CREATE TABLE a (id INTEGER)")])
        .apply(&db)
        .await
        .expect("apply");
    assert_eq!(report.applied.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_waits_for_another_writer_until_the_deadline() {
    use sqlx::Connection as _;
    let Some(fresh) = Kind::Sqlite.fresh("dm_holder").await else {
        return;
    };
    // One connection with a busy timeout of its own and a temporary table
    // that only this connection sees.
    let options: sqlx::sqlite::SqliteConnectOptions = fresh.url.parse().expect("url");
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.busy_timeout(Duration::from_millis(4321)))
        .await
        .expect("pool");
    sqlx::query("CREATE TEMP TABLE this_connection (x INTEGER)")
        .execute(&pool)
        .await
        .expect("temp table");
    let db = Database::from(&pool);
    let mut writer = sqlx::SqliteConnection::connect(&fresh.url)
        .await
        .expect("connect");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut writer)
        .await
        .expect("write lock");

    let migrator = set(&[("V1__a", "CREATE TABLE a (id INTEGER)")]);
    let start = Instant::now();
    let err = migrator
        .clone()
        .with_lock_timeout(Duration::from_millis(500))
        .apply(&db)
        .await
        .expect_err("write lock held");
    let waited = start.elapsed();
    assert!(err.kind() == ErrorKind::LockTimeout, "{err:?}");
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // The run polled with a short busy timeout, and gave the connection its own back.
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&pool)
        .await
        .expect("busy_timeout");
    assert_eq!(busy, 4321);
    sqlx::query("SELECT x FROM this_connection")
        .fetch_all(&pool)
        .await
        .expect("the same connection came back to the pool");

    sqlx::raw_sql("COMMIT")
        .execute(&mut writer)
        .await
        .expect("commit");
    assert_eq!(migrator.apply(&db).await.expect("apply").applied.len(), 1);
}

#[tokio::test]
async fn invalid_configuration_is_rejected() {
    let dup = Migrator::from_migrations([m("V1__a", "SELECT 1"), m("V1__b", "SELECT 2")]);
    assert!(failed_with(&dup, ErrorKind::RepeatedVersion, Some(1)));
    let check = |name: &str, ok: bool| {
        let r = dozen_migrate::TableName::new(name);
        assert_eq!(r.is_ok(), ok, "{name}");
    };
    check("history", true);
    check("app.history", true);
    let debug = format!(
        "{:?}",
        set(&[("V1__a", "CREATE TABLE secret_plans (id INTEGER)")])
    );
    assert!(
        debug.contains("migrations: 1") && !debug.contains("secret_plans"),
        "{debug}"
    );
    check("history; DROP TABLE users", false);
    check("", false);
    let url = "redis://:hunter2@127.0.0.1/0".parse().expect("a valid URL");
    let err = Database::connect(&url).await.expect_err("not a database");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("`redis`") && !text.contains("hunter2"),
        "{text}"
    );
}
