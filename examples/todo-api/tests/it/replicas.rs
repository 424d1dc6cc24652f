//! Factor XII with many replicas: four web replicas wait for the schema
//! (`migrate wait`, their init container) while one `migrate` Job runs; none
//! serves before the schema is at the embedded version.

use std::time::{Duration, Instant};

use crate::support::{http, runtime, spawn};
use crate::todo_api;

#[test]
fn four_replicas_wait_for_one_migrate_job_on_postgres() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url = runtime().block_on(dozen_testkit::fresh_postgres(&base, "todo_replicas"));
    let env = [("DATABASE_URL", url.as_str()), ("PORT", "0")];

    // Each replica: `migrate wait`, then serve (as the init container and the
    // container of the Deployment do).
    let mut waits: Vec<_> = (0..4)
        .map(|_| spawn(todo_api(), &["migrate", "wait", "--timeout", "60s"], &env))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    for wait in &mut waits {
        assert!(
            wait.child.try_wait().expect("try_wait").is_none(),
            "a replica stopped waiting before the schema existed"
        );
    }

    let started = Instant::now();
    let mut job = spawn(todo_api(), &["migrate"], &env);
    let mut replicas = Vec::new();
    for mut wait in waits {
        let status = wait.wait_exit(Duration::from_secs(60));
        assert_eq!(
            status.code(),
            Some(0),
            "migrate wait succeeds once the Job has run"
        );
        // The schema is complete when a replica is let through.
        let applied = runtime().block_on(applied_versions(&url));
        assert_eq!(
            applied,
            [1, 2, 3, 4],
            "a replica passed `migrate wait` before the schema was complete"
        );
        replicas.push(spawn(todo_api(), &[], &env));
    }
    assert_eq!(
        job.wait_exit(Duration::from_secs(60)).code(),
        Some(0),
        "the migrate Job succeeds"
    );
    assert!(started.elapsed() < Duration::from_secs(60));

    // Every replica serves on the migrated schema; each version was applied once.
    for (i, replica) in replicas.iter().enumerate() {
        let addr = replica.listening();
        let created = http(
            addr,
            "POST",
            "/todos",
            Some(&format!(r#"{{"title": "from replica {i}"}}"#)),
        )
        .expect("the replica answers");
        assert_eq!(created.status, 201, "{}", created.body);
    }
    assert_eq!(runtime().block_on(applied_versions(&url)), [1, 2, 3, 4]);
}

async fn applied_versions(url: &str) -> Vec<i32> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let rows: Vec<(i32,)> =
        sqlx::query_as("SELECT version FROM refinery_schema_history ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    rows.into_iter().map(|(v,)| v).collect()
}
