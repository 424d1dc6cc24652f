//! [`HttpSettings`]: how [`serve`](super::serve) defends against slow and
//! numerous clients, as a configuration loader reads it.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};

use crate::duration::{self, MAX_DURATION};

/// The default for `HTTP_HEADER_READ_TIMEOUT`: 30 s, hyper's own default.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `HTTP_BODY_READ_TIMEOUT`: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for `HTTP_MAX_CONNECTIONS`: 1024.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
/// The default for `HTTP_MAX_BODY_BYTES`: 2 MiB (2,097,152 bytes), the limit
/// axum's own body extractors apply by default.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// How [`serve`](super::serve) treats slow and numerous clients and large
/// request bodies: `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`,
/// `HTTP_MAX_CONNECTIONS` and `HTTP_MAX_BODY_BYTES`.
///
/// A plain `serde::Deserialize` struct whose field names are the variables'
/// names in lower case, like [`ShutdownSettings`](crate::ShutdownSettings),
/// so `dozen-config` loads it with an app's settings; give it to
/// [`Serve::settings`](super::Serve::settings). Durations use humantime syntax and are at most
/// [`MAX_DURATION`](crate::MAX_DURATION) (1 h); a longer one is an error
/// naming the variable. Zero turns a timeout or the connection limit off,
/// explicitly.
///
/// `HTTP_MAX_BODY_BYTES` has no "off": it is a plain count of bytes (no
/// `MiB` suffix), at least 1. Zero, which would read as "off" beside the
/// other limits and as "no body" on its own, is refused as an error naming
/// the variable; a service that takes uploads of any size sets a large count
/// (`1099511627776` is 1 TiB).
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `HTTP_HEADER_READ_TIMEOUT` | how long a client has to send a request's headers; the connection is closed after it. hyper also counts the time an idle keep-alive connection waits for its next request, so keep it above a load balancer's idle timeout towards backends | 30 s |
/// | `HTTP_BODY_READ_TIMEOUT` | the longest wait for the next part of a request body; past it the request is answered `408 Request Timeout` and the connection closed. A body that keeps arriving is never cut | 30 s |
/// | `HTTP_MAX_CONNECTIONS` | connections served at once; one more is closed as soon as it is accepted, while the others keep being served | 1024 |
/// | `HTTP_MAX_BODY_BYTES` | the largest request body, in bytes, whatever the handler does: a larger declared `content-length` is answered `413 Payload Too Large` without calling the handler or reading the body (the connection is closed after it); a body without a length fails once it grows past it (axum's `Bytes`, `String` and `Json` answer 413, a handler reading the stream sees an error after at most this many bytes). axum's own 2 MB default limit is lifted, so a body up to this size reaches those extractors; a route's `DefaultBodyLimit` can still set a lower one | 2097152 (2 MiB) |
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default)]
#[non_exhaustive]
pub struct HttpSettings {
    /// `HTTP_HEADER_READ_TIMEOUT`; zero: no timeout.
    #[serde(deserialize_with = "duration::deserialize")]
    pub http_header_read_timeout: Duration,
    /// `HTTP_BODY_READ_TIMEOUT`; zero: no timeout.
    #[serde(deserialize_with = "duration::deserialize")]
    pub http_body_read_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`; zero: no limit.
    pub http_max_connections: u32,
    /// `HTTP_MAX_BODY_BYTES`; at least 1 when read from a variable. Set
    /// from code, zero means what it says: every body with content is
    /// refused.
    #[serde(deserialize_with = "at_least_one_byte")]
    pub http_max_body_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            http_header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            http_body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            http_max_connections: DEFAULT_MAX_CONNECTIONS,
            http_max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl HttpSettings {
    /// The header-read timeout to give hyper, `None` for none.
    pub(super) fn header_read_timeout(&self) -> Option<Duration> {
        nonzero(self.http_header_read_timeout)
    }

    /// The body-read timeout, `None` for none.
    pub(super) fn body_read_timeout(&self) -> Option<Duration> {
        nonzero(self.http_body_read_timeout)
    }

    /// The most connections served at once.
    pub(super) fn max_connections(&self) -> usize {
        match self.http_max_connections {
            0 => usize::MAX,
            max => usize::try_from(max).unwrap_or(usize::MAX),
        }
    }
}

/// A count of bytes of at least 1 (`HTTP_MAX_BODY_BYTES`); the error names no
/// value (a loader shows `HTTP_MAX_BODY_BYTES: too small (at least 1)`).
fn at_least_one_byte<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match u64::deserialize(deserializer)? {
        0 => Err(de::Error::invalid_value(
            Unexpected::Other("too small"),
            &"at least 1",
        )),
        bytes => Ok(bytes),
    }
}

/// `Some(timeout)` within [`MAX_DURATION`] (the public fields can hold
/// anything), `None` for zero.
fn nonzero(timeout: Duration) -> Option<Duration> {
    (!timeout.is_zero()).then(|| timeout.min(MAX_DURATION))
}
