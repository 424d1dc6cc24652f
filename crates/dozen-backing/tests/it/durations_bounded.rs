//! Promise: durations are bounded. Every duration of `PoolSettings` has a documented
//! maximum (1h, the idle timeout 1day); a larger value, `18446744073709551615s` included,
//! is a configuration error that names the variable and never its value, whether read by
//! dozen-config or by any serde deserializer, and settings built in code are checked again
//! before a pool is built. The same for the minimum of 1ms of the acquire, idle and
//! connect timeouts, where zero means nothing but failure (the busy timeout's zero is
//! SQLite's "do not wait", and stays). Nothing panics: the retry
//! loop's arithmetic is checked (its own property test lives next to it in `retry.rs`),
//! and a real connect with `Duration::MAX` returns.

use std::time::Duration;

use dozen_backing::{ErrorKind, PoolSettings};
use proptest::prelude::*;

const HUGE: &str = "18446744073709551615s";

/// Each duration, its maximum, and its minimum as `expecting` words the range.
const DURATIONS: &[(&str, &str, &str)] = &[
    ("DATABASE_ACQUIRE_TIMEOUT", "1h", "from 1ms to"),
    ("DATABASE_IDLE_TIMEOUT", "1day", "from 1ms to"),
    ("DATABASE_CONNECT_TIMEOUT", "1h", "from 1ms to"),
    ("DATABASE_BUSY_TIMEOUT", "1h", "of at most"),
];

/// `PoolSettings` loaded by dozen-config from the one pair `var=value`; the error as text.
fn load(var: &str, value: &str) -> Result<PoolSettings, String> {
    dozen_config::from_iter([(var.to_owned(), value.to_owned())]).map_err(|e| e.to_string())
}

#[test]
fn huge_durations_are_errors_naming_the_variable() {
    for (var, max, range) in DURATIONS {
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
            error.contains(&format!("a duration {range} {max}, such as 30s or 1m 30s")),
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
/// `DATABASE_ACQUIRE_TIMEOUT=0` made every wait for a connection time out, so start-up
/// failed after the whole connect timeout as "timed out", naming no variable;
/// `DATABASE_CONNECT_TIMEOUT=0` failed at once "within 0ns". Now each is refused while
/// loading, by its variable, as any value under 1ms is.
#[test]
fn zero_durations_are_errors_naming_the_variable() {
    for (var, _, range) in DURATIONS {
        for value in ["0", "0s", "0ms", "999us", "1ns"] {
            let loaded = load(var, value);
            if *range == "of at most" {
                // DATABASE_BUSY_TIMEOUT=0: SQLite does not wait for a lock.
                loaded.unwrap();
                continue;
            }
            assert_eq!(
                loaded.unwrap_err(),
                format!("{var}: too short (at least 1ms)"),
                "{var}={value}"
            );
        }
        load(var, "1ms").unwrap();
    }
    let error = serde_json::from_str::<PoolSettings>(r#"{ "database_connect_timeout": "0s" }"#)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("too short, expected at least 1ms"),
        "{error}"
    );
    // An empty idle timeout is "never", not zero.
    let settings = load("DATABASE_IDLE_TIMEOUT", "").unwrap();
    assert_eq!(settings.database_idle_timeout, None);
}

#[test]
fn dozen_config_names_the_variable() {
    for (var, max, _) in DURATIONS {
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
        (
            "DATABASE_ACQUIRE_TIMEOUT: too short (at least 1ms)",
            huge(|s| s.database_acquire_timeout = Duration::ZERO),
        ),
        (
            "DATABASE_IDLE_TIMEOUT: too short (at least 1ms)",
            huge(|s| s.database_idle_timeout = Some(Duration::from_micros(999))),
        ),
        (
            "DATABASE_CONNECT_TIMEOUT: too short (at least 1ms)",
            huge(|s| s.database_connect_timeout = Duration::ZERO),
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

/// Against a real PostgreSQL: a zero acquire timeout built in code is refused before
/// connecting, by its variable, instead of every attempt timing out until the connect
/// timeout.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_zero_acquire_timeout_fails_at_once_by_its_variable() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url: dozen_backing::ServiceUrl = base.parse().unwrap();
    let mut settings = PoolSettings::default();
    settings.database_acquire_timeout = Duration::ZERO;
    settings.database_connect_timeout = Duration::from_secs(3);
    let started = std::time::Instant::now();
    let error = dozen_backing::connect::<dozen_backing::Postgres>(&url, &settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidSetting, "{error}");
    assert_eq!(error.var(), Some("DATABASE_ACQUIRE_TIMEOUT"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // The same settings with an acquire timeout of their own connect.
    settings.database_acquire_timeout = Duration::from_secs(5);
    let pool = dozen_backing::connect::<dozen_backing::Postgres>(&url, &settings)
        .await
        .unwrap();
    pool.close().await;
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
        let (name, _, _) = DURATIONS[var];
        let value = format!("{amount}{unit}");
        match load(name, &value) {
            Ok(settings) => {
                let got = [Some(settings.database_acquire_timeout), settings.database_idle_timeout,
                           Some(settings.database_connect_timeout), Some(settings.database_busy_timeout)][var].unwrap();
                let max = if var == 1 { 86_400 } else { 3_600 };
                prop_assert!(got <= Duration::from_secs(max));
                prop_assert!(var == 3 || got >= Duration::from_millis(1), "{}={}", name, value);
            }
            Err(message) => {
                prop_assert!(message.starts_with(&format!("{name}: ")), "{}", message);
                prop_assert!(!message.contains(&value), "{}", message);
            }
        }
    }
}
