//! The worker runtime on each database, in this process: handlers, retries,
//! dead jobs, panics, the concurrency limit, the heartbeat and shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dozen_jobs::sql::SqlQueue;
use dozen_jobs::{Admin as _, Backend as _, Claimed, JobContext, JobsSettings, Options, Worker};
use dozen_shutdown::Shutdown;
use sqlx::Any;

use crate::support::{Work, add, eventually, queue, row, targets};

/// A shutdown this test triggers itself, with a deadline of `timeout`.
fn shutdown(timeout: Duration) -> Shutdown {
    Shutdown::builder()
        .with_signals(false)
        .with_watchdog(false)
        .with_delay(Duration::ZERO)
        .with_timeout(timeout)
        .build()
        .expect("a shutdown")
}

/// Fast settings: short backoffs and polls.
fn fast() -> JobsSettings {
    let mut s = JobsSettings::default();
    s.jobs_backoff_min = Duration::from_millis(20);
    s.jobs_backoff_max = Duration::from_millis(100);
    s.jobs_poll_interval = Duration::from_millis(20);
    s
}

/// The test handler: fails before attempt `fail_until`, by error or panic.
async fn handle(ctx: JobContext, work: Work) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(work.sleep_ms)).await;
    if ctx.attempt() < work.fail_until {
        assert!(!work.panic, "attempt {} panicked", ctx.attempt());
        return Err(format!("attempt {} failed", ctx.attempt()));
    }
    Ok(())
}

fn worker(q: &SqlQueue<Any>) -> Worker<SqlQueue<Any>> {
    Worker::new(q.clone()).settings(fast()).handle(handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_with_backoff_until_done_or_dead() {
    for target in targets("jobs_rt_retry").await {
        let q = queue(&target.url).await;
        let ok = add(&q, &Work::new(1), Options::new()).await;
        let flaky = Work {
            fail_until: 3,
            ..Work::new(2)
        };
        let flaky = add(&q, &flaky, Options::new()).await;
        let doomed = Work {
            fail_until: 99,
            ..Work::new(3)
        };
        let doomed = add(&q, &doomed, Options::new().with_max_attempts(3)).await;
        let panics = Work {
            fail_until: 99,
            panic: true,
            ..Work::new(4)
        };
        let panics = add(&q, &panics, Options::new().with_max_attempts(2)).await;
        let once = Options::new().with_max_attempts(1);
        let unknown = q.enqueue_raw("nobody-handles-this", "{}", &once);
        let unknown = unknown.await.unwrap().id().unwrap();

        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let (w, stop) = (worker(&q), stop.clone());
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(20), "every job settled", || async {
            let c = q.counts().await.unwrap();
            c.done == 2 && c.dead == 3
        })
        .await;
        stop.trigger();
        run.await.unwrap();

        assert_eq!(row(&q, ok).await, (1, "done".into(), None), "{target:?}");
        assert_eq!(row(&q, flaky).await, (3, "done".into(), None), "{target:?}");
        let dead = q.dead(10).await.unwrap();
        let error = |id| {
            dead.iter()
                .find(|d| d.id == id)
                .and_then(|d| d.last_error.clone())
        };
        assert_eq!(
            error(doomed).as_deref(),
            Some("attempt 3 failed"),
            "{target:?}"
        );
        assert_eq!(
            error(panics).as_deref(),
            Some("the handler panicked: attempt 2 panicked"),
            "{target:?}"
        );
        assert_eq!(
            error(unknown).as_deref(),
            Some("no handler for job nobody-handles-this in this worker"),
            "{target:?}"
        );
    }
}

/// A queue whose `complete` fails fast the first `failures` times, as on a
/// database that blinks: it goes to a queue whose pool is closed.
struct Blinking {
    inner: SqlQueue<Any>,
    closed: SqlQueue<Any>,
    failures: AtomicUsize,
}

impl Blinking {
    /// The queue `complete` goes to: the closed one while failures remain.
    fn completing(&self) -> &SqlQueue<Any> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing { &self.closed } else { &self.inner }
    }
}

impl dozen_jobs::Backend for Blinking {
    type Lease = <SqlQueue<Any> as dozen_jobs::Backend>::Lease;

    fn enqueue_raw(
        &self,
        name: &str,
        payload: &str,
        options: &Options,
    ) -> impl Future<Output = Result<dozen_jobs::Enqueued, dozen_jobs::Error>> + Send {
        self.inner.enqueue_raw(name, payload, options)
    }

    fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Claimed<Self::Lease>>, dozen_jobs::Error>> + Send {
        self.inner.claim(owner, limit, lease)
    }

    fn heartbeat(
        &self,
        job: &Claimed<Self::Lease>,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, dozen_jobs::Error>> + Send {
        self.inner.heartbeat(job, lease)
    }

    fn complete(
        &self,
        job: &Claimed<Self::Lease>,
    ) -> impl Future<Output = Result<bool, dozen_jobs::Error>> + Send {
        self.completing().complete(job)
    }

    fn retry(
        &self,
        job: &Claimed<Self::Lease>,
        delay: Duration,
        error: &str,
    ) -> impl Future<Output = Result<bool, dozen_jobs::Error>> + Send {
        self.inner.retry(job, delay, error)
    }

    fn kill(
        &self,
        job: &Claimed<Self::Lease>,
        error: &str,
    ) -> impl Future<Output = Result<bool, dozen_jobs::Error>> + Send {
        self.inner.kill(job, error)
    }

    fn give_back(
        &self,
        job: &Claimed<Self::Lease>,
    ) -> impl Future<Output = Result<bool, dozen_jobs::Error>> + Send {
        self.inner.give_back(job)
    }
}

/// `complete` is called again when it fails fast: a job whose `complete`
/// failed twice (the database blinked) is done after one attempt, not run
/// again once its 30 s lease has run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_done_while_the_database_blinks_is_not_run_again() {
    for target in targets("jobs_rt_blink").await {
        let q = queue(&target.url).await;
        let closed = queue(&target.url).await;
        closed.pool().close().await;
        let done = add(&q, &Work::new(1), Options::new()).await;
        let blinking = Blinking {
            inner: q.clone(),
            closed,
            failures: AtomicUsize::new(2),
        };
        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let w = Worker::new(blinking).settings(fast()).handle(handle);
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(15), "the job done", || async {
            q.counts().await.unwrap().done == 1
        })
        .await;
        stop.trigger();
        run.await.unwrap();
        assert_eq!(row(&q, done).await, (1, "done".into(), None), "{target:?}");
    }
}

/// A job type whose handler panics before it returns its future, or
/// returns an error naming a secret.
#[derive(serde::Serialize, serde::Deserialize)]
struct Touchy {
    panic: bool,
}

impl dozen_jobs::Job for Touchy {
    const NAME: &'static str = "touchy";
}

const TOUCHY_PASSWORD: &str = "pw-in-a-url-5678";
const TOUCHY_TOKEN: &str = "tok-registered-123456";

/// Panics on its own task when `job.panic`, before any future exists; else
/// fails with an error that holds a URL's password and a registered secret.
fn touchy(_ctx: JobContext, job: Touchy) -> std::future::Ready<Result<(), String>> {
    assert!(!job.panic, "panicked before its future");
    std::future::ready(Err(format!(
        "cannot reach postgres://app:{TOUCHY_PASSWORD}@db/app with token {TOUCHY_TOKEN}"
    )))
}

/// A handler that panics before returning its future is a failed attempt
/// (the job goes dead at its last one, the worker runs on), not a job left
/// to its lease; and the error stored with a job hides URL passwords and
/// registered secrets, since `jobs dead` prints it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_panic_is_a_failed_attempt_and_stored_errors_hide_secrets() {
    dozen_redact::register(TOUCHY_TOKEN);
    for target in targets("jobs_rt_touchy").await {
        let q = queue(&target.url).await;
        let once = Options::new().with_max_attempts(1);
        let panics = q.enqueue_raw("touchy", r#"{"panic":true}"#, &once);
        let panics = panics.await.unwrap().id().unwrap();
        let leaks = q.enqueue_raw("touchy", r#"{"panic":false}"#, &once);
        let leaks = leaks.await.unwrap().id().unwrap();
        let after = add(&q, &Work::new(1), Options::new()).await;

        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let (w, stop) = (worker(&q).handle(touchy), stop.clone());
            async move { w.run(&stop).await }
        });
        // The lease is the default 30 s: settled well before it, or not at all.
        eventually(Duration::from_secs(10), "every job settled", || async {
            let c = q.counts().await.unwrap();
            c.done == 1 && c.dead == 2
        })
        .await;
        stop.trigger();
        run.await.unwrap();

        assert_eq!(row(&q, after).await, (1, "done".into(), None), "{target:?}");
        let dead = q.dead(10).await.unwrap();
        let error = |id| {
            dead.iter()
                .find(|d| d.id == id)
                .and_then(|d| d.last_error.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            error(panics),
            "the handler panicked: panicked before its future",
            "{target:?}"
        );
        let stored = error(leaks);
        assert!(
            stored.starts_with("cannot reach postgres://app:"),
            "{target:?}: {stored}"
        );
        assert!(!stored.contains(TOUCHY_PASSWORD), "{target:?}: {stored}");
        assert!(!stored.contains(TOUCHY_TOKEN), "{target:?}: {stored}");
    }
}

/// A job whose workers die mid-attempt (claimed, never settled, the lease
/// left to run out) uses up its attempts: the next worker marks it dead
/// instead of running it, so it cannot crash-loop a fleet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_uses_up_its_attempts() {
    for target in targets("jobs_rt_crashloop").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new().with_max_attempts(2)).await;
        let lease = Duration::from_millis(300);
        for (owner, attempt) in [("dead-1", 1), ("dead-2", 2)] {
            // Attempt 1 is due at once; attempt 2 once the lease runs out.
            let deadline = Instant::now() + Duration::from_secs(5);
            let claimed = loop {
                let claimed = q.claim(owner, 1, lease).await.unwrap();
                if !claimed.is_empty() {
                    break claimed;
                }
                assert!(
                    Instant::now() < deadline,
                    "{target:?}: the lease never ran out"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            assert_eq!(
                (claimed[0].id, claimed[0].attempt),
                (id, attempt),
                "{target:?}"
            );
            // The worker dies here: no heartbeat, no settlement.
        }

        let calls = Arc::new(AtomicUsize::new(0));
        let w = Worker::new(q.clone()).settings(fast()).handle({
            let calls = Arc::clone(&calls);
            move |_: JobContext, _: Work| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, String>(()) }
            }
        });
        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(10), "the job is dead", || async {
            q.counts().await.unwrap().dead == 1
        })
        .await;
        stop.trigger();
        run.await.unwrap();

        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "{target:?}: ran a third time"
        );
        assert_eq!(row(&q, id).await.1, "dead", "{target:?}");
        let dead = q.dead(10).await.unwrap();
        assert_eq!(dead.len(), 1, "{target:?}");
        let error = dead[0].last_error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("out of attempts: 2 of 2 started"),
            "{target:?}: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_the_concurrency_limit_run_at_once() {
    for target in targets("jobs_rt_limit").await {
        let q = queue(&target.url).await;
        for n in 0..12 {
            let _ = q
                .enqueue(
                    &Work {
                        sleep_ms: 60,
                        ..Work::new(n)
                    },
                    Options::new(),
                )
                .await
                .unwrap();
        }
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let w = Worker::new(q.clone())
            .settings(fast())
            .with_concurrency(3)
            .handle({
                let (now, most) = (Arc::clone(&now), Arc::clone(&most));
                move |_: JobContext, work: Work| {
                    let (now, most) = (Arc::clone(&now), Arc::clone(&most));
                    async move {
                        let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(running, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(work.sleep_ms)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, String>(())
                    }
                }
            });
        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(20), "12 jobs done", || async {
            q.counts().await.unwrap().done == 12
        })
        .await;
        stop.trigger();
        run.await.unwrap();
        assert_eq!(most.load(Ordering::SeqCst), 3, "{target:?}");
    }
}

/// A job longer than its lease stays with its worker: the heartbeat renews
/// the lease, so a second worker never takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_keeps_a_job_longer_than_its_lease() {
    for target in targets("jobs_rt_heartbeat").await {
        let q = queue(&target.url).await;
        let id = add(
            &q,
            &Work {
                sleep_ms: 2500,
                ..Work::new(1)
            },
            Options::new(),
        )
        .await;
        let stop = shutdown(Duration::from_secs(10));
        let mut runs = Vec::new();
        for owner in ["a", "b"] {
            let w = worker(&q)
                .with_lease(Duration::from_millis(900))
                .with_owner(owner);
            let stop = stop.clone();
            runs.push(tokio::spawn(async move { w.run(&stop).await }));
        }
        eventually(Duration::from_secs(10), "the job done", || async {
            q.counts().await.unwrap().done == 1
        })
        .await;
        stop.trigger();
        for run in runs {
            run.await.unwrap();
        }
        assert_eq!(row(&q, id).await.0, 1, "{target:?}: taken once");
    }
}

/// Once draining starts no job is claimed; a job that would outlive the
/// deadline (less the reserve) is given back, unspent, in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_claims_nothing_and_gives_back_what_would_outlive_the_deadline() {
    for target in targets("jobs_rt_drain").await {
        let q = queue(&target.url).await;
        let long = add(
            &q,
            &Work {
                sleep_ms: 60_000,
                ..Work::new(1)
            },
            Options::new(),
        )
        .await;
        let stop = shutdown(Duration::from_secs(4));
        // The handler says when it has started: the job is then in hand, not
        // merely claimed in the database with the reply still on its way.
        let handling = Arc::new(AtomicUsize::new(0));
        let w = Worker::new(q.clone())
            .settings(fast())
            .with_reserve(Duration::from_secs(1))
            .handle({
                let handling = Arc::clone(&handling);
                move |ctx: JobContext, work: Work| {
                    handling.fetch_add(1, Ordering::SeqCst);
                    handle(ctx, work)
                }
            });
        let run = tokio::spawn({
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(10), "the long job running", || async {
            handling.load(Ordering::SeqCst) == 1
        })
        .await;
        let started = Instant::now();
        stop.trigger();
        let later = add(&q, &Work::new(2), Options::new()).await;
        run.await.unwrap();
        let took = started.elapsed();
        // 4 s deadline, 1 s reserve, 1 s margin: given back at about 2 s.
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_millis(3500),
            "{target:?}: given back after {took:?}"
        );
        assert_eq!(
            row(&q, long).await,
            (0, "queued".into(), None),
            "{target:?}"
        );
        assert_eq!(
            row(&q, later).await,
            (0, "queued".into(), None),
            "{target:?}"
        );
        let next = q.claim("next", 5, Duration::from_secs(30)).await.unwrap();
        assert_eq!(next.len(), 2, "{target:?}: both due at once");
    }
}

/// On PostgreSQL an idle worker is woken by the enqueue (`LISTEN`/`NOTIFY`),
/// not by its next poll: with a 30 s poll interval, the job starts at once.
/// Elsewhere the poll interval is the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_on_postgres_wakes_when_a_job_is_enqueued() {
    for target in targets("jobs_rt_wake").await {
        if target.name != "postgres" {
            continue;
        }
        for typed in [false, true] {
            let q = queue(&target.url).await;
            let (tx, mut started) = tokio::sync::mpsc::unbounded_channel();
            let stop = shutdown(Duration::from_secs(10));
            let handler = move |_: JobContext, _: Work| {
                let _ = tx.send(Instant::now());
                async { Ok::<_, String>(()) }
            };
            let run = if typed {
                let pool = sqlx::PgPool::connect(&target.url).await.unwrap();
                let w = Worker::new(SqlQueue::<sqlx::Postgres>::new(pool))
                    .with_poll_interval(Duration::from_secs(30))
                    .handle(handler);
                let stop = stop.clone();
                tokio::spawn(async move { w.run(&stop).await })
            } else {
                let w = Worker::new(q.clone())
                    .with_poll_interval(Duration::from_secs(30))
                    .handle(handler);
                let stop = stop.clone();
                tokio::spawn(async move { w.run(&stop).await })
            };
            // Let the worker go idle, with its listener up.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            for n in 0..3 {
                let enqueued = Instant::now();
                let _ = q.enqueue(&Work::new(n), Options::new()).await.unwrap();
                let at = tokio::time::timeout(Duration::from_secs(10), started.recv())
                    .await
                    .expect("started before the 30 s poll")
                    .unwrap();
                let waited = at.duration_since(enqueued);
                assert!(
                    waited < Duration::from_secs(3),
                    "typed {typed}: started after {waited:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            stop.trigger();
            run.await.unwrap();
        }
    }
}

/// The real queue, altered: each claim's reply held back for `hold` after the database
/// has committed it (the window in which a worker used to drop a claim at SIGTERM and
/// strand its jobs until their lease ran out), and, with `heartbeats`, every heartbeat sent
/// through that queue instead (one whose pool is closed fails them, as when a worker loses
/// its database).
struct Altered {
    queue: SqlQueue<Any>,
    hold: Duration,
    heartbeats: Option<SqlQueue<Any>>,
}

impl dozen_jobs::Backend for Altered {
    type Lease = <SqlQueue<Any> as dozen_jobs::Backend>::Lease;

    async fn enqueue_raw(
        &self,
        name: &str,
        payload: &str,
        options: &Options,
    ) -> Result<dozen_jobs::Enqueued, dozen_jobs::Error> {
        self.queue.enqueue_raw(name, payload, options).await
    }

    async fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed<Self::Lease>>, dozen_jobs::Error> {
        let claimed = self.queue.claim(owner, limit, lease).await?;
        if !claimed.is_empty() {
            tokio::time::sleep(self.hold).await;
        }
        Ok(claimed)
    }

    async fn heartbeat(
        &self,
        job: &Claimed<Self::Lease>,
        lease: Duration,
    ) -> Result<bool, dozen_jobs::Error> {
        self.heartbeats
            .as_ref()
            .unwrap_or(&self.queue)
            .heartbeat(job, lease)
            .await
    }

    async fn complete(&self, job: &Claimed<Self::Lease>) -> Result<bool, dozen_jobs::Error> {
        self.queue.complete(job).await
    }

    async fn retry(
        &self,
        job: &Claimed<Self::Lease>,
        delay: Duration,
        error: &str,
    ) -> Result<bool, dozen_jobs::Error> {
        self.queue.retry(job, delay, error).await
    }

    async fn kill(
        &self,
        job: &Claimed<Self::Lease>,
        error: &str,
    ) -> Result<bool, dozen_jobs::Error> {
        self.queue.kill(job, error).await
    }

    async fn give_back(&self, job: &Claimed<Self::Lease>) -> Result<bool, dozen_jobs::Error> {
        self.queue.give_back(job).await
    }
}

/// SIGTERM while a claim is on its way back from the database: the claim
/// finishes and its jobs are given back at once, unstarted, instead of
/// staying leased to a worker that is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_flight_when_draining_starts_is_given_back_not_stranded() {
    for target in targets("jobs_rt_inflight").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(1), Options::new()).await;
        let handled = Arc::new(AtomicUsize::new(0));
        let w = Worker::new(Altered {
            queue: q.clone(),
            hold: Duration::from_secs(1),
            heartbeats: None,
        })
        .settings(fast())
        .with_lease(Duration::from_secs(60))
        .handle({
            let handled = Arc::clone(&handled);
            move |ctx: JobContext, work: Work| {
                handled.fetch_add(1, Ordering::SeqCst);
                handle(ctx, work)
            }
        });
        let stop = shutdown(Duration::from_secs(10));
        let run = tokio::spawn({
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        eventually(Duration::from_secs(10), "the job leased", || async {
            row(&q, id).await.2.is_some()
        })
        .await;
        stop.trigger();
        tokio::time::timeout(Duration::from_secs(8), run)
            .await
            .expect("the worker returns once the claim is given back")
            .unwrap();
        assert_eq!(handled.load(Ordering::SeqCst), 0, "{target:?}: not started");
        assert_eq!(row(&q, id).await, (0, "queued".into(), None), "{target:?}");
        let next = q.claim("next", 1, Duration::from_secs(30)).await.unwrap();
        assert_eq!(
            next.len(),
            1,
            "{target:?}: due at once, not after the 60 s lease"
        );
    }
}

/// Draining starts while a claim is stuck behind a lock another connection
/// holds on the jobs table (PostgreSQL): the worker lets the claim go before
/// the deadline less the reserve, leaving the reserve to teardown. The
/// reserve is set with `with_reserve`, or by default is the budget of the
/// shutdown's teardown hooks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_stuck_when_draining_starts_leaves_the_reserve_to_teardown() {
    for set_by_hook in [false, true] {
        claim_stuck_leaves_the_reserve(set_by_hook).await;
    }
}

async fn claim_stuck_leaves_the_reserve(set_by_hook: bool) {
    use sqlx::Connection as _;
    for target in targets("jobs_rt_stuck").await {
        if target.name != "postgres" {
            continue;
        }
        let q = queue(&target.url).await;
        let mut holder = sqlx::PgConnection::connect(&target.url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
        sqlx::query("LOCK TABLE dozen_jobs IN ACCESS EXCLUSIVE MODE")
            .execute(&mut holder)
            .await
            .unwrap();
        let (deadline, reserve) = (Duration::from_secs(10), Duration::from_secs(5));
        let stop = shutdown(deadline);
        let w = if set_by_hook {
            stop.on_teardown("close pool", reserve, || async {})
                .unwrap();
            worker(&q)
        } else {
            worker(&q).with_reserve(reserve)
        };
        let run = tokio::spawn({
            let stop = stop.clone();
            async move { w.run(&stop).await }
        });
        let watcher = sqlx::PgPool::connect(&target.url).await.unwrap();
        eventually(
            Duration::from_secs(10),
            "the claim waiting on the lock",
            || {
                let watcher = watcher.clone();
                async move {
                    use sqlx::Row as _;
                    let waiting: i64 = sqlx::query(
                        "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    )
                    .fetch_one(&watcher)
                    .await
                    .unwrap()
                    .get(0);
                    waiting > 0
                }
            },
        )
        .await;
        let started = Instant::now();
        stop.trigger();
        run.await.unwrap();
        let took = started.elapsed();
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
        // 10 s deadline, 5 s reserve, 1 s margin: let go at about 4 s. Waiting
        // the whole remaining time instead returns at about 10 s.
        assert!(
            took < deadline - reserve,
            "returned after {took:?}, past the deadline less the reserve (set by a hook: {set_by_hook})"
        );
    }
}

/// A handler that settles its job in its own transaction (`complete_in`) and then goes on
/// working (publishing, cleaning up) across heartbeats is left to finish: the job is done,
/// not a lost lease, though the heartbeat's row is no longer queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_goes_on_after_complete_in_commits() {
    for target in targets("jobs_rt_after_commit").await {
        let q = queue(&target.url).await;
        let id = add(&q, &Work::new(7), Options::new()).await;
        let finished = Arc::new(AtomicUsize::new(0));
        let (hq, hfinished) = (q.clone(), Arc::clone(&finished));
        let w = Worker::new(q.clone())
            .settings(fast())
            .with_lease(Duration::from_millis(900))
            .handle(move |ctx: JobContext, work: Work| {
                let (q, finished) = (hq.clone(), Arc::clone(&hfinished));
                async move {
                    let mut tx = q.pool().begin().await.map_err(|e| e.to_string())?;
                    crate::support::write_effect(&mut tx, &ctx, &work).await?;
                    // A heartbeat (every 300 ms) that comes while the row is locked waits
                    // for the commit, then finds the job done.
                    tokio::time::sleep(Duration::from_millis(350)).await;
                    assert!(
                        q.complete_in(&mut tx, &ctx)
                            .await
                            .map_err(|e| e.to_string())?
                    );
                    tx.commit().await.map_err(|e| e.to_string())?;
                    // Work after the commit, across three heartbeats.
                    tokio::time::sleep(Duration::from_millis(1000)).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                    Ok::<(), String>(())
                }
            });
        let stop = shutdown(Duration::from_secs(10));
        let run = {
            let stop = stop.clone();
            tokio::spawn(async move { w.run(&stop).await })
        };
        eventually(Duration::from_secs(10), "the handler finished", || async {
            finished.load(Ordering::SeqCst) == 1
        })
        .await;
        stop.trigger();
        run.await.unwrap();
        let (attempts, state, _) = row(&q, id).await;
        assert_eq!((attempts, state.as_str()), (1, "done"), "{target:?}");
        assert_eq!(
            crate::support::effects(&q).await,
            [(i64::try_from(id.0).unwrap(), 1)],
            "{target:?}"
        );
    }
}

/// A worker whose heartbeats fail (it lost its database) stops the attempt before the
/// lease it can no longer renew runs out, so the attempt that the next claim starts never
/// runs beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_heartbeats_fail_stops_before_the_next_one_starts() {
    /// When each attempt started and, once it ended or was aborted, when it did.
    type Spans = Arc<std::sync::Mutex<Vec<(Instant, Option<Instant>)>>>;
    /// Records the end of attempt `.1` in `.0` when dropped.
    struct Attempt(Spans, usize);
    impl Drop for Attempt {
        fn drop(&mut self) {
            self.0.lock().unwrap()[self.1].1 = Some(Instant::now());
        }
    }
    for target in targets("jobs_rt_failing_heartbeat").await {
        let q = queue(&target.url).await;
        let closed = queue(&target.url).await;
        closed.pool().close().await;
        let id = add(&q, &Work::new(1), Options::new().with_max_attempts(20)).await;
        let attempts: Spans = Arc::default();
        let seen = Arc::clone(&attempts);
        let backend = Altered {
            queue: q.clone(),
            hold: Duration::ZERO,
            heartbeats: Some(closed),
        };
        let w = Worker::new(backend)
            .settings(fast())
            .with_lease(Duration::from_millis(900))
            .handle(move |_ctx: JobContext, _work: Work| {
                let seen = Arc::clone(&seen);
                async move {
                    let at = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((Instant::now(), None));
                        seen.len() - 1
                    };
                    let _attempt = Attempt(seen, at);
                    // Far longer than the lease.
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                    Ok::<(), String>(())
                }
            });
        let stop = shutdown(Duration::from_secs(10));
        let run = {
            let stop = stop.clone();
            tokio::spawn(async move { w.run(&stop).await })
        };
        eventually(Duration::from_secs(20), "three attempts", || async {
            attempts.lock().unwrap().len() >= 3
        })
        .await;
        stop.trigger();
        run.await.unwrap();
        let attempts = attempts.lock().unwrap().clone();
        for pair in attempts.windows(2) {
            let ((_, ended), (next, _)) = (pair[0], pair[1]);
            let ended = ended.expect("an attempt before the last has ended");
            assert!(
                ended <= next,
                "{target:?}: an attempt ran on {:?} after the next one started",
                ended - next
            );
        }
        let (first_start, first_end) = attempts[0];
        assert!(
            first_end.unwrap() - first_start < Duration::from_millis(2000),
            "{target:?}: the first attempt was not stopped: {:?}",
            first_end.unwrap() - first_start
        );
        assert!(row(&q, id).await.0 >= 3, "{target:?}");
    }
}

/// Absurd overrides are held to what the runtime can keep, as `JOBS_LEASE` and
/// `JOBS_CONCURRENCY` are: a lease of `Duration::MAX` (which no instant or database time
/// can hold) is an hour's, and a concurrency of `usize::MAX` is `MAX_CONCURRENCY`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_overrides_are_held_to_the_settings_bounds() {
    for target in targets("jobs_rt_absurd").await {
        let q = queue(&target.url).await;
        let id = add(
            &q,
            &Work {
                sleep_ms: 200,
                ..Work::new(1)
            },
            Options::new(),
        )
        .await;
        let w = worker(&q)
            .with_lease(Duration::MAX)
            .with_concurrency(usize::MAX);
        let stop = shutdown(Duration::from_secs(10));
        let run = {
            let stop = stop.clone();
            tokio::spawn(async move { w.run(&stop).await })
        };
        eventually(Duration::from_secs(10), "the job done", || async {
            q.counts().await.unwrap().done == 1
        })
        .await;
        stop.trigger();
        run.await.unwrap();
        assert_eq!(row(&q, id).await.0, 1, "{target:?}: run once");
    }
}
