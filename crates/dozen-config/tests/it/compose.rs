//! Settings structs of several crates composed as a tuple at the top level:
//! each reads the same prefix, with every feature a single struct has
//! (`_FILE`, every error at once, strict mode, the report, `describe`), which
//! `#[serde(flatten)]` cannot give because serde hides the flattened names.

use std::io::Write as _;
use std::time::Duration;

use dozen_config::{Secret, prefixed};
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize, PartialEq)]
struct App {
    #[serde(default = "port")]
    port: u16,
    #[serde(default)]
    database_url: Option<Secret<String>>,
}

fn port() -> u16 {
    8080
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(default)]
struct Pool {
    database_max_connections: u32,
    #[serde(with = "humantime_serde")]
    database_connect_timeout: Duration,
}

impl Default for Pool {
    fn default() -> Self {
        Self {
            database_max_connections: 10,
            database_connect_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Deserialize, PartialEq)]
struct Shutdown {
    #[serde(with = "humantime_serde")]
    shutdown_timeout: Duration,
}

type Settings = (App, Pool, Shutdown);

#[test]
fn each_struct_of_a_tuple_reads_the_same_prefix() {
    let (app, pool, shutdown): Settings = prefixed("APP_")
        .from_iter(env(&[
            ("APP_DATABASE_MAX_CONNECTIONS", "3"),
            ("APP_SHUTDOWN_TIMEOUT", "25s"),
            ("APP_PORT", "9000"),
        ]))
        .unwrap();
    assert_eq!(app.port, 9000);
    assert_eq!(app.database_url, None);
    assert_eq!(
        pool,
        Pool {
            database_max_connections: 3,
            database_connect_timeout: Duration::from_secs(30)
        }
    );
    assert_eq!(shutdown.shutdown_timeout, Duration::from_secs(25));
}

#[test]
fn a_tuple_reports_the_problems_of_every_struct_at_once() {
    let error = prefixed("APP_")
        .from_iter::<_, Settings>(env(&[
            ("APP_PORT", "80a"),
            ("APP_DATABASE_CONNECT_TIMEOUT", "soon"),
        ]))
        .unwrap_err();
    let vars: Vec<&str> = error.problems().map(|p| p.var()).collect();
    assert_eq!(
        vars,
        [
            "APP_PORT",
            "APP_DATABASE_CONNECT_TIMEOUT",
            "APP_SHUTDOWN_TIMEOUT"
        ]
    );
    let text = error.to_string();
    assert!(!text.contains("80a") && !text.contains("soon"), "{text}");
}

#[test]
fn an_optional_field_of_a_tuple_reads_its_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"postgres://app:s3cr3t@db/app\n").unwrap();
    let path = file.path().to_str().unwrap();
    let ((app, _, _), report) = prefixed("APP_")
        .from_iter_with_report::<_, Settings>(env(&[
            ("APP_DATABASE_URL_FILE", path),
            ("APP_SHUTDOWN_TIMEOUT", "1s"),
        ]))
        .unwrap();
    assert_eq!(
        app.database_url.unwrap().expose(),
        "postgres://app:s3cr3t@db/app"
    );
    let report = report.to_string();
    assert!(
        report.contains("APP_DATABASE_URL=*** (from APP_DATABASE_URL_FILE)"),
        "{report}"
    );
    assert!(!report.contains("s3cr3t"), "{report}");
}

#[test]
fn strict_mode_knows_the_fields_of_every_struct_of_a_tuple() {
    let error = prefixed("APP_")
        .strict()
        .from_iter::<_, Settings>(env(&[
            ("APP_SHUTDOWN_TIMEOUT", "1s"),
            ("APP_DATABASE_MAX_CONNECTIONS", "2"),
            ("APP_DATABASE_MAX_CONECTIONS", "2"),
        ]))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "APP_DATABASE_MAX_CONECTIONS: unknown variable (did you mean APP_DATABASE_MAX_CONNECTIONS?)"
    );
}

#[test]
fn describe_lists_the_variables_of_every_struct_of_a_tuple() {
    let names: Vec<String> = prefixed("APP_")
        .describe::<Settings>()
        .vars()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "APP_PORT",
            "APP_DATABASE_URL",
            "APP_DATABASE_MAX_CONNECTIONS",
            "APP_DATABASE_CONNECT_TIMEOUT",
            "APP_SHUTDOWN_TIMEOUT"
        ]
    );
}

#[derive(Debug, Deserialize)]
struct Flat {
    name: String,
    #[serde(flatten)]
    shutdown: Shutdown,
}

#[test]
fn under_flatten_other_programs_file_variables_are_left_alone() {
    // TF_CLI_CONFIG_FILE names a file that does not exist: it belongs to
    // another program and must not make the load fail, nor be read.
    let flat: Flat = dozen_config::from_iter(env(&[
        ("NAME", "svc"),
        ("SHUTDOWN_TIMEOUT", "2s"),
        ("TF_CLI_CONFIG_FILE", "/nonexistent/.terraformrc"),
    ]))
    .unwrap();
    assert_eq!(
        (flat.name.as_str(), flat.shutdown.shutdown_timeout),
        ("svc", Duration::from_secs(2))
    );
}

#[test]
fn under_flatten_a_required_field_still_reads_its_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"3s\n").unwrap();
    let flat: Flat = dozen_config::from_iter(env(&[
        ("NAME", "svc"),
        ("SHUTDOWN_TIMEOUT_FILE", file.path().to_str().unwrap()),
    ]))
    .unwrap();
    assert_eq!(flat.shutdown.shutdown_timeout, Duration::from_secs(3));
}
