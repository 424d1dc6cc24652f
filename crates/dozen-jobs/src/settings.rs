//! [`JobsSettings`]: how a worker process takes jobs, from the environment.

use std::time::Duration;

use serde::Deserialize;

/// How a worker takes jobs: a plain [`Deserialize`] struct, loaded by
/// dozen-config from the environment (field names are the variables in lower
/// snake case). [`Default`] gives the documented defaults.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `JOBS_CONCURRENCY` | 4 | jobs run at once by this process (1 to 1024) |
/// | `JOBS_LEASE` | 30s | how long a claimed job stays with this worker without a heartbeat (1s to 1h); the heartbeat renews it every third of that |
/// | `JOBS_POLL_INTERVAL` | 1s | how long an idle worker waits before looking again (1ms to 1h) |
/// | `JOBS_BACKOFF_MIN` | 1s | the delay before the second attempt; it doubles with each failure (at most 1 day) |
/// | `JOBS_BACKOFF_MAX` | 1h | the longest delay between attempts (at most 1 day) |
/// | `HOSTNAME` | none | the first part of the lease owner id; set by Kubernetes to the pod name |
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct JobsSettings {
    /// `JOBS_CONCURRENCY`.
    #[serde(deserialize_with = "concurrency")]
    pub jobs_concurrency: usize,
    /// `JOBS_LEASE`.
    #[serde(deserialize_with = "bounded::<_, 1, HOUR>")]
    pub jobs_lease: Duration,
    /// `JOBS_POLL_INTERVAL`.
    #[serde(deserialize_with = "bounded_ms::<_, HOUR>")]
    pub jobs_poll_interval: Duration,
    /// `JOBS_BACKOFF_MIN`.
    #[serde(deserialize_with = "bounded::<_, 0, DAY>")]
    pub jobs_backoff_min: Duration,
    /// `JOBS_BACKOFF_MAX`.
    #[serde(deserialize_with = "bounded::<_, 0, DAY>")]
    pub jobs_backoff_max: Duration,
    /// `HOSTNAME`: the pod's name, the first part of the worker's lease owner
    /// id (Kubernetes sets it).
    pub hostname: Option<String>,
}

/// The most jobs one process runs at once.
pub const MAX_CONCURRENCY: usize = 1024;
const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            jobs_concurrency: 4,
            jobs_lease: Duration::from_secs(30),
            jobs_poll_interval: Duration::from_secs(1),
            jobs_backoff_min: Duration::from_secs(1),
            jobs_backoff_max: Duration::from_secs(HOUR),
            hostname: None,
        }
    }
}

fn concurrency<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let value = usize::deserialize(d)?;
    if (1..=MAX_CONCURRENCY).contains(&value) {
        Ok(value)
    } else {
        Err(serde::de::Error::invalid_value(
            serde::de::Unexpected::Unsigned(value as u64),
            &"1 to 1024",
        ))
    }
}

/// A humantime duration from `MIN` to `MAX` seconds.
fn bounded<'de, D: serde::Deserializer<'de>, const MIN: u64, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    within(d, Duration::from_secs(MIN), Duration::from_secs(MAX))
}

/// A humantime duration from 1ms to `MAX` seconds.
fn bounded_ms<'de, D: serde::Deserializer<'de>, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    within(d, Duration::from_millis(1), Duration::from_secs(MAX))
}

fn within<'de, D: serde::Deserializer<'de>>(
    d: D,
    min: Duration,
    max: Duration,
) -> Result<Duration, D::Error> {
    let value: Duration = humantime_serde::deserialize(d)?;
    if value < min || value > max {
        let expected = format!(
            "a duration from {} to {}",
            humantime_serde::re::humantime::format_duration(min),
            humantime_serde::re::humantime::format_duration(max)
        );
        return Err(serde::de::Error::invalid_value(
            serde::de::Unexpected::Other(
                &humantime_serde::re::humantime::format_duration(value).to_string(),
            ),
            &expected.as_str(),
        ));
    }
    Ok(value)
}
