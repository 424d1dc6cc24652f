//! [`PoolSettings`]: the sizing and timeouts of a database pool, as plain data.

use std::time::Duration;

use crate::error::Error;

/// Sizing and timeouts of a database pool: a plain [`serde::Deserialize`] struct whose
/// fields are named after their variables, so that a configuration loader such as
/// dozen-config reads it with no rename, alone or beside an application's own settings
/// (`dozen_config::from_env::<(App, PoolSettings)>()`). This crate reads no environment
/// variable itself.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `DATABASE_MAX_CONNECTIONS` | the most connections the pool opens, at least 1 | 10 |
/// | `DATABASE_MIN_CONNECTIONS` | connections kept open even when idle, at most `DATABASE_MAX_CONNECTIONS` | 0 |
/// | `DATABASE_ACQUIRE_TIMEOUT` | how long a query waits for a free connection, at most 1h | 30s |
/// | `DATABASE_IDLE_TIMEOUT` | how long a connection may stay idle before it is closed (empty: never), at most 1day | 10m |
/// | `DATABASE_CONNECT_TIMEOUT` | how long start-up keeps retrying to connect, at most 1h | 30s |
/// | `DATABASE_BUSY_TIMEOUT` | how long a SQLite statement waits for a lock held by another connection, at most 1h | 5s |
///
/// Durations are written as `30s`, `1m 30s`, `500ms` (humantime). A value out of its range
/// is refused while deserializing, naming the variable and never the value
/// (`DATABASE_ACQUIRE_TIMEOUT: too large (at most 1h)`), so that it is a configuration
/// error rather than a driver panicking on `Instant` overflow later.
/// [`validate`](Self::validate) checks what one field alone cannot (the minimum against
/// the maximum), and the ranges again for settings built in code; the pools call it before
/// they connect.
///
/// ```
/// use std::time::Duration;
/// use dozen_backing::PoolSettings;
///
/// let vars = [("DATABASE_MAX_CONNECTIONS", "4"), ("DATABASE_IDLE_TIMEOUT", "1m")];
/// let settings: PoolSettings =
///     dozen_config::from_iter(vars.map(|(k, v)| (k.to_owned(), v.to_owned())))?;
/// assert_eq!(settings.database_max_connections, 4);
/// assert_eq!(settings.database_idle_timeout, Some(Duration::from_secs(60)));
/// assert_eq!(settings.database_connect_timeout, Duration::from_secs(30));
/// settings.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PoolSettings {
    /// `DATABASE_MAX_CONNECTIONS`: the most connections the pool opens (at least 1).
    #[serde(deserialize_with = "at_least_one")]
    pub database_max_connections: u32,
    /// `DATABASE_MIN_CONNECTIONS`: the connections the pool keeps open even when idle.
    pub database_min_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT`: how long a query waits for a free connection.
    #[serde(deserialize_with = "bounded::<_, HOUR>")]
    pub database_acquire_timeout: Duration,
    /// `DATABASE_IDLE_TIMEOUT`: how long a connection may stay idle before it is closed;
    /// `None` (an empty value) keeps it.
    #[serde(deserialize_with = "bounded_option::<_, DAY>")]
    pub database_idle_timeout: Option<Duration>,
    /// `DATABASE_CONNECT_TIMEOUT`: how long start-up keeps retrying to connect.
    #[serde(deserialize_with = "bounded::<_, HOUR>")]
    pub database_connect_timeout: Duration,
    /// `DATABASE_BUSY_TIMEOUT`: how long a SQLite statement waits for a lock held by
    /// another connection.
    #[serde(deserialize_with = "bounded::<_, HOUR>")]
    pub database_busy_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            database_max_connections: 10,
            database_min_connections: 0,
            database_acquire_timeout: Duration::from_secs(30),
            database_idle_timeout: Some(Duration::from_secs(600)),
            database_connect_timeout: Duration::from_secs(30),
            database_busy_timeout: Duration::from_secs(5),
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
const fn at_most(secs: u64) -> &'static str {
    if secs == DAY {
        "at most 1day"
    } else {
        "at most 1h"
    }
}

/// A humantime duration of at most `SECS` seconds, for `Deserialize`. Neither error
/// quotes the value; dozen-config shows them as `VAR: too large (at most 1h)` and
/// `VAR: text that is not a duration (a duration of at most 1h, such as 30s or 1m 30s)`.
struct BoundedVisitor<const SECS: u64>;

impl<const SECS: u64> serde::de::Visitor<'_> for BoundedVisitor<SECS> {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = if SECS == DAY { "1day" } else { "1h" };
        write!(f, "a duration of at most {limit}, such as 30s or 1m 30s")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
        use serde::de::Unexpected;
        let value = humantime_serde::re::humantime::parse_duration(v.trim()).map_err(|_| {
            E::invalid_value(Unexpected::Other("text that is not a duration"), &self)
        })?;
        if value > Duration::from_secs(SECS) {
            return Err(E::invalid_value(
                Unexpected::Other("too large"),
                &at_most(SECS),
            ));
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

/// A whole number of at least 1 (`DATABASE_MAX_CONNECTIONS`).
fn at_least_one<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let value = <u32 as serde::Deserialize>::deserialize(deserializer)?;
    if value == 0 {
        return Err(serde::de::Error::invalid_value(
            serde::de::Unexpected::Other("too small"),
            &"at least 1",
        ));
    }
    Ok(value)
}

impl PoolSettings {
    /// Checks what a deserializer cannot see, and the ranges again for settings built
    /// in code: the pools call it before they connect.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidSetting`](crate::ErrorKind::InvalidSetting), its
    /// [`var`](Error::var) the variable: `DATABASE_MAX_CONNECTIONS: too small (at least 1)`,
    /// `DATABASE_MIN_CONNECTIONS: too large (at most DATABASE_MAX_CONNECTIONS)`, or a
    /// duration above its maximum (see the table above); the first one found.
    pub fn validate(&self) -> Result<(), Error> {
        let durations = [
            (ACQUIRE, Some(self.database_acquire_timeout), HOUR),
            (IDLE, self.database_idle_timeout, DAY),
            (CONNECT, Some(self.database_connect_timeout), HOUR),
            (BUSY, Some(self.database_busy_timeout), HOUR),
        ];
        for (var, value, secs) in durations {
            if value.is_some_and(|v| v > Duration::from_secs(secs)) {
                return Err(Error::setting(var, "too large", at_most(secs)));
            }
        }
        if self.database_max_connections == 0 {
            return Err(Error::setting(MAX, "too small", "at least 1"));
        }
        if self.database_min_connections > self.database_max_connections {
            return Err(Error::setting(
                MIN,
                "too large",
                "at most DATABASE_MAX_CONNECTIONS",
            ));
        }
        Ok(())
    }
}
