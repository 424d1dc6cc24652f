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
/// | `DATABASE_ACQUIRE_TIMEOUT` | how long a query waits for a free connection, from 1ms to 1h | 30s |
/// | `DATABASE_IDLE_TIMEOUT` | how long a connection may stay idle before it is closed (empty: never), from 1ms to 1day | 10m |
/// | `DATABASE_CONNECT_TIMEOUT` | how long start-up keeps retrying to connect, from 1ms to 1h | 30s |
/// | `DATABASE_BUSY_TIMEOUT` | how long a SQLite statement waits for a lock held by another connection (0: not at all), at most 1h | 5s |
///
/// Durations are written as `30s`, `1m 30s`, `500ms` (humantime). A value out of its range
/// is refused while deserializing, naming the variable and never the value
/// (`DATABASE_ACQUIRE_TIMEOUT: too large (at most 1h)`,
/// `DATABASE_CONNECT_TIMEOUT: too short (at least 1ms)`), so that it is a configuration
/// error rather than a driver panicking on `Instant` overflow later, or a pool whose every
/// wait times out at once. Zero is refused where it has no meaning of its own: a zero
/// acquire or connect timeout fails every attempt, and a zero idle timeout would spin the
/// pool's reaper (write an empty value for "never"); a zero busy timeout is SQLite's "do
/// not wait for a lock".
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
    #[serde(deserialize_with = "bounded::<_, 1, HOUR>")]
    pub database_acquire_timeout: Duration,
    /// `DATABASE_IDLE_TIMEOUT`: how long a connection may stay idle before it is closed;
    /// `None` (an empty value) keeps it.
    #[serde(deserialize_with = "bounded_option::<_, 1, DAY>")]
    pub database_idle_timeout: Option<Duration>,
    /// `DATABASE_CONNECT_TIMEOUT`: how long start-up keeps retrying to connect.
    #[serde(deserialize_with = "bounded::<_, 1, HOUR>")]
    pub database_connect_timeout: Duration,
    /// `DATABASE_BUSY_TIMEOUT`: how long a SQLite statement waits for a lock held by
    /// another connection.
    #[serde(deserialize_with = "bounded::<_, 0, HOUR>")]
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

/// The minimum as the error message writes it, when there is one (`MIN_MS` > 0).
const fn at_least(min_ms: u64) -> &'static str {
    if min_ms == 1 { "at least 1ms" } else { "" }
}

/// A humantime duration from `MIN_MS` milliseconds (1 or 0) to `SECS` seconds, for
/// `Deserialize`. No error quotes the value; dozen-config shows them as
/// `VAR: too large (at most 1h)`, `VAR: too short (at least 1ms)` and
/// `VAR: text that is not a duration (a duration from 1ms to 1h, such as 30s or 1m 30s)`.
struct BoundedVisitor<const MIN_MS: u64, const SECS: u64>;

impl<const MIN_MS: u64, const SECS: u64> serde::de::Visitor<'_> for BoundedVisitor<MIN_MS, SECS> {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = if SECS == DAY { "1day" } else { "1h" };
        if MIN_MS == 0 {
            write!(f, "a duration of at most {limit}, such as 30s or 1m 30s")
        } else {
            write!(
                f,
                "a duration from {MIN_MS}ms to {limit}, such as 30s or 1m 30s"
            )
        }
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
        if value < Duration::from_millis(MIN_MS) {
            return Err(E::invalid_value(
                Unexpected::Other("too short"),
                &at_least(MIN_MS),
            ));
        }
        Ok(value)
    }
}

/// A duration from `MIN_MS` milliseconds to `SECS` seconds.
fn bounded<'de, D: serde::Deserializer<'de>, const MIN_MS: u64, const SECS: u64>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(BoundedVisitor::<MIN_MS, SECS>)
}

/// As [`bounded`], for an optional duration.
fn bounded_option<'de, D: serde::Deserializer<'de>, const MIN_MS: u64, const SECS: u64>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    struct Bounded<const MIN_MS: u64, const SECS: u64>(Duration);
    impl<'de, const MIN_MS: u64, const SECS: u64> serde::Deserialize<'de> for Bounded<MIN_MS, SECS> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            bounded::<D, MIN_MS, SECS>(d).map(Bounded)
        }
    }
    let value: Option<Bounded<MIN_MS, SECS>> = serde::Deserialize::deserialize(deserializer)?;
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
    /// duration out of its range (see the table above:
    /// `DATABASE_ACQUIRE_TIMEOUT: too short (at least 1ms)`); the first one found.
    pub fn validate(&self) -> Result<(), Error> {
        let durations = [
            (ACQUIRE, Some(self.database_acquire_timeout), 1, HOUR),
            (IDLE, self.database_idle_timeout, 1, DAY),
            (CONNECT, Some(self.database_connect_timeout), 1, HOUR),
            (BUSY, Some(self.database_busy_timeout), 0, HOUR),
        ];
        for (var, value, min_ms, secs) in durations {
            let Some(value) = value else { continue };
            if value > Duration::from_secs(secs) {
                return Err(Error::setting(var, "too large", at_most(secs)));
            }
            if value < Duration::from_millis(min_ms) {
                return Err(Error::setting(var, "too short", at_least(min_ms)));
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
