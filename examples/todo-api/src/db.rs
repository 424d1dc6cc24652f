//! Factor IV: the database is an attached resource named by `DATABASE_URL`.
//!
//! One code path serves SQLite, PostgreSQL and MariaDB through `sqlx::AnyPool`;
//! only the SQL differs where the dialects do (placeholders, upserts, locking),
//! and each statement is prepared for the dialect once, at start-up.

use std::sync::Arc;

use dozen::jobs::sql::SqlQueue;
use dozen_backing::{AnyPool, PoolSettings, ServiceUrl};
pub use dozen_backing::{Dialect, Sql};
use dozen_migrate::Migrator;

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

/// The dialect of `url`, or an error naming the variable and the scheme this app cannot use.
///
/// # Errors
///
/// `url` is not a PostgreSQL, MySQL/MariaDB or SQLite URL.
pub fn dialect_of(url: &ServiceUrl) -> Result<Dialect, String> {
    Dialect::of(url).ok_or_else(|| {
        format!("DATABASE_URL: expected a postgres, mysql, mariadb or sqlite URL, got {url}")
    })
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
        let dialect = dialect_of(url)?;
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
        dialect_of(url)?;
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
    let dialect = dialect_of(url)?;
    let runner = match dialect {
        Dialect::Postgres => embedded::postgres::migrations::runner(),
        Dialect::MySql => embedded::mysql::migrations::runner(),
        Dialect::Sqlite => embedded::sqlite::migrations::runner(),
    };
    // V3 is dozen-jobs' queue, in this app's history: one lock, one Job.
    let queue = dozen::jobs::sql::migrations(dialect, 3).map_err(|e| e.to_string())?;
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
    let connected = match dialect_of(url)? {
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
