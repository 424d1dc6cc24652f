//! Promise: a load reports every problem at once, in field order, one per
//! line as `VAR: what is wrong (what was expected)`, with no value in it,
//! even when the check that failed belongs to a foreign type; each problem
//! gives its variable and kind; and an application's own problems join the
//! same list in the same form.

use std::time::Duration;

use dozen_config::{Error, Loader, Problem, ProblemKind, prefixed};
use serde::Deserialize;

use crate::error_text;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the errors matter here")]
struct Config {
    port: u16,
    #[serde(with = "humantime_serde")]
    timeout: Duration,
    url: url::Url,
    debug: bool,
    name: String,
    ratio: f64,
    level: Level,
    addr: std::net::SocketAddr,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Info,
    Debug,
}

fn check(pairs: &[(&str, &str)], expected: &str) {
    assert_eq!(
        error_text::<Config>(&prefixed("APP_"), pairs),
        expected,
        "{pairs:?}"
    );
}

#[test]
fn every_problem_is_reported_in_field_order() {
    check(
        &[],
        "APP_PORT: missing (required)\nAPP_TIMEOUT: missing (required)\nAPP_URL: missing (required)\nAPP_DEBUG: missing (required)\n\
         APP_NAME: missing (required)\nAPP_RATIO: missing (required)\nAPP_LEVEL: missing (required)\nAPP_ADDR: missing (required)",
    );
    check(
        &[
            ("APP_PORT", "s3cr3t-1"),
            ("APP_TIMEOUT", "s3cr3t-2"),
            ("APP_URL", "s3cr3t-3"),
            ("APP_DEBUG", "s3cr3t-4"),
            ("APP_NAME", "fine"),
            ("APP_RATIO", "s3cr3t-5"),
            ("APP_LEVEL", "s3cr3t-6"),
            ("APP_ADDR", "s3cr3t-7"),
        ],
        "APP_PORT: invalid value (an integer from 0 to 65535)\n\
         APP_TIMEOUT: invalid value (a duration such as 30s or 1m 30s)\n\
         APP_URL: invalid value (a URL such as https://example.com/)\n\
         APP_DEBUG: invalid value (true or false (also 1/0, yes/no, on/off))\n\
         APP_RATIO: invalid value (a number)\n\
         APP_LEVEL: invalid value (one of info, debug)\n\
         APP_ADDR: invalid value (a socket address such as 0.0.0.0:8080)",
    );
    check(
        &[
            ("APP_PORT", "70000"),
            ("APP_TIMEOUT", ""),
            ("APP_URL", "https://example.com/"),
            ("APP_DEBUG", "yes"),
            ("APP_NAME", ""),
            ("APP_RATIO", "0.5"),
            ("APP_LEVEL", ""),
        ],
        "APP_PORT: invalid value (an integer from 0 to 65535)\n\
         APP_TIMEOUT: empty (a duration such as 30s or 1m 30s)\n\
         APP_LEVEL: empty (one of info, debug)\n\
         APP_ADDR: missing (required)",
    );
}

#[test]
fn problems_expose_var_and_kind() {
    let err = prefixed("APP_")
        .from_iter::<_, Config>(crate::env(&[("APP_PORT", "")]))
        .unwrap_err();
    let first = err.problems().next().unwrap();
    assert_eq!(first.var(), "APP_PORT");
    assert_eq!(
        first.kind(),
        &ProblemKind::Empty {
            expected: "an integer from 0 to 65535".into()
        }
    );
    assert_eq!(err.problems().nth(1).unwrap().kind(), &ProblemKind::Missing);
    assert!(!format!("{err:?}").is_empty());
}

#[test]
fn validation_in_foreign_types_is_reported_without_the_value() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the errors matter here")]
    struct Strict {
        workers: std::num::NonZeroU16,
        name: Name,
        after: u8,
    }
    #[derive(Debug, Deserialize)]
    #[serde(try_from = "String")]
    struct Name;
    impl TryFrom<String> for Name {
        type Error = String;
        fn try_from(value: String) -> Result<Self, String> {
            if value.contains(' ') {
                Err(format!("bad name {value}"))
            } else {
                Ok(Name)
            }
        }
    }
    let text = error_text::<Strict>(
        &Loader::new(),
        &[("WORKERS", "0"), ("NAME", "s3cr3t value"), ("AFTER", "x")],
    );
    assert_eq!(
        text,
        "WORKERS: invalid value (a nonzero u16)\n\
         NAME: invalid value (a string)\n\
         AFTER: invalid value (an integer from 0 to 255)"
    );
}

/// An application's own checks join a load's problems in one list, in the
/// same `VAR: what is wrong (what was expected)` form, with the same
/// accessors.
#[test]
fn an_application_adds_its_own_problems_to_the_list() {
    let own = || {
        [
            Problem::new("APP_WORKERS", "too many", "at most 64"),
            Problem::new("HOSTNAME", "missing", "set by the platform"),
        ]
    };
    let mut err = prefixed("APP_")
        .from_iter::<_, Config>(crate::env(&[("APP_PORT", "x")]))
        .unwrap_err();
    let loaded = err.problems().len();
    err.extend(own());
    let lines: Vec<String> = err.problems().map(ToString::to_string).collect();
    assert_eq!(lines.len(), loaded + 2);
    assert_eq!(
        lines[0],
        "APP_PORT: invalid value (an integer from 0 to 65535)"
    );
    assert_eq!(
        lines[loaded..],
        [
            "APP_WORKERS: too many (at most 64)",
            "HOSTNAME: missing (set by the platform)",
        ]
    );
    let mine = err.problems().nth(loaded).unwrap();
    assert_eq!(mine.var(), "APP_WORKERS");
    assert!(matches!(
        mine.kind(),
        ProblemKind::Refused { item: None, .. }
    ));

    let alone = Error::from_problems(own());
    assert_eq!(
        alone.to_string(),
        "APP_WORKERS: too many (at most 64)\nHOSTNAME: missing (set by the platform)"
    );
    assert_eq!(
        Error::from(Problem::new("PORT", "taken", "a free port")).to_string(),
        "PORT: taken (a free port)"
    );
}
