//! [`JobContext`]: what a handler is told about the job it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::job::JobId;

/// What a handler is told about its job: its id, name and attempt, and the
/// worker's lease on it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct JobContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    id: JobId,
    name: String,
    attempt: u32,
    max_attempts: u32,
    owner: Arc<str>,
    settled: AtomicBool,
}

impl JobContext {
    /// The context of attempt `attempt` of `max_attempts` of job `id`
    /// named `name`, leased by `owner`: what the runtime hands a handler,
    /// and what a test of a handler (or of `complete_in`) builds itself.
    #[must_use]
    pub fn new(id: JobId, name: &str, attempt: u32, max_attempts: u32, owner: &str) -> Self {
        Self::leased(id, name, attempt, max_attempts, Arc::from(owner))
    }

    pub(crate) fn leased(
        id: JobId,
        name: &str,
        attempt: u32,
        max_attempts: u32,
        owner: Arc<str>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                id,
                name: name.to_owned(),
                attempt,
                max_attempts,
                owner,
                settled: AtomicBool::new(false),
            }),
        }
    }

    /// The job's id.
    #[must_use]
    pub fn id(&self) -> JobId {
        self.inner.id
    }

    /// The job's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// This attempt, from 1.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// The attempts the job has in all; this is its last when
    /// `attempt() == max_attempts()`.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.inner.max_attempts
    }

    /// The lease owner id this attempt holds the job under: the worker's
    /// owner id (unique to the process), and on the SQL backend the number
    /// of the claim that took the job ([`Claimed::owner`](crate::Claimed::owner)).
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// The handler settled the job itself (the SQL backend's
    /// `complete_in`), so the runtime does not.
    #[cfg(feature = "sql")]
    pub(crate) fn mark_settled(&self) {
        self.inner.settled.store(true, Ordering::Release);
    }

    pub(crate) fn is_settled(&self) -> bool {
        self.inner.settled.load(Ordering::Acquire)
    }
}
