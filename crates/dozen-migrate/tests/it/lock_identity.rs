//! One table, one lock: migrators that name the same history table
//! differently (`History`, `history`, `public.history`, `db.History`) exclude
//! each other, because the lock is keyed by the table as the database
//! resolves the name (folded to lower case, in its default schema); a table
//! with another name is not held up. A reserved word (`user`, `order`,
//! `select`) as the table name is refused when the name is checked, before
//! any migrator exists.

use std::time::{Duration, Instant};

use dozen_migrate::{Database, ErrorKind, Migrator, TableName};
use refinery::Migration;

use crate::support::{Kind, connect};

/// A migrator for `table` whose one migration runs `sql`.
fn gated(table: &str, sql: &str) -> Migrator {
    Migrator::from_migrations([Migration::unapplied("V1__gate", sql).expect("a valid name")])
        .expect("a valid set")
        .with_table_name(TableName::new(table).expect("a valid table name"))
}

/// A migrator for `table` with nothing to apply: it only takes the lock.
fn empty(table: &str) -> Migrator {
    Migrator::from_migrations([])
        .expect("a valid set")
        .with_table_name(TableName::new(table).expect("a valid table name"))
        .with_lock_timeout(Duration::from_secs(1))
}

/// Runs `a` (whose migration waits for the test's gate), waits until it
/// holds its lock, then checks that every migrator in `same` times out on
/// the lock and every one in `other` gets its own.
async fn check(kind: Kind, a_table: &str, same: impl Fn(&str) -> Vec<String>, other: &[&str]) {
    let Some(fresh) = kind.fresh("dm_lockid").await else {
        return;
    };
    let db_name = fresh
        .url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    let same = same(&db_name);
    let db = connect(&fresh.url).await;
    let gate = format!("dm_gate_{db_name}");
    // The test holds the gate; A's migration waits for it inside A's lock.
    let (hold, a_sql, waiting_sql) = match kind {
        Kind::Postgres => (
            "SELECT pg_advisory_lock(4242)::text".to_owned(),
            "SELECT pg_advisory_xact_lock(4242)".to_owned(),
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted".to_owned(),
        ),
        Kind::MySql => (
            format!("SELECT CAST(GET_LOCK('{gate}', 0) AS CHAR)"),
            format!("DO GET_LOCK('{gate}', 60); DO RELEASE_LOCK('{gate}')"),
            format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE INFO LIKE CONCAT('%GET', '_LOCK(''', '{gate}', '%')"
            ),
        ),
        Kind::Sqlite => unreachable!("SQLite's lock is the whole database's"),
    };
    // The gate and the probe on a pool of their own: A and the others use
    // `db`'s two connections.
    let side = connect(&fresh.url).await;
    let (mut holder, probe) = match &side {
        Database::Postgres(p) => (
            Holder::Pg(p.acquire().await.expect("a connection")),
            Probe::Pg(p.clone()),
        ),
        Database::MySql(p) => (
            Holder::My(p.acquire().await.expect("a connection")),
            Probe::My(p.clone()),
        ),
        _ => unreachable!("all features are on in tests"),
    };
    holder.run(&hold).await;

    let a = gated(a_table, &a_sql);
    let a_db = db.clone();
    let a_run = tokio::spawn(async move { a.apply(&a_db).await });
    let started = Instant::now();
    while probe.count(&waiting_sql).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{kind:?}: A never reached its gated migration"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for table in &same {
        let run = tokio::time::timeout(Duration::from_secs(20), empty(table).apply(&db)).await;
        assert!(
            matches!(&run, Ok(Err(e)) if e.kind() == ErrorKind::LockTimeout),
            "{kind:?}: `{table}` names A's table `{a_table}` but was not held up by A's lock: {run:?}"
        );
    }
    for table in other {
        let run = tokio::time::timeout(Duration::from_secs(20), empty(table).apply(&db)).await;
        assert!(
            matches!(run, Ok(Ok(_))),
            "{kind:?}: `{table}` is another table, yet waited for A's lock: {run:?}"
        );
    }

    let open = match kind {
        Kind::Postgres => "SELECT pg_advisory_unlock(4242)::text".to_owned(),
        _ => format!("SELECT CAST(RELEASE_LOCK('{gate}') AS CHAR)"),
    };
    holder.run(&open).await;
    let report = a_run
        .await
        .expect("A's task")
        .expect("A applies once the gate opens");
    assert_eq!(report.applied.len(), 1, "{kind:?}");
}

enum Holder {
    Pg(sqlx::pool::PoolConnection<sqlx::Postgres>),
    My(sqlx::pool::PoolConnection<sqlx::MySql>),
}

impl Holder {
    async fn run(&mut self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Self::Pg(c) => sqlx::query(sql).execute(&mut **c).await.map(drop),
            Self::My(c) => sqlx::query(sql).execute(&mut **c).await.map(drop),
        }
        .expect("the gate statement runs");
    }
}

enum Probe {
    Pg(sqlx::PgPool),
    My(sqlx::MySqlPool),
}

impl Probe {
    async fn count(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Self::Pg(p) => sqlx::query_scalar(sql).fetch_one(p).await,
            Self::My(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .expect("the probe runs")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_names_of_one_table_share_one_lock() {
    let same = |_: &str| {
        ["History", "public.history", "PUBLIC.HISTORY"]
            .map(String::from)
            .to_vec()
    };
    check(Kind::Postgres, "history", same, &["history2"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_default_table_shares_its_lock_with_its_other_spellings() {
    let same = |_: &str| {
        ["Refinery_Schema_History", "public.refinery_schema_history"]
            .map(String::from)
            .to_vec()
    };
    check(
        Kind::Postgres,
        "refinery_schema_history",
        same,
        &["history"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_names_of_one_table_share_one_lock() {
    let same = |db: &str| {
        vec![
            "History".to_owned(),
            format!("{db}.history"),
            format!("{}.History", db.to_uppercase()),
        ]
    };
    check(Kind::MySql, "history", same, &["history2"]).await;
}

#[test]
fn reserved_words_are_refused_as_table_names() {
    let check = |table: &str, word: Option<&str>| {
        let built = TableName::new(table);
        match (built, word) {
            (Err(error), Some(word)) if error.kind() == ErrorKind::InvalidTableName => {
                let message = error.to_string();
                assert!(
                    message.contains(&format!("`{word}` is a reserved SQL word")),
                    "{table}: {message}"
                );
            }
            (Ok(_), None) => {}
            (other, _) => panic!("{table}: {other:?}"),
        }
    };
    check("user", Some("user"));
    check("order", Some("order"));
    check("SELECT", Some("SELECT"));
    check("app.Table", Some("Table"));
    check("user.history", Some("user"));
    check("users", None);
    check("order_history", None);
    check("app.history", None);
}
