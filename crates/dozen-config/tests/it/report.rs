//! Promise: the report lists each variable a load read, where its value came
//! from (environment, file, default) and its value with secrets hidden;
//! `Secret<T>` never shows itself, whole or inside a list or map.

use std::io::Write as _;

use dozen_config::{Secret, ValueSource, prefixed};
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the report matters")]
struct Config {
    database_url: String,
    password: Secret<String>,
    token: Option<Secret<String>>,
    #[serde(default)]
    workers: u8,
    name: String,
    hosts: Vec<String>,
}

#[test]
fn report_lists_what_was_read_with_secrets_redacted() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"t0k3n\n").unwrap();
    let (config, report) = prefixed("APP_")
        .from_iter_with_report::<_, Config>(env(&[
            ("APP_DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"),
            ("APP_PASSWORD", "hunter2"),
            ("APP_TOKEN_FILE", file.path().to_str().unwrap()),
            ("APP_NAME", "my app"),
            ("APP_HOSTS", "a,b"),
        ]))
        .unwrap();
    assert_eq!(config.token.unwrap().expose(), "t0k3n");
    assert_eq!(
        report.to_string(),
        "APP_DATABASE_URL=postgres://app:***@db:5432/app (environment), \
         APP_PASSWORD=*** (environment), APP_TOKEN=*** (from APP_TOKEN_FILE), \
         APP_WORKERS (default), APP_NAME=\"my app\" (environment), APP_HOSTS=\"a,b\" (environment)"
    );
    let sources: Vec<ValueSource> = report.entries().map(|e| e.source()).collect();
    assert_eq!(
        sources,
        [
            ValueSource::Environment,
            ValueSource::Environment,
            ValueSource::File,
            ValueSource::Default,
            ValueSource::Environment,
            ValueSource::Environment
        ]
    );
    let secret: Vec<bool> = report.entries().map(|e| e.is_secret()).collect();
    assert_eq!(secret, [false, true, true, false, false, false]);
    assert!(!report.to_string().contains("hunter2"));
    assert!(!format!("{report:?}").contains("hunter2"));
    assert!(!format!("{report:?}").contains("s3cr3t"));
}

#[test]
fn secret_never_shows_itself() {
    let secret = Secret::new("hunter2".to_string());
    assert_eq!(format!("{secret:?}"), "***");
    assert_eq!(secret.to_string(), "***");
    assert_eq!(secret.expose(), "hunter2");
    #[derive(serde::Serialize)]
    struct Shown {
        s: Secret<String>,
    }
    let json = serde_json::to_string(&Shown { s: secret.clone() }).unwrap();
    assert_eq!(json, r#"{"s":"***"}"#);
    assert_eq!(secret.into_inner(), "hunter2");
}

#[test]
fn secrets_inside_lists_and_maps_are_redacted() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the report matters")]
    struct Keys {
        keys: Vec<Secret<String>>,
        by_name: std::collections::BTreeMap<String, Secret<String>>,
        plain: Vec<String>,
    }
    let (keys, report) = prefixed("APP_")
        .from_iter_with_report::<_, Keys>(env(&[
            ("APP_KEYS", "k1,k2"),
            ("APP_BY_NAME", "a=k3"),
            ("APP_PLAIN", "p1"),
        ]))
        .unwrap();
    assert_eq!(keys.keys[1].expose(), "k2");
    assert_eq!(
        report.to_string(),
        "APP_KEYS=*** (environment), APP_BY_NAME=*** (environment), \
         APP_PLAIN=p1 (environment)"
    );
}

/// For a person at a terminal: only what was set, secrets hidden as in the
/// full report, and a count of the variables left at their defaults.
#[test]
fn the_terminal_report_lists_only_what_was_set() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the report matters")]
    struct Small {
        database_url: Option<String>,
        password: Option<Secret<String>>,
        token: Option<Secret<String>>,
        name: Option<String>,
        workers: Option<u8>,
    }
    fn check(vars: &[(&str, &str)], expected: &str) {
        let (_, report) = prefixed("")
            .from_iter_with_report::<_, Small>(env(vars))
            .unwrap();
        assert_eq!(report.set_only().to_string(), expected, "{vars:?}");
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"t0k3n\n").unwrap();
    let token_file = file.path().to_str().unwrap();
    check(&[], "all 5 at their defaults");
    check(
        &[
            ("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"),
            ("PASSWORD", "hunter2"),
            ("TOKEN_FILE", token_file),
            ("NAME", "my app"),
        ],
        "DATABASE_URL=postgres://app:***@db:5432/app, PASSWORD=***, \
         TOKEN=*** (from TOKEN_FILE), NAME=\"my app\", 1 more at their defaults",
    );
    check(
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("PASSWORD", "hunter2"),
            ("TOKEN", "t0k3n-t0k3n"),
            ("NAME", "x"),
            ("WORKERS", "4"),
        ],
        "DATABASE_URL=sqlite::memory:, PASSWORD=***, TOKEN=***, NAME=x, WORKERS=4",
    );
}
