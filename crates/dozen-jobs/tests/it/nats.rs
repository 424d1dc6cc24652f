//! The NATS JetStream backend against a real nats-server, one private
//! server per test; children of this test binary play killed and stopped
//! workers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dozen_jobs::admin::{self, Command, Format};
use dozen_jobs::nats::{NatsLease, NatsQueue};
use dozen_jobs::{
    Admin as _, Backend as _, Claimed, Enqueued, JobContext, JobId, JobsSettings, Options, Worker,
};
use dozen_shutdown::Shutdown;

use crate::nats_support::{
    CHILD, NatsServer, Seen, Spawned, append, lines, queue, sigterm, spawn_child, work,
};
use crate::support::{Work, eventually};

const LEASE: Duration = Duration::from_secs(30);

fn shutdown() -> Shutdown {
    Shutdown::builder()
        .with_delay(Duration::ZERO)
        .with_signals(false)
        .with_watchdog(false)
        .build()
        .expect("a shutdown handle")
}

/// A worker on `q` running the shared handler, quick to retry.
fn worker(q: NatsQueue, seen: &Seen) -> Worker<NatsQueue> {
    let mut settings = JobsSettings::default();
    settings.jobs_backoff_min = Duration::from_millis(100);
    settings.jobs_backoff_max = Duration::from_millis(200);
    let seen = seen.clone();
    Worker::new(q)
        .settings(settings)
        .with_poll_interval(Duration::from_millis(20))
        .handle(move |ctx: JobContext, job: Work| work(seen.clone(), ctx, job))
}

async fn counts(q: &NatsQueue) -> dozen_jobs::Counts {
    q.counts().await.expect("counts")
}

/// Runs `worker` until a job on `q` is dead, then shuts it down.
async fn run_until_one_is_dead(q: &NatsQueue, worker: Worker<NatsQueue>) {
    let shutdown = shutdown();
    let run = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(&shutdown).await }
    });
    eventually(Duration::from_secs(10), "the job is dead", || async {
        counts(q).await.dead == 1
    })
    .await;
    shutdown.trigger();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueued_jobs_are_claimed_and_completed_once() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let created = q.enqueue(&Work::new(n), Options::new()).await.unwrap();
        ids.push(created.id().expect("created"));
    }
    assert_eq!(
        ids,
        [JobId(1), JobId(2), JobId(3)],
        "ids are stream sequences"
    );
    let c = counts(&q).await;
    assert_eq!(
        (c.pending, c.due, c.running, c.done, c.dead),
        (3, 3, 0, 0, 0)
    );

    let claimed = q.claim("a", 2, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let first = &claimed[0];
    assert_eq!(
        (
            first.id,
            first.name.as_str(),
            first.attempt,
            first.max_attempts
        ),
        (JobId(1), "work", 1, 20)
    );
    assert!(first.payload.contains("\"n\":1"), "{}", first.payload);
    let c = counts(&q).await;
    assert_eq!((c.pending, c.running), (1, 2));
    assert!(q.heartbeat(first, LEASE).await.unwrap());
    for job in &claimed {
        assert!(q.complete(job).await.unwrap());
    }
    let rest = q.claim("b", 5, LEASE).await.unwrap();
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [JobId(3)]);
    assert!(q.complete(&rest[0]).await.unwrap());
    let started = Instant::now();
    assert!(q.claim("b", 5, LEASE).await.unwrap().is_empty());
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "an idle claim answers quickly: {:?}",
        started.elapsed()
    );
    let c = counts(&q).await;
    assert_eq!((c.pending, c.running, c.done, c.dead), (0, 0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_ack_wait_passes_the_job_on_and_a_heartbeat_keeps_it() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let lease = Duration::from_secs(1);
    let id = q
        .enqueue(&Work::new(1), Options::new())
        .await
        .unwrap()
        .id()
        .unwrap();

    // Renewed every 300 ms for 2.5 s, the lease holds.
    let a = q.claim("a", 1, lease).await.unwrap();
    assert_eq!((a[0].id, a[0].attempt), (id, 1));
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(q.heartbeat(&a[0], lease).await.unwrap());
        assert!(
            q.claim("b", 1, lease).await.unwrap().is_empty(),
            "lease held"
        );
    }
    // Left alone, it runs out, and another claim gets attempt 2.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let b = q.claim("b", 1, lease).await.unwrap();
    assert_eq!(b.len(), 1, "the ack wait ran out");
    assert_eq!((b[0].id, b[0].attempt), (id, 2));
    assert!(q.complete(&b[0]).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waits_out_its_backoff() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let _ = q.enqueue(&Work::new(1), Options::new()).await.unwrap();
    let a = q.claim("a", 1, LEASE).await.unwrap();
    let started = Instant::now();
    assert!(
        q.retry(&a[0], Duration::from_millis(800), "boom")
            .await
            .unwrap()
    );
    assert!(
        q.claim("a", 1, LEASE).await.unwrap().is_empty(),
        "backing off"
    );
    let mut again = Vec::new();
    while again.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "never retried");
        again = q.claim("a", 1, LEASE).await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(again[0].attempt, 2);
    assert!(q.complete(&again[0]).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_out_of_attempts_are_dead_listed_and_retried_by_the_admin_commands() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let seen = Seen::default();
    let mut failing = Work::new(7);
    failing.fail_until = 3;
    let id = q
        .enqueue(&failing, Options::new().with_max_attempts(2))
        .await
        .unwrap()
        .id()
        .unwrap();
    run_until_one_is_dead(&q, worker(q.clone(), &seen)).await;
    assert!(seen.done().is_empty());

    let check = |command: Command, code: u8, expected: String| {
        let q = q.clone();
        async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let got = admin::run(&q, &command, &mut out, &mut err).await;
            let (out, err) = (
                String::from_utf8(out).unwrap(),
                String::from_utf8(err).unwrap(),
            );
            assert_eq!(got, code, "{command:?}: {out}{err}");
            assert!(
                out.contains(&expected) || err.contains(&expected),
                "{command:?}: {out}{err}"
            );
        }
    };
    let text = Format::Text;
    check(
        Command::Dead {
            limit: 10,
            format: text,
        },
        admin::exit::OK,
        format!("{id} work after 2 attempts: attempt 2 fails"),
    )
    .await;
    check(
        Command::Status { format: text },
        admin::exit::OK,
        "dead    1".into(),
    )
    .await;
    check(
        Command::Retry {
            id: Some(JobId(999)),
            format: text,
        },
        admin::exit::NOT_FOUND,
        "job 999: no dead job with this id".into(),
    )
    .await;
    check(
        Command::Retry {
            id: Some(id),
            format: text,
        },
        admin::exit::OK,
        "retried 1".into(),
    )
    .await;
    assert_eq!(counts(&q).await.dead, 0);
    // Fresh attempts: 1 and 2 fail again, so it is dead again; then all.
    let again = q.claim("a", 1, LEASE).await.unwrap();
    assert_eq!((again[0].id, again[0].attempt), (id, 1));
    assert!(q.kill(&again[0], "by hand").await.unwrap());
    check(
        Command::Retry {
            id: None,
            format: Format::Json,
        },
        admin::exit::OK,
        "\"retried\": 1".into(),
    )
    .await;
    let again = q.claim("a", 1, LEASE).await.unwrap();
    assert_eq!((again[0].id, again[0].attempt), (id, 1));
}

/// A job whose workers die mid-attempt (delivered, never acknowledged, the
/// ack wait left to run out) uses up its attempts: the next worker marks it
/// dead instead of running it, so it cannot crash-loop a fleet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_uses_up_its_attempts() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let lease = Duration::from_secs(1);
    let id = q
        .enqueue(&Work::new(1), Options::new().with_max_attempts(2))
        .await
        .unwrap()
        .id()
        .unwrap();
    for attempt in [1, 2] {
        // Attempt 1 is due at once; attempt 2 once the ack wait runs out.
        let claimed = claim_within(&q, Duration::from_secs(10), lease).await;
        assert_eq!((claimed.id, claimed.attempt), (id, attempt));
        // Its worker dies here: no heartbeat, no acknowledgement.
    }

    let seen = Seen::default();
    run_until_one_is_dead(&q, worker(q.clone(), &seen).with_lease(lease)).await;

    assert!(
        seen.done().is_empty(),
        "ran a third time: {:?}",
        seen.done()
    );
    let dead = q.dead(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    let error = dead[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("out of attempts: 2 of 2 started"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_job_does_not_run_before_its_time_nor_lose_attempts() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let started = Instant::now();
    let id = q
        .enqueue(
            &Work::new(1),
            Options::new().with_delay(Duration::from_millis(1500)),
        )
        .await
        .unwrap()
        .id()
        .unwrap();
    let at = std::time::SystemTime::now() + Duration::from_millis(1500);
    let later = q
        .enqueue(&Work::new(2), Options::new().with_run_at(at))
        .await
        .unwrap()
        .id()
        .unwrap();
    let mut claimed = Vec::new();
    while claimed.len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(6), "never ran");
        for job in q.claim("a", 2, LEASE).await.unwrap() {
            assert!(
                started.elapsed() >= Duration::from_millis(1450),
                "ran early: {:?}",
                started.elapsed()
            );
            claimed.push((job.id, job.attempt));
            assert!(q.complete(&job).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    claimed.sort();
    assert_eq!(
        claimed,
        [(id, 1), (later, 1)],
        "early deliveries are not attempts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_keys_refuse_duplicates_until_the_job_is_done_or_dead() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let key = |k: &str| Options::new().with_unique_key(k);
    let check = |got: Enqueued, created: bool| {
        assert_eq!(matches!(got, Enqueued::Created(_)), created, "{got:?}");
    };
    check(q.enqueue(&Work::new(1), key("todo-7")).await.unwrap(), true);
    check(
        q.enqueue(&Work::new(2), key("todo-7")).await.unwrap(),
        false,
    );
    check(
        q.enqueue(&Work::new(3), key("todo-8\n\u{e9}"))
            .await
            .unwrap(),
        true,
    );
    let claimed = q.claim("a", 2, LEASE).await.unwrap();
    check(
        q.enqueue(&Work::new(4), key("todo-7")).await.unwrap(),
        false,
    );
    assert!(q.give_back(&claimed[0]).await.unwrap());
    check(
        q.enqueue(&Work::new(5), key("todo-7")).await.unwrap(),
        false,
    );
    let given_back = q.claim("a", 1, LEASE).await.unwrap();
    assert_eq!(
        (given_back[0].id, given_back[0].attempt),
        (claimed[0].id, 1),
        "a give-back keeps the id and uses up no attempt"
    );
    assert!(q.complete(&given_back[0]).await.unwrap());
    check(q.enqueue(&Work::new(6), key("todo-7")).await.unwrap(), true);
    assert!(q.kill(&claimed[1], "dead").await.unwrap());
    check(
        q.enqueue(&Work::new(7), key("todo-8\n\u{e9}"))
            .await
            .unwrap(),
        true,
    );
    // The dead job's key is held again by job 7: it cannot be retried.
    let refused = q.retry_dead(claimed[1].id).await.unwrap_err();
    assert_eq!(refused.kind(), dozen_jobs::ErrorKind::Invalid, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_handler_runs_on_sql_and_on_nats() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let nats = queue(&server.url(), "jobs").await;
    let target = crate::support::targets("jobs_nats_same").await.remove(0);
    let sql = crate::support::queue(&target.url).await;
    let mut flaky = Work::new(2);
    flaky.fail_until = 2;
    let jobs = [Work::new(1), flaky];

    let on_nats = Seen::default();
    let on_sql = Seen::default();
    for job in &jobs {
        let _ = nats.enqueue(job, Options::new()).await.unwrap();
        let _ = sql.enqueue(job, Options::new()).await.unwrap();
    }
    let shutdown = shutdown();
    let mut settings = JobsSettings::default();
    settings.jobs_backoff_min = Duration::from_millis(50);
    let sql_worker = {
        let seen = on_sql.clone();
        Worker::new(sql)
            .settings(settings)
            .with_poll_interval(Duration::from_millis(20))
            .handle(move |ctx: JobContext, job: Work| work(seen.clone(), ctx, job))
    };
    let runs = [
        tokio::spawn({
            let (w, s) = (worker(nats, &on_nats), shutdown.clone());
            async move { w.run(&s).await }
        }),
        tokio::spawn({
            let s = shutdown.clone();
            async move { sql_worker.run(&s).await }
        }),
    ];
    eventually(Duration::from_secs(10), "both ran both jobs", || async {
        on_nats.done().len() == 2 && on_sql.done().len() == 2
    })
    .await;
    shutdown.trigger();
    for run in runs {
        run.await.unwrap();
    }
    assert_eq!(on_nats.done(), on_sql.done());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_and_restarted_mid_run_loses_no_acknowledged_enqueue() {
    const JOBS: i64 = 2000;
    let Some(mut server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let seen = Seen::default();
    let shutdown = shutdown();
    let run = tokio::spawn({
        let (w, s) = (
            worker(q.clone(), &seen)
                .with_concurrency(16)
                .with_lease(Duration::from_secs(5)),
            shutdown.clone(),
        );
        async move { w.run(&s).await }
    });
    let started = Instant::now();
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    for n in 0..JOBS {
        if n == JOBS / 3 {
            server.kill9();
        }
        if n == JOBS / 3 + 10 {
            server.restart();
        }
        let job = Work::new(n);
        let enqueue = q.enqueue(&job, Options::new());
        match tokio::time::timeout(Duration::from_secs(1), enqueue).await {
            Ok(Ok(_)) => {
                acknowledged.insert(n);
            }
            _ => refused += 1,
        }
    }
    eprintln!(
        "{} enqueues acknowledged, {refused} not, in {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    assert!(acknowledged.len() as i64 >= JOBS - 50, "{refused} refused");
    eventually(
        Duration::from_secs(60),
        "every acknowledged job ran",
        || async {
            let done = seen.done();
            acknowledged.iter().all(|n| done.contains_key(n))
        },
    )
    .await;
    eprintln!("all processed in {:?}", started.elapsed());
    shutdown.trigger();
    run.await.unwrap();
}

/// The child roles of the tests below, run in a copy of this binary.
async fn child(role: &str) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let url = var("DOZEN_JOBS_NATS_URL");
    let dir = std::path::PathBuf::from(var("DOZEN_JOBS_NATS_DIR"));
    let q = queue(&url, "jobs").await;
    let timeout = Duration::from_millis(var("DOZEN_JOBS_NATS_TIMEOUT_MS").parse().unwrap());
    let lease = Duration::from_millis(var("DOZEN_JOBS_NATS_LEASE_MS").parse().unwrap());
    let shutdown = Shutdown::builder()
        .with_delay(Duration::ZERO)
        .with_timeout(timeout)
        .with_serving(false)
        .build()
        .expect("a shutdown handle");
    let pid = std::process::id();
    let started = dir.join(format!("started-{pid}"));
    let done = dir.join(format!("done-{pid}"));
    eprintln!("child {role} {pid} taking jobs");
    Worker::new(q)
        .with_lease(lease)
        .with_concurrency(4)
        .with_poll_interval(Duration::from_millis(20))
        .with_reserve(Duration::ZERO)
        .handle(move |ctx: JobContext, job: Work| {
            let (started, done) = (started.clone(), done.clone());
            async move {
                append(&started, &format!("{} {}", job.n, ctx.attempt()));
                tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
                append(&done, &job.n.to_string());
                Ok::<_, std::io::Error>(())
            }
        })
        .run(&shutdown)
        .await;
    eprintln!("child {role} {pid} stopped");
}

fn child_env(
    server: &NatsServer,
    role: &str,
    lease_ms: u64,
    timeout_ms: u64,
) -> Vec<(&'static str, String)> {
    let dir = server.scratch();
    std::fs::create_dir_all(&dir).unwrap();
    vec![
        (CHILD, role.to_owned()),
        ("DOZEN_JOBS_NATS_URL", server.url()),
        ("DOZEN_JOBS_NATS_DIR", dir.display().to_string()),
        ("DOZEN_JOBS_NATS_LEASE_MS", lease_ms.to_string()),
        ("DOZEN_JOBS_NATS_TIMEOUT_MS", timeout_ms.to_string()),
    ]
}

/// A child worker of test `test` (`role`, `lease_ms`, `timeout_ms`)
/// running a job of a minute, once it has started it: the server, a queue,
/// the job's id and the child.
async fn a_child_running_a_long_job(
    test: &str,
    role: &str,
    lease_ms: u64,
    timeout_ms: u64,
) -> Option<(NatsServer, NatsQueue, JobId, Spawned)> {
    let server = NatsServer::start()?;
    let q = queue(&server.url(), "jobs").await;
    let mut long = Work::new(1);
    long.sleep_ms = 60_000;
    let created = q.enqueue(&long, Options::new()).await.unwrap();
    let env = child_env(&server, role, lease_ms, timeout_ms);
    let worker = spawn_child(&format!("nats::{test}"), &env);
    let dir = server.scratch();
    eventually(
        Duration::from_secs(20),
        "the child started the job",
        || async { lines(&dir, "started-") == ["1 1"] },
    )
    .await;
    Some((server, q, created.id().unwrap(), worker))
}

/// Claims with `lease` until a job comes, within `within`.
async fn claim_within(q: &NatsQueue, within: Duration, lease: Duration) -> Claimed<NatsLease> {
    let since = Instant::now();
    loop {
        assert!(since.elapsed() < within, "no job within {within:?}");
        if let Some(job) = q.claim("b", 1, lease).await.unwrap().pop() {
            eprintln!("taken again after {:?}", since.elapsed());
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_leaves_it_to_another_after_the_ack_wait() {
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role).await;
    }
    let Some((server, q, id, mut worker)) = a_child_running_a_long_job(
        "a_worker_killed_mid_job_leaves_it_to_another_after_the_ack_wait",
        "killed",
        2000,
        25_000,
    )
    .await
    else {
        return;
    };
    worker.0.kill().unwrap();
    worker.0.wait().unwrap();
    // The lease (ack wait) is 2 s.
    let again = claim_within(&q, Duration::from_secs(6), Duration::from_secs(2)).await;
    assert_eq!((again.id, again.attempt), (id, 2));
    assert!(q.complete(&again).await.unwrap());
    assert!(lines(&server.scratch(), "done-").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_a_long_job_back_to_another_worker_at_once() {
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role).await;
    }
    // A lease of 30 s, a shutdown deadline of 3 s.
    let Some((_server, q, id, mut worker)) = a_child_running_a_long_job(
        "sigterm_gives_a_long_job_back_to_another_worker_at_once",
        "stopped",
        30_000,
        3000,
    )
    .await
    else {
        return;
    };
    sigterm(&worker);
    let again = claim_within(&q, Duration::from_secs(8), Duration::from_secs(30)).await;
    assert_eq!(
        (again.id, again.attempt),
        (id, 1),
        "given back, with its attempt not counted"
    );
    assert!(q.complete(&again).await.unwrap());
    let status = worker.0.wait().unwrap();
    assert!(status.success(), "the child stopped cleanly: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_worker_processes_complete_every_job() {
    if let Ok(role) = std::env::var(CHILD) {
        return child(&role).await;
    }
    // scripts/nats-jobs-fleet.sh runs it with another number.
    let jobs: i64 = std::env::var("DOZEN_JOBS_NATS_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let env = child_env(&server, "fleet", 10_000, 10_000);
    let workers: Vec<_> = (0..8)
        .map(|_| spawn_child("nats::eight_worker_processes_complete_every_job", &env))
        .collect();
    let started = Instant::now();
    for n in 0..jobs {
        let _ = q.enqueue(&Work::new(n), Options::new()).await.unwrap();
    }
    let enqueued = started.elapsed();
    let dir = server.scratch();
    let mut done = BTreeSet::new();
    while (done.len() as i64) < jobs {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{} of {jobs} done",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        done = lines(&dir, "done-")
            .iter()
            .map(|l| l.parse::<i64>().expect("a job number per line"))
            .collect();
    }
    let ran = lines(&dir, "done-").len();
    eprintln!(
        "{jobs} jobs on 8 worker processes: enqueued in {enqueued:?}, all done in {:?}, {} runs",
        started.elapsed(),
        ran
    );
    assert_eq!(done, (0..jobs).collect::<BTreeSet<_>>());
    for worker in &workers {
        sigterm(worker);
    }
    for mut worker in workers {
        let status = worker.0.wait().unwrap();
        assert!(status.success(), "a worker stopped cleanly: {status}");
    }
    let c = counts(&q).await;
    assert_eq!((c.pending, c.running, c.dead), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_url_never_shows_in_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let check = |url: String, shown: &'static str| async move {
        let settings = dozen_jobs::nats::NatsSettings::new(url.clone());
        let error = NatsQueue::connect(&settings).await.unwrap_err();
        let (text, debug) = (error.to_string(), format!("{error:?} {settings:?}"));
        assert!(
            !text.contains("hunter2") && !debug.contains("hunter2"),
            "{debug}"
        );
        assert!(text.contains(shown), "{url}: {text}");
    };
    check(
        format!("nats://app:hunter2@127.0.0.1:{closed}"),
        "connect to NATS at nats://app:***@127.0.0.1:",
    )
    .await;
    check(
        format!("nats://hunter2@127.0.0.1:{closed}"),
        "connect to NATS at nats://***@127.0.0.1:",
    )
    .await;
    let refused = NatsQueue::connect(&dozen_jobs::nats::NatsSettings::default().with_stream("a.b"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), dozen_jobs::ErrorKind::Invalid, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_key_left_taken_by_a_dead_enqueue_is_taken_over_once_stale() {
    use dozen_jobs::nats::async_nats;
    let Some(server) = NatsServer::start() else {
        return;
    };
    let q = queue(&server.url(), "jobs").await;
    let client = async_nats::connect(server.url()).await.unwrap();
    let keys = async_nats::jetstream::new(client)
        .get_key_value("jobs_unique")
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // Keys as an enqueue leaves them when its process dies before it
    // publishes: "k1" a minute and more ago, "k2" just now. ("k" is 6b.)
    let check = |key: &'static str, created: bool| {
        let q = q.clone();
        async move {
            let got = q
                .enqueue(&Work::new(1), Options::new().with_unique_key(key))
                .await
                .unwrap();
            assert_eq!(
                matches!(got, Enqueued::Created(_)),
                created,
                "{key}: {got:?}"
            );
        }
    };
    let value = |ms: u128| format!("taking {ms}").into();
    keys.put("6b31", value(now - 61_000)).await.unwrap();
    keys.put("6b32", value(now)).await.unwrap();
    check("k1", true).await;
    check("k2", false).await;
    check("k1", false).await;
    let holder = keys.get("6b31").await.unwrap().unwrap();
    assert_eq!(&holder[..], b"job 1", "the key names its job once stored");
}
