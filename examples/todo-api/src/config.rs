//! Factor III: every setting comes from the environment, through one typed struct.

use std::time::Duration;

use dozen::jobs::JobsSettings;
use dozen::service::{SchemaSettings, WebSettings};
use dozen_backing::{PoolSettings, ServiceUrl};
use dozen_log::LogSettings;
use dozen_migrate::MigrateSettings;
use dozen_shutdown::ShutdownSettings;
use dozen_shutdown::axum::HttpSettings;
use serde::Deserialize;

/// The embedded default: a SQLite file in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://todo.db?mode=rwc";

/// The largest `JOB_WORK_TIME` accepted.
pub const MAX_JOB_DURATION: Duration = Duration::from_secs(3600);

/// The configuration of both process types, as one typed view: the app's own
/// [`App`] settings and the settings structs of the libraries, loaded
/// together by dozen-config as a tuple (each reads the same level of
/// variables, with every problem of every struct reported at once). The
/// binaries do not load it: `dozen::service` loads each process type's part
/// and checks what the types cannot (pool sizes, a shutdown deadline that
/// leaves time to drain). The tests read the manifests through it.
///
/// | variable | default |
/// |---|---|
/// | `PORT` | 8080 |
/// | `DATABASE_URL` (or `DATABASE_URL_FILE`) | `sqlite://todo.db?mode=rwc` |
/// | `DATABASE_MAX_CONNECTIONS`, `DATABASE_CONNECT_TIMEOUT`, ... | see dozen-backing |
/// | `SHUTDOWN_DELAY`, `SHUTDOWN_TIMEOUT`, `KUBERNETES_SERVICE_HOST` | see dozen-shutdown (the timeout must leave 1 s to drain after the delay and the teardown budgets) |
/// | `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`, `HTTP_MAX_CONNECTIONS`, `HTTP_MAX_BODY_BYTES` | 30s, 30s, 1024, 2097152 (see dozen-shutdown; the manifests set `HTTP_MAX_BODY_BYTES=16384`, a larger request body is answered 413) |
/// | `MIGRATE_ON_START` | on for SQLite, off for a server database |
/// | `JOBS_CONCURRENCY`, `JOBS_LEASE`, `JOBS_POLL_INTERVAL`, `JOBS_BACKOFF_MIN`, `JOBS_BACKOFF_MAX` | 4, 30s, 1s, 1s, 1h (worker; see dozen-jobs) |
/// | `JOB_WORK_TIME` | 0s (worker: simulated work per reminder, at most 1h) |
/// | `RUST_LOG`, `LOG_FORMAT`, `SERVICE_NAME`, `GOOGLE_CLOUD_PROJECT`, ... | see dozen-log (`info`, `auto`) |
/// | `MIGRATE_TABLE`, `MIGRATE_LOCK_TIMEOUT`, `MIGRATE_WAIT_TIMEOUT`, `MIGRATE_POLL_INTERVAL` | see dozen-migrate |
#[derive(Debug)]
pub struct Config {
    /// `PORT`: where the web process listens.
    pub port: u16,
    /// `DATABASE_URL`: the backing database; shown with its password hidden.
    pub database_url: ServiceUrl,
    /// `MIGRATE_ON_START`: apply migrations before serving. Unset means "only
    /// on SQLite", where there is one process and no Job to run them.
    pub schema: SchemaSettings,
    /// Pool sizing: `DATABASE_MAX_CONNECTIONS` and friends.
    pub pool: PoolSettings,
    /// `SHUTDOWN_DELAY`, `SHUTDOWN_TIMEOUT` and `KUBERNETES_SERVICE_HOST`.
    pub shutdown: ShutdownSettings,
    /// The serving limits: `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`,
    /// `HTTP_MAX_CONNECTIONS` and `HTTP_MAX_BODY_BYTES`.
    pub http: HttpSettings,
    /// The worker's settings.
    pub jobs: JobsSettings,
    /// `RUST_LOG`, `LOG_FORMAT` and the service and project of the log lines.
    pub log: LogSettings,
    /// `MIGRATE_TABLE`, `MIGRATE_LOCK_TIMEOUT`, `MIGRATE_WAIT_TIMEOUT` and
    /// `MIGRATE_POLL_INTERVAL`, for `todo-api migrate` and `MIGRATE_ON_START`.
    pub migrate: MigrateSettings,
}

/// Everything the two process types read, together: the app's settings and
/// the libraries'. Each binary loads its own part of it through
/// `dozen::service` ([`App`] for the web process, [`Worker`] for the
/// worker, and dozen's settings for what each does).
pub type Settings = (
    App,
    WebSettings,
    SchemaSettings,
    PoolSettings,
    ShutdownSettings,
    HttpSettings,
    JobsSettings,
    LogSettings,
    MigrateSettings,
);

/// The web process's own settings (dozen's `WebSettings` reads `PORT`).
#[derive(Debug, Deserialize)]
pub struct App {
    /// `DATABASE_URL`.
    #[serde(default = "default_database_url")]
    pub database_url: ServiceUrl,
}

/// The worker's own settings: its database and its reminders' work time
/// (dozen reads `JobsSettings`, how it takes jobs, for `Service::worker`).
pub type Worker = (Database, Reminders);

/// The database both process types share.
#[derive(Debug, Deserialize)]
pub struct Database {
    /// `DATABASE_URL`.
    #[serde(default = "default_database_url")]
    pub database_url: ServiceUrl,
}

impl From<Settings> for Config {
    fn from((app, web, schema, pool, shutdown, http, jobs, log, migrate): Settings) -> Self {
        Self {
            port: web.port,
            database_url: app.database_url,
            schema,
            pool,
            shutdown,
            http,
            jobs,
            log,
            migrate,
        }
    }
}

impl Config {
    /// Loads the configuration from `vars`, as from an environment holding
    /// them.
    ///
    /// # Errors
    ///
    /// Every variable that is missing or invalid, named, without its value.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, dozen_config::Error> {
        dozen_config::from_iter::<_, Settings>(vars).map(Into::into)
    }
}

/// The reminder worker's own setting, beside dozen-jobs' [`JobsSettings`].
#[derive(Debug, Deserialize)]
pub struct Reminders {
    /// `JOB_WORK_TIME`: simulated work per reminder, to make leases
    /// observable (at most 1h, checked while loading, so that it is listed
    /// with every other problem).
    #[serde(default, deserialize_with = "at_most_an_hour")]
    pub job_work_time: Duration,
}

/// A humantime duration of at most [`MAX_JOB_DURATION`]; the error names no
/// value (dozen-config shows `JOB_WORK_TIME: too large (at most 1h)`).
fn at_most_an_hour<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let value: Duration = humantime_serde::deserialize(d)?;
    if value > MAX_JOB_DURATION {
        return Err(serde::de::Error::invalid_value(
            serde::de::Unexpected::Other("too large"),
            &"at most 1h",
        ));
    }
    Ok(value)
}

impl Config {
    /// Whether this process applies migrations before it serves.
    #[must_use]
    pub fn migrates_on_start(&self) -> bool {
        self.schema.migrates_on_start(&self.database_url)
    }
}

fn default_database_url() -> ServiceUrl {
    #[allow(clippy::expect_used, reason = "a constant, checked by a unit test")]
    DEFAULT_DATABASE_URL
        .parse()
        .expect("the default database URL parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, dozen_config::Error> {
        Config::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn an_empty_environment_gives_the_embedded_default() {
        let config = load(&[]).unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.database_url.to_string(), "sqlite://todo.db?mode=rwc");
        assert!(config.migrates_on_start());
        assert_eq!(config.shutdown.shutdown_timeout, Duration::from_secs(25));
    }

    #[test]
    fn a_server_database_does_not_migrate_on_start_unless_asked() {
        let url = ("DATABASE_URL", "postgres://app:pw@db/app");
        assert!(!load(&[url]).unwrap().migrates_on_start());
        assert!(
            load(&[url, ("MIGRATE_ON_START", "yes")])
                .unwrap()
                .migrates_on_start()
        );
    }

    /// What the types alone cannot check (pool sizes, a shutdown deadline
    /// that leaves time to drain) is checked by dozen's start-up, which
    /// `check_settings` runs.
    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let check = |var: &str, value: &str| {
            let vars = [(var.to_owned(), value.to_owned())];
            let error = crate::service::web()
                .check_settings("web", vars)
                .unwrap_err()
                .to_string();
            assert!(error.contains(var), "{var}={value}: {error}");
        };
        check("DATABASE_MIN_CONNECTIONS", "20");
        check("SHUTDOWN_TIMEOUT", "2s");
        assert!(crate::service::web().check_settings("web", []).is_ok());
        // The worker's JOBS_* are refused by their types.
        for var in ["JOBS_LEASE", "JOBS_POLL_INTERVAL"] {
            let error = load(&[(var, "0s")]).unwrap_err().to_string();
            assert!(error.contains(&format!("{var}: too small")), "{error}");
        }
    }

    #[test]
    fn bad_values_are_reported_together_without_their_values() {
        let error = load(&[
            ("PORT", "80a80"),
            ("SHUTDOWN_TIMEOUT", "soon"),
            ("DATABASE_URL", "postgres://app:hunter2@db:notaport/app"),
        ])
        .unwrap_err()
        .to_string();
        for var in ["PORT", "SHUTDOWN_TIMEOUT", "DATABASE_URL"] {
            assert!(error.contains(var), "{var} missing from {error}");
        }
        for value in ["80a80", "soon", "hunter2"] {
            assert!(!error.contains(value), "{value} leaked into {error}");
        }
    }
}
