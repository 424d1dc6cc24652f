//! sqlx pools from a [`ServiceUrl`], connected with retry, and their health check.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::{ConnectOptions as _, Connection as _, Pool};

#[cfg(any(feature = "postgres", feature = "mysql", feature = "any"))]
use crate::driver_url::driver_url;
use crate::error::{Error, ErrorKind, scrub};
use crate::retry::{Failure, classify_io, health_check, retry};
use crate::service_url::{Kind, ServiceUrl};
use crate::settings::PoolSettings;

#[cfg(feature = "any")]
pub use sqlx::{Any, AnyPool};
#[cfg(feature = "mysql")]
pub use sqlx::{MySql, MySqlPool};
#[cfg(feature = "postgres")]
pub use sqlx::{PgPool, Postgres};
#[cfg(feature = "sqlite")]
pub use sqlx::{Sqlite, SqlitePool};

type Options<DB> = <<DB as sqlx::Database>::Connection as sqlx::Connection>::Options;

mod sealed {
    #[allow(
        unreachable_pub,
        reason = "the sealed-trait pattern: public, but unnameable"
    )]
    pub trait Sealed {}
}

/// A sqlx database this crate builds pools for: [`Postgres`], [`MySql`], [`Sqlite`] and
/// [`Any`], each behind its feature. Sealed: the methods are this crate's business.
pub trait Driver: sqlx::Database + sealed::Sealed {
    #[doc(hidden)]
    fn __accepts(kind: Kind) -> bool;

    #[doc(hidden)]
    fn __options(url: &ServiceUrl, settings: &PoolSettings) -> Result<Options<Self>, Error>;

    #[doc(hidden)]
    fn __pool_options(
        pool: PoolOptions<Self>,
        _url: &ServiceUrl,
        _settings: &PoolSettings,
    ) -> PoolOptions<Self> {
        pool
    }
}

/// Opens a pool to `url`, retrying at start-up until `settings.database_connect_timeout` has passed.
///
/// Refused connections, a missing Unix socket, DNS failures, network errors, "the database
/// system is starting up" and "too many connections" are retried with exponential backoff
/// (100 ms doubling up to 5 s, with jitter); bad credentials, an unknown database and
/// anything else fail at once. Every failed attempt is logged through `tracing` with the URL
/// redacted, the error's class, the attempt number and the pause before the next one.
///
/// The returned pool holds at least one connection (and `min_connections`). SQLite files
/// are created when missing (unless the URL says `mode=rw` or `mode=ro`), in WAL mode with
/// `settings.database_busy_timeout`; an in-memory SQLite database keeps one connection open for
/// good, since it would vanish with its last connection.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn run() -> Result<(), dozen_backing::Error> {
/// use dozen_backing::{PgPool, PoolSettings, ServiceUrl};
///
/// let url: ServiceUrl = "postgres://app:secret@db/app".parse()?;
/// let pool: PgPool = dozen_backing::connect(&url, &PoolSettings::default()).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`ErrorKind::WrongKind`] when the URL is not of the pool's kind,
/// [`ErrorKind::InvalidSetting`] when `settings` do not [validate](PoolSettings::validate),
/// [`ErrorKind::InvalidUrl`] when the driver rejects the URL, and the last attempt's class
/// (see [`ErrorKind`]) when it cannot connect.
pub async fn connect<DB: Driver>(
    url: &ServiceUrl,
    settings: &PoolSettings,
) -> Result<Pool<DB>, Error> {
    let (options, pool_options) = prepare::<DB>(url, settings)?;
    let secrets = url.secrets();
    retry(
        "the database",
        url,
        settings.database_connect_timeout,
        || {
            let options = options.clone();
            let pool_options = pool_options.clone();
            let secrets = &secrets;
            async move {
                // One plain connection first: the pool's own connect retries some errors
                // silently until its acquire timeout, which would hide the attempts.
                let probe = options.connect().await.map_err(|e| failure(&e, secrets))?;
                let _ = probe.close().await;
                pool_options
                    .connect_with(options)
                    .await
                    .map_err(|e| failure(&e, secrets))
            }
        },
    )
    .await
}

/// Builds a pool to `url` without connecting: connections open on first use (and
/// `min_connections` in the background). For tools and tests; services should prefer
/// [`connect`], which fails at start-up rather than on the first request.
///
/// # Errors
///
/// As [`connect`], except that nothing is connected.
pub fn connect_lazy<DB: Driver>(
    url: &ServiceUrl,
    settings: &PoolSettings,
) -> Result<Pool<DB>, Error> {
    let (options, pool_options) = prepare::<DB>(url, settings)?;
    Ok(pool_options.connect_lazy_with(options))
}

fn prepare<DB: Driver>(
    url: &ServiceUrl,
    settings: &PoolSettings,
) -> Result<(Options<DB>, PoolOptions<DB>), Error> {
    settings.validate()?;
    if !DB::__accepts(url.kind()) {
        return Err(Error::new(
            ErrorKind::WrongKind,
            format!(
                "a {} pool cannot connect to a {} url: {url}",
                <DB as sqlx::Database>::NAME.to_ascii_lowercase(),
                url.kind()
            ),
        ));
    }
    let options = DB::__options(url, settings)?;
    let mut pool = PoolOptions::<DB>::new()
        .max_connections(settings.database_max_connections)
        .min_connections(settings.database_min_connections)
        .acquire_timeout(settings.database_acquire_timeout)
        .idle_timeout(settings.database_idle_timeout);
    if is_sqlite_memory(url) {
        pool = pool
            .min_connections(settings.database_min_connections.max(1))
            .idle_timeout(None)
            .max_lifetime(None);
    }
    Ok((options, DB::__pool_options(pool, url, settings)))
}

/// A cheap health check: takes a connection from the pool and pings the server (a
/// protocol-level ping, no query), within `timeout`.
///
/// It queues for a connection with the pool's other users, so a pool whose connections
/// are all busy for longer than `timeout` is reported unhealthy although the database is
/// answering. For a readiness probe, which must not take a busy instance out of service,
/// use a [`Probe`].
///
/// # Errors
///
/// [`ErrorKind::TimedOut`] when no answer came within `timeout`, else the class of the
/// failure.
pub async fn ping<DB: sqlx::Database>(pool: &Pool<DB>, timeout: Duration) -> Result<(), Error> {
    let check = async {
        let mut conn = pool.acquire().await?;
        conn.ping().await
    };
    health_check(timeout, check, classify).await
}

/// A readiness check of a pool's database over a connection of its own, outside the
/// pool: it answers whether the database answers, whatever the load on the pool.
///
/// [`ping`] queues for a pooled connection behind the requests, so under load that keeps
/// every connection busy it times out, and a readiness probe built on it takes a busy
/// instance out of service (and then, one after another, every instance sharing the
/// database). The probe's connection is opened with the pool's connect options on the
/// first [`check`](Probe::check), kept between checks and opened again after a failure.
/// It costs one connection more than `DATABASE_MAX_CONNECTIONS` per process.
pub struct Probe<DB: sqlx::Database> {
    options: std::sync::Arc<Options<DB>>,
    timeout: Duration,
    conn: std::sync::Mutex<Option<DB::Connection>>,
}

impl<DB: sqlx::Database> std::fmt::Debug for Probe<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connect options hold the password: not shown.
        f.debug_struct("Probe")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<DB: sqlx::Database> Probe<DB> {
    /// A probe of `pool`'s database, each check answered within `timeout`. Opens nothing
    /// until the first check.
    #[must_use]
    pub fn new(pool: &Pool<DB>, timeout: Duration) -> Self {
        Self {
            options: pool.connect_options(),
            timeout,
            conn: std::sync::Mutex::new(None),
        }
    }

    /// Pings the database over the probe's connection (opening it first when there is
    /// none), within the probe's timeout. After a failure the connection is dropped, and
    /// the next check opens a new one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TimedOut`] when no answer came within the timeout, else the class of
    /// the failure.
    pub async fn check(&self) -> Result<(), Error> {
        let kept = self.take();
        let options = std::sync::Arc::clone(&self.options);
        let check = async move {
            let mut conn = match kept {
                Some(conn) => conn,
                None => options.connect().await?,
            };
            conn.ping().await?;
            Ok::<_, sqlx::Error>(conn)
        };
        let mut conn = None;
        let result = health_check(
            self.timeout,
            async { check.await.map(|c| conn = Some(c)) },
            classify,
        )
        .await;
        if let Some(conn) = conn {
            *self
                .conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(conn);
        }
        result
    }

    /// Closes the probe's connection, if it has one.
    pub async fn close(&self) {
        if let Some(conn) = self.take() {
            let _ = tokio::time::timeout(self.timeout, conn.close()).await;
        }
    }

    fn take(&self) -> Option<DB::Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

fn failure(error: &sqlx::Error, secrets: &[Cow<'_, str>]) -> Failure {
    Failure {
        kind: classify(error),
        detail: scrub(&error.to_string(), secrets),
    }
}

/// The class of a sqlx error met while connecting or pinging.
fn classify(error: &sqlx::Error) -> ErrorKind {
    match error {
        sqlx::Error::Io(io) => classify_io(io),
        sqlx::Error::Tls(_) => ErrorKind::Tls,
        sqlx::Error::PoolTimedOut => ErrorKind::TimedOut,
        sqlx::Error::Configuration(_) => ErrorKind::InvalidUrl,
        sqlx::Error::Database(db) => classify_database(&**db),
        // sqlx's PostgreSQL driver reads the one-byte answer to its SSLRequest with `read`,
        // so a connection the peer closed before answering (a proxy that is up while the
        // database behind it is not, a server going down) reads as the byte 0x00.
        sqlx::Error::Protocol(message) if message.contains("response from SSLRequest: 0x00") => {
            ErrorKind::Network
        }
        _ => ErrorKind::Other,
    }
}

fn classify_database(db: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return match my.number() {
            1040 | 1203 => ErrorKind::TooManyConnections,
            1044 | 1045 | 1698 => ErrorKind::BadCredentials,
            1049 => ErrorKind::UnknownDatabase,
            _ => ErrorKind::Database,
        };
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Extended result codes keep the primary one in their low byte: 5 is SQLITE_BUSY
        // (with _RECOVERY, _SNAPSHOT, _TIMEOUT), 6 SQLITE_LOCKED.
        let primary = db
            .code()
            .and_then(|c| c.parse::<u32>().ok())
            .map(|c| c & 0xff);
        return match primary {
            Some(5 | 6) => ErrorKind::Busy,
            _ => ErrorKind::Database,
        };
    }
    match db.code().as_deref() {
        Some("57P01" | "57P02" | "57P03") => ErrorKind::StartingUp,
        Some("53300") => ErrorKind::TooManyConnections,
        Some("28P01" | "28000") => ErrorKind::BadCredentials,
        Some("3D000") => ErrorKind::UnknownDatabase,
        Some(code) if code.starts_with("08") => ErrorKind::Network,
        _ => ErrorKind::Database,
    }
}

/// An error from the driver's URL parser, scrubbed of the URL's secrets.
#[allow(dead_code, reason = "unused when only the sqlite feature is on")]
fn invalid(url: &ServiceUrl, error: &sqlx::Error) -> Error {
    let detail = scrub(&error.to_string(), &url.secrets());
    Error::new(
        ErrorKind::InvalidUrl,
        format!("invalid {} url {url}: {detail}", url.kind()),
    )
}

fn is_sqlite_memory(url: &ServiceUrl) -> bool {
    url.kind() == Kind::Sqlite
        && (url.database().as_deref() == Some(":memory:")
            || url.param("mode").as_deref() == Some("memory"))
}

#[cfg(feature = "postgres")]
impl sealed::Sealed for Postgres {}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl Driver for Postgres {
    fn __accepts(kind: Kind) -> bool {
        kind == Kind::Postgres
    }

    fn __options(url: &ServiceUrl, _: &PoolSettings) -> Result<Options<Self>, Error> {
        driver_url(url)?
            .parse::<sqlx::postgres::PgConnectOptions>()
            .map_err(|e| invalid(url, &e))
    }
}

#[cfg(feature = "mysql")]
impl sealed::Sealed for MySql {}

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
impl Driver for MySql {
    fn __accepts(kind: Kind) -> bool {
        kind == Kind::MySql
    }

    fn __options(url: &ServiceUrl, _: &PoolSettings) -> Result<Options<Self>, Error> {
        driver_url(url)?
            .parse::<sqlx::mysql::MySqlConnectOptions>()
            .map_err(|e| invalid(url, &e))
    }
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for Sqlite {}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl Driver for Sqlite {
    fn __accepts(kind: Kind) -> bool {
        kind == Kind::Sqlite
    }

    fn __options(url: &ServiceUrl, settings: &PoolSettings) -> Result<Options<Self>, Error> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        let mut options = url
            .expose()
            .parse::<SqliteConnectOptions>()
            .map_err(|e| invalid(url, &e))?
            .busy_timeout(settings.database_busy_timeout);
        let mode = url.param("mode");
        if mode.is_none() {
            options = options.create_if_missing(true);
        }
        if !is_sqlite_memory(url) && mode.as_deref() != Some("ro") {
            options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
        }
        Ok(options)
    }
}

#[cfg(feature = "any")]
impl sealed::Sealed for Any {}

#[cfg(feature = "any")]
#[cfg_attr(docsrs, doc(cfg(feature = "any")))]
impl Driver for Any {
    fn __accepts(kind: Kind) -> bool {
        (kind == Kind::Postgres && cfg!(feature = "postgres"))
            || (kind == Kind::MySql && cfg!(feature = "mysql"))
            || (kind == Kind::Sqlite && cfg!(feature = "sqlite"))
    }

    fn __options(url: &ServiceUrl, _: &PoolSettings) -> Result<Options<Self>, Error> {
        sqlx::any::install_default_drivers();
        let text = match url.kind() {
            Kind::Postgres | Kind::MySql => driver_url(url)?,
            Kind::Sqlite if url.param("mode").is_none() => {
                let exposed = url.expose();
                let separator = if url.query().is_some() { '&' } else { '?' };
                format!("{exposed}{separator}mode=rwc")
            }
            _ => url.expose().into_owned(),
        };
        text.parse::<sqlx::any::AnyConnectOptions>()
            .map_err(|e| invalid(url, &e))
    }

    fn __pool_options(
        pool: PoolOptions<Self>,
        url: &ServiceUrl,
        settings: &PoolSettings,
    ) -> PoolOptions<Self> {
        if url.kind() != Kind::Sqlite {
            return pool;
        }
        let mut pragmas = format!(
            "PRAGMA busy_timeout = {};",
            settings.database_busy_timeout.as_millis()
        );
        if !is_sqlite_memory(url) && url.param("mode").as_deref() != Some("ro") {
            pragmas.push_str(" PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        }
        pool.after_connect(move |conn, _| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// A server error with only a SQLSTATE, as the drivers report it.
    #[derive(Debug)]
    struct ServerError(&'static str);

    impl std::fmt::Display for ServerError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "server error {}", self.0)
        }
    }

    impl std::error::Error for ServerError {}

    impl sqlx::error::DatabaseError for ServerError {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn server_codes_are_classified() {
        let check = |code: &'static str, kind: ErrorKind, transient: bool| {
            let error = sqlx::Error::Database(Box::new(ServerError(code)));
            assert_eq!(classify(&error), kind, "{code}");
            assert_eq!(kind.is_transient(), transient, "{code}");
        };
        check("57P03", ErrorKind::StartingUp, true);
        check("57P01", ErrorKind::StartingUp, true);
        check("53300", ErrorKind::TooManyConnections, true);
        check("08006", ErrorKind::Network, true);
        check("28P01", ErrorKind::BadCredentials, false);
        check("28000", ErrorKind::BadCredentials, false);
        check("3D000", ErrorKind::UnknownDatabase, false);
        check("42P01", ErrorKind::Database, false);
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), ErrorKind::TimedOut);
        let refused = sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into());
        assert_eq!(classify(&refused), ErrorKind::Refused);
        // A connection closed before the SSLRequest was answered: retried like a reset.
        let closed = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        assert_eq!(classify(&closed), ErrorKind::Network);
        let other = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x45".into());
        assert_eq!(classify(&other), ErrorKind::Other);
    }
}
