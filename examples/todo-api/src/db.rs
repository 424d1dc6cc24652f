//! Factor IV: the database is an attached resource named by `DATABASE_URL`.
//!
//! One code path serves SQLite, PostgreSQL and MariaDB through `sqlx::AnyPool`;
//! only the SQL differs where the dialects do (placeholders, upserts, locking),
//! and each statement is prepared for the dialect once, at start-up.

use std::sync::Arc;

use dozen::jobs::sql::{Dialect as JobsDialect, SqlQueue};
use dozen_backing::{AnyPool, Kind, PoolSettings, ServiceUrl};
use dozen_migrate::Migrator;
use sqlx::AssertSqlSafe;

mod embedded {
    pub(crate) mod postgres {
        refinery::embed_migrations!("migrations/postgres");
    }
    pub(crate) mod mysql {
        refinery::embed_migrations!("migrations/mysql");
    }
    pub(crate) mod sqlite {
        refinery::embed_migrations!("migrations/sqlite");
    }
}

/// The SQL dialect of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// The dialect of `url`, or an error naming the scheme this app cannot use.
    ///
    /// # Errors
    ///
    /// `url` is not a PostgreSQL, MySQL/MariaDB or SQLite URL.
    pub fn of(url: &ServiceUrl) -> Result<Self, String> {
        match url.kind() {
            Kind::Postgres => Ok(Self::Postgres),
            Kind::MySql => Ok(Self::MySql),
            Kind::Sqlite => Ok(Self::Sqlite),
            _ => Err(format!(
                "DATABASE_URL: expected a postgres, mysql, mariadb or sqlite URL, got {url}"
            )),
        }
    }

    /// The database's current time in milliseconds since the Unix epoch, as
    /// an SQL expression: leases are computed from the database's clock, the
    /// one every worker shares, never from a worker's own.
    #[must_use]
    pub fn now_ms_sql(self) -> &'static str {
        match self {
            Self::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            Self::MySql => "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        }
    }

    /// `sql` written with `?` placeholders, in this dialect's placeholder syntax.
    fn prepare(self, sql: &str) -> Sql {
        let text = match self {
            Self::MySql | Self::Sqlite => sql.to_owned(),
            Self::Postgres => {
                let mut out = String::with_capacity(sql.len() + 8);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        };
        Sql(Arc::from(text))
    }
}

/// One SQL statement, prepared for a dialect; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sql(Arc<str>);

impl Sql {
    /// The statement, for `sqlx::query`.
    #[must_use]
    pub fn q(&self) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(Arc::clone(&self.0))
    }
}

/// Every statement the app runs, in its dialect.
#[derive(Debug)]
pub struct Statements {
    /// Insert a todo, returning its id.
    pub insert_todo: Sql,
    /// A page of todos: ids above the first parameter, at most the second.
    pub list_todos: Sql,
    /// One todo.
    pub get_todo: Sql,
    /// Change title and/or done (NULL keeps the field), atomically; returns
    /// the row except on MySQL/MariaDB, which has no `UPDATE ... RETURNING`.
    pub update_todo: Sql,
    /// Delete one todo.
    pub delete_todo: Sql,
    /// Record a reminder, idempotently.
    pub record_reminder: Sql,
}

impl Statements {
    fn new(dialect: Dialect) -> Self {
        let p = |sql: &str| dialect.prepare(sql);
        let now = dialect.now_ms_sql();
        Self {
            insert_todo: p(
                "INSERT INTO todos (title, done, created_at) VALUES (?, ?, ?) RETURNING id",
            ),
            list_todos: p("SELECT id, title, done FROM todos WHERE id > ? ORDER BY id LIMIT ?"),
            get_todo: p("SELECT id, title, done FROM todos WHERE id = ?"),
            // One statement: a field left out (NULL) keeps the value the row
            // has when the statement runs, not one read earlier.
            update_todo: match dialect {
                Dialect::MySql => p(
                    "UPDATE todos SET title = COALESCE(?, title), done = COALESCE(?, done) WHERE id = ?",
                ),
                Dialect::Postgres | Dialect::Sqlite => p(
                    "UPDATE todos SET title = COALESCE(?, title), done = COALESCE(?, done) \
                     WHERE id = ? RETURNING id, title, done",
                ),
            },
            delete_todo: p("DELETE FROM todos WHERE id = ?"),
            record_reminder: match dialect {
                Dialect::MySql => p(&format!(
                    "INSERT INTO reminders (todo_id, sent_at) VALUES (?, {now}) \
                     ON DUPLICATE KEY UPDATE deliveries = deliveries + 1"
                )),
                Dialect::Postgres | Dialect::Sqlite => p(&format!(
                    "INSERT INTO reminders (todo_id, sent_at) VALUES (?, {now}) \
                     ON CONFLICT (todo_id) DO UPDATE SET deliveries = reminders.deliveries + 1"
                )),
            },
        }
    }
}

/// A pool and the statements for its dialect.
#[derive(Clone, Debug)]
pub struct Db {
    /// The connection pool.
    pub pool: AnyPool,
    /// The dialect of the pool's database.
    pub dialect: Dialect,
    /// The statements, prepared for the dialect.
    pub sql: Arc<Statements>,
    /// The job queue (dozen-jobs), in the same database.
    pub jobs: SqlQueue<sqlx::Any>,
}

impl Db {
    /// The statements for `url`'s dialect on `pool`, connected to `url`.
    ///
    /// # Errors
    ///
    /// The URL is not a database this app supports.
    pub fn from_pool(pool: AnyPool, url: &ServiceUrl) -> Result<Self, String> {
        let dialect = Dialect::of(url)?;
        let jobs = SqlQueue::<sqlx::Any>::new(pool.clone(), url).map_err(|e| e.to_string())?;
        Ok(Self {
            pool,
            dialect,
            sql: Arc::new(Statements::new(dialect)),
            jobs,
        })
    }

    /// Connects to `url` with retry (dozen-backing), sized by `settings`.
    ///
    /// # Errors
    ///
    /// The URL is not a database this app supports, or the connection failed
    /// within `DATABASE_CONNECT_TIMEOUT`; the message hides the password.
    pub async fn connect(url: &ServiceUrl, settings: &PoolSettings) -> Result<Self, String> {
        Dialect::of(url)?;
        let pool = dozen_backing::connect::<sqlx::Any>(url, settings)
            .await
            .map_err(|e| e.to_string())?;
        Self::from_pool(pool, url)
    }
}

/// The migrations embedded in this binary for `url`'s dialect, with
/// dozen-jobs' queue as V3 (the entry point applies the loaded
/// `MigrateSettings` to them).
///
/// # Errors
///
/// The URL is not a database this app supports, or the embedded set is invalid.
pub fn migrator(url: &ServiceUrl) -> Result<Migrator, String> {
    let (runner, jobs) = match Dialect::of(url)? {
        Dialect::Postgres => (
            embedded::postgres::migrations::runner(),
            JobsDialect::Postgres,
        ),
        Dialect::MySql => (embedded::mysql::migrations::runner(), JobsDialect::MySql),
        Dialect::Sqlite => (embedded::sqlite::migrations::runner(), JobsDialect::Sqlite),
    };
    // V3 is dozen-jobs' queue, in this app's history: one lock, one Job.
    let queue = dozen::jobs::sql::migrations(jobs, 3).map_err(|e| e.to_string())?;
    Migrator::from_migrations(runner.get_migrations().iter().cloned().chain(queue))
        .map_err(|e| e.to_string())
}

/// A connection for migrations to `url`, sized and retried by `settings`
/// like the app's own pool (dozen-migrate takes typed pools).
///
/// # Errors
///
/// The URL is not a database this app supports, or the connection failed
/// within `DATABASE_CONNECT_TIMEOUT`; the message hides the password.
pub async fn migration_database(
    url: &ServiceUrl,
    settings: &PoolSettings,
) -> Result<dozen_migrate::Database, String> {
    use dozen_backing::{MySql, Postgres, Sqlite, connect};
    // A run uses one connection for the lock and one for the work.
    let mut settings = settings.clone();
    settings.database_max_connections = settings.database_max_connections.min(2);
    settings.database_min_connections = 0;
    let settings = &settings;
    let connected = match Dialect::of(url)? {
        Dialect::Postgres => connect::<Postgres>(url, settings).await.map(Into::into),
        Dialect::MySql => connect::<MySql>(url, settings).await.map(Into::into),
        Dialect::Sqlite => connect::<Sqlite>(url, settings).await.map(Into::into),
    };
    connected.map_err(|e| e.to_string())
}

/// Milliseconds since the Unix epoch: how the schema stores time, portably.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let check = |d: Dialect, expected: &str| {
            assert_eq!(&*d.prepare("a = ? AND b = ?").0, expected);
        };
        check(Dialect::Postgres, "a = $1 AND b = $2");
        check(Dialect::MySql, "a = ? AND b = ?");
        check(Dialect::Sqlite, "a = ? AND b = ?");
    }
}
