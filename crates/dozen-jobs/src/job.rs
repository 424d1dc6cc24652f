//! What a job is: a typed payload with a stable name, and the options it is
//! enqueued with.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of job: a serde payload with a stable name.
///
/// The name is stored with every job and is how a worker finds the handler
/// for it, so keep it stable across releases, and keep the payload readable
/// by the previous release during a rolling deploy (add fields with
/// `#[serde(default)]`).
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct SendReminder {
///     todo_id: i64,
/// }
///
/// impl dozen_jobs::Job for SendReminder {
///     const NAME: &'static str = "send-reminder";
/// }
/// ```
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The job's name: at most [`MAX_NAME_LEN`] bytes.
    const NAME: &'static str;
}

/// The longest job name, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// The longest unique key, in bytes.
pub const MAX_UNIQUE_KEY_LEN: usize = 255;
/// The default for [`Options::with_max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 20;
/// The largest attempt count, delay or lease the queue stores: 100 years in
/// milliseconds, so that `now + delay` never overflows a 64-bit integer.
#[cfg_attr(
    not(any(feature = "sql", feature = "nats")),
    allow(dead_code, reason = "used by the backends")
)]
pub(crate) const MAX_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// The id of an enqueued job: a row id on SQL, a stream sequence on NATS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for JobId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// What became of an enqueue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Enqueued {
    /// A new job, with its id.
    Created(JobId),
    /// A job with the same unique key is pending or running, so none was
    /// added.
    Duplicate,
}

impl Enqueued {
    /// The new job's id; `None` for a duplicate.
    #[must_use]
    pub fn id(self) -> Option<JobId> {
        match self {
            Self::Created(id) => Some(id),
            Self::Duplicate => None,
        }
    }
}

/// When a job may first run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// At once.
    #[default]
    Now,
    /// This long after the enqueue, by the queue's clock (the database's).
    After(Duration),
    /// At this time (the enqueuing process's clock).
    At(SystemTime),
}

/// How a job is enqueued: when it may run, its unique key, its priority and
/// its number of attempts. Built with `with_*`; the default runs at once,
/// at priority 0, with [`DEFAULT_MAX_ATTEMPTS`] attempts and no key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub(crate) schedule: Schedule,
    pub(crate) unique_key: Option<String>,
    pub(crate) priority: i16,
    pub(crate) max_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            schedule: Schedule::Now,
            unique_key: None,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl Options {
    /// The default options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the job no earlier than `delay` after the enqueue, measured by
    /// the queue's clock (on SQL, the database's: every worker's view of
    /// "due" is the same whatever their own clocks say).
    #[must_use]
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.schedule = Schedule::After(delay);
        self
    }

    /// Runs the job no earlier than `at` (this process's clock).
    #[must_use]
    pub fn with_run_at(mut self, at: SystemTime) -> Self {
        self.schedule = Schedule::At(at);
        self
    }

    /// No other job with this key is added while one with it is pending or
    /// running: the enqueue answers [`Enqueued::Duplicate`]. Once the job is
    /// done or dead, the key is free again.
    #[must_use]
    pub fn with_unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Among due jobs, higher priorities run first (default 0).
    #[must_use]
    pub fn with_priority(mut self, priority: i16) -> Self {
        self.priority = priority;
        self
    }

    /// How many times the job is tried before it is dead (at least 1;
    /// default [`DEFAULT_MAX_ATTEMPTS`]). A worker killed mid-job uses up an
    /// attempt too, so a job that crashes its worker ends dead, not in a
    /// crash loop.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Checks the options and the name they go with.
    pub(crate) fn check(&self, name: &str) -> Result<(), String> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(format!(
                "job name {name:?}: must be 1 to {MAX_NAME_LEN} bytes"
            ));
        }
        if self.max_attempts == 0 {
            return Err(format!("job {name}: max attempts must be at least 1"));
        }
        if let Some(key) = &self.unique_key
            && (key.is_empty() || key.len() > MAX_UNIQUE_KEY_LEN)
        {
            return Err(format!(
                "job {name}: unique key must be 1 to {MAX_UNIQUE_KEY_LEN} bytes, got {}",
                key.len()
            ));
        }
        Ok(())
    }

    /// The delay in milliseconds from the queue's now, at most [`MAX_MS`];
    /// a time in the past is now.
    #[cfg_attr(
        not(any(feature = "sql", feature = "nats")),
        allow(dead_code, reason = "used by the backends")
    )]
    pub(crate) fn delay_ms(&self) -> i64 {
        let delay = match self.schedule {
            Schedule::Now => Duration::ZERO,
            Schedule::After(d) => d,
            Schedule::At(at) => at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        };
        ms(delay)
    }

    /// The attempts, as stored.
    #[cfg(feature = "sql")]
    pub(crate) fn max_attempts_i64(&self) -> i64 {
        i64::from(self.max_attempts)
    }
}

/// `d` in milliseconds, at most [`MAX_MS`].
#[cfg_attr(
    not(any(feature = "sql", feature = "nats")),
    allow(dead_code, reason = "used by the backends")
)]
pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).map_or(MAX_MS, |ms| ms.min(MAX_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_with_the_name() {
        let check = |name: &str, options: Options, expected: Result<(), &str>| {
            assert_eq!(
                options.check(name),
                expected.map_err(str::to_owned),
                "{name}"
            );
        };
        check("a", Options::new(), Ok(()));
        check(
            "",
            Options::new(),
            Err("job name \"\": must be 1 to 128 bytes"),
        );
        check(
            "a",
            Options::new().with_max_attempts(0),
            Err("job a: max attempts must be at least 1"),
        );
        check(
            "a",
            Options::new().with_unique_key("k".repeat(256)),
            Err("job a: unique key must be 1 to 255 bytes, got 256"),
        );
        check("a", Options::new().with_unique_key("k".repeat(255)), Ok(()));
    }

    #[test]
    fn absurd_delays_are_capped_and_past_times_are_now() {
        assert_eq!(Options::new().with_delay(Duration::MAX).delay_ms(), MAX_MS);
        assert_eq!(
            Options::new()
                .with_run_at(SystemTime::UNIX_EPOCH)
                .delay_ms(),
            0
        );
        assert_eq!(
            Options::new()
                .with_delay(Duration::from_millis(1500))
                .delay_ms(),
            1500
        );
    }
}
