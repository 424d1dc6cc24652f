//! dozen-jobs against apalis's PostgreSQL backend: throughput, and the latency from
//! enqueue to the start of the handler on an idle worker.
//!
//! Group `jobs`, on PostgreSQL from `TEST_POSTGRES_URL` (skipped with a notice when it is
//! unset), in a database of its own created for the run and dropped at its end. Both
//! subjects get the same configuration:
//!
//! - a worker of 8 concurrent jobs, polling every 50 ms when idle and woken by PostgreSQL's
//!   `LISTEN`/`NOTIFY` on enqueue (dozen-jobs by its insert trigger, apalis by
//!   `with_pubsub`), on a pool of its own of 10 connections, started outside the timing;
//! - producers on another pool of 8 connections (a web process's, as it were), enqueuing
//!   one job per transaction: `SqlQueue::enqueue`, one `INSERT`, and apalis's `push`, one
//!   `INSERT` between `BEGIN` and `COMMIT`;
//! - a handler that does nothing but record that it ran; each library's own defaults for
//!   the rest (leases and heartbeats, apalis's fetch batch of 10 and its batched acks).
//!
//! Benchmarks:
//!
//! - `throughput/<subject>`: one iteration enqueues N jobs (1,000; 200 in the CI short
//!   mode) from 8 concurrent producers while the worker takes them, and ends when the
//!   handler has run for all N (criterion prints jobs per second).
//! - `latency/<subject>`: one iteration enqueues one job on an idle worker and measures
//!   the time from the start of the enqueue to the start of the handler. A random pause
//!   of 100 to 150 ms before each, outside the timing, keeps the worker idle and spreads
//!   the enqueues over the poll timer's phase.
//!
//! **Interleaved.** The load of the shared machines moves from one minute to the next,
//! and a latency measured while a neighbour compiles is three or four times one measured
//! in a quiet moment. Measured one subject after the other, the ratio followed the load
//! (0.3 to 2.0 over three runs). So both workers run side by side (the one not measured
//! idle, polling) and the iterations alternate between the subjects, the first of each
//! pair alternating too; criterion then gets each subject's durations, one per sample,
//! after a warm-up of one: 10 rounds of throughput, 100 latencies (30 in the CI short
//! mode). It warns that it cannot complete the samples in its target time: by design, it
//! only does the statistics.
//!
//! The CI short mode is `DOZEN_BENCH_SHORT=1` (benches/ci.sh sets it).
//!
//! Run with: TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench -p dozen-benches --bench jobs

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apalis::prelude::{
    BackendExt as _, BoxDynError, Data, TaskSink as _, WorkerBuilder, WorkerBuilderExt as _,
    WorkerContext, WorkerError,
};
use apalis_postgres::PostgresStorage;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use dozen_benches::RunDatabase;
use dozen_jobs::sql::{Dialect, SqlQueue};
use dozen_jobs::{Backend as _, JobContext, Options, Worker};
use dozen_shutdown::Shutdown;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How often an idle worker looks for due jobs without a notification, for both.
const POLL: Duration = Duration::from_millis(50);
/// Jobs a worker runs at once.
const CONCURRENCY: usize = 8;
/// Concurrent producers in a throughput round.
const PRODUCERS: u64 = 8;
/// Connections of the workers' pools and of the producers' pools.
const WORKER_CONNECTIONS: u32 = 10;
const PRODUCER_CONNECTIONS: u32 = 8;

/// The job: a number, as JSON for both.
#[derive(Clone, Serialize, Deserialize)]
struct Ping {
    n: u64,
}

impl dozen_jobs::Job for Ping {
    const NAME: &'static str = "ping";
}

/// The sizes of a run: full, or the CI short mode.
struct Mode {
    /// Jobs per throughput round.
    round: u64,
    /// Latencies measured per subject.
    latencies: usize,
}

impl Mode {
    fn from_env() -> Self {
        if std::env::var_os("DOZEN_BENCH_SHORT").is_some_and(|v| v == "1") {
            Self {
                round: 200,
                latencies: 30,
            }
        } else {
            Self {
                round: 1000,
                latencies: 100,
            }
        }
    }
}

/// What the handlers report: the jobs left in the round (the last one wakes the
/// benchmark) and when the latest handler started.
#[derive(Default)]
struct Probe {
    left: AtomicUsize,
    all: Notify,
    started: Mutex<Option<Instant>>,
}

impl Probe {
    /// Called first thing by every handler.
    fn ran(&self) {
        let now = Instant::now();
        if let Ok(mut started) = self.started.lock() {
            *started = Some(now);
        }
        // A job run twice (at least once delivery) does not count twice.
        if self
            .left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            == Ok(1)
        {
            self.all.notify_one();
        }
    }

    fn expect(&self, jobs: u64) {
        self.left.store(
            usize::try_from(jobs).expect("a round fits"),
            Ordering::Release,
        );
    }

    async fn all_ran(&self) {
        self.all.notified().await;
    }

    fn started(&self) -> Instant {
        self.started
            .lock()
            .ok()
            .and_then(|s| *s)
            .expect("a handler ran")
    }
}

#[derive(Clone, Copy)]
enum Subject {
    Dozen,
    Apalis,
}

impl Subject {
    fn name(self) -> &'static str {
        match self {
            Self::Dozen => "dozen-jobs",
            Self::Apalis => "apalis",
        }
    }
}

/// Both, in the order of their benchmarks.
const SUBJECTS: [Subject; 2] = [Subject::Dozen, Subject::Apalis];

/// What one iteration measures.
#[derive(Clone, Copy)]
enum Measure {
    /// Enqueuing this many jobs while the worker takes them, until all have started.
    Throughput(u64),
    /// From the enqueue of one job on an idle worker to the start of its handler.
    Latency,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Self::Throughput(_) => "throughput",
            Self::Latency => "latency",
        }
    }

    fn jobs(self) -> u64 {
        match self {
            Self::Throughput(jobs) => jobs,
            Self::Latency => 1,
        }
    }
}

/// A database of its own for the run, with both libraries' tables, dropped at the end.
struct Bench {
    db: RunDatabase,
    /// Tells apart the queues and worker names of successive benchmarks.
    started: u32,
}

impl Bench {
    async fn new(url: &str) -> Self {
        let bench = Self {
            db: RunDatabase::create(url, "dozen_bench_jobs").await,
            started: 0,
        };
        let pool = bench.pool(1).await;
        PostgresStorage::setup(&pool).await.expect("apalis setup");
        let jobs = dozen_jobs::sql::migrations(Dialect::Postgres, 1).expect("migrations");
        dozen_migrate::Migrator::from_migrations(jobs)
            .expect("a valid set")
            .apply(pool.clone())
            .await
            .expect("dozen-jobs tables");
        pool.close().await;
        bench
    }

    async fn pool(&self, connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(self.db.options().clone())
            .await
            .expect("pool")
    }
}

/// Enqueues jobs, one per transaction.
#[derive(Clone)]
enum Producer {
    Dozen(SqlQueue<Postgres>),
    Apalis(PostgresStorage<Ping>),
}

impl Producer {
    async fn enqueue(&mut self, n: u64) {
        let job = Ping { n };
        match self {
            Self::Dozen(queue) => {
                let enqueued = queue.enqueue(&job, Options::new()).await.expect("enqueue");
                assert!(
                    enqueued.id().is_some(),
                    "a job without a unique key is created"
                );
            }
            Self::Apalis(storage) => storage.push(job).await.expect("push"),
        }
    }
}

/// A worker taking jobs until stopped, and a producer for its queue.
struct Running {
    producer: Producer,
    stop: Stop,
    pools: [PgPool; 2],
}

enum Stop {
    Dozen(Shutdown, JoinHandle<()>),
    Apalis(WorkerContext, JoinHandle<Result<(), WorkerError>>),
}

async fn apalis_ran(_job: Ping, probe: Data<Arc<Probe>>) -> Result<(), BoxDynError> {
    probe.ran();
    Ok(())
}

impl Running {
    async fn start(bench: &mut Bench, subject: Subject, probe: &Arc<Probe>) -> Self {
        bench.started += 1;
        let name = format!("bench-{}-{}", std::process::id(), bench.started);
        let workers = bench.pool(WORKER_CONNECTIONS).await;
        let producers = bench.pool(PRODUCER_CONNECTIONS).await;
        let (producer, stop) = match subject {
            Subject::Dozen => {
                let shutdown = Shutdown::builder()
                    .with_signals(false)
                    .with_watchdog(false)
                    .with_delay(Duration::ZERO)
                    .build()
                    .expect("a shutdown");
                let probe = Arc::clone(probe);
                let worker = Worker::new(SqlQueue::<Postgres>::new(workers.clone()))
                    .with_concurrency(CONCURRENCY)
                    .with_poll_interval(POLL)
                    .handle(move |_: JobContext, _: Ping| {
                        let probe = Arc::clone(&probe);
                        async move {
                            probe.ran();
                            Ok::<_, std::io::Error>(())
                        }
                    });
                let stop = shutdown.clone();
                let run = tokio::spawn(async move { worker.run(&stop).await });
                (
                    Producer::Dozen(SqlQueue::<Postgres>::new(producers.clone())),
                    Stop::Dozen(shutdown, run),
                )
            }
            Subject::Apalis => {
                let config = apalis_postgres::Config::default().queue(&name);
                let backend = PostgresStorage::<Ping>::new(&workers)
                    .with_config(config.clone())
                    .with_pubsub()
                    .poll_with_interval(POLL);
                let ctx = WorkerContext::new(&name);
                let worker = WorkerBuilder::new(&ctx)
                    .backend(backend)
                    .concurrency(CONCURRENCY)
                    .data(Arc::clone(probe))
                    .build(apalis_ran);
                let run = tokio::spawn(worker.run());
                (
                    Producer::Apalis(PostgresStorage::new(&producers).with_config(config)),
                    Stop::Apalis(ctx, run),
                )
            }
        };
        Self {
            producer,
            stop,
            pools: [workers, producers],
        }
    }

    async fn measure(&mut self, probe: &Probe, measure: Measure) -> Duration {
        match measure {
            Measure::Throughput(jobs) => self.round(probe, jobs).await,
            Measure::Latency => self.latency(probe).await,
        }
    }

    /// Enqueues `jobs` from [`PRODUCERS`] tasks and waits until every one has started;
    /// the time of the whole.
    async fn round(&self, probe: &Probe, jobs: u64) -> Duration {
        probe.expect(jobs);
        let start = Instant::now();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let mut producer = self.producer.clone();
                tokio::spawn(async move {
                    for n in (p..jobs).step_by(usize::try_from(PRODUCERS).expect("small")) {
                        producer.enqueue(n).await;
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.await.expect("a producer");
        }
        probe.all_ran().await;
        start.elapsed()
    }

    /// After a pause, enqueues one job and answers how long it took its handler to
    /// start.
    async fn latency(&mut self, probe: &Probe) -> Duration {
        tokio::time::sleep(Duration::from_millis(fastrand::u64(100..150))).await;
        probe.expect(1);
        let start = Instant::now();
        self.producer.enqueue(0).await;
        probe.all_ran().await;
        probe.started() - start
    }

    async fn stop(self) {
        match self.stop {
            Stop::Dozen(shutdown, run) => {
                shutdown.trigger();
                run.await.expect("the dozen-jobs worker");
            }
            Stop::Apalis(ctx, run) => {
                ctx.stop().expect("stop the apalis worker");
                run.await
                    .expect("the apalis worker")
                    .expect("the apalis worker's run");
            }
        }
        for pool in self.pools {
            pool.close().await;
        }
    }
}

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        println!("jobs: skipped, set TEST_POSTGRES_URL to run this group");
        return;
    };
    let mode = Mode::from_env();
    // Two worker threads: the machines that run this have two cores.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut bench = rt.block_on(Bench::new(&url));
    let mut group = c.benchmark_group("jobs");
    group.sampling_mode(SamplingMode::Flat);
    // One iteration per sample after one of warm-up (the shortest times criterion takes).
    group.warm_up_time(Duration::from_nanos(1));
    group.measurement_time(Duration::from_nanos(1));
    for (measure, samples) in [
        (Measure::Throughput(mode.round), 10),
        (Measure::Latency, mode.latencies),
    ] {
        let measured = rt.block_on(interleaved(&mut bench, measure, samples + 1));
        group.sample_size(samples);
        group.throughput(Throughput::Elements(measure.jobs()));
        for (subject, durations) in SUBJECTS.into_iter().zip(measured) {
            let mut durations = durations.into_iter();
            group.bench_function(format!("{}/{}", measure.name(), subject.name()), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| durations.next().expect("a duration per iteration"))
                        .sum()
                });
            });
        }
    }
    group.finish();
    rt.block_on(bench.db.drop_database());
}

/// Measures `rounds` iterations of `measure` for each subject, alternating, with both
/// workers running; the durations in the order of [`SUBJECTS`].
async fn interleaved(bench: &mut Bench, measure: Measure, rounds: usize) -> [Vec<Duration>; 2] {
    let mut running = Vec::new();
    for subject in SUBJECTS {
        let probe = Arc::new(Probe::default());
        let worker = Running::start(bench, subject, &probe).await;
        running.push((worker, probe));
    }
    // The first round waits for the worker to start and its listener to connect.
    for (worker, probe) in &mut running {
        worker.measure(probe, measure).await;
    }
    let mut durations = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    for round in 0..rounds {
        for k in 0..2 {
            let i = (round + k) % 2;
            let (worker, probe) = &mut running[i];
            durations[i].push(worker.measure(probe, measure).await);
        }
    }
    for (worker, _) in running {
        worker.stop().await;
    }
    durations
}

criterion_group!(benches, bench);
criterion_main!(benches);
