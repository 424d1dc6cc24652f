//! The contract between the worker runtime and a queue's store: claim with a
//! lease, renew it, and settle each job once (done, retry, dead or given
//! back). The SQL and NATS backends implement it; handlers never see it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::job::{Enqueued, Job, JobId, Options};

/// A job a worker holds a lease on.
#[derive(Debug)]
pub struct Claimed<L> {
    /// The job's id.
    pub id: JobId,
    /// Its name ([`Job::NAME`]).
    pub name: String,
    /// Its payload, as JSON text.
    pub payload: String,
    /// This attempt, from 1.
    pub attempt: u32,
    /// The attempts it has in all.
    pub max_attempts: u32,
    /// The lease owner id the job is held under: the `owner` the worker
    /// claimed it as, or an id the backend made for this one claim (the SQL
    /// backend's `{owner}/{n}`). The handler's
    /// [`JobContext::owner`](crate::JobContext::owner) reports it.
    pub owner: Arc<str>,
    /// The backend's handle on the lease.
    pub lease: L,
}

/// A queue's store, as the worker runtime and the enqueuing code use it.
///
/// Every settling method answers `false` when this worker no longer holds
/// the lease (it ran out and another worker took the job): the settlement
/// is then not applied.
pub trait Backend: Send + Sync + 'static {
    /// The backend's handle on one claimed job.
    type Lease: Send + Sync + 'static;

    /// Adds a job: `name`, its JSON `payload`, with `options` (checked by
    /// the caller).
    fn enqueue_raw(
        &self,
        name: &str,
        payload: &str,
        options: &Options,
    ) -> impl Future<Output = Result<Enqueued, Error>> + Send;

    /// Claims up to `limit` due jobs for `owner`, each for `lease`: the most
    /// urgent first (priority, then due time, then age).
    fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Claimed<Self::Lease>>, Error>> + Send;

    /// Extends the lease on `job` to `lease` from now.
    fn heartbeat(
        &self,
        job: &Claimed<Self::Lease>,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Marks `job` done.
    fn complete(
        &self,
        job: &Claimed<Self::Lease>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Records the failed attempt `error` and makes `job` due again after
    /// `delay`.
    fn retry(
        &self,
        job: &Claimed<Self::Lease>,
        delay: Duration,
        error: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Records `error` and marks `job` dead: kept for inspection and manual
    /// retry, never run again on its own.
    fn kill(
        &self,
        job: &Claimed<Self::Lease>,
        error: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Gives `job` back, unfinished, so another worker takes it at once; the
    /// attempt is not counted.
    fn give_back(
        &self,
        job: &Claimed<Self::Lease>,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// Resolves after `idle`, or sooner when a job may have become due: the
    /// worker calls it when it found nothing to claim. The default sleeps; a
    /// backend with notifications (PostgreSQL's `LISTEN`/`NOTIFY`) wakes as
    /// soon as a job is enqueued.
    fn idle(&self, idle: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(idle)
    }

    /// Enqueues `job` with `options`.
    ///
    /// # Errors
    ///
    /// The options or the payload were refused ([`ErrorKind::Invalid`]), or
    /// the store failed ([`ErrorKind::Backend`]).
    ///
    /// [`ErrorKind::Invalid`]: crate::ErrorKind::Invalid
    /// [`ErrorKind::Backend`]: crate::ErrorKind::Backend
    fn enqueue<J: Job + Sync>(
        &self,
        job: &J,
        options: Options,
    ) -> impl Future<Output = Result<Enqueued, Error>> + Send {
        async move {
            options.check(J::NAME).map_err(Error::invalid)?;
            let payload = encode(job)?;
            self.enqueue_raw(J::NAME, &payload, &options).await
        }
    }
}

/// `job` as JSON text, or an error naming the job.
pub(crate) fn encode<J: Job>(job: &J) -> Result<String, Error> {
    serde_json::to_string(job)
        .map_err(|e| Error::invalid(format!("job {}: cannot encode the payload: {e}", J::NAME)))
}

/// How many jobs are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// Waiting to run: due now, or scheduled later.
    pub pending: u64,
    /// Of those, due now.
    pub due: u64,
    /// Claimed by a worker, lease live.
    pub running: u64,
    /// Finished (kept by the SQL backend until pruned; 0 on NATS, which
    /// drops acknowledged messages).
    pub done: u64,
    /// Out of attempts, kept for inspection and manual retry.
    pub dead: u64,
}

/// A dead job, with the error of its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeadJob {
    /// Its id.
    pub id: JobId,
    /// Its name.
    pub name: String,
    /// The attempts it was given.
    pub attempts: u32,
    /// The error of its last attempt.
    pub last_error: Option<String>,
    /// Its payload, as JSON text.
    pub payload: String,
}

/// What `jobs status`, `jobs dead` and `jobs retry` need from a backend.
pub trait Admin: Send + Sync {
    /// The number of jobs in each state.
    fn counts(&self) -> impl Future<Output = Result<Counts, Error>> + Send;

    /// Up to `limit` dead jobs, the oldest first.
    fn dead(&self, limit: usize) -> impl Future<Output = Result<Vec<DeadJob>, Error>> + Send;

    /// Makes the dead job `id` pending again, with fresh attempts.
    ///
    /// An error of kind [`NotFound`](crate::ErrorKind::NotFound) when there
    /// is no dead job `id`.
    fn retry_dead(&self, id: JobId) -> impl Future<Output = Result<(), Error>> + Send;

    /// Makes every dead job pending again; answers how many.
    fn retry_all_dead(&self) -> impl Future<Output = Result<u64, Error>> + Send;
}
