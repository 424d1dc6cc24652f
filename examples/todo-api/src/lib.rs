//! The todo application shared by its two process types: `todo-api` (web)
//! and `worker` (the `example-worker` package). One codebase, one release, two
//! ways to run it (factors I and VIII).
//!
//! Start-up, in order: configuration (exit 78 with every problem listed when it
//! is wrong), logging, the database (connected with retry), migrations where
//! this process owns them, then the work; shutdown runs in reverse. Signals
//! are handled from the connection on, and every later phase is raced
//! against shutdown ([`unless_shutdown`]): a SIGTERM during start-up stops
//! the phase where it stands and nothing after it runs.

pub mod config;
pub mod db;
pub mod jobs;
pub mod routes;

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use dozen_shutdown::Shutdown;

use crate::db::Db;

pub use config::Config;

/// The exit code for a configuration error (`EX_CONFIG` from sysexits.h).
pub const EXIT_CONFIG: u8 = 78;

/// Loads the configuration and installs logging, or explains on stderr why not.
///
/// The effective configuration is logged in one line, secrets redacted.
///
/// # Errors
///
/// The exit code to return from `main`.
pub fn start(service: &str) -> Result<(Config, dozen_log::Guard), ExitCode> {
    let (config, report) = match Config::from_env() {
        Ok(loaded) => loaded,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "logging is not set up yet")]
            {
                eprintln!("{service}: invalid configuration:\n{error}");
            }
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    if let Err(problems) = config.validate() {
        #[allow(clippy::print_stderr, reason = "logging is not set up yet")]
        {
            eprintln!("{service}: invalid configuration:\n{problems}");
        }
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    let mut builder = dozen_log::Builder::new().settings(config.log.clone());
    if config.log.service().is_none() {
        builder = builder.with_service(service, env!("CARGO_PKG_VERSION"));
    }
    let guard = match builder.init() {
        Ok(guard) => guard,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "logging could not be set up")]
            {
                eprintln!("{service}: invalid logging configuration: {error}");
            }
            return Err(ExitCode::from(EXIT_CONFIG));
        }
    };
    tracing::info!(config = %report, "configuration loaded");
    Ok((config, guard))
}

/// Brings the schema to the version embedded in this binary: applies the
/// migrations where this process owns them (`MIGRATE_ON_START`, on by default
/// on SQLite), otherwise waits, at most `wait`, for the migrate Job to do it.
///
/// # Errors
///
/// The exit code to return from `main`: the database is unreachable, a
/// migration failed, or the schema did not arrive in time.
pub async fn prepare_schema(config: &Config, wait: Duration) -> Result<(), ExitCode> {
    let failed = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, "the schema is not ready");
        ExitCode::FAILURE
    };
    let migrator = db::migrator(&config.database_url, &config.migrate).map_err(|e| failed(&e))?;
    let database = db::migration_database(&config.database_url, &config.pool)
        .await
        .map_err(|e| failed(&e))?;
    if config.migrates_on_start() {
        let report = migrator.apply(&database).await.map_err(|e| failed(&e))?;
        tracing::info!(applied = report.applied.len(), "migrations up to date");
    } else {
        tracing::info!(timeout = ?wait, "waiting for the migrate Job to bring the schema up to date");
        migrator
            .with_wait_timeout(wait)
            .wait(&database)
            .await
            .map_err(|e| failed(&e))?;
        tracing::info!("schema up to date");
    }
    database.close().await;
    Ok(())
}

/// The exit code of `todo-api migrate ...` stopped by SIGTERM or SIGINT
/// (128 + SIGTERM): not 0, so an init container or a Job stopped half-way is
/// never taken for one that finished.
pub const EXIT_INTERRUPTED: u8 = 143;

/// Runs the start-up phase `work` (`phase` names it in the log) unless
/// shutdown begins first: then `work` is dropped where it stands (a
/// connection attempt, a migration in its transaction, a wait for the
/// migration lock), the shutdown sequence runs, and its exit code is
/// returned. Nothing after the phase runs.
///
/// When `work` finishes and shutdown has begun too, shutdown wins.
///
/// # Errors
///
/// The exit code to return from `main`, once shutdown has run.
pub async fn unless_shutdown<T>(
    shutdown: &Shutdown,
    phase: &'static str,
    work: impl Future<Output = T>,
) -> Result<T, ExitCode> {
    match shutdown.run_until_shutdown(work).await {
        Some(done) => Ok(done),
        None => {
            tracing::info!(phase, "shutdown began during start-up; stopping there");
            Err(shutdown.wait().await.into())
        }
    }
}

/// The teardown budget for flushing the logs.
pub const FLUSH_BUDGET: Duration = Duration::from_secs(1);
/// The teardown budget for closing the database pool.
pub const CLOSE_BUDGET: Duration = Duration::from_secs(3);

/// Builds the shutdown sequence from `shutdown` (a builder the caller has
/// given `config.shutdown`, and any override) and connects the database, for
/// both process types.
///
/// Signals are handled from here on, so a SIGTERM while the database is still
/// being connected to ends start-up cleanly. Teardown hooks run in reverse
/// order of registration: the pool closes first, the logs are flushed last
/// (and on a forced exit too, which skips the hooks). dozen-shutdown reserves
/// the sum of the budgets, [`FLUSH_BUDGET`] and [`CLOSE_BUDGET`], at the end
/// of the deadline.
///
/// # Errors
///
/// The exit code to return from `main`: shutdown could not be set up, the
/// database could not be reached, or a signal came first.
pub async fn attach(
    config: &Config,
    log: &dozen_log::Guard,
    shutdown: dozen_shutdown::Builder,
) -> Result<(Shutdown, Db), ExitCode> {
    let shutdown = shutdown.build().map_err(|error| {
        tracing::error!(%error, "cannot set up shutdown");
        ExitCode::FAILURE
    })?;
    let forced = log.flusher();
    shutdown.on_forced_exit(move || forced.flush());
    let flusher = log.flusher();
    shutdown
        .on_teardown("flush logs", FLUSH_BUDGET, move || async move {
            flusher.flush();
        })
        .map_err(no_drain_budget)?;
    let connected = unless_shutdown(
        &shutdown,
        "connect",
        Db::connect(&config.database_url, &config.pool),
    )
    .await?;
    let db = connected.map_err(|error| {
        tracing::error!(%error, "cannot connect to the database");
        ExitCode::FAILURE
    })?;
    let pool = db.pool.clone();
    let registered =
        shutdown.on_teardown("close database pool", CLOSE_BUDGET, move || async move {
            pool.close().await;
        });
    if let Err(error) = registered {
        // Config::validate refuses such a timeout first; this is the backstop.
        db.pool.close().await;
        return Err(no_drain_budget(error));
    }
    Ok((shutdown, db))
}

/// A teardown budget that left no time to drain: a configuration error.
fn no_drain_budget(error: dozen_shutdown::Error) -> ExitCode {
    tracing::error!(%error, "invalid configuration");
    ExitCode::from(EXIT_CONFIG)
}
