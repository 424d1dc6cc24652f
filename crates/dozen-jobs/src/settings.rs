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
/// | `JOBS_BACKOFF_MIN` | 1s | the shortest delay between attempts: 1 to 2 × this after the first failure, doubling with each one (at most 1 day) |
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
    use serde::de::{Error, Unexpected};
    let value = usize::deserialize(d)?;
    match value {
        0 => Err(Error::invalid_value(
            Unexpected::Other("too small"),
            &"at least 1",
        )),
        v if v > MAX_CONCURRENCY => Err(Error::invalid_value(
            Unexpected::Other("too large"),
            &"at most 1024",
        )),
        _ => Ok(value),
    }
}

/// A humantime duration from `MIN` to `MAX` seconds.
fn bounded<'de, D: serde::Deserializer<'de>, const MIN: u64, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    d.deserialize_str(Within(Duration::from_secs(MIN), Duration::from_secs(MAX)))
}

/// A humantime duration from 1ms to `MAX` seconds.
fn bounded_ms<'de, D: serde::Deserializer<'de>, const MAX: u64>(
    d: D,
) -> Result<Duration, D::Error> {
    d.deserialize_str(Within(Duration::from_millis(1), Duration::from_secs(MAX)))
}

/// A duration within bounds. Neither error quotes the value: dozen-config
/// shows them as `VAR: too large (at most 1h)` and `VAR: text that is not a
/// duration (a duration from 1s to 1h, such as 30s or 1m 30s)`.
struct Within(Duration, Duration);

impl Within {
    fn limit(d: Duration) -> String {
        humantime_serde::re::humantime::format_duration(d).to_string()
    }
}

impl serde::de::Visitor<'_> for Within {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a duration from {} to {}, such as 30s or 1m 30s",
            Self::limit(self.0),
            Self::limit(self.1)
        )
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
        use serde::de::Unexpected;
        let value = humantime_serde::re::humantime::parse_duration(v.trim()).map_err(|_| {
            E::invalid_value(Unexpected::Other("text that is not a duration"), &self)
        })?;
        if value > self.1 {
            let expected = format!("at most {}", Self::limit(self.1));
            return Err(E::invalid_value(
                Unexpected::Other("too large"),
                &expected.as_str(),
            ));
        }
        if value < self.0 {
            let expected = format!("at least {}", Self::limit(self.0));
            return Err(E::invalid_value(
                Unexpected::Other("too small"),
                &expected.as_str(),
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_are_refused_by_variable_without_the_value() {
        let check = |vars: &[(&str, &str)], expected: Result<(), &str>| {
            let loaded = dozen_config::from_iter::<_, JobsSettings>(
                vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            match expected {
                Ok(()) => assert!(loaded.is_ok(), "{vars:?}: {loaded:?}"),
                Err(message) => {
                    let error = loaded.unwrap_err().to_string();
                    assert!(error.contains(message), "{vars:?}: {error}");
                }
            }
        };
        check(&[], Ok(()));
        check(
            &[("JOBS_LEASE", "1s"), ("JOBS_CONCURRENCY", "1024")],
            Ok(()),
        );
        check(
            &[("JOBS_LEASE", "0s")],
            Err("JOBS_LEASE: too small (at least 1s)"),
        );
        check(
            &[("JOBS_LEASE", "2h")],
            Err("JOBS_LEASE: too large (at most 1h)"),
        );
        check(
            &[("JOBS_POLL_INTERVAL", "0s")],
            Err("JOBS_POLL_INTERVAL: too small (at least 1ms)"),
        );
        check(
            &[("JOBS_BACKOFF_MAX", "2days")],
            Err("JOBS_BACKOFF_MAX: too large (at most 1day)"),
        );
        check(
            &[("JOBS_CONCURRENCY", "0")],
            Err("JOBS_CONCURRENCY: too small (at least 1)"),
        );
        check(
            &[("JOBS_CONCURRENCY", "5000")],
            Err("JOBS_CONCURRENCY: too large (at most 1024)"),
        );
        check(
            &[("JOBS_LEASE", "soon")],
            Err("JOBS_LEASE: invalid value (a duration from 1s to 1h, such as 30s"),
        );
    }
}
