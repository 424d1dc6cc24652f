//! Promise: `#[serde(flatten)]` works with every value type (numbers,
//! booleans, durations, not only strings), its problems name the variable
//! without the value, `describe` lists its required fields, and the report
//! hides its values.

use std::time::Duration;

use dozen_config::prefixed;
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize, PartialEq)]
struct App {
    name: String,
    #[serde(flatten)]
    shutdown: Shutdown,
    #[serde(flatten)]
    pool: Pool,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Shutdown {
    #[serde(with = "humantime_serde")]
    shutdown_delay: Duration,
    #[serde(default, with = "humantime_serde")]
    shutdown_timeout: Option<Duration>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Pool {
    database_max_connections: u32,
    database_ratio: f64,
    database_debug: bool,
    database_offset: i64,
    database_hosts: Vec<String>,
    database_label: String,
    database_min: Option<u16>,
    #[serde(default)]
    database_idle: u8,
}

fn full() -> Vec<(String, String)> {
    env(&[
        ("APP_NAME", "svc"),
        ("APP_SHUTDOWN_DELAY", "5s"),
        ("APP_DATABASE_MAX_CONNECTIONS", "20"),
        ("APP_DATABASE_RATIO", "0.5"),
        ("APP_DATABASE_DEBUG", "on"),
        ("APP_DATABASE_OFFSET", "-3"),
        ("APP_DATABASE_HOSTS", "a, b"),
        ("APP_DATABASE_LABEL", "20"),
        ("APP_DATABASE_MIN", "2"),
        ("APP_OTHER", "ignored"),
    ])
}

#[test]
fn flattened_structs_get_typed_values() {
    let app: App = prefixed("APP_").from_iter(full()).unwrap();
    assert_eq!(
        app,
        App {
            name: "svc".into(),
            shutdown: Shutdown {
                shutdown_delay: Duration::from_secs(5),
                shutdown_timeout: None
            },
            pool: Pool {
                database_max_connections: 20,
                database_ratio: 0.5,
                database_debug: true,
                database_offset: -3,
                database_hosts: vec!["a".into(), "b".into()],
                database_label: "20".into(),
                database_min: Some(2),
                database_idle: 0,
            }
        }
    );
}

#[test]
fn flattened_problems_name_the_variable_without_the_value() {
    let mut pairs = full();
    for (k, v) in &mut pairs {
        match k.as_str() {
            "APP_SHUTDOWN_DELAY" => *v = "s3cr3t".into(),
            "APP_DATABASE_MAX_CONNECTIONS" => *v = "99999999999".into(),
            "APP_DATABASE_DEBUG" => *v = "maybe".into(),
            _ => {}
        }
    }
    pairs.retain(|(k, _)| k != "APP_DATABASE_RATIO");
    let err = prefixed("APP_").from_iter::<_, App>(pairs).unwrap_err();
    let mut lines: Vec<String> = err.problems().map(ToString::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "APP_DATABASE_DEBUG: invalid value (true or false (also 1/0, yes/no, on/off))",
            "APP_DATABASE_MAX_CONNECTIONS: invalid value (an integer from 0 to 4294967295)",
            "APP_DATABASE_RATIO: missing (required)",
            "APP_SHUTDOWN_DELAY: invalid value (a duration such as 30s or 1m 30s)",
        ]
    );
}

#[test]
fn describe_lists_required_flattened_fields() {
    let description = prefixed("APP_").describe::<App>();
    let rows: Vec<String> = description
        .vars()
        .map(|v| format!("{} {} {}", v.name(), v.hint(), v.requirement()))
        .collect();
    // serde reveals the fields of a flattened struct only when they are
    // required: the optional and defaulted ones are not listed.
    assert_eq!(
        rows,
        [
            "APP_NAME string required",
            "APP_SHUTDOWN_DELAY duration required",
            "APP_DATABASE_MAX_CONNECTIONS integer required",
            "APP_DATABASE_RATIO number required",
            "APP_DATABASE_DEBUG bool required",
            "APP_DATABASE_OFFSET integer required",
            "APP_DATABASE_HOSTS list required",
            "APP_DATABASE_LABEL string required",
        ]
    );
}

#[test]
fn flattened_values_are_redacted_in_the_report() {
    let (_, report) = prefixed("APP_")
        .from_iter_with_report::<_, App>(full())
        .unwrap();
    let entries: Vec<String> = report.entries().map(ToString::to_string).collect();
    assert!(
        entries.contains(&"APP_NAME=svc (environment)".to_owned()),
        "{entries:?}"
    );
    assert!(
        entries.contains(&"APP_DATABASE_LABEL=*** (environment)".to_owned()),
        "{entries:?}"
    );
    assert!(!report.to_string().contains("5s"), "{report}");
}
