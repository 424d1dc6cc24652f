//! Promise: the pool's settings are plain data that dozen-config loads from a map, with no
//! environment variable read by this crate, and a pool connects from them. Every variable
//! has its documented default; a bad value is reported as `VAR: what is wrong (expected)`
//! without the value, both by the loader and by `PoolSettings::validate`, whose error names
//! the variable through `Error::var`.

use std::time::Duration;

use dozen_backing::{ErrorKind, PoolSettings, ServiceUrl};
use serde::Deserialize;

/// What an application loads: its own settings (here the URL) beside the pool's.
#[derive(Debug, Deserialize)]
struct App {
    database_url: ServiceUrl,
}

/// `T` loaded by dozen-config from `vars`, as from an environment holding only them.
fn load<T: serde::de::DeserializeOwned>(vars: &[(&str, &str)]) -> Result<T, String> {
    let pairs = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    dozen_config::from_iter(pairs).map_err(|e| e.to_string())
}

#[track_caller]
fn check(vars: &[(&str, &str)], expected: PoolSettings) {
    let settings: PoolSettings = load(vars).unwrap();
    assert_eq!(settings, expected, "{vars:?}");
    settings.validate().unwrap();
}

#[track_caller]
fn check_error(vars: &[(&str, &str)], message: &str) {
    let error = load::<PoolSettings>(vars).unwrap_err();
    assert_eq!(error, message);
    for (_, value) in vars {
        assert!(!error.contains(value), "{error} echoes {value}");
    }
}

fn settings(edit: impl FnOnce(&mut PoolSettings)) -> PoolSettings {
    let mut settings = PoolSettings::default();
    edit(&mut settings);
    settings
}

#[test]
fn defaults_and_values() {
    check(&[], PoolSettings::default());
    let defaults = PoolSettings::default();
    assert_eq!(defaults.database_max_connections, 10);
    assert_eq!(defaults.database_min_connections, 0);
    assert_eq!(defaults.database_acquire_timeout, Duration::from_secs(30));
    assert_eq!(
        defaults.database_idle_timeout,
        Some(Duration::from_secs(600))
    );
    assert_eq!(defaults.database_connect_timeout, Duration::from_secs(30));
    assert_eq!(defaults.database_busy_timeout, Duration::from_secs(5));
    check(
        &[
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("DATABASE_MIN_CONNECTIONS", " 2 "),
            ("DATABASE_ACQUIRE_TIMEOUT", "1m 30s"),
            ("DATABASE_IDLE_TIMEOUT", "90s"),
            ("DATABASE_CONNECT_TIMEOUT", "500ms"),
            ("DATABASE_BUSY_TIMEOUT", "2s"),
            ("UNRELATED", "x"),
        ],
        settings(|s| {
            s.database_max_connections = 4;
            s.database_min_connections = 2;
            s.database_acquire_timeout = Duration::from_secs(90);
            s.database_idle_timeout = Some(Duration::from_secs(90));
            s.database_connect_timeout = Duration::from_millis(500);
            s.database_busy_timeout = Duration::from_secs(2);
        }),
    );
    check(
        &[("DATABASE_IDLE_TIMEOUT", "")],
        settings(|s| s.database_idle_timeout = None),
    );
}

#[test]
fn a_bad_value_is_reported_by_its_variable_never_the_value() {
    check_error(
        &[("DATABASE_MAX_CONNECTIONS", "0")],
        "DATABASE_MAX_CONNECTIONS: too small (at least 1)",
    );
    check_error(
        &[("DATABASE_ACQUIRE_TIMEOUT", "2h")],
        "DATABASE_ACQUIRE_TIMEOUT: too large (at most 1h)",
    );
    // Syntax errors: dozen-config words them; the variable leads, the value is absent.
    for (var, value) in [
        ("DATABASE_CONNECT_TIMEOUT", "45"),
        ("DATABASE_MAX_CONNECTIONS", "ten-s3cret"),
        ("DATABASE_MIN_CONNECTIONS", "-1"),
        ("DATABASE_ACQUIRE_TIMEOUT", "30 s3conds"),
    ] {
        let error = load::<PoolSettings>(&[(var, value)]).unwrap_err();
        assert!(error.starts_with(&format!("{var}: ")), "{error}");
        assert!(!error.contains(value), "{error} echoes {value}");
    }
}

/// What no single field can check: `validate` names the variable, in the same form.
#[test]
fn validate_names_the_variable() {
    let settings: PoolSettings = load(&[
        ("DATABASE_MAX_CONNECTIONS", "2"),
        ("DATABASE_MIN_CONNECTIONS", "3"),
    ])
    .unwrap();
    let error = settings.validate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidSetting);
    assert_eq!(error.var(), Some("DATABASE_MIN_CONNECTIONS"));
    assert_eq!(
        error.to_string(),
        "DATABASE_MIN_CONNECTIONS: too large (at most DATABASE_MAX_CONNECTIONS)"
    );
    let error = settings_with_max(0).validate().unwrap_err();
    assert_eq!(error.var(), Some("DATABASE_MAX_CONNECTIONS"));
    assert_eq!(
        error.to_string(),
        "DATABASE_MAX_CONNECTIONS: too small (at least 1)"
    );
}

fn settings_with_max(max: u32) -> PoolSettings {
    settings(|s| s.database_max_connections = max)
}

#[test]
fn deserializes_as_a_plain_serde_struct() {
    // What any serde loader hands to `Deserialize`: the field names are the variables'
    // names in lower case.
    let json = r#"{ "database_max_connections": 3, "database_idle_timeout": "5m",
                    "database_connect_timeout": "10s" }"#;
    let settings: PoolSettings = serde_json::from_str(json).unwrap();
    assert_eq!(
        settings,
        self::settings(|s| {
            s.database_max_connections = 3;
            s.database_idle_timeout = Some(Duration::from_secs(300));
            s.database_connect_timeout = Duration::from_secs(10);
        })
    );
    let settings: PoolSettings =
        serde_json::from_str(r#"{ "database_idle_timeout": null }"#).unwrap();
    assert_eq!(settings.database_idle_timeout, None);
}

/// The evidence: the URL and the pool's settings come from a map (no environment read),
/// and a pool to SQLite in memory connects from them.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_pool_connects_from_settings_loaded_from_a_map() {
    if !dozen_testkit::rerun_with_empty_environment(
        module_path!(),
        "a_pool_connects_from_settings_loaded_from_a_map",
    ) {
        return;
    }
    let (app, settings): (App, PoolSettings) = load(&[
        ("DATABASE_URL", "sqlite::memory:"),
        ("DATABASE_MAX_CONNECTIONS", "1"),
        ("DATABASE_CONNECT_TIMEOUT", "5s"),
    ])
    .unwrap();
    assert_eq!(settings.database_max_connections, 1);
    let pool: dozen_backing::SqlitePool = dozen_backing::connect(&app.database_url, &settings)
        .await
        .unwrap();
    let one: i64 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    dozen_backing::ping(&pool, Duration::from_secs(1))
        .await
        .unwrap();

    let error = load::<(App, PoolSettings)>(&[
        ("DATABASE_URL", "sqlite::memory:"),
        ("DATABASE_MAX_CONNECTIONS", "many"),
    ])
    .unwrap_err();
    assert!(error.starts_with("DATABASE_MAX_CONNECTIONS: "), "{error}");
    assert!(!error.contains("many"), "{error}");
}
