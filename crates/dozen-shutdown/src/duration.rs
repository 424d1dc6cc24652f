//! Durations as settings hold them: humantime syntax, bounded above, and
//! the checked arithmetic every deadline in the crate goes through.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};

/// The longest duration any setting of this crate accepts: one hour.
///
/// `SHUTDOWN_DELAY`, `SHUTDOWN_TIMEOUT` and, with the `axum` feature, the
/// `HTTP_*_TIMEOUT` variables are rejected above it. A shutdown that needs
/// longer than an hour is not graceful any more; the bound also keeps every
/// `Instant + Duration` in the crate far from overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// Why a text is not an acceptable duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Syntax,
    TooLong,
}

impl Problem {
    /// What was expected, in the words of an error message.
    pub(crate) const fn expected(self) -> &'static str {
        match self {
            Self::Syntax => "a duration in humantime syntax such as `5s` or `1m 30s`",
            Self::TooLong => "at most 1h",
        }
    }
}

/// Parses `raw` (already trimmed) as a humantime duration of at most
/// [`MAX_DURATION`].
pub(crate) fn parse(raw: &str) -> Result<Duration, Problem> {
    let duration = humantime::parse_duration(raw).map_err(|_| Problem::Syntax)?;
    check(duration)
}

/// Accepts `duration` if it is at most [`MAX_DURATION`].
pub(crate) fn check(duration: Duration) -> Result<Duration, Problem> {
    if duration > MAX_DURATION {
        Err(Problem::TooLong)
    } else {
        Ok(duration)
    }
}

/// `at + duration`, or the latest instant that can be represented on the way
/// there: never panics.
pub(crate) fn after(at: Instant, duration: Duration) -> Instant {
    at.checked_add(duration)
        .or_else(|| at.checked_add(duration.min(MAX_DURATION)))
        .unwrap_or(at)
}

/// The sum of `durations`, saturating at [`Duration::MAX`].
pub(crate) fn sum(durations: impl IntoIterator<Item = Duration>) -> Duration {
    durations
        .into_iter()
        .fold(Duration::ZERO, Duration::saturating_add)
}

/// Milliseconds for a log field, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A bounded duration as serde sees it: a humantime string.
struct Bounded(Duration);

impl<'de> Deserialize<'de> for Bounded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(BoundedVisitor).map(Bounded)
    }
}

struct BoundedVisitor;

impl Visitor<'_> for BoundedVisitor {
    type Value = Duration;

    // A loader may show only this (dozen-config does), so it states the bound.
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration in humantime syntax such as `5s` or `1m 30s`, at most 1h")
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<Duration, E> {
        parse(raw.trim()).map_err(|problem| match problem {
            Problem::Syntax => E::invalid_value(Unexpected::Str(raw), &problem.expected()),
            Problem::TooLong => {
                E::invalid_value(Unexpected::Other("too large"), &problem.expected())
            }
        })
    }
}

/// `deserialize_with` for a `Duration` field.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    Bounded::deserialize(deserializer).map(|bounded| bounded.0)
}

/// `deserialize_with` for an `Option<Duration>` field.
pub(crate) fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    Option::<Bounded>::deserialize(deserializer).map(|bounded| bounded.map(|b| b.0))
}
