//! [`Kind`]: which backing service a URL points at, known from its scheme.

use std::fmt;

/// The kind of backing service a [`ServiceUrl`](crate::ServiceUrl) points at, known from its scheme.
///
/// | kind | schemes |
/// |---|---|
/// | [`Postgres`](Kind::Postgres) | `postgres`, `postgresql`, `pgsql` |
/// | [`MySql`](Kind::MySql) | `mysql`, `mariadb` |
/// | [`Sqlite`](Kind::Sqlite) | `sqlite`, `sqlite3` (and `sqlite::memory:`) |
/// | [`Redis`](Kind::Redis) | `redis`, `rediss`, `redis+unix`, `unix`, `valkey`, `valkeys`, `valkey+unix` |
/// | [`Amqp`](Kind::Amqp) | `amqp`, `amqps` |
/// | [`Nats`](Kind::Nats) | `nats`, `tls` |
/// | [`Http`](Kind::Http) | `http`, `https` |
/// | [`Other`](Kind::Other) | anything else |
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// A SQLite file, or an in-memory SQLite database.
    Sqlite,
    /// Redis or Valkey, over TCP, TLS or a Unix socket.
    Redis,
    /// An AMQP 0-9-1 broker such as RabbitMQ.
    Amqp,
    /// NATS.
    Nats,
    /// An HTTP or HTTPS service.
    Http,
    /// A scheme this crate does not know; still parsed and redacted.
    Other,
}

impl Kind {
    /// The kind a scheme names, ignoring ASCII case.
    #[must_use]
    pub fn from_scheme(scheme: &str) -> Self {
        const TABLE: &[(&str, Kind)] = &[
            ("postgres", Kind::Postgres),
            ("postgresql", Kind::Postgres),
            ("pgsql", Kind::Postgres),
            ("mysql", Kind::MySql),
            ("mariadb", Kind::MySql),
            ("sqlite", Kind::Sqlite),
            ("sqlite3", Kind::Sqlite),
            ("redis", Kind::Redis),
            ("rediss", Kind::Redis),
            ("redis+unix", Kind::Redis),
            ("unix", Kind::Redis),
            ("valkey", Kind::Redis),
            ("valkeys", Kind::Redis),
            ("valkey+unix", Kind::Redis),
            ("amqp", Kind::Amqp),
            ("amqps", Kind::Amqp),
            ("nats", Kind::Nats),
            ("tls", Kind::Nats),
            ("http", Kind::Http),
            ("https", Kind::Http),
        ];
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(scheme))
            .map_or(Kind::Other, |&(_, kind)| kind)
    }

    /// A short lower-case name: `postgres`, `mysql`, `sqlite`, `redis`, `amqp`, `nats`,
    /// `http` or `other`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Postgres => "postgres",
            Kind::MySql => "mysql",
            Kind::Sqlite => "sqlite",
            Kind::Redis => "redis",
            Kind::Amqp => "amqp",
            Kind::Nats => "nats",
            Kind::Http => "http",
            Kind::Other => "other",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
