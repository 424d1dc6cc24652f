//! Pool settings from the environment: defaults, values, errors that name the variable.

use std::time::Duration;

use dozen_backing::{ErrorKind, PoolSettings};

#[track_caller]
fn check(vars: &[(&str, &str)], expected: PoolSettings) {
    let settings = PoolSettings::from_vars(vars.iter().copied()).unwrap();
    assert_eq!(settings, expected, "{vars:?}");
}

#[track_caller]
fn check_error(vars: &[(&str, &str)], message: &str) {
    let error = PoolSettings::from_vars(vars.iter().copied()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidSetting);
    assert_eq!(error.to_string(), message);
    for (_, value) in vars {
        if !value.is_empty() {
            assert!(!error.to_string().contains(value), "{error} echoes {value}");
        }
    }
}

fn settings(edit: impl FnOnce(&mut PoolSettings)) -> PoolSettings {
    let mut settings = PoolSettings::default();
    edit(&mut settings);
    settings
}

#[test]
fn defaults_and_values() {
    check(&[], settings(|_| {}));
    assert_eq!(PoolSettings::default().max_connections, 10);
    assert_eq!(
        PoolSettings::default().idle_timeout,
        Some(Duration::from_secs(600))
    );
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
            s.max_connections = 4;
            s.min_connections = 2;
            s.acquire_timeout = Duration::from_secs(90);
            s.idle_timeout = Some(Duration::from_secs(90));
            s.connect_timeout = Duration::from_millis(500);
            s.busy_timeout = Duration::from_secs(2);
        }),
    );
    check(
        &[("DATABASE_IDLE_TIMEOUT", "")],
        settings(|s| s.idle_timeout = None),
    );
}

#[test]
fn invalid_values_name_the_variable_never_the_value() {
    check_error(
        &[("DATABASE_MAX_CONNECTIONS", "ten-s3cret")],
        "DATABASE_MAX_CONNECTIONS: invalid value, expected a whole number such as 10",
    );
    check_error(
        &[("DATABASE_MIN_CONNECTIONS", "-1")],
        "DATABASE_MIN_CONNECTIONS: invalid value, expected a whole number such as 10",
    );
    check_error(
        &[("DATABASE_ACQUIRE_TIMEOUT", "30 s3conds")],
        "DATABASE_ACQUIRE_TIMEOUT: invalid value, expected a duration such as 30s or 1m 30s",
    );
    check_error(
        &[("DATABASE_CONNECT_TIMEOUT", "45")],
        "DATABASE_CONNECT_TIMEOUT: invalid value, expected a duration such as 30s or 1m 30s",
    );
    check_error(
        &[("DATABASE_MAX_CONNECTIONS", "0")],
        "DATABASE_MAX_CONNECTIONS: must be at least 1",
    );
    check_error(
        &[
            ("DATABASE_MAX_CONNECTIONS", "2"),
            ("DATABASE_MIN_CONNECTIONS", "3"),
        ],
        "DATABASE_MIN_CONNECTIONS: must not exceed DATABASE_MAX_CONNECTIONS",
    );
}

#[test]
fn deserializes_as_a_plain_serde_struct() {
    // What a configuration loader such as dozen-config hands to `Deserialize`: the field
    // names are the variables' names in lower case.
    let json = r#"{ "database_max_connections": 3, "database_idle_timeout": "5m",
                    "database_connect_timeout": "10s" }"#;
    let settings: PoolSettings = serde_json::from_str(json).unwrap();
    assert_eq!(
        settings,
        settings_with(|s| {
            s.max_connections = 3;
            s.idle_timeout = Some(Duration::from_secs(300));
            s.connect_timeout = Duration::from_secs(10);
        })
    );
    let settings: PoolSettings =
        serde_json::from_str(r#"{ "database_idle_timeout": null }"#).unwrap();
    assert_eq!(settings.idle_timeout, None);
}

fn settings_with(edit: impl FnOnce(&mut PoolSettings)) -> PoolSettings {
    settings(edit)
}
