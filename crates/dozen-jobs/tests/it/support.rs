//! Databases to test on, and queues on them.

use std::future::Future;
use std::time::Duration;

use dozen_backing::{PoolSettings, ServiceUrl};
use dozen_jobs::sql::{Dialect, SqlQueue, migrations};
use sqlx::Any;

/// A database to run a test on, migrated with the queue's tables and an
/// `effects` table for handlers to write to.
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// SQLite, and PostgreSQL and MariaDB where their URLs are set (CI sets
/// them; without `CI` a missing one is skipped with a note).
pub(crate) async fn targets(prefix: &str) -> Vec<Target> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut targets = vec![Target {
        name: "sqlite",
        url: format!("sqlite://{}/jobs.db?mode=rwc", dir.path().display()),
        _dir: Some(dir),
    }];
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::POSTGRES) {
        targets.push(Target {
            name: "postgres",
            url: dozen_testkit::fresh_postgres(&url, prefix).await,
            _dir: None,
        });
    }
    if let Some(url) = dozen_testkit::service_url(dozen_testkit::MYSQL) {
        targets.push(Target {
            name: "mariadb",
            url: dozen_testkit::fresh_mysql(&url, prefix).await,
            _dir: None,
        });
    }
    for target in &targets {
        migrate(&target.url).await;
    }
    targets
}

/// The effect of the test handlers: one row per landed attempt.
const EFFECTS: &str = "CREATE TABLE effects (job_id BIGINT NOT NULL, n BIGINT NOT NULL)";
/// One row per attempt a process handler has started.
const STARTED: &str = "CREATE TABLE started (job_id BIGINT NOT NULL)";

pub(crate) async fn migrate(url: &str) {
    let parsed: ServiceUrl = url.parse().expect("a database URL");
    let dialect = Dialect::of(&parsed).expect("a SQL URL");
    let mut set = migrations(dialect, 1).expect("the queue's migrations");
    set.push(
        dozen_migrate::refinery::Migration::unapplied("V2__effects", EFFECTS).expect("a migration"),
    );
    set.push(
        dozen_migrate::refinery::Migration::unapplied("V3__started", STARTED).expect("a migration"),
    );
    let migrator = dozen_migrate::Migrator::from_migrations(set).expect("a migration set");
    let database = dozen_migrate::Database::connect(&parsed)
        .await
        .expect("connect to migrate");
    migrator.apply(&database).await.expect("migrations apply");
}

/// A queue on an `AnyPool` to `target`.
pub(crate) async fn queue(url: &str) -> SqlQueue<Any> {
    let parsed: ServiceUrl = url.parse().expect("a database URL");
    let mut settings = PoolSettings::default();
    settings.database_max_connections = 8;
    let pool = dozen_backing::connect::<Any>(&parsed, &settings)
        .await
        .expect("connect");
    SqlQueue::<Any>::new(pool, &parsed).expect("a SQL URL")
}

/// Polls `check` every 20 ms until it is true, for up to `within`.
pub(crate) async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many attempts at job `id` a process handler has started.
pub(crate) async fn started(queue: &SqlQueue<Any>, id: dozen_jobs::JobId) -> i64 {
    use sqlx::Row as _;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM started WHERE job_id = {}",
        id.0
    )))
    .fetch_one(queue.pool())
    .await
    .expect("select started")
    .get(0)
}

/// Writes the effect of attempt `ctx` at `work` (a row in `effects`) on `conn`, in the
/// caller's transaction.
pub(crate) async fn write_effect(
    conn: &mut sqlx::AnyConnection,
    ctx: &dozen_jobs::JobContext,
    work: &Work,
) -> Result<(), String> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO effects (job_id, n) VALUES ({}, {})",
        ctx.id().0,
        work.n
    )))
    .execute(conn)
    .await
    .map(drop)
    .map_err(|e| e.to_string())
}

/// The rows of `effects` as (job id, number of landings), by job id.
pub(crate) async fn effects(queue: &SqlQueue<Any>) -> Vec<(i64, i64)> {
    use sqlx::Row as _;
    sqlx::query("SELECT job_id, COUNT(*) AS n FROM effects GROUP BY job_id ORDER BY job_id")
        .fetch_all(queue.pool())
        .await
        .expect("select effects")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// (attempts, state, lease_owner) of job `id`.
pub(crate) async fn row(
    queue: &SqlQueue<Any>,
    id: dozen_jobs::JobId,
) -> (i64, String, Option<String>) {
    use sqlx::Row as _;
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT attempts, state, lease_owner FROM dozen_jobs WHERE id = {}",
        id.0
    )))
    .fetch_one(queue.pool())
    .await
    .expect("select job");
    (r.get(0), r.get(1), r.get(2))
}

/// Enqueues `work` with `options` on `q`; its id.
pub(crate) async fn add(
    q: &SqlQueue<Any>,
    work: &Work,
    options: dozen_jobs::Options,
) -> dozen_jobs::JobId {
    use dozen_jobs::Backend as _;
    q.enqueue(work, options)
        .await
        .expect("enqueue")
        .id()
        .expect("a new job, not a duplicate")
}

/// A small job for the tests.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Work {
    pub(crate) n: i64,
    /// How long the handler takes.
    #[serde(default)]
    pub(crate) sleep_ms: u64,
    /// Fail (return an error) on attempts below this one.
    #[serde(default)]
    pub(crate) fail_until: u32,
    /// Panic instead of returning the error.
    #[serde(default)]
    pub(crate) panic: bool,
    /// Text carried along, for payloads with other characters than ASCII.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) text: String,
}

impl dozen_jobs::Job for Work {
    const NAME: &'static str = "work";
}

impl Work {
    pub(crate) fn new(n: i64) -> Self {
        Self {
            n,
            sleep_ms: 0,
            fail_until: 0,
            panic: false,
            text: String::new(),
        }
    }

    /// A job carrying `text`.
    pub(crate) fn labelled(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            ..Self::new(0)
        }
    }
}
