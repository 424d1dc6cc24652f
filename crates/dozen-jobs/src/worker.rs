//! [`Worker`]: the runtime that takes jobs from a [`Backend`] and runs their
//! handlers: a concurrency limit, a lease renewed by a heartbeat, retries
//! with backoff, dead jobs, panics as failures, and shutdown through
//! dozen-shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dozen_shutdown::Shutdown;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::backend::{Backend, Claimed};
use crate::context::JobContext;
use crate::error::{BoxError, Error};
use crate::job::Job;
use crate::settings::JobsSettings;

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
type Handler = dyn Fn(JobContext, &str) -> BoxFuture + Send + Sync;

/// The worker runtime: handlers by job name, run against one backend.
///
/// ```no_run
/// # async fn run(queue: impl dozen_jobs::Backend, shutdown: dozen_shutdown::Shutdown) {
/// use dozen_jobs::{Job, JobContext, Worker};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct SendReminder { todo_id: i64 }
/// impl Job for SendReminder { const NAME: &'static str = "send-reminder"; }
///
/// Worker::new(queue)
///     .handle(|ctx: JobContext, job: SendReminder| async move {
///         tracing::info!(todo_id = job.todo_id, attempt = ctx.attempt(), "reminding");
///         Ok::<_, std::io::Error>(())
///     })
///     .run(&shutdown)
///     .await;
/// # }
/// ```
#[must_use]
pub struct Worker<B> {
    backend: Arc<B>,
    handlers: HashMap<&'static str, Arc<Handler>>,
    settings: JobsSettings,
    concurrency: Option<usize>,
    lease: Option<Duration>,
    poll_interval: Option<Duration>,
    owner: Option<String>,
    reserve: Option<Duration>,
}

impl<B> std::fmt::Debug for Worker<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.handlers.keys().collect();
        names.sort();
        f.debug_struct("Worker")
            .field("handlers", &names)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> Worker<B> {
    /// A worker on `backend`, with the default [`JobsSettings`] and no
    /// handler yet.
    pub fn new(backend: B) -> Self {
        Self::from_arc(Arc::new(backend))
    }

    /// A worker on a shared `backend` (the one the process also enqueues
    /// with).
    pub fn from_arc(backend: Arc<B>) -> Self {
        Self {
            backend,
            handlers: HashMap::new(),
            settings: JobsSettings::default(),
            concurrency: None,
            lease: None,
            poll_interval: None,
            owner: None,
            reserve: None,
        }
    }

    /// The backend the worker takes jobs from (for the `jobs` admin
    /// commands, or to enqueue on the same one).
    pub fn backend(&self) -> &Arc<B> {
        &self.backend
    }

    /// Takes `settings` (loaded from the environment), replacing those of
    /// an earlier call; a `with_*` override wins whichever is called first.
    pub fn settings(mut self, settings: JobsSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Runs at most `n` jobs at once (at least 1, at most
    /// [`MAX_CONCURRENCY`](crate::MAX_CONCURRENCY), as `JOBS_CONCURRENCY`).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Claims each job for `lease`, renewed every third of it. Held between 10 ms (short
    /// leases are for tests: one shorter than a heartbeat's round trip to the store lets
    /// another worker take a running job) and 1 h, the most `JOBS_LEASE` takes.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Waits `interval` before looking again when no job is due.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// Leases under `owner` instead of an id made from `HOSTNAME`, the pid
    /// and random bits ([`owner_id`](crate::owner_id)). It must be unique to
    /// the process; the SQL backend stores it with each claim's number, in
    /// at most 128 bytes, and refuses an `owner` longer than 107.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Keeps `reserve` of the shutdown deadline for what runs after the
    /// worker: a job still running when only that (and a margin) is left is
    /// given back, and a claim still waiting on the backend then is let go.
    ///
    /// By default the reserve is the shutdown's
    /// [`teardown_reserve`](dozen_shutdown::Shutdown::teardown_reserve), the
    /// budgets of the teardown hooks registered (closing pools, flushing
    /// logs), read when draining starts; set it for teardown work that is
    /// not a hook.
    pub fn with_reserve(mut self, reserve: Duration) -> Self {
        self.reserve = Some(reserve);
        self
    }

    /// Runs `handler` for jobs of type `J`. A handler's error, or its panic,
    /// is a failed attempt; the job is retried after a backoff, and is dead
    /// once out of attempts.
    ///
    /// Delivery is at least once: a job whose worker dies, or loses its
    /// lease, runs again. Make the handler idempotent, or (on SQL) settle the
    /// job in the transaction of its effect with `complete_in`.
    pub fn handle<J, F, Fut, E>(mut self, handler: F) -> Self
    where
        J: Job,
        F: Fn(JobContext, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let handler = Arc::new(handler);
        let erased = move |ctx: JobContext, payload: &str| -> BoxFuture {
            match serde_json::from_str::<J>(payload) {
                Ok(job) => {
                    let run = handler(ctx, job);
                    Box::pin(async move { run.await.map_err(Into::into) })
                }
                Err(e) => {
                    let error = format!("cannot decode the payload of job {}: {e}", J::NAME);
                    Box::pin(async move { Err(error.into()) })
                }
            }
        };
        self.handlers.insert(J::NAME, Arc::new(erased));
        self
    }

    /// Takes and runs jobs until draining starts, then finishes the jobs in
    /// hand: each one that would outlive the shutdown deadline (less the
    /// reserve) is given back, so another worker takes it at once. A claim
    /// still on its way back from the backend when draining starts is
    /// finished, and its jobs given back unstarted rather than left leased
    /// to a worker that is leaving. Returns when none is left.
    ///
    /// Failures of the backend while taking jobs are logged and retried
    /// (the database restarting is no reason to stop a worker).
    pub async fn run(self, shutdown: &Shutdown) {
        let settings = Arc::new(self.resolve());
        let backend = self.backend;
        let handlers = Arc::new(self.handlers);
        let owner: Arc<str> = Arc::from(settings.owner.as_str());
        tracing::info!(
            owner = %owner,
            concurrency = settings.concurrency,
            lease = ?settings.lease,
            jobs = ?sorted(&handlers),
            "taking jobs"
        );
        let mut draining = std::pin::pin!(shutdown.draining());
        let mut running = JoinSet::new();
        loop {
            while running.try_join_next().is_some() {}
            let free = settings.concurrency.saturating_sub(running.len());
            if free == 0 {
                tokio::select! {
                    biased;
                    () = &mut draining => break,
                    _ = running.join_next() => continue,
                }
            }
            // The lease of what this claim takes runs from no later than now.
            let asked = Instant::now();
            let claim = backend.claim(&owner, free, settings.lease);
            let mut claim = std::pin::pin!(claim);
            let claimed = tokio::select! {
                biased;
                claimed = &mut claim => claimed,
                () = &mut draining => {
                    // The database may already have given this claim its
                    // jobs: dropping it would strand them until their lease
                    // runs out. Let it finish and give them straight back.
                    give_back_claim(&*backend, claim, shutdown, settings.reserve).await;
                    break;
                }
            };
            let idle = match claimed {
                Ok(jobs) => {
                    let full = jobs.len() == free;
                    for job in jobs {
                        let run = run_one(
                            Arc::clone(&backend),
                            job,
                            asked,
                            Arc::clone(&handlers),
                            Arc::clone(&settings),
                            shutdown.clone(),
                        );
                        running.spawn(run);
                    }
                    if full {
                        continue;
                    }
                    settings.poll_interval
                }
                Err(error) => {
                    tracing::warn!(error = %error, "cannot claim jobs; trying again");
                    settings.poll_interval.max(Duration::from_secs(1))
                }
            };
            // Idle until the poll interval passes or the backend says a job
            // was enqueued.
            tokio::select! {
                biased;
                () = &mut draining => break,
                () = backend.idle(idle) => {}
            }
        }
        tracing::info!(in_hand = running.len(), "taking no more jobs");
        while running.join_next().await.is_some() {}
    }

    fn resolve(&self) -> Resolved {
        let s = &self.settings;
        Resolved {
            // The settings' fields are public and the overrides unchecked: both are held to
            // what the runtime can keep (a lease too long to add to an instant would lapse
            // at once).
            concurrency: self
                .concurrency
                .unwrap_or(s.jobs_concurrency)
                .clamp(1, crate::MAX_CONCURRENCY),
            lease: self
                .lease
                .unwrap_or(s.jobs_lease)
                .clamp(Duration::from_millis(10), MAX_LEASE),
            poll_interval: self
                .poll_interval
                .unwrap_or(s.jobs_poll_interval)
                .max(Duration::from_millis(1)),
            backoff_min: s.jobs_backoff_min,
            backoff_max: s.jobs_backoff_max,
            owner: self
                .owner
                .clone()
                .unwrap_or_else(|| crate::owner::owner_id(s.hostname.as_deref())),
            reserve: self.reserve,
        }
    }
}

fn sorted(handlers: &HashMap<&'static str, Arc<Handler>>) -> Vec<&'static str> {
    let mut names: Vec<_> = handlers.keys().copied().collect();
    names.sort_unstable();
    names
}

/// The longest lease, as `JOBS_LEASE` allows.
const MAX_LEASE: Duration = Duration::from_secs(3600);

/// The settings and overrides, resolved once per run.
#[derive(Debug)]
struct Resolved {
    concurrency: usize,
    lease: Duration,
    poll_interval: Duration,
    backoff_min: Duration,
    backoff_max: Duration,
    owner: String,
    reserve: Option<Duration>,
}

/// Runs one claimed job to its settlement: done, retried, dead, given back,
/// or abandoned when the lease is lost.
async fn run_one<B: Backend>(
    backend: Arc<B>,
    job: Claimed<B::Lease>,
    asked: Instant,
    handlers: Arc<HashMap<&'static str, Arc<Handler>>>,
    settings: Arc<Resolved>,
    shutdown: Shutdown,
) {
    let span = job_span(&job);
    async move {
        if job.attempt > job.max_attempts {
            // Earlier attempts ended with their worker gone (a crash, an
            // OOM kill): do not crash another.
            let error = format!(
                "out of attempts: {} of {} started, the last ones without an outcome (the worker died or lost its lease)",
                job.attempt - 1,
                job.max_attempts
            );
            settle_dead(&*backend, &job, &error).await;
            return;
        }
        tracing::info!("job claimed");
        let ctx = JobContext::leased(
            job.id,
            &job.name,
            job.attempt,
            job.max_attempts,
            Arc::clone(&job.owner),
        );
        // The handler is called on the job's own task: one that panics
        // before it returns its future (or while decoding) is a failed
        // attempt like one that panics while it runs, not a lost job.
        let handler = handlers.get(job.name.as_str()).cloned();
        let (work_ctx, payload, name) = (ctx.clone(), job.payload.clone(), job.name.clone());
        let work = async move {
            match handler {
                Some(handler) => handler(work_ctx, &payload).await,
                None => Err(format!("no handler for job {name} in this worker").into()),
            }
        };
        let started = Instant::now();
        let mut work = tokio::spawn(work.in_current_span());
        let mut heartbeat = tokio::time::interval(settings.lease / 3);
        heartbeat.tick().await;
        let give_back = give_back_time(&shutdown, settings.reserve);
        let mut give_back = std::pin::pin!(give_back);
        let mut lease = HeldLease::new(asked, settings.lease);
        loop {
            tokio::select! {
                outcome = &mut work => {
                    let outcome = match outcome {
                        Ok(result) => result.map_err(|e| e.to_string()),
                        Err(join) => Err(panic_message(join)),
                    }
                    .map_err(|error| without_secrets(&error));
                    settle(&*backend, &job, &ctx, outcome, started, &settings).await;
                    return;
                }
                _ = heartbeat.tick() => {
                    let sent = Instant::now();
                    // A heartbeat that has not answered by the time the lease would run out
                    // cannot keep it. Once the handler has settled the job in its own
                    // transaction (`complete_in`), a heartbeat waits for the row until the
                    // commit and then finds the job done: neither is a lost lease, and the
                    // handler may have work after its commit. Heartbeats go on meanwhile,
                    // so that a settlement rolled back keeps its lease.
                    let wait = if ctx.is_settled() { settings.lease } else { lease.left(sent) };
                    let answer =
                        tokio::time::timeout(wait, backend.heartbeat(&job, settings.lease)).await;
                    match answer {
                        Ok(Ok(true)) => lease.renewed(sent),
                        _ if ctx.is_settled() => {}
                        Ok(Ok(false)) => {
                            work.abort();
                            tracing::warn!("lease lost; leaving the job to another worker");
                            return;
                        }
                        Ok(Err(error)) if !lease.lapsed(Instant::now()) => {
                            tracing::warn!(error = %error, "heartbeat failed; trying again");
                        }
                        Ok(Err(_)) | Err(_) => {
                            work.abort();
                            lease_lapsed(&settings);
                            return;
                        }
                    }
                }
                // No heartbeat got through for most of the lease: another worker may take
                // the job soon, and two attempts must not run at once.
                () = tokio::time::sleep_until(lease.stop_at().into()), if !ctx.is_settled() => {
                    work.abort();
                    lease_lapsed(&settings);
                    return;
                }
                () = &mut give_back => {
                    work.abort();
                    give_back_one(&*backend, &job, "job given back before the shutdown deadline").await;
                    return;
                }
            }
        }
    }
    .instrument(span)
    .await;
}

/// How long this worker may assume it still holds a job's lease: the lease as the store
/// last set it, counted from before the request that set it (the store starts it later,
/// never sooner), less a sixth kept in hand, since the timers of a loaded machine fire late
/// and another worker claims the job the moment the store's lease runs out.
struct HeldLease {
    lease: Duration,
    until: Instant,
}

impl HeldLease {
    fn new(asked: Instant, lease: Duration) -> Self {
        let mut held = Self {
            lease,
            until: asked,
        };
        held.renewed(asked);
        held
    }

    /// A heartbeat sent at `sent` renewed the lease.
    fn renewed(&mut self, sent: Instant) {
        let kept = self.lease - self.lease / 6;
        self.until = sent.checked_add(kept).unwrap_or(self.until);
    }

    /// When to stop: the lease may run out soon after.
    fn stop_at(&self) -> Instant {
        self.until
    }

    fn lapsed(&self, now: Instant) -> bool {
        now >= self.until
    }

    /// How long a heartbeat sent at `now` may take.
    fn left(&self, now: Instant) -> Duration {
        self.until.saturating_duration_since(now)
    }
}

/// Logs that the attempt was stopped because its lease was not renewed in time.
fn lease_lapsed(settings: &Resolved) {
    tracing::warn!(
        lease_ms = settings.lease.as_millis() as u64,
        "no heartbeat got through before the lease would run out; stopped the attempt and left the job to another worker"
    );
}

/// Finishes a claim that was in flight when draining started and gives back
/// every job it took, unstarted. The claim gets the time a running job would
/// ([`give_back_window`]): one stuck on a lock must not eat the `reserve` kept
/// for teardown. A claim cut short leaves its jobs, if it took any, to run
/// out their lease.
async fn give_back_claim<B: Backend>(
    backend: &B,
    claim: impl Future<Output = Result<Vec<Claimed<B::Lease>>, Error>>,
    shutdown: &Shutdown,
    reserve: Option<Duration>,
) {
    let window = give_back_window(shutdown, reserve);
    let Ok(Ok(jobs)) = tokio::time::timeout(window, claim).await else {
        tracing::warn!(
            waited = ?window,
            "the claim in flight as draining started did not return in time; any job it took waits out its lease"
        );
        return;
    };
    for job in jobs {
        give_back_one(backend, &job, "job claimed as draining started; given back")
            .instrument(job_span(&job))
            .await;
    }
}

/// The span of everything logged about `job`.
fn job_span<L>(job: &Claimed<L>) -> tracing::Span {
    tracing::info_span!(
        "job",
        job_id = job.id.0,
        job = %job.name,
        attempt = job.attempt
    )
}

/// Gives `job` back unstarted, logging `given` once it is; when it cannot be, its lease runs
/// out and another worker takes it then.
async fn give_back_one<B: Backend>(backend: &B, job: &Claimed<B::Lease>, given: &str) {
    match backend.give_back(job).await {
        Ok(_) => tracing::info!("{given}"),
        Err(error) => {
            tracing::warn!(error = %error, "cannot give the job back; its lease will run out");
        }
    }
}

/// Resolves when a job still running should be given back: once draining
/// has started, after [`give_back_window`].
async fn give_back_time(shutdown: &Shutdown, reserve: Option<Duration>) {
    shutdown.draining().await;
    tokio::time::sleep(give_back_window(shutdown, reserve)).await;
}

/// How long work in hand may go on once draining has started: up to the
/// deadline less `reserve` (kept for teardown after the worker; by default
/// the budgets of the shutdown's teardown hooks), less a
/// margin (1 s, or half of what is left) for giving the work back.
fn give_back_window(shutdown: &Shutdown, reserve: Option<Duration>) -> Duration {
    let reserve = reserve.unwrap_or_else(|| shutdown.teardown_reserve());
    // The trigger time is recorded before draining resolves, so `remaining`
    // is known here; were it not, the whole timeout is the safe reading,
    // never zero (which would give the job back at once).
    let left = shutdown
        .remaining()
        .unwrap_or_else(|| shutdown.timeout())
        .saturating_sub(reserve);
    left.saturating_sub(Duration::from_secs(1).min(left / 2))
}

/// A handler's error as it is stored with the job and logged: URL
/// passwords and secret query values hidden, registered secrets masked
/// (`jobs dead` prints it, and it outlives every log line).
fn without_secrets(error: &str) -> String {
    let shown = dozen_redact::redact_urls(error);
    dozen_redact::secrets().mask(&shown).into_owned()
}

fn panic_message(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return "the handler was cancelled".to_owned();
    }
    let panic = join.into_panic();
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned());
    format!("the handler panicked: {message}")
}

/// How many times `complete` is called when the store fails it fast.
const COMPLETE_TRIES: u32 = 3;
/// The pause before the second call of `complete`; the next one is four
/// times longer.
const COMPLETE_PAUSE: Duration = Duration::from_millis(50);
/// No call of `complete` starts later than this after the first: a store
/// that is down, not blinking, is not waited for, so that settling stays far
/// within the lease and the shutdown's reserve.
const COMPLETE_RETRY_WINDOW: Duration = Duration::from_millis(500);

/// `backend.complete(job)`, called again (up to [`COMPLETE_TRIES`] times in
/// all, after a short pause) while it fails within [`COMPLETE_RETRY_WINDOW`]:
/// a database that blinked (a failover, a connection reset) does not make a
/// finished job run again once its lease runs out. Only `complete` is called
/// again, since a second call is harmless: when the first one took effect
/// and only its answer was lost, the second finds the job done (SQL) or
/// acknowledges it again (NATS). A second `retry` could release an attempt
/// that another slot has claimed since, and a second `kill` would publish a
/// second dead letter on NATS.
async fn complete_with_retries<B: Backend>(
    backend: &B,
    job: &Claimed<B::Lease>,
) -> Result<bool, Error> {
    let begun = Instant::now();
    let mut pause = COMPLETE_PAUSE;
    let mut calls = 1;
    loop {
        match backend.complete(job).await {
            Err(error) if calls < COMPLETE_TRIES && begun.elapsed() < COMPLETE_RETRY_WINDOW => {
                tracing::debug!(error = %error, calls, "cannot mark the job done yet; trying again");
                tokio::time::sleep(pause).await;
                pause *= 4;
                calls += 1;
            }
            result => return result,
        }
    }
}

/// Settles a job by its handler's outcome.
async fn settle<B: Backend>(
    backend: &B,
    job: &Claimed<B::Lease>,
    ctx: &JobContext,
    outcome: Result<(), String>,
    started: Instant,
    settings: &Resolved,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(()) if ctx.is_settled() => tracing::info!(elapsed_ms, "job done"),
        Ok(()) => match complete_with_retries(backend, job).await {
            Ok(true) => tracing::info!(elapsed_ms, "job done"),
            Ok(false) => tracing::warn!(
                elapsed_ms,
                "job done, but its lease had been lost: another worker may repeat it"
            ),
            Err(error) => tracing::warn!(
                error = %error,
                "job done, but cannot mark it so; it runs again when its lease runs out"
            ),
        },
        Err(error) if job.attempt >= job.max_attempts => {
            settle_dead(backend, job, &error).await;
        }
        Err(error) => {
            let delay =
                crate::backoff::delay(job.attempt, settings.backoff_min, settings.backoff_max);
            match backend.retry(job, delay, &error).await {
                Ok(_) => tracing::warn!(
                    %error,
                    retry_in_ms = delay.as_millis() as u64,
                    "job failed; retrying"
                ),
                Err(store) => tracing::warn!(
                    %error,
                    store_error = %store,
                    "job failed, and cannot schedule its retry; it runs again when its lease runs out"
                ),
            }
        }
    }
}

async fn settle_dead<B: Backend>(backend: &B, job: &Claimed<B::Lease>, error: &str) {
    match backend.kill(job, error).await {
        Ok(_) => tracing::error!(
            %error,
            attempts = job.max_attempts,
            "job dead: out of attempts; kept for inspection (jobs dead, jobs retry)"
        ),
        Err(store) => tracing::warn!(
            %error,
            store_error = %store,
            "job out of attempts, and cannot mark it dead; it is tried again when its lease runs out"
        ),
    }
}
