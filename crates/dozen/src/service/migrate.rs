//! `PROGRAM migrate [status|validate|wait|repair|...]`: dozen-migrate's
//! command line on the app's embedded migrations, with the settings of the
//! process (`DATABASE_URL`, `PoolSettings`, `MigrateSettings`) and its
//! logging; stopped by a signal, it exits 143, never 0.

use std::ffi::OsString;
use std::process::ExitCode;

use dozen_migrate::{Cli, Migrator};
use serde::de::DeserializeOwned;

use super::database::Declared;
use super::exit_code;
use super::lifecycle::{LogsTo, Names, build_shutdown, settings_and_logging};
use super::schema;
use super::settings::Validate;
use super::stopped::{Phases, unless_shutdown};

/// The exit code of a `migrate` command stopped by SIGTERM or SIGINT: 128 +
/// SIGTERM, so that a Job or an init container stopped half-way never
/// counts as done.
pub(crate) const INTERRUPTED: u8 = 143;

/// Runs `migrate` with `args` (those after `migrate`).
pub(crate) fn run<S>(
    names: &Names<'_>,
    validate: Option<&Validate<S>>,
    declared: &Declared<S>,
    args: Vec<OsString>,
) -> ExitCode
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    let program = format!("{} migrate", names.service);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "logging is not set up yet")]
            {
                eprintln!("{}: cannot start the async runtime: {error}", names.service);
            }
            return ExitCode::from(exit_code::START_FAILED);
        }
    };
    // Help and usage errors need no configuration, and the usage names no
    // migration: any set will do.
    match Migrator::from_migrations([]) {
        Ok(migrator) => {
            let cli = Cli::new(migrator).with_program_name(program.clone());
            if let Some(code) = cli.preflight(args.iter().cloned()) {
                return code;
            }
        }
        Err(_) => return ExitCode::from(exit_code::START_FAILED),
    }
    let (mut loaded, log) = match settings_and_logging(
        names,
        (false, false),
        declared.needs(),
        validate,
        LogsTo::Stderr,
    ) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let code = match declared.plan(&loaded.app, loaded.database.take()) {
        Ok(Some(plan)) => match &plan.schema {
            Some(schema) => runtime.block_on(async {
                // An admin process receives no traffic: no propagation delay.
                let shutdown = match build_shutdown(loaded.shutdown, false, &log) {
                    Ok(shutdown) => shutdown,
                    Err(code) => return code,
                };
                let cli = Cli::new(Migrator::clone(&schema.migrator)).with_program_name(program);
                let run = cli.run_connecting(args, || schema::connect(&plan.url, &plan.pool));
                match unless_shutdown(&shutdown, &Phases::default(), "migrate", run).await {
                    Ok(code) => code,
                    Err(_) => {
                        let _ = shutdown.wait().await;
                        ExitCode::from(INTERRUPTED)
                    }
                }
            }),
            None => ExitCode::from(exit_code::USAGE),
        },
        Ok(None) => ExitCode::from(exit_code::USAGE),
        Err(error) => {
            tracing::error!(%error, "cannot load the embedded migrations");
            ExitCode::from(exit_code::START_FAILED)
        }
    };
    runtime.shutdown_background();
    log.flush();
    code
}
