//! [`HttpSettings`]: how [`serve`](super::serve) defends against slow and
//! numerous clients, read from the environment.

use std::env;
use std::ffi::OsString;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};

use crate::Error;
use crate::duration::{self, MAX_DURATION};
use crate::env::Lookup;

/// The default for `HTTP_HEADER_READ_TIMEOUT`: 30 s, hyper's own default.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `HTTP_BODY_READ_TIMEOUT`: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `HTTP_MAX_CONNECTIONS`: 1024.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;

const MAX_CONNECTIONS_EXPECTED: &str = "a number of connections of at least 1";

/// How [`serve`](super::serve) treats slow and numerous clients, read from
/// `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT` and
/// `HTTP_MAX_CONNECTIONS`.
///
/// A plain `serde::Deserialize` struct whose field names are the variables'
/// names in lower case, like [`ShutdownConfig`](crate::ShutdownConfig), so
/// `dozen-config` can load it with an app's settings; or read it with
/// [`HttpSettings::from_env`]. Durations use humantime syntax, are above
/// zero and at most [`MAX_DURATION`](crate::MAX_DURATION) (1 h).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `HTTP_HEADER_READ_TIMEOUT` | how long a client has to send a request's headers; the connection is closed after it. hyper also counts the time an idle keep-alive connection waits for its next request, so keep it above a load balancer's idle timeout for backends | 30 s |
/// | `HTTP_BODY_READ_TIMEOUT` | the longest wait for the next part of a request body; past it the request is answered `408 Request Timeout` and the connection closed | 30 s |
/// | `HTTP_MAX_CONNECTIONS` | connections served at once; one more is closed as soon as it is accepted, while the others keep being served | 1024 |
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
#[non_exhaustive]
pub struct HttpSettings {
    /// `HTTP_HEADER_READ_TIMEOUT`.
    #[serde(deserialize_with = "duration::deserialize_nonzero")]
    pub http_header_read_timeout: Duration,
    /// `HTTP_BODY_READ_TIMEOUT`.
    #[serde(deserialize_with = "duration::deserialize_nonzero")]
    pub http_body_read_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`, at least 1.
    #[serde(deserialize_with = "deserialize_max_connections")]
    pub http_max_connections: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            http_header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            http_body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            http_max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

fn deserialize_max_connections<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<u32, D::Error> {
    let max = u32::deserialize(deserializer)?;
    if max == 0 {
        return Err(de::Error::invalid_value(
            Unexpected::Unsigned(0),
            &MAX_CONNECTIONS_EXPECTED,
        ));
    }
    Ok(max)
}

impl HttpSettings {
    /// Reads `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT` and
    /// `HTTP_MAX_CONNECTIONS`; an unset or empty variable takes its default.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDuration`], [`Error::InvalidNumber`],
    /// [`Error::OutOfRange`] (a zero timeout, one above 1 h, no connections)
    /// or [`Error::NotUnicode`], naming the variable (never its value).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| env::var_os(name))
    }

    /// Like [`from_env`](Self::from_env), with the variables looked up by `lookup`.
    ///
    /// # Errors
    ///
    /// As for [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl FnMut(&str) -> Option<OsString>) -> Result<Self, Error> {
        let mut vars = Lookup(lookup);
        let defaults = Self::default();
        let http_header_read_timeout = vars
            .timeout("HTTP_HEADER_READ_TIMEOUT")?
            .unwrap_or(defaults.http_header_read_timeout);
        let http_body_read_timeout = vars
            .timeout("HTTP_BODY_READ_TIMEOUT")?
            .unwrap_or(defaults.http_body_read_timeout);
        let variable = "HTTP_MAX_CONNECTIONS";
        let http_max_connections = match vars.number(variable)? {
            None => defaults.http_max_connections,
            Some(0) => {
                return Err(Error::OutOfRange {
                    variable,
                    expected: MAX_CONNECTIONS_EXPECTED,
                });
            }
            Some(max) => max,
        };
        Ok(Self {
            http_header_read_timeout,
            http_body_read_timeout,
            http_max_connections,
        })
    }

    /// Sets the header-read timeout, kept within 1 ms to
    /// [`MAX_DURATION`](crate::MAX_DURATION).
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.http_header_read_timeout = clamp(timeout);
        self
    }

    /// Sets the body-read timeout, kept within 1 ms to
    /// [`MAX_DURATION`](crate::MAX_DURATION).
    #[must_use]
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.http_body_read_timeout = clamp(timeout);
        self
    }

    /// Sets the most connections served at once (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, max: u32) -> Self {
        self.http_max_connections = max.max(1);
        self
    }

    /// The settings with every value within its documented range, whatever
    /// was written into the public fields.
    pub(super) fn bounded(&self) -> Self {
        Self {
            http_header_read_timeout: clamp(self.http_header_read_timeout),
            http_body_read_timeout: clamp(self.http_body_read_timeout),
            http_max_connections: self.http_max_connections.max(1),
        }
    }
}

fn clamp(timeout: Duration) -> Duration {
    timeout.clamp(Duration::from_millis(1), MAX_DURATION)
}
