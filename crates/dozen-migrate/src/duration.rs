//! The one duration grammar of the crate: humantime (`500ms`, `30s`,
//! `1m 30s`), at most [`MAX`]. The settings and the command-line flags both
//! read it, and both report a bad value without quoting it.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Unexpected};

/// The longest duration accepted: 24 hours. A Kubernetes Job or init
/// container that waits longer has a problem no waiting solves, and no
/// `Instant` arithmetic overflows below it.
pub(crate) const MAX: Duration = Duration::from_secs(24 * 3600);

/// What is wrong with a duration's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    NotADuration,
    TooLarge,
}

impl Problem {
    /// What is wrong, for `NAME: what is wrong (what was expected)`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::NotADuration => "not a duration",
            Self::TooLarge => "too large",
        }
    }

    /// What was expected.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Self::NotADuration => "such as 500ms, 30s or 1m 30s",
            Self::TooLarge => "at most 24h",
        }
    }
}

/// A humantime duration of at most [`MAX`].
pub(crate) fn parse(text: &str) -> Result<Duration, Problem> {
    use humantime::DurationError;
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d <= MAX => Ok(d),
        Ok(_) | Err(DurationError::NumberOverflow) => Err(Problem::TooLarge),
        Err(_) => Err(Problem::NotADuration),
    }
}

/// [`parse`] for `#[serde(deserialize_with)]`: a configuration loader such as
/// dozen-config shows `VAR: too large (at most 24h)`.
pub(crate) fn deserialize<'de, D: de::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_str(Visitor)
}

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration of at most 24h, such as 500ms, 30s or 1m 30s")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(|p| E::invalid_value(Unexpected::Other(p.reason()), &p.expected()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_humantime_up_to_a_day() {
        let check = |text: &str, expected: Result<Duration, Problem>| {
            assert_eq!(parse(text), expected, "{text:?}");
        };
        let secs = Duration::from_secs;
        check("0", Ok(Duration::ZERO));
        check("250ms", Ok(Duration::from_millis(250)));
        check("30s", Ok(secs(30)));
        check("1m 30s", Ok(secs(90)));
        check("1m30s", Ok(secs(90)));
        check(" 2h ", Ok(secs(7200)));
        check("24h", Ok(MAX));
        check("86400000ms", Ok(MAX));
        check("1day", Ok(MAX));
        check("24h 1ms", Err(Problem::TooLarge));
        check("25h", Err(Problem::TooLarge));
        check("1441m", Err(Problem::TooLarge));
        check("18446744073709551615s", Err(Problem::TooLarge));
        check("99999999999999999999h", Err(Problem::TooLarge));
        check("", Err(Problem::NotADuration));
        check("90", Err(Problem::NotADuration));
        check("-1s", Err(Problem::NotADuration));
        check("soon", Err(Problem::NotADuration));
        check("5 fortnights", Err(Problem::NotADuration));
    }
}
