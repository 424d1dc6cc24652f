//! What a job carries besides its payload: NATS message headers, read and
//! written in one place.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;

use crate::job::{DEFAULT_MAX_ATTEMPTS, JobId};

/// The job's name.
pub(crate) const NAME: &str = "Dozen-Job-Name";
/// Its attempts in all.
pub(crate) const MAX_ATTEMPTS: &str = "Dozen-Max-Attempts";
/// Its unique key, hex-encoded (a header value holds no line break).
pub(crate) const UNIQUE_KEY: &str = "Dozen-Unique-Key";
/// When it may first run, in Unix milliseconds (the enqueuer's clock).
pub(crate) const RUN_AT: &str = "Dozen-Run-At";
/// Its id, on a copy (a give-back, a schedule reached, a dead job retried):
/// the stream sequence of the first message.
pub(crate) const JOB_ID: &str = "Dozen-Job-Id";
/// The attempts counted before this message was published (a copy): NATS
/// counts deliveries per message, from 1.
pub(crate) const ATTEMPTS_BEFORE: &str = "Dozen-Attempts-Before";
/// On a dead job: the attempts it was given.
pub(crate) const ATTEMPTS: &str = "Dozen-Attempts";
/// On a dead job: the error of its last attempt.
pub(crate) const LAST_ERROR: &str = "Dozen-Last-Error";

/// A job's metadata, as its message headers hold it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) name: String,
    pub(crate) max_attempts: u32,
    pub(crate) unique_key: Option<String>,
    pub(crate) run_at_ms: Option<u64>,
    pub(crate) id: Option<JobId>,
    pub(crate) attempts_before: u32,
}

impl Meta {
    /// Reads the headers; a message published by other code gets the
    /// defaults (no name: no handler takes it, and it ends dead).
    pub(crate) fn read(headers: Option<&HeaderMap>) -> Self {
        let get = |name: &str| headers.and_then(|h| h.get(name)).map(|v| v.as_str());
        let number = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok());
        Self {
            name: get(NAME).unwrap_or_default().to_owned(),
            max_attempts: number(MAX_ATTEMPTS).map_or(DEFAULT_MAX_ATTEMPTS, |n| {
                u32::try_from(n).unwrap_or(u32::MAX)
            }),
            unique_key: get(UNIQUE_KEY).and_then(unhex),
            run_at_ms: number(RUN_AT),
            id: number(JOB_ID).map(JobId),
            attempts_before: number(ATTEMPTS_BEFORE)
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        }
    }

    /// The headers for this metadata.
    pub(crate) fn write(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(NAME, self.name.as_str());
        h.insert(MAX_ATTEMPTS, self.max_attempts.to_string().as_str());
        if let Some(key) = &self.unique_key {
            h.insert(UNIQUE_KEY, hex(key).as_str());
        }
        if let Some(at) = self.run_at_ms {
            h.insert(RUN_AT, at.to_string().as_str());
        }
        if let Some(id) = self.id {
            h.insert(JOB_ID, id.to_string().as_str());
        }
        if self.attempts_before > 0 {
            h.insert(ATTEMPTS_BEFORE, self.attempts_before.to_string().as_str());
        }
        h
    }

    /// How long until the job may run, by this process's clock; `None`
    /// when it is due.
    pub(crate) fn early_by(&self) -> Option<Duration> {
        let at = self.run_at_ms?;
        let now = now_ms();
        (at > now).then(|| Duration::from_millis(at - now))
    }
}

/// A header value holding `text` on one line (a header value holds no line
/// break), at most `max` bytes.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.len() > max {
        let mut end = max;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    ms_since_epoch(SystemTime::now())
}

/// `at` in Unix milliseconds (0 before the epoch).
pub(crate) fn ms_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `text` in lower-case hex: a unique key as a header value or a KV key.
pub(crate) fn hex(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(hex: &str) -> Option<String> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_survives_its_headers() {
        let check = |meta: Meta| {
            assert_eq!(Meta::read(Some(&meta.write())), meta);
        };
        check(Meta {
            name: "work".into(),
            max_attempts: 3,
            ..Meta::default()
        });
        check(Meta {
            name: "send-reminder".into(),
            max_attempts: 20,
            unique_key: Some("todo-7 \u{e9}\n".into()),
            run_at_ms: Some(1_700_000_000_000),
            id: Some(JobId(42)),
            attempts_before: 2,
        });
        assert_eq!(
            Meta::read(None),
            Meta {
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                ..Meta::default()
            }
        );
    }

    #[test]
    fn errors_become_one_bounded_line() {
        assert_eq!(one_line("a\r\nb", 100), "a  b");
        assert_eq!(one_line("\u{e9}\u{e9}", 3), "\u{e9}");
        assert_eq!(one_line("abc", 2), "ab");
    }
}
