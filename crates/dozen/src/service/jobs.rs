//! `PROGRAM jobs status|dead|retry`: dozen-jobs' admin commands on the
//! service's queue, with the settings of the process and its logging on
//! stderr; results on stdout. Stopped by a signal, it exits 143. And the
//! worker process type of `Service::worker`, whose builder also opens the
//! queue of those commands.

use std::ffi::OsString;
use std::future::Future;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::process::ExitCode;
use std::rc::Rc;

use dozen_jobs::{Admin, Backend, JobsSettings, Worker, admin};
use serde::de::DeserializeOwned;

use super::box_error::BoxError;
use super::context::Context;
use super::exit_code;
use super::health::Health;
use super::lifecycle::{
    Declared, LogsTo, Names, build_shutdown, plan_or_exit, settings_and_logging,
};
use super::settings::{Needs, Validate};
use super::step::StepFuture;
use super::stopped::{Phases, unless_shutdown};

/// The exit code when the queue cannot be opened or its store fails
/// (`EX_UNAVAILABLE` in `sysexits.h`).
pub(crate) const UNAVAILABLE: u8 = admin::exit::UNAVAILABLE;

/// An admin command's run: the queue opened from the context, the command
/// run on it; its exit code.
type Run = Pin<Box<dyn Future<Output = Result<u8, BoxError>> + Send>>;

/// The app's queue, opened for an admin command.
pub(crate) type QueueOf<S> = dyn Fn(Context<S>, admin::Command) -> Run;

/// The worker process type's function: given the context and `JOBS_*`,
/// builds the app's worker, gives it the settings and runs it until it has
/// drained.
pub(crate) type WorkerFn<S> = Box<dyn FnOnce(Context<S>, JobsSettings) -> StepFuture<()>>;

/// Boxes the app's queue opener `queue` into a [`QueueOf`].
pub(crate) fn declare<S, F, Fut, B, E>(queue: F) -> Box<QueueOf<S>>
where
    S: Send + Sync + 'static,
    F: Fn(Context<S>) -> Fut + 'static,
    Fut: Future<Output = Result<B, E>> + Send + 'static,
    B: Admin + 'static,
    E: Into<BoxError>,
{
    declare_on(queue, itself::<B>)
}

/// The app's worker builder `build`, declared twice from one function: the
/// worker process type, and the opener of the `jobs` command, which runs
/// on the backend of the worker built (its handlers are never run there).
///
/// The worker is given `JOBS_*` after `build` returns: the settings from
/// the environment replace any the app gave with `Worker::settings`, and a
/// `Worker::with_*` override still wins over them.
pub(crate) fn declare_worker<S, F, Fut, B, E>(build: F) -> (WorkerFn<S>, Box<QueueOf<S>>)
where
    S: Send + Sync + 'static,
    F: Fn(Context<S>) -> Fut + 'static,
    Fut: Future<Output = Result<Worker<B>, E>> + Send + 'static,
    B: Backend + Admin,
    E: Into<BoxError>,
{
    let build = Rc::new(build);
    let process = Rc::clone(&build);
    let run: WorkerFn<S> = Box::new(move |ctx, settings| {
        let shutdown = ctx.shutdown().clone();
        let built = super::step::called(|| process(ctx));
        Box::pin(async move {
            let worker = built?.await.map_err(Into::into)?;
            worker.settings(settings).run(&shutdown).await;
            Ok(())
        })
    });
    let queue = declare_on(move |ctx| build(ctx), backend_of::<B>);
    (run, queue)
}

/// The queue itself, for [`declare_on`].
fn itself<B>(queue: &B) -> &B {
    queue
}

/// The backend of `worker`, for [`declare_on`].
fn backend_of<B: Backend>(worker: &Worker<B>) -> &B {
    worker.backend()
}

/// Boxes `open` into a [`QueueOf`] whose command runs on `admin_of` what
/// `open` returns.
fn declare_on<S, F, Fut, T, A, E>(open: F, admin_of: fn(&T) -> &A) -> Box<QueueOf<S>>
where
    S: Send + Sync + 'static,
    F: Fn(Context<S>) -> Fut + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    A: Admin + 'static,
    E: Into<BoxError>,
{
    Box::new(move |ctx, command| {
        // An opener that panics before it returns its future fails the command like one
        // whose future fails, rather than unwinding out of the runtime (exit 101).
        let opened = super::step::called(|| open(ctx));
        Box::pin(async move {
            let opened = opened?.await.map_err(Into::into)?;
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = admin::run(admin_of(&opened), &command, &mut out, &mut err).await;
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
        match settings_and_logging(names, (false, true), needs, validate, LogsTo::Stderr) {
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
