//! Run with: cargo run -p example-todo-api
//!
//! The web process type: a todo JSON API on `PORT` (8080), backed by
//! `DATABASE_URL` (a SQLite file by default; PostgreSQL or MariaDB by URL).
//!
//! ```text
//! todo-api                                   serve the API
//! todo-api migrate [status|validate|wait|repair ...]   the admin process (factor XII)
//! ```
//!
//! On the SQLite default the web process applies migrations itself before it
//! serves, so the first run just works. With a server database it does not
//! (unless `MIGRATE_ON_START=true`): a Kubernetes Job runs `todo-api migrate`,
//! and replicas run `todo-api migrate wait` in an init container.
//!
//! # Exit codes
//!
//! | phase | fails with | after SIGTERM or SIGINT |
//! |---|---:|---|
//! | configuration | 78, every problem listed | killed by the signal (the shell's 143): signals are not handled yet, and nothing has started |
//! | connect, with retry (`DATABASE_CONNECT_TIMEOUT`) | 1 | 0: the attempt is dropped, teardown runs |
//! | migrations (`MIGRATE_ON_START`) | 1 | 0: the migration in progress is dropped (rolled back on PostgreSQL and SQLite), the lock released, teardown runs |
//! | bind `PORT` | 1 | 0: nothing is served |
//! | serve | 70 when a task failed | 0 after the drain; 124 when the deadline ran out; a second signal forces 143 (130 for SIGINT) |
//! | `todo-api migrate ...` | 1 to 4 (see `dozen_migrate::Cli`) | 143 ([`EXIT_INTERRUPTED`](example_todo_api::EXIT_INTERRUPTED)): stopped where it stood, the lock released; never 0, so a stopped Job or init container does not count as done |
//!
//! No phase carries on once shutdown has begun: there is no "listening" line
//! after a signal during start-up.

use std::process::ExitCode;
use std::time::Duration;

use dozen_shutdown::Shutdown;
use example_todo_api::db;
use example_todo_api::{Config, routes};

#[tokio::main]
async fn main() -> ExitCode {
    let (config, log) = match example_todo_api::start("todo-api") {
        Ok(started) => started,
        Err(code) => return code,
    };
    let mut args = std::env::args_os().skip(1);
    let code = match args.next() {
        None => serve(config, &log).await,
        Some(command) if command == "migrate" => migrate(&config, args).await,
        Some(_) => {
            tracing::error!(
                "unknown command; usage: todo-api [migrate [status|validate|wait|repair]]"
            );
            ExitCode::from(2)
        }
    };
    log.flush();
    code
}

async fn migrate(config: &Config, args: impl Iterator<Item = std::ffi::OsString>) -> ExitCode {
    let migrator = match db::migrator(&config.database_url, &config.migrate) {
        Ok(migrator) => migrator,
        Err(error) => {
            tracing::error!(%error, "cannot load the embedded migrations");
            return ExitCode::FAILURE;
        }
    };
    // An admin process receives no traffic: no propagation delay.
    let shutdown = match Shutdown::builder()
        .settings(config.shutdown.clone())
        .with_delay(Duration::ZERO)
        .build()
    {
        Ok(shutdown) => shutdown,
        Err(error) => {
            tracing::error!(%error, "cannot set up shutdown");
            return ExitCode::FAILURE;
        }
    };
    // Connected like the app's own pool (DATABASE_CONNECT_TIMEOUT and the
    // other DATABASE_* settings apply to the admin process too), and only
    // once the arguments are known to need a database.
    let cli = dozen_migrate::Cli::new(migrator).with_program_name("todo-api migrate");
    let run = cli.run_connecting(args, || {
        db::migration_database(&config.database_url, &config.pool)
    });
    match example_todo_api::unless_shutdown(&shutdown, "migrate", run).await {
        Ok(code) => code,
        Err(_) => ExitCode::from(example_todo_api::EXIT_INTERRUPTED),
    }
}

async fn serve(config: Config, log: &dozen_log::Guard) -> ExitCode {
    let (shutdown, db) = match example_todo_api::attach(
        &config,
        log,
        Shutdown::builder().settings(config.shutdown.clone()),
    )
    .await
    {
        Ok(attached) => attached,
        Err(code) => return code,
    };

    if config.migrates_on_start() {
        let prepared = example_todo_api::unless_shutdown(
            &shutdown,
            "migrations",
            example_todo_api::prepare_schema(&config, Duration::ZERO),
        )
        .await;
        if let Err(code) = prepared.and_then(|ready| ready) {
            return code;
        }
    }

    let app = routes::router(db, config.max_body_bytes)
        .layer(dozen_log::http::RequestLogLayer::new())
        .merge(dozen_shutdown::axum::health_routes(&shutdown));
    let bound = example_todo_api::unless_shutdown(
        &shutdown,
        "bind",
        tokio::net::TcpListener::bind(("0.0.0.0", config.port)),
    )
    .await;
    let listener = match bound {
        Ok(Ok(listener)) => listener,
        Ok(Err(error)) => {
            tracing::error!(%error, port = config.port, "cannot bind PORT");
            return ExitCode::FAILURE;
        }
        Err(code) => return code,
    };
    match listener.local_addr() {
        Ok(addr) => tracing::info!(%addr, "listening"),
        Err(error) => tracing::warn!(%error, "listening on an unknown address"),
    }
    shutdown.spawn(
        "http server",
        dozen_shutdown::axum::serve(listener, app, shutdown.clone()).settings(config.http.clone()),
    );
    shutdown.wait().await.into()
}
