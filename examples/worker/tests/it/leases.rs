//! Factor IX for a worker: SIGTERM finishes or gives back the job in hand;
//! SIGKILL loses nothing, because the lease runs out and another worker takes
//! the job. Delivery is at least once; the handler is idempotent.

use std::time::{Duration, Instant};

use dozen::jobs::Options;
use dozen_backing::{PoolSettings, ServiceUrl};
use example_todo_api::db::{Db, now_ms};
use example_todo_api::jobs::Reminder;
use sqlx::Row as _;

use crate::support::{Target, runtime, spawn, targets};
use crate::worker;

/// Migrates `target` and enqueues `n` todos with their reminder jobs.
pub(crate) async fn prepare(target: &Target, n: i64) -> Db {
    let url: ServiceUrl = target.url.parse().expect("a database URL");
    let migrator = example_todo_api::db::migrator(&url).expect("embedded migrations");
    let database = dozen_migrate::Database::connect(&url)
        .await
        .expect("connect to migrate");
    migrator.apply(&database).await.expect("migrations apply");
    let db = Db::connect(&url, &PoolSettings::default())
        .await
        .expect("connect");
    for i in 0..n {
        let mut tx = db.pool.begin().await.expect("begin");
        let id: i64 = sqlx::query(db.sql.insert_todo.q())
            .bind(format!("todo {i}"))
            .bind(0_i64)
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await
            .expect("insert todo")
            .get("id");
        let _job = db
            .jobs
            .enqueue_in(&mut tx, &Reminder { todo_id: id }, Options::new())
            .await
            .expect("enqueue the reminder");
        tx.commit().await.expect("commit");
    }
    db
}

/// One row per job: (id, attempts, lease_owner, done).
async fn jobs(db: &Db) -> Vec<(i64, i64, Option<String>, bool)> {
    sqlx::query("SELECT id, attempts, lease_owner, state FROM dozen_jobs ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .expect("select jobs")
        .iter()
        .map(|r| {
            (
                r.get("id"),
                r.get("attempts"),
                r.get("lease_owner"),
                r.get::<String, _>("state") == "done",
            )
        })
        .collect()
}

/// The lease of the first job while it has been delivered `attempts` times
/// and is not done.
async fn lease_until(db: &Db, attempts: i64) -> Option<i64> {
    sqlx::query("SELECT run_at, attempts, state FROM dozen_jobs ORDER BY id LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .ok()
        .filter(|r| {
            r.get::<i64, _>("attempts") == attempts && r.get::<String, _>("state") == "queued"
        })
        .map(|r| r.get("run_at"))
}

/// (todo_id, deliveries) for every reminder recorded.
async fn reminders(db: &Db) -> Vec<(i64, i64)> {
    sqlx::query("SELECT todo_id, deliveries FROM reminders ORDER BY todo_id")
        .fetch_all(&db.pool)
        .await
        .expect("select reminders")
        .iter()
        .map(|r| (r.get("todo_id"), r.get("deliveries")))
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_killed_workers_job_is_done_by_another_after_its_lease() {
    let rt = runtime();
    for target in targets("worker_kill") {
        let name = target.name;
        let db = rt.block_on(prepare(&target, 5));
        // Worker A takes job 1 and works on it for 30 s: it will be killed mid-job.
        let mut a = spawn(
            worker(),
            &[],
            &[
                ("DATABASE_URL", &target.url),
                ("JOBS_LEASE", "2s"),
                ("JOBS_CONCURRENCY", "1"),
                ("JOB_WORK_TIME", "30s"),
            ],
        );
        a.wait_for("job claimed", Duration::from_secs(30));
        a.signal("KILL");
        assert_eq!(
            a.wait_exit(Duration::from_secs(5)).code(),
            None,
            "{name}: killed by a signal"
        );
        let a_until = rt
            .block_on(lease_until(&db, 1))
            .expect("A's lease on job 1");

        // Worker B does the rest, and job 1 once A's lease has run out.
        let mut b = spawn(
            worker(),
            &[],
            &[
                ("DATABASE_URL", &target.url),
                ("JOBS_LEASE", "2s"),
                ("JOB_WORK_TIME", "500ms"),
                ("JOBS_POLL_INTERVAL", "100ms"),
            ],
        );
        // B's claim of job 1 set its lease to claim time + 2 s: the claim came
        // after A's lease ran out.
        let mut b_until = None;
        wait_until(
            &format!("{name}: B takes job 1"),
            Duration::from_secs(30),
            || {
                b_until = rt.block_on(lease_until(&db, 2));
                b_until.is_some()
            },
        );
        let b_claimed = b_until.expect("B's lease") - 2000;
        assert!(
            b_claimed >= a_until,
            "{name}: job 1 retaken at {b_claimed}, before A's lease ran out at {a_until}"
        );

        wait_until(
            &format!("{name}: every job done"),
            Duration::from_secs(60),
            || rt.block_on(jobs(&db)).iter().all(|j| j.3),
        );
        let rows = rt.block_on(jobs(&db));
        assert_eq!(rows.len(), 5, "{name}");
        assert_eq!(
            rows[0].1, 2,
            "{name}: job 1 was delivered twice, to A and then to B"
        );
        assert!(
            rows[1..].iter().all(|j| j.1 == 1),
            "{name}: the others once: {rows:?}"
        );
        // None lost, and the effect happened once per todo.
        let effects = rt.block_on(reminders(&db));
        assert_eq!(effects.len(), 5, "{name}: {effects:?}");
        assert!(
            effects.iter().all(|(_, deliveries)| *deliveries == 1),
            "{name}: {effects:?}"
        );

        b.signal("TERM");
        assert_eq!(
            b.wait_exit(Duration::from_secs(10)).code(),
            Some(0),
            "{name}"
        );
    }
}

#[test]
fn sigterm_finishes_the_job_in_hand_and_takes_no_other() {
    let rt = runtime();
    let target = targets("worker_term").remove(0);
    let db = rt.block_on(prepare(&target, 3));
    // The ConfigMap's SHUTDOWN_DELAY is for the web process; a worker, which
    // receives no traffic, must not wait it out.
    let mut w = spawn(
        worker(),
        &[],
        &[
            ("DATABASE_URL", &target.url),
            ("JOB_WORK_TIME", "1s"),
            ("JOBS_CONCURRENCY", "1"),
            ("SHUTDOWN_DELAY", "5s"),
        ],
    );
    w.wait_for("job claimed", Duration::from_secs(30));
    let signalled = Instant::now();
    w.signal("TERM");
    assert_eq!(w.wait_exit(Duration::from_secs(10)).code(), Some(0));
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "the worker waited out a propagation delay: {took:?}"
    );
    let rows = rt.block_on(jobs(&db));
    assert_eq!(
        rows[0],
        (rows[0].0, 1, None, true),
        "the job in hand was finished"
    );
    for job in &rows[1..] {
        assert_eq!(
            (job.1, job.3),
            (0, false),
            "no job is taken after SIGTERM: {rows:?}"
        );
    }
}

#[test]
fn sigterm_gives_back_a_job_that_would_outlive_the_deadline() {
    let rt = runtime();
    let target = targets("worker_release").remove(0);
    let db = rt.block_on(prepare(&target, 1));
    let mut w = spawn(
        worker(),
        &[],
        &[
            ("DATABASE_URL", &target.url),
            ("JOB_WORK_TIME", "60s"),
            ("SHUTDOWN_TIMEOUT", "8s"),
        ],
    );
    w.wait_for("job claimed", Duration::from_secs(30));
    let signalled = Instant::now();
    w.signal("TERM");
    let status = w.wait_exit(Duration::from_secs(10));
    let took = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(0),
        "giving the job back is a clean stop"
    );
    // The drain budget is the 8 s deadline less 4 s of teardown budgets; the
    // job is given back 1 s before it runs out, at about 3 s.
    assert!(took < Duration::from_secs(6), "exit took {took:?}");
    assert!(
        took >= Duration::from_secs(2),
        "the job was worked on until near the drain budget: {took:?}"
    );
    let rows = rt.block_on(jobs(&db));
    assert_eq!(rows[0].2, None, "the lease was released");
    assert!(!rows[0].3, "the job is not done");
    w.wait_for(
        "job given back before the shutdown deadline",
        Duration::from_secs(1),
    );
}
