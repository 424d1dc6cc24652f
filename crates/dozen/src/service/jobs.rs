//! `PROGRAM jobs status|dead|retry`: dozen-jobs' admin commands on the
//! service's queue, with the settings of the process and its logging on
//! stderr; results on stdout. Stopped by a signal, it exits 143.

use std::ffi::OsString;
use std::future::Future;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::process::ExitCode;

use dozen_jobs::admin;
use serde::de::DeserializeOwned;

use super::box_error::BoxError;
use super::context::Context;
use super::exit_code;
use super::health::Health;
use super::lifecycle::{
    Declared, LogsTo, Names, build_shutdown, plan_or_exit, settings_and_logging,
};
use super::settings::{Needs, Validate};
use super::stopped::{Phases, unless_shutdown};

/// The exit code when the queue cannot be opened or its store fails
/// (`EX_UNAVAILABLE` in `sysexits.h`).
pub(crate) const UNAVAILABLE: u8 = admin::exit::UNAVAILABLE;

/// An admin command's run: the queue opened from the context, the command
/// run on it; its exit code.
type Run = Pin<Box<dyn Future<Output = Result<u8, BoxError>> + Send>>;

/// The app's queue, opened for an admin command.
pub(crate) type QueueOf<S> = dyn Fn(Context<S>, admin::Command) -> Run;

/// Boxes the app's queue opener `queue` into a [`QueueOf`].
pub(crate) fn declare<S, F, Fut, B, E>(queue: F) -> Box<QueueOf<S>>
where
    S: Send + Sync + 'static,
    F: Fn(Context<S>) -> Fut + 'static,
    Fut: Future<Output = Result<B, E>> + Send + 'static,
    B: dozen_jobs::Admin + 'static,
    E: Into<BoxError>,
{
    Box::new(move |ctx, command| {
        let opened = queue(ctx);
        Box::pin(async move {
            let queue = opened.await.map_err(Into::into)?;
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = admin::run(&queue, &command, &mut out, &mut err).await;
            let _ = io::stdout()
                .write_all(&out)
                .and_then(|()| io::stdout().flush());
            let _ = io::stderr().write_all(&err);
            Ok(code)
        })
    })
}

/// Runs `jobs` with `args` (those after `jobs`).
pub(crate) fn run<S>(
    names: &Names<'_>,
    validate: Option<&Validate<S>>,
    needs: Needs,
    declared: &Declared<S>,
    queue: &QueueOf<S>,
    args: Vec<OsString>,
) -> ExitCode
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    let program = format!("{} jobs", names.service);
    if args.iter().any(|arg| arg == "-h" || arg == "--help")
        || args.first().is_some_and(|a| a == "help")
    {
        let _ = io::stdout().write_all(usage(&program).as_bytes());
        return ExitCode::SUCCESS;
    }
    let command = match admin::parse(args) {
        Ok(command) => command,
        Err(problem) => {
            let _ = io::stderr()
                .write_all(format!("{program}: {problem}\n\n{}", usage(&program)).as_bytes());
            return ExitCode::from(exit_code::USAGE);
        }
    };
    let (mut loaded, log) =
        match settings_and_logging(names, false, needs, validate, LogsTo::Stderr) {
            Ok(started) => started,
            Err(code) => return code,
        };
    let plan = match plan_or_exit(declared, &mut loaded, &log) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let code = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let code = runtime.block_on(async {
                // An admin process receives no traffic: no propagation delay.
                let shutdown = match build_shutdown(loaded.shutdown, false, &log) {
                    Ok(shutdown) => shutdown,
                    Err(code) => return code,
                };
                let health = Health::new(&shutdown);
                let ctx = Context::new(loaded.app, shutdown.clone(), health, "jobs", plan);
                let attaching = ctx.phases().clone();
                match unless_shutdown(&shutdown, &Phases::default(), "jobs", queue(ctx, command))
                    .await
                {
                    Ok(Ok(code)) => ExitCode::from(code),
                    Ok(Err(error)) => {
                        // Stopped attaching the database, whatever the
                        // opener made of the error.
                        if attaching.were_stopped() {
                            let _ = shutdown.wait().await;
                            return ExitCode::from(exit_code::FORCED_SIGTERM);
                        }
                        tracing::error!(error = %error, "cannot open the job queue");
                        ExitCode::from(UNAVAILABLE)
                    }
                    Err(_) => {
                        let _ = shutdown.wait().await;
                        ExitCode::from(exit_code::FORCED_SIGTERM)
                    }
                }
            });
            runtime.shutdown_background();
            code
        }
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            ExitCode::from(exit_code::START_FAILED)
        }
    };
    log.flush();
    code
}

fn usage(program: &str) -> String {
    let mut text = String::from("Usage:\n");
    for line in admin::USAGE.lines() {
        text.push_str("  ");
        if let Some(rest) = line.strip_prefix("jobs ") {
            text.push_str(program);
            text.push(' ');
            text.push_str(rest);
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    text.push_str("\nExit codes: 0 done, 1 no such dead job, 2 usage, 69 the queue is unavailable, 78 invalid configuration, 143 stopped by a signal.\n");
    text
}
