//! Promise: durations are bounded. Every duration of `PoolSettings` has a documented
//! maximum (1h, the idle timeout 1day); a larger value, `18446744073709551615s` included,
//! is a configuration error that names the variable and never its value, whether read by
//! dozen-config or by any serde deserializer, and settings built in code are checked again
//! before a pool is built. Nothing panics: the retry
//! loop's arithmetic is checked (its own property test lives next to it in `retry.rs`),
//! and a real connect with `Duration::MAX` returns.

use std::time::Duration;

use dozen_backing::{ErrorKind, PoolSettings};
use proptest::prelude::*;

const HUGE: &str = "18446744073709551615s";

const DURATIONS: &[(&str, &str)] = &[
    ("DATABASE_ACQUIRE_TIMEOUT", "1h"),
    ("DATABASE_IDLE_TIMEOUT", "1day"),
    ("DATABASE_CONNECT_TIMEOUT", "1h"),
    ("DATABASE_BUSY_TIMEOUT", "1h"),
];

/// `PoolSettings` loaded by dozen-config from the one pair `var=value`; the error as text.
fn load(var: &str, value: &str) -> Result<PoolSettings, String> {
    dozen_config::from_iter([(var.to_owned(), value.to_owned())]).map_err(|e| e.to_string())
}

#[test]
fn huge_durations_are_errors_naming_the_variable() {
    for (var, max) in DURATIONS {
        let just_over = format!("{max} 1ns");
        for value in [HUGE, &just_over, "2days", "1000000000000d"] {
            let error = load(var, value).unwrap_err();
            assert_eq!(
                error,
                format!("{var}: too large (at most {max})"),
                "{var}={value}"
            );
        }
        // Beyond what a duration holds at all: humantime refuses it.
        let error = load(var, "100000000000000000000s").unwrap_err();
        assert!(error.starts_with(&format!("{var}: ")), "{error}");
        assert!(
            error.contains(&format!(
                "a duration of at most {max}, such as 30s or 1m 30s"
            )),
            "{error}"
        );
        assert!(!error.contains("100000000000000000000"), "{error}");
        // The maximum itself is accepted.
        load(var, max).unwrap();
    }
}

/// What dozen-config says for the same variables: the variable is named (dozen-config
/// never shows a custom message, which could quote the value; it shows what was
/// expected), the value is not, so the application exits with its configuration status.
#[test]
fn dozen_config_names_the_variable() {
    for (var, max) in DURATIONS {
        let error =
            dozen_config::from_iter::<_, PoolSettings>([(var.to_string(), HUGE.to_owned())])
                .unwrap_err();
        let message = error.to_string();
        assert_eq!(message, format!("{var}: too large (at most {max})"),);
        assert!(!message.contains("18446744073709551615"), "{message}");
    }
    // Every bad variable at once, and a good one is not reported.
    let error = dozen_config::from_iter::<_, PoolSettings>([
        ("DATABASE_ACQUIRE_TIMEOUT".to_owned(), HUGE.to_owned()),
        ("DATABASE_CONNECT_TIMEOUT".to_owned(), HUGE.to_owned()),
        ("DATABASE_BUSY_TIMEOUT".to_owned(), "5s".to_owned()),
    ])
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("DATABASE_ACQUIRE_TIMEOUT:"), "{message}");
    assert!(message.contains("DATABASE_CONNECT_TIMEOUT:"), "{message}");
    assert!(!message.contains("DATABASE_BUSY_TIMEOUT"), "{message}");
    let settings: PoolSettings =
        dozen_config::from_iter([("DATABASE_IDLE_TIMEOUT".to_owned(), "1day".to_owned())]).unwrap();
    assert_eq!(
        settings.database_idle_timeout,
        Some(Duration::from_secs(86_400))
    );
}

#[test]
fn serde_rejects_them_too() {
    let error = serde_json::from_str::<PoolSettings>(&format!(
        r#"{{ "database_acquire_timeout": "{HUGE}" }}"#
    ))
    .unwrap_err();
    assert!(
        error.to_string().contains("too large, expected at most 1h"),
        "{error}"
    );
}

/// Settings built in code skip the deserializer: building a pool checks them again,
/// rather than letting sqlx panic on `Instant + Duration` (the exit 101 of the issue).
#[cfg(feature = "postgres")]
#[tokio::test]
async fn settings_built_in_code_are_checked_before_connecting() {
    let url: dozen_backing::ServiceUrl = "postgres://127.0.0.1:1/x".parse().unwrap();
    let huge = |edit: fn(&mut PoolSettings)| {
        let mut settings = PoolSettings::default();
        edit(&mut settings);
        settings
    };
    let cases = [
        (
            "DATABASE_ACQUIRE_TIMEOUT: too large (at most 1h)",
            huge(|s| s.database_acquire_timeout = Duration::MAX),
        ),
        (
            "DATABASE_IDLE_TIMEOUT: too large (at most 1day)",
            huge(|s| s.database_idle_timeout = Some(Duration::MAX)),
        ),
        (
            "DATABASE_CONNECT_TIMEOUT: too large (at most 1h)",
            huge(|s| s.database_connect_timeout = Duration::MAX),
        ),
        (
            "DATABASE_BUSY_TIMEOUT: too large (at most 1h)",
            huge(|s| s.database_busy_timeout = Duration::MAX),
        ),
    ];
    for (message, settings) in cases {
        let error = dozen_backing::connect::<dozen_backing::Postgres>(&url, &settings)
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), message);
        assert_eq!(error.kind(), ErrorKind::InvalidSetting);
        assert_eq!(error.var(), message.split(':').next());
        let error =
            dozen_backing::connect_lazy::<dozen_backing::Postgres>(&url, &settings).unwrap_err();
        assert_eq!(error.to_string(), message);
    }
}

/// A retry loop given `Duration::MAX` (which used to panic computing its deadline) returns
/// as soon as the failure is final: here a password the local Redis does not expect.
#[cfg(feature = "redis")]
#[tokio::test]
async fn a_connect_with_the_longest_timeout_does_not_panic() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::REDIS) else {
        return;
    };
    let mut url = url::Url::parse(&base).unwrap();
    url.set_password(Some("Hunter2-redis")).unwrap();
    let url: dozen_backing::ServiceUrl = url.as_str().parse().unwrap();
    let error = dozen_backing::redis::connect(&url, Duration::MAX)
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert!(!error.to_string().contains("Hunter2"), "{error}");
}

proptest! {
    /// Any duration, in any unit, for any of the variables: an error naming the variable
    /// without the value, or settings within the maximum; never a panic.
    #[test]
    fn random_durations_are_bounded_or_refused(
        var in 0_usize..4,
        amount in any::<u64>(),
        unit in proptest::sample::select(&["ns", "us", "ms", "s", "m", "h", "d", "w", "y"][..]),
    ) {
        let (name, _) = DURATIONS[var];
        let value = format!("{amount}{unit}");
        match load(name, &value) {
            Ok(settings) => {
                let got = [Some(settings.database_acquire_timeout), settings.database_idle_timeout,
                           Some(settings.database_connect_timeout), Some(settings.database_busy_timeout)][var].unwrap();
                let max = if var == 1 { 86_400 } else { 3_600 };
                prop_assert!(got <= Duration::from_secs(max));
            }
            Err(message) => {
                prop_assert!(message.starts_with(&format!("{name}: ")), "{}", message);
                prop_assert!(!message.contains(&value), "{}", message);
            }
        }
    }
}
