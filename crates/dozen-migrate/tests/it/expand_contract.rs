//! Promise: the expand/contract recipe of the guide holds on PostgreSQL and
//! MariaDB. An old release (migrations 1..2) serves traffic while a new one
//! applies its expand migrations (3: a nullable column; 4: its backfill):
//! every query of the old code keeps succeeding, and keeps being served,
//! meanwhile. Rolled back, the old
//! release's `wait` and its rollback-tolerant `apply` succeed against the
//! newer schema, and its plain `apply` refuses, naming the option.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use dozen_migrate::{Database, ErrorKind};

use crate::support::{Kind, set};

const USERS: (&str, &str) = (
    "V1__users",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL)",
);
const SEED: (&str, &str) = (
    "V2__seed",
    "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace')",
);

/// The expand migrations: a nullable column (its own migration, since on
/// PostgreSQL `ALTER TABLE` holds an exclusive lock on the table until its
/// transaction ends, and a lock timeout so that it gives up rather than queue
/// traffic behind a long transaction), then the backfill, slow enough (half a
/// second) for the old code's queries to run while it is applied.
fn expand(kind: Kind) -> [(&'static str, &'static str); 2] {
    match kind {
        Kind::Postgres => [
            (
                "V3__add_display_name",
                "SET LOCAL lock_timeout = '5s';\n\
                 ALTER TABLE users ADD COLUMN display_name VARCHAR(100)",
            ),
            (
                "V4__backfill_display_name",
                "SELECT pg_sleep(0.5);\n\
                 UPDATE users SET display_name = name WHERE display_name IS NULL",
            ),
        ],
        _ => [
            (
                "V3__add_display_name",
                "ALTER TABLE users ADD COLUMN display_name VARCHAR(100), ALGORITHM=INSTANT",
            ),
            (
                "V4__backfill_display_name",
                "DO SLEEP(0.5);\n\
                 UPDATE users SET display_name = name WHERE display_name IS NULL",
            ),
        ],
    }
}

/// One round of the old code's queries: it knows `name` only.
async fn old_code(db: &Database, id: i32) -> Result<(), sqlx::Error> {
    match db {
        Database::Postgres(p) => {
            sqlx::query("INSERT INTO users (id, name) VALUES ($1, $2)")
                .bind(id)
                .bind("old")
                .execute(p)
                .await?;
            sqlx::query_scalar::<_, String>("SELECT name FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(p)
                .await?;
        }
        Database::MySql(p) => {
            sqlx::query("INSERT INTO users (id, name) VALUES (?, ?)")
                .bind(id)
                .bind("old")
                .execute(p)
                .await?;
            sqlx::query_scalar::<_, String>("SELECT name FROM users WHERE id = ?")
                .bind(id)
                .fetch_one(p)
                .await?;
        }
        _ => unreachable!("PostgreSQL and MariaDB only"),
    }
    Ok(())
}

async fn check(kind: Kind) {
    let Some(fresh) = kind.fresh("dm_expand").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let old = set(&[USERS, SEED]);
    let [add, backfill] = expand(kind);
    let new = set(&[USERS, SEED, add, backfill]);
    old.apply(&db).await.expect("the old release");

    // The old release serves traffic while the new one migrates.
    let traffic_db = crate::support::connect(&fresh.url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let traffic = tokio::spawn({
        let (stop, done) = (stop.clone(), done.clone());
        async move {
            let mut id = 100;
            while !stop.load(Ordering::Relaxed) {
                id += 1;
                old_code(&traffic_db, id).await?;
                done.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok::<_, sqlx::Error>(())
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = done.load(Ordering::Relaxed);
    let report = new.apply(&db).await.expect("the expand migration");
    let during = done.load(Ordering::Relaxed) - before;
    assert_eq!(report.applied.len(), 2, "{kind:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    traffic
        .await
        .expect("task")
        .unwrap_or_else(|e| panic!("{kind:?}: the old code failed: {e}"));
    assert!(
        during > 0,
        "{kind:?}: the old code's queries ran while the migration was applied"
    );

    // Rolled back: the old release meets the newer schema.
    old.wait(&db).await.expect("wait accepts a newer schema");
    let err = old.apply(&db).await.expect_err("newer refused by default");
    assert_eq!(err.kind(), ErrorKind::NewerVersions, "{kind:?}");
    let report = old
        .clone()
        .with_allow_newer(true)
        .apply(&db)
        .await
        .expect("rollback-tolerant apply");
    assert_eq!(report.newer, [3, 4], "{kind:?}");
    old_code(&db, 1000).await.expect("the old code still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_old_code_keeps_working_through_an_expand_and_a_rollback() {
    check(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_old_code_keeps_working_through_an_expand_and_a_rollback() {
    check(Kind::MySql).await;
}
