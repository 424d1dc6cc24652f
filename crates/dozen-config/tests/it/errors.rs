//! Behaviour 3 and 4: every error at once, in field order, no value echoed.

use std::time::Duration;

use dozen_config::{Loader, ProblemKind, prefixed};
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
        "APP_PORT: missing\nAPP_TIMEOUT: missing\nAPP_URL: missing\nAPP_DEBUG: missing\n\
         APP_NAME: missing\nAPP_RATIO: missing\nAPP_LEVEL: missing\nAPP_ADDR: missing",
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
        "APP_PORT: invalid value, expected an integer from 0 to 65535\n\
         APP_TIMEOUT: invalid value, expected a duration such as 30s or 1m 30s\n\
         APP_URL: invalid value, expected a URL such as https://example.com/\n\
         APP_DEBUG: invalid value, expected true or false (also 1/0, yes/no, on/off)\n\
         APP_RATIO: invalid value, expected a number\n\
         APP_LEVEL: invalid value, expected one of info, debug\n\
         APP_ADDR: invalid value, expected a socket address such as 0.0.0.0:8080",
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
        "APP_PORT: invalid value, expected an integer from 0 to 65535\n\
         APP_TIMEOUT: empty, expected a duration such as 30s or 1m 30s\n\
         APP_LEVEL: empty, expected one of info, debug\n\
         APP_ADDR: missing",
    );
}

#[test]
fn problems_expose_var_and_kind() {
    let err = prefixed("APP_")
        .from_iter::<_, Config>(crate::env(&[("APP_PORT", "")]))
        .unwrap_err();
    let first = err.errors().next().unwrap();
    assert_eq!(first.var(), "APP_PORT");
    assert_eq!(
        first.kind(),
        &ProblemKind::Empty {
            expected: "an integer from 0 to 65535".into()
        }
    );
    assert_eq!(err.errors().nth(1).unwrap().kind(), &ProblemKind::Missing);
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
        "WORKERS: invalid value, expected a nonzero u16\n\
         NAME: invalid value, expected a string\n\
         AFTER: invalid value, expected an integer from 0 to 255"
    );
}
