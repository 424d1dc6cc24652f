//! The database a [`Migrator`](crate::Migrator) works on, and one connection
//! taken from it.

use std::fmt;

use dozen_backing::{Kind, PoolSettings, ServiceUrl};
use refinery::{Migration, SchemaVersion};
use sqlx::pool::PoolConnection;

#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Repr};

#[cfg(feature = "mysql")]
use crate::driver::mysql;
#[cfg(feature = "postgres")]
use crate::driver::postgres;
#[cfg(feature = "sqlite")]
use crate::driver::sqlite;

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!("dozen-migrate needs at least one of the features `postgres`, `mysql`, `sqlite`");

/// A sqlx pool of one of the supported databases.
///
/// Built from a pool with `From` (`Database::from(&pool)`, cheap: pools are
/// reference-counted) or from a URL with [`Database::connect`]. A run takes one
/// connection from the pool for its whole duration.
#[derive(Clone)]
#[non_exhaustive]
pub enum Database {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    Postgres(sqlx::PgPool),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    MySql(sqlx::MySqlPool),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    Sqlite(sqlx::SqlitePool),
}

impl fmt::Debug for Database {
    // The pools' own Debug output is left out: it is large, and the connect
    // options of some drivers print the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "Database::Postgres",
            #[cfg(feature = "mysql")]
            Self::MySql(_) => "Database::MySql",
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "Database::Sqlite",
        })
    }
}

impl From<&Database> for Database {
    fn from(db: &Database) -> Self {
        db.clone()
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for Database {
    fn from(pool: sqlx::PgPool) -> Self {
        Self::Postgres(pool)
    }
}
#[cfg(feature = "postgres")]
impl From<&sqlx::PgPool> for Database {
    fn from(pool: &sqlx::PgPool) -> Self {
        Self::Postgres(pool.clone())
    }
}
#[cfg(feature = "mysql")]
impl From<sqlx::MySqlPool> for Database {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Self::MySql(pool)
    }
}
#[cfg(feature = "mysql")]
impl From<&sqlx::MySqlPool> for Database {
    fn from(pool: &sqlx::MySqlPool) -> Self {
        Self::MySql(pool.clone())
    }
}
#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for Database {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Self::Sqlite(pool)
    }
}
#[cfg(feature = "sqlite")]
impl From<&sqlx::SqlitePool> for Database {
    fn from(pool: &sqlx::SqlitePool) -> Self {
        Self::Sqlite(pool.clone())
    }
}

const ENABLED: &str = match (
    cfg!(feature = "postgres"),
    cfg!(feature = "mysql"),
    cfg!(feature = "sqlite"),
) {
    (true, true, true) => "postgres, mysql, sqlite",
    (true, true, false) => "postgres, mysql",
    (true, false, true) => "postgres, sqlite",
    (false, true, true) => "mysql, sqlite",
    (true, false, false) => "postgres",
    (false, true, false) => "mysql",
    _ => "sqlite",
};

impl Database {
    /// Closes the pool, waiting for its connections to close (an admin process
    /// ends its sessions cleanly instead of dropping them).
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.close().await,
            #[cfg(feature = "mysql")]
            Self::MySql(pool) => pool.close().await,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.close().await,
        }
    }

    /// Opens a small pool (two connections, dozen-backing's other defaults,
    /// with its retry while the database starts) for a `postgres`, `mysql` or
    /// `sqlite` URL, each when its feature is enabled.
    ///
    /// For other pool settings, build the pool with [`dozen_backing::connect`]
    /// and convert it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnsupportedScheme`] for another kind of URL, [`ErrorKind::Connect`]
    /// when the database cannot be reached. Neither shows the password.
    pub async fn connect(url: &ServiceUrl) -> Result<Self, Error> {
        Self::connect_with(url, &PoolSettings::default()).await
    }

    /// As [`Database::connect`], retried, timed and sized by `settings` (the
    /// app's `DATABASE_*`): at most two connections, none kept idle.
    pub(crate) async fn connect_with(
        url: &ServiceUrl,
        settings: &PoolSettings,
    ) -> Result<Self, Error> {
        let mut settings = settings.clone();
        settings.database_max_connections = settings.database_max_connections.min(2);
        settings.database_min_connections = 0;
        let settings = &settings;
        let connect = |source| Error::from(Repr::Connect { source });
        match url.kind() {
            #[cfg(feature = "postgres")]
            Kind::Postgres => dozen_backing::connect::<sqlx::Postgres>(url, settings)
                .await
                .map(Self::Postgres)
                .map_err(connect),
            #[cfg(feature = "mysql")]
            Kind::MySql => dozen_backing::connect::<sqlx::MySql>(url, settings)
                .await
                .map(Self::MySql)
                .map_err(connect),
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => dozen_backing::connect::<sqlx::Sqlite>(url, settings)
                .await
                .map(Self::Sqlite)
                .map_err(connect),
            _ => Err(Error::from(Repr::UnsupportedScheme {
                scheme: url.scheme().to_owned(),
                enabled: ENABLED,
            })),
        }
    }

    pub(crate) async fn acquire(&self) -> Result<Conn, Error> {
        let acquire = Error::db("acquiring a connection");
        Ok(match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(p) => Conn::Pg(p.acquire().await.map_err(acquire)?),
            #[cfg(feature = "mysql")]
            Self::MySql(p) => Conn::My(p.acquire().await.map_err(acquire)?),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(p) => Conn::Lite(p.acquire().await.map_err(acquire)?),
        })
    }
}

/// One connection taken from the pool.
pub(crate) enum Conn {
    #[cfg(feature = "postgres")]
    Pg(PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    My(PoolConnection<sqlx::MySql>),
    #[cfg(feature = "sqlite")]
    Lite(PoolConnection<sqlx::Sqlite>),
}

/// A migration recorded as started and never finished (MySQL/MariaDB only).
#[derive(Debug, Clone)]
pub(crate) struct InProgress {
    pub(crate) version: SchemaVersion,
    pub(crate) name: String,
    pub(crate) checksum: String,
    pub(crate) started_on: String,
}

impl Conn {
    /// The history, empty when the table does not exist yet.
    pub(crate) async fn history(&mut self, table: &str) -> Result<Vec<Migration>, Error> {
        let read = Error::db("reading the migration history");
        let h = match self {
            #[cfg(feature = "postgres")]
            Self::Pg(c) => postgres::read_history(c, table).await,
            #[cfg(feature = "mysql")]
            Self::My(c) => mysql::read_history(c, table).await,
            #[cfg(feature = "sqlite")]
            Self::Lite(c) => sqlite::read_history(c, table).await,
        };
        h.map(Option::unwrap_or_default).map_err(read)
    }

    /// PostgreSQL's INVALID indexes; none elsewhere.
    pub(crate) async fn invalid_indexes(&mut self) -> Result<Vec<String>, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Self::Pg(c) => postgres::invalid_indexes(c)
                .await
                .map_err(Error::db("looking for INVALID indexes")),
            #[allow(
                unreachable_patterns,
                reason = "only PostgreSQL builds indexes concurrently"
            )]
            _ => Ok(Vec::new()),
        }
    }

    pub(crate) async fn in_progress(&mut self, table: &str) -> Result<Option<InProgress>, Error> {
        match self {
            #[cfg(feature = "mysql")]
            Self::My(c) => Ok(mysql::read_marker(c, table)
                .await
                .map_err(Error::db("reading the in-progress marker"))?
                .map(|m| InProgress {
                    version: m.version,
                    name: m.name,
                    checksum: m.checksum,
                    started_on: m.started_on,
                })),
            #[allow(unreachable_patterns, reason = "only MySQL keeps a marker")]
            _ => {
                let _ = table;
                Ok(None)
            }
        }
    }
}
