//! [`PoolSettings`]: pool sizing and timeouts from the environment.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Sizing and timeouts of a database pool, read from the environment.
///
/// | field | variable | default | at most |
/// |---|---|---|---|
/// | `max_connections` | `DATABASE_MAX_CONNECTIONS` | 10 | |
/// | `min_connections` | `DATABASE_MIN_CONNECTIONS` | 0 | `max_connections` |
/// | `acquire_timeout` | `DATABASE_ACQUIRE_TIMEOUT` | 30s | 1h |
/// | `idle_timeout` | `DATABASE_IDLE_TIMEOUT` (empty: never) | 10m | 1day |
/// | `connect_timeout` | `DATABASE_CONNECT_TIMEOUT` | 30s | 1h |
/// | `busy_timeout` | `DATABASE_BUSY_TIMEOUT` (SQLite only) | 5s | 1h |
///
/// Durations are written as `30s`, `1m 30s`, `500ms` (humantime). A duration above its
/// maximum is an error naming the variable (`DATABASE_ACQUIRE_TIMEOUT: too large (at most
/// 1h)`), raised inside `Deserialize` too, so that a configuration loader reports it as a
/// configuration error rather than a driver panicking on `Instant` overflow later. It is a plain
/// [`serde::Deserialize`] struct whose serde field names are the variables' names in lower
/// case, so a configuration loader such as `dozen-config` reads it with
/// `from_env::<PoolSettings>()`, or with an application's own settings as a tuple
/// (`from_env::<(App, PoolSettings)>()`); [`from_env`](Self::from_env) reads the same variables without one.
///
/// ```
/// use std::time::Duration;
/// use dozen_backing::PoolSettings;
///
/// let settings = PoolSettings::from_vars([("DATABASE_MAX_CONNECTIONS", "4"), ("DATABASE_IDLE_TIMEOUT", "1m")])?;
/// assert_eq!(settings.max_connections, 4);
/// assert_eq!(settings.idle_timeout, Some(Duration::from_secs(60)));
/// assert_eq!(settings.connect_timeout, Duration::from_secs(30));
/// # Ok::<(), dozen_backing::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PoolSettings {
    /// The most connections the pool opens (`DATABASE_MAX_CONNECTIONS`, at least 1).
    #[serde(rename = "database_max_connections")]
    pub max_connections: u32,
    /// The connections the pool keeps open even when idle (`DATABASE_MIN_CONNECTIONS`).
    #[serde(rename = "database_min_connections")]
    pub min_connections: u32,
    /// How long a query waits for a free connection (`DATABASE_ACQUIRE_TIMEOUT`).
    #[serde(
        rename = "database_acquire_timeout",
        deserialize_with = "bounded::<_, HOUR>"
    )]
    pub acquire_timeout: Duration,
    /// How long a connection may stay idle before it is closed; `None` keeps it
    /// (`DATABASE_IDLE_TIMEOUT`).
    #[serde(
        rename = "database_idle_timeout",
        deserialize_with = "bounded_option::<_, DAY>"
    )]
    pub idle_timeout: Option<Duration>,
    /// How long start-up keeps retrying to connect (`DATABASE_CONNECT_TIMEOUT`).
    #[serde(
        rename = "database_connect_timeout",
        deserialize_with = "bounded::<_, HOUR>"
    )]
    pub connect_timeout: Duration,
    /// How long a SQLite statement waits for a lock held by another connection
    /// (`DATABASE_BUSY_TIMEOUT`).
    #[serde(
        rename = "database_busy_timeout",
        deserialize_with = "bounded::<_, HOUR>"
    )]
    pub busy_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            connect_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

const MAX: &str = "DATABASE_MAX_CONNECTIONS";
const MIN: &str = "DATABASE_MIN_CONNECTIONS";
const ACQUIRE: &str = "DATABASE_ACQUIRE_TIMEOUT";
const IDLE: &str = "DATABASE_IDLE_TIMEOUT";
const CONNECT: &str = "DATABASE_CONNECT_TIMEOUT";
const BUSY: &str = "DATABASE_BUSY_TIMEOUT";

/// The maxima, in seconds: long enough for any real deployment, short enough that no
/// `Instant` arithmetic in sqlx, tokio or this crate can overflow.
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// The maximum as the error message writes it.
fn limit_text(secs: u64) -> &'static str {
    if secs == DAY { "1day" } else { "1h" }
}

/// A humantime duration of at most `SECS` seconds, for `Deserialize`. The visitor's
/// `expecting` says the maximum, since a configuration loader such as dozen-config shows
/// that (and the variable) rather than an error's own text; neither error quotes the value.
struct BoundedVisitor<const SECS: u64>;

impl<const SECS: u64> serde::de::Visitor<'_> for BoundedVisitor<SECS> {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a duration of at most {}, such as 30s or 1m 30s",
            limit_text(SECS)
        )
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
        use serde::de::Unexpected;
        let value = humantime_serde::re::humantime::parse_duration(v.trim()).map_err(|_| {
            E::invalid_value(Unexpected::Other("text that is not a duration"), &self)
        })?;
        if value > Duration::from_secs(SECS) {
            // dozen-config reports this as `VAR: too large (at most 1h)`.
            let at_most = if SECS == DAY {
                "at most 1day"
            } else {
                "at most 1h"
            };
            return Err(E::invalid_value(Unexpected::Other("too large"), &at_most));
        }
        Ok(value)
    }
}

/// A duration of at most `SECS` seconds.
fn bounded<'de, D: serde::Deserializer<'de>, const SECS: u64>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(BoundedVisitor::<SECS>)
}

/// As [`bounded`], for an optional duration.
fn bounded_option<'de, D: serde::Deserializer<'de>, const SECS: u64>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    struct Bounded<const SECS: u64>(Duration);
    impl<'de, const SECS: u64> serde::Deserialize<'de> for Bounded<SECS> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            bounded::<D, SECS>(d).map(Bounded)
        }
    }
    let value: Option<Bounded<SECS>> = serde::Deserialize::deserialize(deserializer)?;
    Ok(value.map(|b| b.0))
}

impl PoolSettings {
    /// Reads the `DATABASE_*` variables of the table above from the process environment;
    /// unset ones keep their default.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSetting`] naming the first invalid variable and the expected
    /// format, never its value.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
                ErrorKind::InvalidSetting,
                format!("{name}: invalid value, not valid UTF-8"),
            )),
        })
    }

    /// As [`from_env`](Self::from_env), from `(name, value)` pairs instead of the process
    /// environment (for tests, or a loader of one's own).
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let vars: Vec<(K, String)> = vars.into_iter().map(|(k, v)| (k, v.into())).collect();
        Self::from_lookup(|name| {
            Ok(vars
                .iter()
                .rev()
                .find(|(k, _)| k.as_ref() == name)
                .map(|(_, v)| v.clone()))
        })
    }

    fn from_lookup(
        mut lookup: impl FnMut(&str) -> Result<Option<String>, Error>,
    ) -> Result<Self, Error> {
        let mut settings = Self::default();
        if let Some(v) = lookup(MAX)? {
            settings.max_connections = integer(MAX, &v)?;
        }
        if let Some(v) = lookup(MIN)? {
            settings.min_connections = integer(MIN, &v)?;
        }
        if let Some(v) = lookup(ACQUIRE)? {
            settings.acquire_timeout = duration(ACQUIRE, &v)?;
        }
        if let Some(v) = lookup(IDLE)? {
            settings.idle_timeout = if v.trim().is_empty() {
                None
            } else {
                Some(duration(IDLE, &v)?)
            };
        }
        if let Some(v) = lookup(CONNECT)? {
            settings.connect_timeout = duration(CONNECT, &v)?;
        }
        if let Some(v) = lookup(BUSY)? {
            settings.busy_timeout = duration(BUSY, &v)?;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the relations between fields that a deserializer cannot see.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSetting`] when `max_connections` is 0 or below
    /// `min_connections`, or a duration is above its maximum (see the table above).
    pub fn validate(&self) -> Result<(), Error> {
        let durations = [
            (ACQUIRE, Some(self.acquire_timeout), HOUR),
            (IDLE, self.idle_timeout, DAY),
            (CONNECT, Some(self.connect_timeout), HOUR),
            (BUSY, Some(self.busy_timeout), HOUR),
        ];
        for (name, value, secs) in durations {
            if value.is_some_and(|v| v > Duration::from_secs(secs)) {
                return Err(Error::new(
                    ErrorKind::InvalidSetting,
                    format!("{name}: too large (at most {})", limit_text(secs)),
                ));
            }
        }
        if self.max_connections == 0 {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                format!("{MAX}: must be at least 1"),
            ));
        }
        if self.min_connections > self.max_connections {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                format!("{MIN}: must not exceed {MAX}"),
            ));
        }
        Ok(())
    }
}

fn integer(name: &str, value: &str) -> Result<u32, Error> {
    value.trim().parse().map_err(|_| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("{name}: invalid value, expected a whole number such as 10"),
        )
    })
}

fn duration(name: &str, value: &str) -> Result<Duration, Error> {
    humantime_serde::re::humantime::parse_duration(value.trim()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("{name}: invalid value, expected a duration such as 30s or 1m 30s"),
        )
    })
}
