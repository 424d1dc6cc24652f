//! Real worker processes on each database: killed with SIGKILL mid-job,
//! stopped with SIGTERM holding a job, and eight of them on 10,000 jobs.
//!
//! A worker process is this test binary run again on the `child` test, with
//! its settings in `DOZEN_JOBS_CHILD_*` variables. Its handler writes the
//! job's effect (a row in `effects`) and settles the job with `complete_in`
//! in one transaction, committed only while it holds the lease: each job's
//! effect lands exactly once, however many times the job runs.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dozen_jobs::sql::SqlQueue;
use dozen_jobs::{Admin as _, Backend as _, JobContext, JobsSettings, Options, Worker};
use sqlx::Any;

use crate::support::{Work, add, effects, eventually, queue, row, started, targets};

const CHILD: &str = "DOZEN_JOBS_CHILD_URL";
const LEASE: &str = "DOZEN_JOBS_CHILD_LEASE_MS";
const TIMEOUT: &str = "DOZEN_JOBS_CHILD_TIMEOUT_MS";
const CONCURRENCY: &str = "DOZEN_JOBS_CHILD_CONCURRENCY";

fn var_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// The worker process: runs until SIGTERM. A no-op in the ordinary run.
#[test]
fn child() {
    let Ok(url) = std::env::var(CHILD) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let q = queue(&url).await;
        let shutdown = dozen_shutdown::Shutdown::builder()
            .with_delay(Duration::ZERO)
            .with_timeout(var_ms(TIMEOUT, 10_000))
            .build()
            .expect("a shutdown");
        let mut settings = JobsSettings::default();
        settings.jobs_poll_interval = Duration::from_millis(20);
        settings.jobs_backoff_min = Duration::from_millis(50);
        settings.jobs_backoff_max = Duration::from_millis(200);
        let concurrency = std::env::var(CONCURRENCY)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4);
        let handler_queue = q.clone();
        Worker::new(q)
            .settings(settings)
            .with_lease(var_ms(LEASE, 30_000))
            .with_concurrency(concurrency)
            .with_reserve(Duration::from_millis(500))
            .handle(move |ctx: JobContext, work: Work| {
                let q = handler_queue.clone();
                async move { land(&q, &ctx, &work).await }
            })
            .run(&shutdown)
            .await;
    });
}

/// The handler: the work, then its effect and the job's completion in one
/// transaction.
async fn land(q: &SqlQueue<Any>, ctx: &JobContext, work: &Work) -> Result<(), String> {
    if work.sleep_ms > 0 {
        // A long job says it has started, so a test signals a worker that
        // is working on it rather than one still taking it.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO started (job_id) VALUES ({})",
            ctx.id().0
        )))
        .execute(q.pool())
        .await
        .map_err(|e| e.to_string())?;
    }
    tokio::time::sleep(Duration::from_millis(work.sleep_ms)).await;
    let mut tx = q.pool().begin().await.map_err(|e| e.to_string())?;
    crate::support::write_effect(&mut tx, ctx, work).await?;
    if q.complete_in(&mut tx, ctx)
        .await
        .map_err(|e| e.to_string())?
    {
        tx.commit().await.map_err(|e| e.to_string())
    } else {
        tx.rollback().await.map_err(|e| e.to_string())
    }
}

/// A worker process on `url`.
struct Process(Child);

impl Process {
    fn start(url: &str, lease_ms: u64, timeout_ms: u64, concurrency: usize) -> Self {
        let child = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "processes::child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, url)
            .env(LEASE, lease_ms.to_string())
            .env(TIMEOUT, timeout_ms.to_string())
            .env(CONCURRENCY, concurrency.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a worker process");
        Self(child)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits up to `within` for the process to exit; its status.
    async fn exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the worker did not exit within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGKILL loses nothing: the job runs again once the lease runs out, and
/// its effect lands once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_is_killed_runs_again_after_its_lease_and_lands_once() {
    for target in targets("jobs_kill").await {
        let q = queue(&target.url).await;
        let id = add(
            &q,
            &Work {
                sleep_ms: 2000,
                ..Work::new(1)
            },
            Options::new(),
        )
        .await;
        let mut first = Process::start(&target.url, 1000, 10_000, 1);
        eventually(
            Duration::from_secs(20),
            "the first worker works on the job",
            || async { started(&q, id).await > 0 },
        )
        .await;
        first.signal("KILL");
        first.exit(Duration::from_secs(5)).await;
        let killed = Instant::now();
        let mut second = Process::start(&target.url, 1000, 10_000, 1);
        eventually(
            Duration::from_secs(20),
            "the second worker finishes the job",
            || async { row(&q, id).await.1 == "done" },
        )
        .await;
        // The lease (1 s) and the work (2 s), at least.
        assert!(
            killed.elapsed() >= Duration::from_millis(2500),
            "{target:?}"
        );
        assert_eq!(row(&q, id).await.0, 2, "{target:?}: two attempts");
        assert_eq!(
            effects(&q).await,
            [(i64::try_from(id.0).unwrap(), 1)],
            "{target:?}"
        );
        second.signal("TERM");
        assert!(second.exit(Duration::from_secs(10)).await.success());
    }
}

/// SIGTERM with a job that would outlive the deadline: the worker gives it
/// back before the deadline and exits; another worker takes it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_back_a_long_job_within_the_drain_budget() {
    for target in targets("jobs_term").await {
        let q = queue(&target.url).await;
        let id = add(
            &q,
            &Work {
                sleep_ms: 60_000,
                ..Work::new(1)
            },
            Options::new(),
        )
        .await;
        // Deadline 3 s, reserve 0.5 s: given back at about 1.5 s to 2 s.
        let mut first = Process::start(&target.url, 30_000, 3000, 1);
        eventually(
            Duration::from_secs(20),
            "the worker works on the job",
            || async { started(&q, id).await > 0 },
        )
        .await;
        let termed = Instant::now();
        first.signal("TERM");
        let status = first.exit(Duration::from_secs(10)).await;
        let took = termed.elapsed();
        // Exit 0 is the deadline kept (an overrun is a forced exit, 124);
        // the job was worked on until near the give-back time, not dropped
        // at once, and not held for its 60 s. The upper bound leaves room
        // for a loaded machine to reap the process.
        assert!(status.success(), "{target:?}: {status}");
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_secs(6),
            "{target:?}: exited {took:?} after SIGTERM"
        );
        assert_eq!(row(&q, id).await, (0, "queued".into(), None), "{target:?}");
        // Due at once, not after the 30 s lease.
        let next = q.claim("next", 1, Duration::from_secs(30)).await.unwrap();
        assert_eq!(next.len(), 1, "{target:?}");
    }
}

/// Eight workers on 10,000 jobs, two of them killed on the way: every job
/// done, every effect landed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_workers_on_ten_thousand_jobs_lose_none_and_double_none() {
    const JOBS: i64 = 10_000;
    for target in targets("jobs_fleet").await {
        let q = queue(&target.url).await;
        let mut tx = q.pool().begin().await.unwrap();
        for n in 0..JOBS {
            let _ = q
                .enqueue_in(&mut tx, &Work::new(n), Options::new())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let started = Instant::now();
        let mut workers: Vec<Process> = (0..8)
            .map(|_| Process::start(&target.url, 2000, 10_000, 4))
            .collect();
        eventually(Duration::from_secs(300), "a third done", || async {
            q.counts().await.unwrap().done >= 3000
        })
        .await;
        for worker in &mut workers[..2] {
            worker.signal("KILL");
        }
        eventually(Duration::from_secs(300), "every job done", || async {
            q.counts().await.unwrap().done == 10_000
        })
        .await;
        let took = started.elapsed();
        eprintln!("{target:?}: 10,000 jobs by 8 workers (2 killed) in {took:?}");
        let landed = effects(&q).await;
        assert_eq!(landed.len(), 10_000, "{target:?}: every job's effect");
        let doubled: Vec<_> = landed.iter().filter(|(_, n)| *n != 1).collect();
        assert!(
            doubled.is_empty(),
            "{target:?}: doubled effects {doubled:?}"
        );
        for worker in &mut workers[2..] {
            worker.signal("TERM");
            assert!(
                worker.exit(Duration::from_secs(15)).await.success(),
                "{target:?}"
            );
        }
    }
}
