//! The SQL backend's operations, one at a time, on each database.

use std::time::{Duration, SystemTime};

use dozen_jobs::sql::SqlQueue;
use dozen_jobs::{
    Admin as _, Backend as _, Counts, Enqueued, ErrorKind, JobContext, JobId, Options,
};
use sqlx::Any;

use crate::support::{Work, add, queue, row, targets};

const LEASE: Duration = Duration::from_secs(30);

fn counts(pending: u64, due: u64, running: u64, done: u64, dead: u64) -> Counts {
    let mut c = Counts::default();
    (c.pending, c.due, c.running, c.done, c.dead) = (pending, due, running, done, dead);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_due_jobs_by_priority_and_settle_once() {
    for target in targets("jobs_claim").await {
        let q = queue(&target.url).await;
        let low = add(&q, &Work::new(1), Options::new()).await;
        let high = add(&q, &Work::new(2), Options::new().with_priority(5)).await;
        let _ = q.enqueue(&Work::new(3), Options::new()).await.unwrap();
        assert_eq!(
            q.counts().await.unwrap(),
            counts(3, 3, 0, 0, 0),
            "{target:?}"
        );

        let claimed = q.claim("a", 2, LEASE).await.unwrap();
        let ids: Vec<JobId> = claimed.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 2, "{target:?}");
        assert!(
            ids.contains(&high) && ids.contains(&low),
            "{target:?}: {ids:?}"
        );
        let first = claimed.iter().find(|c| c.id == high).unwrap();
        assert_eq!(
            (first.name.as_str(), first.attempt, first.max_attempts),
            ("work", 1, 20)
        );
        assert!(first.payload.contains("\"n\":2"), "{}", first.payload);
        assert_eq!(
            q.counts().await.unwrap(),
            counts(1, 1, 2, 0, 0),
            "{target:?}"
        );

        // Another worker sees only the job left.
        let other = q.claim("b", 5, LEASE).await.unwrap();
        assert_eq!(other.len(), 1, "{target:?}");

        assert!(q.heartbeat(first, LEASE).await.unwrap());
        assert!(q.complete(first).await.unwrap());
        assert!(
            !q.complete(first).await.unwrap(),
            "{target:?}: settled twice"
        );
        assert_eq!(
            q.counts().await.unwrap(),
            counts(0, 0, 2, 1, 0),
            "{target:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_passes_the_job_on_and_the_old_owner_cannot_settle_it() {
    for target in targets("jobs_lease").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        let a = q.claim("a", 1, Duration::from_millis(300)).await.unwrap();
        assert_eq!(a.len(), 1);
        assert!(
            q.claim("b", 1, LEASE).await.unwrap().is_empty(),
            "{target:?}: lease live"
        );
        tokio::time::sleep(Duration::from_millis(450)).await;
        let b = q.claim("b", 1, LEASE).await.unwrap();
        assert_eq!(b.len(), 1, "{target:?}: lease expired");
        assert_eq!((b[0].id, b[0].attempt), (id, 2), "{target:?}");
        assert!(!q.heartbeat(&a[0], LEASE).await.unwrap(), "{target:?}");
        assert!(!q.complete(&a[0]).await.unwrap(), "{target:?}");
        assert!(
            !q.retry(&a[0], Duration::ZERO, "x").await.unwrap(),
            "{target:?}"
        );
        assert!(!q.give_back(&a[0]).await.unwrap(), "{target:?}");
        assert!(q.complete(&b[0]).await.unwrap(), "{target:?}");
        assert_eq!(row(&q, id).await, (2, "done".into(), None), "{target:?}");
    }
}

/// A lease belongs to one claim, not to the worker that made it: when a
/// worker's lease runs out while it still runs the job (its heartbeats
/// failed) and the same worker claims the job again, the old attempt can
/// neither renew nor settle the new one's lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_claims_its_own_job_again_holds_it_under_the_new_claim_only() {
    for target in targets("jobs_reclaim").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        let old = q
            .claim("a", 1, Duration::from_millis(300))
            .await
            .unwrap()
            .remove(0);
        tokio::time::sleep(Duration::from_millis(450)).await;
        let new = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert_eq!((new.id, new.attempt), (id, 2), "{target:?}");
        assert_ne!(old.owner, new.owner, "{target:?}");
        assert!(
            new.owner.starts_with("a/") && old.owner.starts_with("a/"),
            "{target:?}: {} {}",
            old.owner,
            new.owner
        );
        assert!(!q.heartbeat(&old, LEASE).await.unwrap(), "{target:?}");
        assert!(
            !q.retry(&old, Duration::ZERO, "x").await.unwrap(),
            "{target:?}"
        );
        assert!(!q.kill(&old, "x").await.unwrap(), "{target:?}");
        assert!(!q.give_back(&old).await.unwrap(), "{target:?}");
        assert!(!q.complete(&old).await.unwrap(), "{target:?}");
        let mut tx: sqlx::Transaction<'_, Any> = q.pool().begin().await.unwrap();
        let held = q
            .complete_in(&mut tx, &context(old.id, &old.owner))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(!held, "{target:?}: the old attempt's complete_in");
        assert_eq!(
            row(&q, id).await,
            (2, "queued".into(), Some(new.owner.to_string())),
            "{target:?}"
        );
        assert!(q.heartbeat(&new, LEASE).await.unwrap(), "{target:?}");
        assert!(q.complete(&new).await.unwrap(), "{target:?}");
        assert_eq!(row(&q, id).await, (2, "done".into(), None), "{target:?}");
    }
}

/// An owner id too long to store with every claim number is refused by
/// name, on the first claim, not by the database on some later one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_id_too_long_to_store_is_refused_by_name() {
    for target in targets("jobs_long_owner").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        for long in [108, 200] {
            let error = q.claim(&"w".repeat(long), 1, LEASE).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Invalid, "{target:?}: {error}");
            assert!(
                error
                    .to_string()
                    .contains(&format!("owner id is {long} bytes long; at most 107")),
                "{target:?}: {error}"
            );
        }
        // The longest accepted is stored whole: a truncated id would not
        // match when the claim settles.
        let longest = "w".repeat(107);
        let claimed = q.claim(&longest, 1, LEASE).await.unwrap();
        assert_eq!(claimed[0].id, id, "{target:?}");
        assert!(claimed[0].owner.starts_with(&format!("{longest}/")));
        assert!(q.complete(&claimed[0]).await.unwrap(), "{target:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_keys_refuse_duplicates_until_the_job_is_done() {
    for target in targets("jobs_unique").await {
        let q = queue(&target.url).await;
        let key = || Options::new().with_unique_key("todo-7");
        let first = q.enqueue(&Work::new(1), key()).await.unwrap();
        assert!(matches!(first, Enqueued::Created(_)), "{target:?}");
        assert_eq!(
            q.enqueue(&Work::new(2), key()).await.unwrap(),
            Enqueued::Duplicate
        );
        let claimed = q.claim("a", 1, LEASE).await.unwrap();
        // Running still holds the key.
        assert_eq!(
            q.enqueue(&Work::new(3), key()).await.unwrap(),
            Enqueued::Duplicate
        );
        assert!(q.complete(&claimed[0]).await.unwrap());
        assert!(matches!(
            q.enqueue(&Work::new(4), key()).await.unwrap(),
            Enqueued::Created(_)
        ));
        // Other keys and no key are unaffected.
        assert!(
            q.enqueue(&Work::new(5), Options::new().with_unique_key("todo-8"))
                .await
                .unwrap()
                .id()
                .is_some()
        );
        assert!(
            q.enqueue(&Work::new(6), Options::new())
                .await
                .unwrap()
                .id()
                .is_some()
        );
        assert_eq!(q.counts().await.unwrap().pending, 3, "{target:?}");
    }
}

/// Keys are compared byte for byte on every database: on MariaDB's default
/// collations `A` and `a` (and `k` and `k `) were one key, and the second
/// job was dropped as a duplicate. A payload keeps every character, also on
/// a MariaDB database whose default character set is latin1, as on many
/// servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_keys_differ_by_case_and_trailing_space_and_payloads_keep_their_characters() {
    for target in targets("jobs_unique_bytes").await {
        keys_and_payload_kept_as_given(&queue(&target.url).await, target.name).await;
    }
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) {
        let url = dozen_testkit::fresh_mysql(&url, "jobs_latin1").await;
        let name = url.rsplit('/').next().expect("a database name").to_owned();
        let q = queue(&url).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE `{name}` CHARACTER SET latin1 COLLATE latin1_swedish_ci"
        )))
        .execute(q.pool())
        .await
        .expect("a latin1 database");
        crate::support::migrate(&url).await;
        keys_and_payload_kept_as_given(&q, "mariadb, latin1").await;
    }
}

async fn keys_and_payload_kept_as_given(q: &SqlQueue<Any>, target: &str) {
    for key in [
        "A",
        "a",
        "k",
        "k ",
        "\u{e9}",
        "e\u{301}",
        "\u{1f600}",
        "\u{1f601}",
    ] {
        let enqueued = q
            .enqueue(&Work::new(1), Options::new().with_unique_key(key))
            .await
            .unwrap();
        assert!(
            matches!(enqueued, Enqueued::Created(_)),
            "{target}: {key:?} taken for another key"
        );
    }
    assert_eq!(q.counts().await.unwrap().pending, 8, "{target}");
    let text = "caf\u{e9} \u{1f600} \u{4e2d}\u{6587}";
    let id = add(q, &Work::labelled(text), Options::new()).await;
    let claimed = q.claim("a", 9, LEASE).await.unwrap();
    let job = claimed.iter().find(|c| c.id == id).expect("claimed");
    assert!(job.payload.contains(text), "{target}: {}", job.payload);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_jobs_wait_for_their_time() {
    for target in targets("jobs_schedule").await {
        let q = queue(&target.url).await;
        let later = add(
            &q,
            &Work::new(1),
            Options::new().with_delay(Duration::from_millis(800)),
        )
        .await;
        let past = add(
            &q,
            &Work::new(2),
            Options::new().with_run_at(SystemTime::UNIX_EPOCH),
        )
        .await;
        let _ = q
            .enqueue(&Work::new(3), Options::new().with_delay(Duration::MAX))
            .await
            .unwrap();
        assert_eq!(
            q.counts().await.unwrap(),
            counts(3, 1, 0, 0, 0),
            "{target:?}"
        );
        let now = q.claim("a", 5, LEASE).await.unwrap();
        assert_eq!(
            now.iter().map(|c| c.id).collect::<Vec<_>>(),
            [past],
            "{target:?}"
        );
        tokio::time::sleep(Duration::from_millis(900)).await;
        let then = q.claim("a", 5, LEASE).await.unwrap();
        assert_eq!(
            then.iter().map(|c| c.id).collect::<Vec<_>>(),
            [later],
            "{target:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_retry_then_die_and_dead_jobs_can_be_retried() {
    for target in targets("jobs_dead").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new().with_max_attempts(2)).await;
        let first = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert!(
            q.retry(&first, Duration::from_millis(300), "boom 1")
                .await
                .unwrap()
        );
        assert!(
            q.claim("a", 1, LEASE).await.unwrap().is_empty(),
            "{target:?}: backoff"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let second = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert_eq!((second.id, second.attempt), (id, 2));
        assert!(q.kill(&second, "boom 2").await.unwrap());
        assert_eq!(
            q.counts().await.unwrap(),
            counts(0, 0, 0, 0, 1),
            "{target:?}"
        );
        let dead = q.dead(10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (dead[0].id, dead[0].attempts, dead[0].last_error.as_deref()),
            (id, 2, Some("boom 2")),
            "{target:?}"
        );

        let missing = q.retry_dead(JobId(id.0 + 1000)).await.unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
        q.retry_dead(id).await.unwrap();
        assert_eq!(
            q.retry_dead(id).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let again = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert_eq!(
            (again.id, again.attempt),
            (id, 1),
            "{target:?}: fresh attempts"
        );
        assert!(q.kill(&again, "boom 3").await.unwrap());
        assert_eq!(q.retry_all_dead().await.unwrap(), 1);
        assert_eq!(q.counts().await.unwrap().due, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_job_whose_key_is_taken_again_is_refused_by_name() {
    for target in targets("jobs_dead_key").await {
        let q = queue(&target.url).await;
        let key = || Options::new().with_unique_key("k");
        let id = add(&q, &Work::new(1), key()).await;
        let job = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert!(q.kill(&job, "boom").await.unwrap());
        let _ = add(&q, &Work::new(2), key()).await;
        let refused = q.retry_dead(id).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::Invalid, "{target:?}: {refused}");
        assert!(
            refused
                .to_string()
                .contains(&format!("job {id}: a queued job holds its unique key")),
            "{refused}"
        );
        assert_eq!(q.retry_all_dead().await.unwrap(), 0, "{target:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_given_back_is_due_at_once_without_using_an_attempt() {
    for target in targets("jobs_give_back").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        let job = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert!(q.give_back(&job).await.unwrap());
        assert_eq!(row(&q, id).await, (0, "queued".into(), None), "{target:?}");
        let again = q.claim("b", 1, LEASE).await.unwrap();
        assert_eq!((again[0].id, again[0].attempt), (id, 1), "{target:?}");
    }
}

/// A job enqueued in a transaction exists exactly when it commits, on every
/// pool type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_exists() {
    for target in targets("jobs_tx").await {
        let q = queue(&target.url).await;
        let mut tx = q.pool().begin().await.unwrap();
        let id = q
            .enqueue_in(&mut tx, &Work::new(1), Options::new())
            .await
            .unwrap();
        assert!(id.id().is_some());
        tx.rollback().await.unwrap();
        assert_eq!(
            q.counts().await.unwrap(),
            Counts::default(),
            "{target:?}: rolled back"
        );
        assert!(
            q.claim("a", 10, LEASE).await.unwrap().is_empty(),
            "{target:?}"
        );

        let mut tx = q.pool().begin().await.unwrap();
        let _ = q
            .enqueue_in(&mut tx, &Work::new(2), Options::new())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            q.counts().await.unwrap().pending,
            1,
            "{target:?}: committed"
        );

        // And on the typed pools.
        typed(&target.url).await;
    }
}

async fn typed(url: &str) {
    use dozen_jobs::sql::SqlQueue;
    macro_rules! check {
        ($q:expr) => {{
            let q = $q;
            let before = q.counts().await.unwrap().pending;
            let mut tx = q.pool().begin().await.unwrap();
            let _ = q
                .enqueue_in(&mut tx, &Work::new(9), Options::new())
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            assert_eq!(q.counts().await.unwrap().pending, before, "{url}");
            let mut tx = q.pool().begin().await.unwrap();
            let _ = q
                .enqueue_in(&mut tx, &Work::new(9), Options::new())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(q.counts().await.unwrap().pending, before + 1, "{url}");
        }};
    }
    if url.starts_with("postgres") {
        check!(SqlQueue::<sqlx::Postgres>::new(
            sqlx::PgPool::connect(url).await.unwrap()
        ));
    } else if url.starts_with("mysql") {
        check!(SqlQueue::<sqlx::MySql>::new(
            sqlx::MySqlPool::connect(url).await.unwrap()
        ));
    } else {
        check!(SqlQueue::<sqlx::Sqlite>::new(
            sqlx::SqlitePool::connect(url).await.unwrap()
        ));
    }
}

/// `complete_in` lands an attempt's effect only while its lease is held: of
/// two workers that ran the same job, one effect is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_in_commits_the_effect_of_the_lease_holder_only() {
    for target in targets("jobs_once").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        let a = q
            .claim("a", 1, Duration::from_millis(200))
            .await
            .unwrap()
            .remove(0);
        tokio::time::sleep(Duration::from_millis(350)).await;
        let b = q.claim("b", 1, LEASE).await.unwrap().remove(0);
        for job in [&a, &b] {
            let ctx = context(job.id, &job.owner);
            let mut tx: sqlx::Transaction<'_, Any> = q.pool().begin().await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO effects (job_id, n) VALUES ({}, 1)",
                job.id.0
            )))
            .execute(&mut *tx)
            .await
            .unwrap();
            if q.complete_in(&mut tx, &ctx).await.unwrap() {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
        }
        assert_eq!(
            crate::support::effects(&q).await,
            [(i64::try_from(id.0).unwrap(), 1)],
            "{target:?}"
        );
        assert_eq!(row(&q, id).await.1, "done", "{target:?}");
    }
}

/// A context for a job claimed outside the runtime.
fn context(id: JobId, owner: &str) -> JobContext {
    JobContext::new(id, "work", 1, 20, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_commands_print_results_on_stdout_and_problems_on_stderr() {
    use dozen_jobs::admin::{parse, run};
    for target in targets("jobs_admin").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new().with_max_attempts(1)).await;
        let job = q.claim("a", 1, LEASE).await.unwrap().remove(0);
        assert!(q.kill(&job, "the mail server said no").await.unwrap());
        let _ = q.enqueue(&Work::new(2), Options::new()).await.unwrap();

        let exec = |args: &'static [&'static str]| {
            let q = q.clone();
            async move {
                let (mut out, mut err) = (Vec::new(), Vec::new());
                let command = parse(args.iter().copied()).unwrap();
                let code = run(&q, &command, &mut out, &mut err).await;
                (
                    code,
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(err).unwrap(),
                )
            }
        };
        let (code, out, err) = exec(&["status", "--format", "json"]).await;
        assert_eq!((code, err.as_str()), (0, ""));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"pending": 1, "due": 1, "running": 0, "done": 0, "dead": 1}),
            "{target:?}"
        );
        let (code, out, _) = exec(&["dead"]).await;
        assert_eq!(code, 0);
        assert_eq!(
            out,
            format!("{id} work after 1 attempts: the mail server said no\n")
        );
        let (code, out, _) = exec(&["dead", "--format", "json"]).await;
        assert_eq!(code, 0);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["dead"][0]["last_error"], "the mail server said no");
        assert_eq!(
            json["dead"][0]["payload"],
            r#"{"n":1,"sleep_ms":0,"fail_until":0,"panic":false}"#
        );
        let (code, out, err) = exec(&["retry", "999999"]).await;
        assert_eq!((code, out.as_str()), (1, ""));
        assert_eq!(err, "jobs: job 999999: no dead job with this id\n");
        let (code, out, _) = exec(&["retry", "--all-dead"]).await;
        assert_eq!((code, out.as_str()), (0, "retried 1\n"));
    }
}
