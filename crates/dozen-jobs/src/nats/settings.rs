//! [`NatsSettings`]: where the NATS queue lives, from the environment.

use serde::Deserialize;

use crate::error::Error;

/// Where a [`NatsQueue`](super::NatsQueue) lives: a plain [`Deserialize`]
/// struct, loaded by dozen-config from the environment (field names are the
/// variables in lower snake case). [`Default`] gives the documented
/// defaults.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `NATS_URL` | `nats://127.0.0.1:4222` | the server, or a comma-separated list of them; credentials (`nats://user:pass@host`, `nats://token@host`) are taken out of the URL and never shown |
/// | `JOBS_STREAM` | `jobs` | the work stream's name; the dead-letter stream, the consumer and the unique-key bucket are named after it |
///
/// Its `Debug` shows the URL with its password or token hidden.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NatsSettings {
    /// `NATS_URL`.
    pub nats_url: String,
    /// `JOBS_STREAM`.
    pub jobs_stream: String,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            nats_url: "nats://127.0.0.1:4222".to_owned(),
            jobs_stream: "jobs".to_owned(),
        }
    }
}

impl std::fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSettings")
            .field("nats_url", &dozen_redact::redact_urls(&self.nats_url))
            .field("jobs_stream", &self.jobs_stream)
            .finish()
    }
}

impl NatsSettings {
    /// The settings for the server at `url`, with the default stream.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            nats_url: url.into(),
            ..Self::default()
        }
    }

    /// Names the work stream `stream` instead of `jobs`.
    #[must_use]
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.jobs_stream = stream.into();
        self
    }
}

/// The longest stream name: the dead-letter stream and the unique-key
/// bucket add a suffix, and JetStream keeps names short.
const MAX_STREAM: usize = 32;

/// The JetStream names a queue uses, all derived from the work stream's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    /// The work stream (WorkQueue retention).
    pub(crate) stream: String,
    /// The subject jobs are published to.
    pub(crate) work_subject: String,
    /// The dead-letter stream (Limits retention).
    pub(crate) dead_stream: String,
    /// The dead-letter stream's subject prefix: one subject per job id.
    pub(crate) dead_prefix: String,
    /// The durable pull consumer every worker shares.
    pub(crate) consumer: String,
    /// The key-value bucket holding the unique keys of live jobs.
    pub(crate) unique_bucket: String,
}

impl Names {
    /// The names for stream `stream`: 1 to 32 ASCII letters, digits, `-` or
    /// `_`.
    pub(crate) fn new(stream: &str) -> Result<Self, Error> {
        let valid = !stream.is_empty()
            && stream.len() <= MAX_STREAM
            && stream
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(Error::invalid(format!(
                "jobs stream {stream:?}: must be 1 to {MAX_STREAM} ASCII letters, digits, '-' or '_'"
            )));
        }
        Ok(Self {
            stream: stream.to_owned(),
            work_subject: format!("{stream}.work"),
            dead_stream: format!("{stream}_dead"),
            dead_prefix: format!("{stream}.dead"),
            consumer: format!("{stream}_workers"),
            unique_bucket: format!("{stream}_unique"),
        })
    }

    /// The dead-letter subject of job `id`.
    pub(crate) fn dead_subject(&self, id: crate::JobId) -> String {
        format!("{}.{id}", self.dead_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_checked_and_derive_the_others() {
        let check = |stream: &str, expected: Result<(&str, &str), &str>| {
            let got = Names::new(stream)
                .map(|n| (n.dead_stream, n.work_subject))
                .map_err(|e| e.to_string());
            let expected = expected
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .map_err(str::to_owned);
            assert_eq!(got, expected, "{stream:?}");
        };
        check("jobs", Ok(("jobs_dead", "jobs.work")));
        check("mail-1_x", Ok(("mail-1_x_dead", "mail-1_x.work")));
        let refused = |s: &str| {
            format!("jobs stream {s:?}: must be 1 to 32 ASCII letters, digits, '-' or '_'")
        };
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(33)] {
            let got = Names::new(bad).map(|_| ()).map_err(|e| e.to_string());
            assert_eq!(got, Err(refused(bad)), "{bad:?}");
        }
        check("x", Ok(("x_dead", "x.work")));
    }

    #[test]
    fn debug_hides_the_password() {
        let s = NatsSettings::new("nats://app:hunter2@nats:4222");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("nats:4222"), "{shown}");
    }
}
