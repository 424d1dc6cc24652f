//! Promise: a bound checked by a field's own `deserialize_with` (a bounded
//! humantime duration, as another crate defines one) is reported on its
//! variable as `VAR: too large (at most 1h)`, with every other problem of the
//! load at once; and no duration, however large or malformed, panics the
//! loader.
//!
//! dozen-config has no duration type of its own: the bound belongs to the
//! field. The convention: `serde::de::Error::invalid_value(
//! Unexpected::Other(reason), &expected)` becomes `VAR: reason (expected)`.

use std::time::Duration;

use dozen_config::{ProblemKind, prefixed};
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _, Unexpected};

use crate::env;

const MAX: Duration = Duration::from_secs(3600);

/// A humantime duration of at most one hour, as another crate would write it.
fn at_most_1h<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value: Duration = humantime_serde::deserialize(deserializer)?;
    if value > MAX {
        return Err(D::Error::invalid_value(
            Unexpected::Other("too large"),
            &"at most 1h",
        ));
    }
    Ok(value)
}

/// The same check, careless enough to quote the value in its reason.
fn quoting<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let value: Duration = humantime_serde::deserialize(deserializer)?;
    let text = humantime_serde::re::humantime::format_duration(value).to_string();
    if value > MAX {
        return Err(D::Error::invalid_value(
            Unexpected::Other(&format!("{text} is too large")),
            &"at most 1h",
        ));
    }
    Ok(value)
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the errors matter")]
struct Config {
    #[serde(deserialize_with = "at_most_1h")]
    shutdown_timeout: Duration,
    #[serde(deserialize_with = "at_most_1h")]
    connect_timeout: Duration,
    #[serde(default, with = "humantime_serde")]
    idle_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "quoting")]
    careless: Duration,
    port: u16,
    db: Db,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the errors matter")]
struct Db {
    #[serde(deserialize_with = "at_most_1h")]
    acquire_timeout: Duration,
}

fn error_of(pairs: &[(&str, &str)]) -> dozen_config::Error {
    prefixed("APP_")
        .from_iter::<_, Config>(env(pairs))
        .unwrap_err()
}

#[test]
fn a_bound_is_reported_on_its_variable_with_every_other_problem() {
    let err = error_of(&[
        ("APP_SHUTDOWN_TIMEOUT", "18446744073709551615s"),
        ("APP_CONNECT_TIMEOUT", "2h"),
        ("APP_IDLE_TIMEOUT", "18446744073709551616s"),
        ("APP_PORT", "http"),
        ("APP_DB__ACQUIRE_TIMEOUT", "61m"),
    ]);
    assert_eq!(
        err.to_string(),
        "APP_SHUTDOWN_TIMEOUT: too large (at most 1h)\n\
         APP_CONNECT_TIMEOUT: too large (at most 1h)\n\
         APP_IDLE_TIMEOUT: invalid value (a duration such as 30s or 1m 30s)\n\
         APP_PORT: invalid value (an integer from 0 to 65535)\n\
         APP_DB__ACQUIRE_TIMEOUT: too large (at most 1h)"
    );
    let first = err.problems().next().unwrap();
    assert_eq!(first.var(), "APP_SHUTDOWN_TIMEOUT");
    assert!(matches!(
        first.kind(),
        ProblemKind::Refused { reason, expected, item: None }
            if reason == "too large" && expected == "at most 1h"
    ));
    // Within the bound, and at it, the same fields load.
    let config: Config = prefixed("APP_")
        .from_iter(env(&[
            ("APP_SHUTDOWN_TIMEOUT", "1h"),
            ("APP_CONNECT_TIMEOUT", "0s"),
            ("APP_PORT", "1"),
            ("APP_DB__ACQUIRE_TIMEOUT", "59m 59s"),
        ]))
        .unwrap();
    assert_eq!(config.shutdown_timeout, MAX);
}

#[test]
fn a_reason_that_quotes_the_value_is_not_shown() {
    let err = error_of(&[
        ("APP_SHUTDOWN_TIMEOUT", "1s"),
        ("APP_CONNECT_TIMEOUT", "1s"),
        ("APP_CARELESS", "7h"),
        ("APP_PORT", "1"),
        ("APP_DB__ACQUIRE_TIMEOUT", "1s"),
    ]);
    assert_eq!(
        err.to_string(),
        "APP_CARELESS: invalid value (a duration such as 30s or 1m 30s)"
    );
    assert!(!format!("{err:?}").contains("7h"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random durations, from well-formed to overflowing to nonsense, never
    /// panic the loader; a bad one is reported on its own variable, never
    /// with its text.
    #[test]
    fn random_durations_never_panic(
        values in proptest::collection::vec(
            prop_oneof![
                "[0-9]{1,25}(ns|us|ms|s|m|min|h|d|w|M|y)",
                "[0-9]{1,20}(s|m|h) [0-9]{1,20}(s|m|h)",
                "-?[0-9]{0,3}\\.?[0-9]{0,3}[a-z]{0,3}",
                any::<u64>().prop_map(|n| format!("{n}s")),
                any::<u64>().prop_map(|n| format!("{n}ns {n}us {n}d")),
                "\\PC{0,12}",
            ],
            4,
        ),
    ) {
        let names = [
            "APP_SHUTDOWN_TIMEOUT",
            "APP_CONNECT_TIMEOUT",
            "APP_IDLE_TIMEOUT",
            "APP_DB__ACQUIRE_TIMEOUT",
        ];
        let mut pairs: Vec<(String, String)> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        pairs.push(("APP_PORT".into(), "1".into()));
        let Err(err) = prefixed("APP_").from_iter::<_, Config>(pairs) else {
            return Ok(());
        };
        for problem in err.problems() {
            prop_assert!(names.contains(&problem.var()), "{}", err);
        }
        let text = err.to_string();
        // Text every error of these fields may hold, whatever the values.
        let vocabulary = "a duration such as 30s or 1m 30s, too large (at most 1h)";
        for value in values
            .iter()
            .map(|v| v.trim())
            .filter(|v| v.len() >= 4 && !vocabulary.contains(v))
        {
            prop_assert!(!text.contains(value), "{} in {}", value, text);
        }
    }
}
