//! The NATS JetStream backend: the queue in a work stream that every worker
//! pulls from through one durable consumer.
//!
//! How the contract maps onto JetStream (server 2.9 or later):
//!
//! - **Enqueue** publishes to the work stream (WorkQueue retention, file
//!   storage) and awaits the publish acknowledgement: an enqueue that
//!   answered `Ok` is stored, and survives the server's restart. A job's id
//!   is its stream sequence. Its name, attempts, unique key and run time
//!   travel in headers.
//! - **The lease is the ack wait.** The consumer's `ack_wait` is the
//!   worker's lease (the consumer is updated when a worker claims with
//!   another lease, so give every worker of a queue the same
//!   `JOBS_LEASE`), the heartbeat is an in-progress ack (`+WPI`), and a
//!   message not acknowledged within the ack wait is delivered again, to any
//!   worker. [`Backend::claim`] fetches up to `limit` messages with a
//!   `no_wait` pull request, so an idle claim answers empty at once (the
//!   worker then waits its poll interval).
//! - **Settling** awaits the server's confirmation of each acknowledgement
//!   (a double ack): `complete` is `+ACK`, `retry` a `-NAK` with the backoff
//!   as its delay, `kill` publishes the job to the dead-letter stream, then
//!   terminates (`+TERM`) the original. JetStream cannot tell a worker that
//!   its ack wait ran out, so the settling methods answer `true` whenever
//!   the server confirmed them: a worker that lost its lease is not told so,
//!   and its late `+ACK` settles the job another worker is running (which
//!   at-least-once delivery allows).
//! - **Attempts** are the message's delivery count, plus the attempts
//!   counted before the message was republished (a header). Each attempt
//!   limit is the job's own ([`Options::with_max_attempts`]), so the
//!   consumer's `max_deliver` is unlimited, and the worker sees
//!   `attempt > max_attempts` and kills the job.
//! - **Giving back** republishes the job with the same id and its attempts
//!   so far less the one given back, then acknowledges the original: a
//!   `-NAK` would do the same faster, but would count a delivery, and so an
//!   attempt, that never ran. The copy joins the back of the queue.
//! - **Schedules:** JetStream 2.9 has no delayed delivery. A job with a
//!   delay or a run time carries it in a header (Unix milliseconds, the
//!   enqueuing process's clock, not a shared one as on SQL); a worker that
//!   receives it early naks it with the time left as the delay. Once due, it
//!   is republished without its run time (same id, no attempt counted), so
//!   that the early deliveries do not count as attempts; the copy runs
//!   next.
//! - **Unique keys** live in a key-value bucket while their job is pending
//!   or running (see [`Options::with_unique_key`]).
//! - **Not on NATS:** priorities (accepted and ignored: jobs run in the
//!   order they were published or became due), the last error of a retried
//!   attempt (only a dead job's is kept), the count of done jobs (acked
//!   messages leave a WorkQueue stream), and transactional enqueue.
//!
//! [`Options::with_max_attempts`]: crate::Options::with_max_attempts
//! [`Options::with_unique_key`]: crate::Options::with_unique_key

mod connect;
mod headers;
mod settings;
mod unique;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, PullConsumer};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::{self, stream};
use futures_util::StreamExt as _;
use tokio::sync::Mutex;

/// The async-nats this backend is built on, for [`NatsQueue::new`]'s
/// JetStream context.
pub use async_nats;
pub use settings::NatsSettings;

use crate::backend::{Admin, Backend, Claimed, Counts, DeadJob};
use crate::error::Error;
use crate::job::{Enqueued, JobId, Options};
use headers::Meta;
use settings::Names;
use unique::UniqueKeys;

/// The ack wait the consumer is created with, before a worker claims with
/// its own lease: the default `JOBS_LEASE`.
const INITIAL_ACK_WAIT: Duration = Duration::from_secs(30);
/// How long a claim waits for the server's answer. A claim is a `no_wait`
/// pull request, which the server answers at once with the messages it
/// has, or with none. It sets no expiry: a 2.9 server holds a `no_wait`
/// request that has one open until it expires, so an idle claim would take
/// the expiry instead of answering at once.
const CLAIM_DEADLINE: Duration = Duration::from_secs(5);
/// The most jobs delivered and not yet settled (running, or waiting out a
/// backoff or a schedule after an early delivery).
const MAX_ACK_PENDING: i64 = 1_000_000;
/// The longest last error kept in a dead job's header.
const MAX_ERROR_LEN: usize = 4096;

/// A queue in NATS JetStream: a [`Backend`] for the worker runtime and for
/// enqueuing, and an [`Admin`] for the `jobs` commands. Cheap to clone.
///
/// The same handlers run on it as on the SQL backend: only the backend
/// given to [`Worker`](crate::Worker) changes.
#[derive(Clone)]
pub struct NatsQueue {
    inner: Arc<Inner>,
}

struct Inner {
    js: jetstream::Context,
    names: Names,
    work: stream::Stream,
    dead: stream::Stream,
    unique: UniqueKeys,
    /// The consumer, and the ack wait it has.
    consumer: Mutex<(Duration, PullConsumer)>,
}

impl std::fmt::Debug for NatsQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsQueue")
            .field("stream", &self.inner.names.stream)
            .finish_non_exhaustive()
    }
}

/// The lease of a job claimed from a [`NatsQueue`]: the delivered message,
/// through which it is acknowledged.
pub struct NatsLease {
    message: jetstream::Message,
    meta: Meta,
}

impl std::fmt::Debug for NatsLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsLease")
            .field("subject", &self.message.subject)
            .finish_non_exhaustive()
    }
}

impl NatsQueue {
    /// Connects to `settings.nats_url` and binds the queue's streams,
    /// consumer and bucket, creating the missing ones.
    ///
    /// # Errors
    ///
    /// The settings were refused ([`ErrorKind::Invalid`]), or the server
    /// could not be reached or refused ([`ErrorKind::Backend`]); the URL is
    /// shown with its credentials hidden.
    ///
    /// [`ErrorKind::Invalid`]: crate::ErrorKind::Invalid
    /// [`ErrorKind::Backend`]: crate::ErrorKind::Backend
    pub async fn connect(settings: &NatsSettings) -> Result<Self, Error> {
        Names::new(&settings.jobs_stream)?;
        let client = connect::connect(&settings.nats_url).await?;
        Self::new(jetstream::new(client), &settings.jobs_stream).await
    }

    /// The queue named `stream` on a JetStream context the app already has:
    /// binds its streams, consumer and bucket, creating the missing ones
    /// (so every process may call it at start-up).
    ///
    /// # Errors
    ///
    /// `stream` is not a valid name ([`ErrorKind::Invalid`]), or the server
    /// failed ([`ErrorKind::Backend`]).
    ///
    /// [`ErrorKind::Invalid`]: crate::ErrorKind::Invalid
    /// [`ErrorKind::Backend`]: crate::ErrorKind::Backend
    pub async fn new(js: jetstream::Context, stream: &str) -> Result<Self, Error> {
        let names = Names::new(stream)?;
        let work = js
            .get_or_create_stream(stream::Config {
                name: names.stream.clone(),
                description: Some("dozen-jobs: jobs to run".to_owned()),
                subjects: vec![names.work_subject.clone()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| Error::backend(format!("bind the jobs stream {}", names.stream), e))?;
        let dead = js
            .get_or_create_stream(stream::Config {
                name: names.dead_stream.clone(),
                description: Some("dozen-jobs: dead jobs, by job id".to_owned()),
                subjects: vec![format!("{}.>", names.dead_prefix)],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| {
                Error::backend(
                    format!("bind the dead-letter stream {}", names.dead_stream),
                    e,
                )
            })?;
        let consumer = match work
            .get_consumer::<consumer::pull::Config>(&names.consumer)
            .await
        {
            Ok(consumer) => consumer,
            Err(_) => create_consumer(&work, &names, INITIAL_ACK_WAIT).await?,
        };
        let ack_wait = consumer.cached_info().config.ack_wait;
        let unique = UniqueKeys::open(&js, &names.unique_bucket).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                js,
                names,
                work,
                dead,
                unique,
                consumer: Mutex::new((ack_wait, consumer)),
            }),
        })
    }

    /// The consumer, with `lease` as its ack wait.
    async fn consumer(&self, lease: Duration) -> Result<PullConsumer, Error> {
        let mut held = self.inner.consumer.lock().await;
        if held.0 != lease {
            let updated = create_consumer(&self.inner.work, &self.inner.names, lease).await?;
            *held = (lease, updated);
        }
        Ok(held.1.clone())
    }

    /// Publishes `payload` with `meta` to the work stream and awaits its
    /// storage; answers the stream sequence.
    async fn publish(&self, meta: &Meta, payload: bytes::Bytes, what: &str) -> Result<u64, Error> {
        let subject = self.inner.names.work_subject.clone();
        let what = format!("{what} job {}", meta.name);
        publish(&self.inner.js, subject, meta.write(), payload, &what).await
    }

    /// Acknowledges `lease`'s message with `kind`, awaiting the server's
    /// confirmation.
    async fn ack(
        &self,
        job: &Claimed<NatsLease>,
        kind: AckKind,
        what: &str,
    ) -> Result<bool, Error> {
        job.lease
            .message
            .double_ack_with(kind)
            .await
            .map_err(|e| Error::backend(format!("{what} job {}", job.id), e.to_string()))?;
        Ok(true)
    }

    /// Makes a delivered message a claimed job, or answers `None` when it is
    /// not due yet (it is then nakked until it is) or was just republished
    /// without its run time.
    async fn admit(
        &self,
        message: jetstream::Message,
        owner: &Arc<str>,
    ) -> Result<Option<Claimed<NatsLease>>, Error> {
        let info = message
            .info()
            .map_err(|e| Error::backend("claim jobs: not a JetStream message", e.to_string()))?;
        let (sequence, delivered) = (info.stream_sequence, info.delivered);
        let meta = Meta::read(message.headers.as_ref());
        let id = meta.id.unwrap_or(JobId(sequence));
        if let Some(left) = meta.early_by() {
            message
                .ack_with(AckKind::Nak(Some(left)))
                .await
                .map_err(|e| Error::backend(format!("postpone job {id}"), e.to_string()))?;
            return Ok(None);
        }
        if meta.run_at_ms.is_some() {
            // Due: the deliveries so far were early ones, not attempts.
            let copy = Meta {
                run_at_ms: None,
                id: Some(id),
                ..meta.clone()
            };
            self.publish(&copy, message.payload.clone(), "schedule")
                .await?;
            message
                .double_ack()
                .await
                .map_err(|e| Error::backend(format!("schedule job {id}"), e.to_string()))?;
            return Ok(None);
        }
        let delivered = u32::try_from(delivered.max(1)).unwrap_or(u32::MAX);
        Ok(Some(Claimed {
            id,
            name: meta.name.clone(),
            payload: String::from_utf8_lossy(&message.payload).into_owned(),
            attempt: meta.attempts_before.saturating_add(delivered),
            max_attempts: meta.max_attempts,
            owner: Arc::clone(owner),
            lease: NatsLease { message, meta },
        }))
    }
}

/// Publishes to `subject` and awaits the stream's acknowledgement;
/// answers the stream sequence.
async fn publish(
    js: &jetstream::Context,
    subject: String,
    headers: async_nats::HeaderMap,
    payload: bytes::Bytes,
    what: &str,
) -> Result<u64, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::backend(what, e.to_string());
    let ack = js
        .publish_with_headers(subject, headers, payload)
        .await
        .map_err(|e| failed(&e))?
        .await
        .map_err(|e| failed(&e))?;
    Ok(ack.sequence)
}

async fn create_consumer(
    work: &stream::Stream,
    names: &Names,
    ack_wait: Duration,
) -> Result<PullConsumer, Error> {
    work.create_consumer(consumer::pull::Config {
        durable_name: Some(names.consumer.clone()),
        description: Some("dozen-jobs: the workers".to_owned()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait,
        max_deliver: -1,
        max_ack_pending: MAX_ACK_PENDING,
        ..consumer::pull::Config::default()
    })
    .await
    .map_err(|e| Error::backend(format!("bind the consumer {}", names.consumer), e))
}

impl Backend for NatsQueue {
    type Lease = NatsLease;

    async fn enqueue_raw(
        &self,
        name: &str,
        payload: &str,
        options: &Options,
    ) -> Result<Enqueued, Error> {
        let delay = u64::try_from(options.delay_ms()).unwrap_or_default();
        let meta = Meta {
            name: name.to_owned(),
            max_attempts: options.max_attempts,
            unique_key: options.unique_key.clone(),
            run_at_ms: (delay > 0).then(|| headers::now_ms().saturating_add(delay)),
            id: None,
            attempts_before: 0,
        };
        if let Some(key) = &meta.unique_key
            && !self.inner.unique.take(key).await?
        {
            return Ok(Enqueued::Duplicate);
        }
        let payload = bytes::Bytes::copy_from_slice(payload.as_bytes());
        match self.publish(&meta, payload, "enqueue").await {
            Ok(sequence) => {
                if let Some(key) = &meta.unique_key {
                    self.inner.unique.held_by(key, JobId(sequence)).await;
                }
                Ok(Enqueued::Created(JobId(sequence)))
            }
            Err(e) => {
                // Not stored, as far as this process can tell: free the key.
                self.inner
                    .unique
                    .free_after_settling(meta.unique_key.as_deref())
                    .await;
                Err(e)
            }
        }
    }

    async fn claim(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claimed<NatsLease>>, Error> {
        let owner: Arc<str> = Arc::from(owner);
        let consumer = self.consumer(lease).await?;
        let deadline = tokio::time::Instant::now() + CLAIM_DEADLINE;
        let no_answer = || Error::backend("claim jobs", "no answer from the server in time");
        let mut batch =
            tokio::time::timeout_at(deadline, consumer.fetch().max_messages(limit).messages())
                .await
                .map_err(|_| no_answer())?
                .map_err(|e| Error::backend("claim jobs", e))?;
        let mut claimed = Vec::new();
        loop {
            let message = match tokio::time::timeout_at(deadline, batch.next()).await {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(_) if !claimed.is_empty() => break,
                Err(_) => return Err(no_answer()),
            };
            let message = match message {
                Ok(message) => message,
                // The jobs already received stay claimed; the rest are
                // delivered again after the ack wait.
                Err(e) if !claimed.is_empty() => {
                    tracing::warn!(error = %e, "claim cut short");
                    break;
                }
                Err(e) => return Err(Error::backend("claim jobs", e)),
            };
            match self.admit(message, &owner).await {
                Ok(Some(job)) => claimed.push(job),
                Ok(None) => {}
                // Keep the jobs already admitted; this one is delivered
                // again after the ack wait.
                Err(e) if !claimed.is_empty() => tracing::warn!(error = %e, "claim cut short"),
                Err(e) => return Err(e),
            }
        }
        Ok(claimed)
    }

    async fn heartbeat(&self, job: &Claimed<NatsLease>, _lease: Duration) -> Result<bool, Error> {
        self.ack(job, AckKind::Progress, "renew the lease of").await
    }

    async fn complete(&self, job: &Claimed<NatsLease>) -> Result<bool, Error> {
        let held = self.ack(job, AckKind::Ack, "complete").await?;
        let key = job.lease.meta.unique_key.as_deref();
        self.inner.unique.free_after_settling(key).await;
        Ok(held)
    }

    async fn retry(
        &self,
        job: &Claimed<NatsLease>,
        delay: Duration,
        _error: &str,
    ) -> Result<bool, Error> {
        let delay = (!delay.is_zero()).then_some(delay);
        self.ack(job, AckKind::Nak(delay), "retry").await
    }

    async fn kill(&self, job: &Claimed<NatsLease>, error: &str) -> Result<bool, Error> {
        let mut dead = job.lease.meta.write();
        dead.insert(headers::JOB_ID, job.id.to_string().as_str());
        let attempts = job.attempt.min(job.max_attempts);
        dead.insert(headers::ATTEMPTS, attempts.to_string().as_str());
        dead.insert(
            headers::LAST_ERROR,
            headers::one_line(error, MAX_ERROR_LEN).as_str(),
        );
        let subject = self.inner.names.dead_subject(job.id);
        let payload = job.lease.message.payload.clone();
        let what = format!("mark dead job {}", job.id);
        publish(&self.inner.js, subject, dead, payload, &what).await?;
        let held = self.ack(job, AckKind::Term, "mark dead").await?;
        let key = job.lease.meta.unique_key.as_deref();
        self.inner.unique.free_after_settling(key).await;
        Ok(held)
    }

    async fn give_back(&self, job: &Claimed<NatsLease>) -> Result<bool, Error> {
        let copy = Meta {
            id: Some(job.id),
            attempts_before: job.attempt.saturating_sub(1),
            ..job.lease.meta.clone()
        };
        self.publish(&copy, job.lease.message.payload.clone(), "give back")
            .await?;
        self.ack(job, AckKind::Ack, "give back").await
    }
}

impl NatsQueue {
    /// The dead-letter message of job `id`.
    async fn dead_message(&self, id: JobId) -> Result<jetstream::message::StreamMessage, Error> {
        let subject = self.inner.names.dead_subject(id);
        match self
            .inner
            .dead
            .get_last_raw_message_by_subject(&subject)
            .await
        {
            Ok(message) => Ok(message),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Err(
                Error::not_found(format!("job {id}: no dead job with this id")),
            ),
            Err(e) => Err(Error::backend(format!("read dead job {id}"), e)),
        }
    }
}

fn dead_job(message: &jetstream::message::StreamMessage) -> DeadJob {
    let h = &message.headers;
    let meta = Meta::read(Some(h));
    DeadJob {
        id: meta.id.unwrap_or(JobId(message.sequence)),
        name: meta.name,
        attempts: h
            .get(headers::ATTEMPTS)
            .and_then(|v| v.as_str().parse().ok())
            .unwrap_or_default(),
        last_error: h.get(headers::LAST_ERROR).map(|v| v.as_str().to_owned()),
        payload: String::from_utf8_lossy(&message.payload).into_owned(),
    }
}

/// On NATS, [`Counts`] reads the consumer's and the streams' state:
///
/// - `pending` and `due`: messages not yet delivered to the workers
///   (`num_pending`). A scheduled job not yet seen by a worker is counted
///   here, as due.
/// - `running`: messages delivered and not settled (`num_ack_pending`):
///   jobs running, and jobs waiting out a retry's backoff or, once seen
///   early, their run time.
/// - `done`: always 0 (acknowledged messages leave a WorkQueue stream).
/// - `dead`: messages in the dead-letter stream.
impl Admin for NatsQueue {
    async fn counts(&self) -> Result<Counts, Error> {
        let mut consumer = self.inner.consumer.lock().await.1.clone();
        let info = consumer
            .info()
            .await
            .map_err(|e| Error::backend("count jobs", e))?;
        let (pending, running) = (info.num_pending, info.num_ack_pending as u64);
        let dead = self
            .inner
            .dead
            .get_info()
            .await
            .map_err(|e| Error::backend("count dead jobs", e))?;
        Ok(Counts {
            pending,
            due: pending,
            running,
            done: 0,
            dead: dead.state.messages,
        })
    }

    async fn dead(&self, limit: usize) -> Result<Vec<DeadJob>, Error> {
        let failed = |e| Error::backend("list dead jobs", e);
        let state = self.inner.dead.get_info().await.map_err(failed)?.state;
        let mut dead = Vec::new();
        if state.messages == 0 {
            return Ok(dead);
        }
        let mut sequence = state.first_sequence;
        while dead.len() < limit && sequence <= state.last_sequence {
            match self.inner.dead.get_raw_message(sequence).await {
                Ok(message) => dead.push(dead_job(&message)),
                Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => {}
                Err(e) => return Err(Error::backend("list dead jobs", e)),
            }
            sequence += 1;
        }
        Ok(dead)
    }

    async fn retry_dead(&self, id: JobId) -> Result<(), Error> {
        let message = self.dead_message(id).await?;
        let meta = Meta::read(Some(&message.headers));
        if let Some(key) = &meta.unique_key
            && !self.inner.unique.take(key).await?
        {
            return Err(Error::invalid(format!(
                "job {id}: a queued job holds its unique key; retry it once that one is done"
            )));
        }
        let fresh = Meta {
            id: Some(id),
            attempts_before: 0,
            run_at_ms: None,
            ..meta
        };
        self.publish(&fresh, message.payload.clone(), "retry dead")
            .await?;
        if let Some(key) = &fresh.unique_key {
            self.inner.unique.held_by(key, id).await;
        }
        self.inner
            .dead
            .delete_message(message.sequence)
            .await
            .map_err(|e| Error::backend(format!("retry dead job {id}"), e))?;
        Ok(())
    }

    async fn retry_all_dead(&self) -> Result<u64, Error> {
        let mut retried = 0;
        for job in self.dead(usize::MAX).await? {
            match self.retry_dead(job.id).await {
                Ok(()) => retried += 1,
                // Retried meanwhile, or its key is held: skip it.
                Err(e) if e.kind() != crate::ErrorKind::Backend => {
                    tracing::warn!(job_id = job.id.0, error = %e, "dead job not retried");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(retried)
    }
}
