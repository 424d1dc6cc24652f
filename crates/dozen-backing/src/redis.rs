//! Redis (and Valkey) from a [`ServiceUrl`], with redis-rs: [`client`] builds a client
//! without connecting, [`connect`] connects with retry, [`ping`] is the health check. The
//! same shape as the database pools' [`connect`](crate::connect) and [`ping`](crate::ping).
//!
//! ```no_run
//! # async fn run() -> Result<(), dozen_backing::Error> {
//! use std::time::Duration;
//! use dozen_backing::ServiceUrl;
//!
//! let url: ServiceUrl = "redis://:secret@cache:6379/0".parse()?;
//! let mut conn = dozen_backing::redis::connect(&url, Duration::from_secs(30)).await?;
//! dozen_backing::redis::ping(&mut conn, Duration::from_secs(1)).await?;
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::time::Duration;

use crate::error::{Error, ErrorKind, scrub};
use crate::retry::{Failure, classify_io, health_check, retry};
use crate::service_url::{Kind, ServiceUrl};

/// A redis-rs client for `url`, without connecting.
///
/// # Errors
///
/// [`ErrorKind::WrongKind`] when `url` is not a Redis URL, [`ErrorKind::InvalidUrl`] when
/// redis-rs rejects it (for example `rediss://` without one of redis-rs's TLS features).
pub fn client(url: &ServiceUrl) -> Result<::redis::Client, Error> {
    if url.kind() != Kind::Redis {
        return Err(Error::new(
            ErrorKind::WrongKind,
            format!(
                "a redis client cannot connect to a {} url: {url}",
                url.kind()
            ),
        ));
    }
    ::redis::Client::open(&*url.expose()).map_err(|e| {
        let detail = scrub(&e.to_string(), &url.secrets());
        Error::new(
            ErrorKind::InvalidUrl,
            format!("invalid redis url {url}: {detail}"),
        )
    })
}

/// Connects to the Redis server at `url` with retry until `timeout` has passed, the same
/// way as the database pools (refused connections, DNS failures, network errors and a
/// server still loading its dataset are retried; bad credentials fail at once), and
/// returns a multiplexed connection, which is cheap to clone and share between tasks.
///
/// # Errors
///
/// As [`client`], and the last attempt's class when it cannot connect.
pub async fn connect(
    url: &ServiceUrl,
    timeout: Duration,
) -> Result<::redis::aio::MultiplexedConnection, Error> {
    let client = client(url)?;
    let secrets = url.secrets();
    retry("redis", url, timeout, || {
        let client = &client;
        let secrets = &secrets;
        async move {
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| failure(&e, secrets))?;
            // The handshake does not always reach the server (no AUTH without a password):
            // one PING proves the connection works and surfaces a dataset still loading.
            ::redis::cmd("PING")
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| failure(&e, secrets))?;
            Ok(conn)
        }
    })
    .await
}

/// A cheap health check for readiness endpoints: one `PING` within `timeout`.
///
/// # Errors
///
/// [`ErrorKind::TimedOut`] when no answer came within `timeout`, else the class of the
/// failure.
pub async fn ping(
    conn: &mut ::redis::aio::MultiplexedConnection,
    timeout: Duration,
) -> Result<(), Error> {
    let ping = ::redis::cmd("PING");
    health_check(timeout, ping.query_async::<()>(conn), classify).await
}

fn failure(error: &::redis::RedisError, secrets: &[Cow<'_, str>]) -> Failure {
    Failure {
        kind: classify(error),
        detail: scrub(&error.to_string(), secrets),
    }
}

fn classify(error: &::redis::RedisError) -> ErrorKind {
    use ::redis::{ErrorKind as R, ServerErrorKind};
    if error.is_connection_refusal() {
        return ErrorKind::Refused;
    }
    if error.is_timeout() {
        return ErrorKind::TimedOut;
    }
    match error.kind() {
        R::AuthenticationFailed => ErrorKind::BadCredentials,
        R::Server(ServerErrorKind::BusyLoading) => ErrorKind::StartingUp,
        R::Server(_) if error.code() == Some("NOAUTH") || error.code() == Some("WRONGPASS") => {
            ErrorKind::BadCredentials
        }
        R::Server(_)
            if error.code() == Some("ERR")
                && error.to_string().contains("max number of clients") =>
        {
            ErrorKind::TooManyConnections
        }
        R::Server(_) => ErrorKind::Database,
        R::InvalidClientConfig => ErrorKind::InvalidUrl,
        R::Io => {
            let source =
                std::error::Error::source(error).and_then(|s| s.downcast_ref::<std::io::Error>());
            match source {
                Some(io) => classify_io(io),
                None if error.is_connection_dropped() => ErrorKind::Network,
                None => ErrorKind::Network,
            }
        }
        _ => ErrorKind::Other,
    }
}
