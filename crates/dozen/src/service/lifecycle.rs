//! The life of a running process, in order: settings (exit 78 with every
//! problem), logging, one report line, the runtime, shutdown with the log
//! flush wired once, then the process type itself; the final flush on every
//! path out.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

use dozen_log::LogSettings;
use dozen_shutdown::{Shutdown, ShutdownSettings};
use serde::de::DeserializeOwned;

use super::DatabasePlan;
use super::context::Context;
use super::exit_code;
use super::health::Health;
use super::settings::{self, FLUSH_BUDGET, FLUSH_MARGIN, Loaded, Needs, Validate};
use super::step::{BoxError, ProcessFn, WebFn};
use super::watchdog;
use super::web;

/// What the app declared of its database.
#[cfg(dozen_database)]
pub(crate) type Declared<S> = super::database::Declared<S>;
/// Without a database driver, nothing.
#[cfg(not(dozen_database))]
pub(crate) type Declared<S> = std::marker::PhantomData<S>;

/// The process type to run.
pub(crate) enum Kind<S> {
    Web(WebFn<S>),
    Named(ProcessFn<S>),
    /// The job worker of `Service::worker`: a named process type that
    /// reads `JOBS_*` as well.
    #[cfg(feature = "jobs")]
    Worker(super::jobs::WorkerFn<S>),
}

impl<S> Kind<S> {
    /// Whether the process type takes jobs, and so reads `JOBS_*`.
    pub(crate) fn takes_jobs(&self) -> bool {
        #[cfg(feature = "jobs")]
        return matches!(self, Self::Worker(_));
        #[cfg(not(feature = "jobs"))]
        false
    }
}

/// Who is running: the service's name and version, and the process type.
pub(crate) struct Names<'a> {
    pub(crate) service: &'a str,
    pub(crate) version: &'a str,
    pub(crate) process: &'a str,
}

/// Runs process type `kind` to its end and returns the exit code.
pub(crate) fn run<S>(
    names: &Names<'_>,
    validate: Option<&Validate<S>>,
    needs: Needs,
    database: &Declared<S>,
    kind: Kind<S>,
) -> ExitCode
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    let web = matches!(kind, Kind::Web(_));
    let jobs = kind.takes_jobs();
    let (mut loaded, log) =
        match settings_and_logging(names, (web, jobs), needs, validate, LogsTo::Stdout) {
            Ok(started) => started,
            Err(code) => return code,
        };
    #[cfg_attr(
        not(dozen_database),
        allow(clippy::let_unit_value, reason = "the plan is () without a driver")
    )]
    let plan = match plan_or_exit(database, &mut loaded, &log) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let flusher = log.flusher();
            let watchdog = watchdog::start(&runtime, move || flusher.flush());
            let code = runtime.block_on(start(names.process, loaded, plan, &log, kind));
            // Tasks still running (none after a clean shutdown) are dropped,
            // not waited for: the deadline has been kept already.
            drop(watchdog);
            runtime.shutdown_background();
            code
        }
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            ExitCode::from(exit_code::START_FAILED)
        }
    };
    let dropped = log.dropped_lines();
    if dropped > 0 {
        tracing::warn!(
            dropped_lines = dropped,
            "log lines were dropped: standard output did not keep up (LOG_QUEUE=drop)"
        );
    }
    log.flush();
    code
}

/// The database's plan, from what the app declared and the settings.
#[cfg(dozen_database)]
fn plan<S>(database: &Declared<S>, loaded: &mut Loaded<S>) -> Result<DatabasePlan, BoxError> {
    database.plan(&loaded.app, loaded.database.take())
}

/// The database's plan; or, when the app's migrations cannot be built,
/// the error logged and flushed and the exit code (1).
pub(crate) fn plan_or_exit<S>(
    database: &Declared<S>,
    loaded: &mut Loaded<S>,
    log: &dozen_log::Guard,
) -> Result<DatabasePlan, ExitCode> {
    plan(database, loaded).map_err(|error| {
        tracing::error!(%error, "cannot load the embedded migrations");
        log.flush();
        ExitCode::from(exit_code::START_FAILED)
    })
}

/// Without a database driver, none.
#[cfg(not(dozen_database))]
#[allow(
    clippy::unnecessary_wraps,
    reason = "the same signature as with a driver"
)]
fn plan<S>(_: &Declared<S>, _: &mut Loaded<S>) -> Result<DatabasePlan, BoxError> {
    Ok(())
}

/// Where a process's log lines go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogsTo {
    /// Standard output: a process type, whose output is its logs.
    Stdout,
    /// Standard error: an admin command, whose standard output is its result
    /// (text or JSON), so that a pipe or a Job's output holds only that.
    Stderr,
}

/// Loads the settings of process type `names.process` (the web one when
/// `web`; one that takes jobs, with `JOBS_*`, when `jobs`), sets up
/// logging and logs the one report line; or says on stderr why not, and
/// returns the exit code.
pub(crate) fn settings_and_logging<S: DeserializeOwned>(
    names: &Names<'_>,
    (web, jobs): (bool, bool),
    needs: Needs,
    validate: Option<&Validate<S>>,
    logs_to: LogsTo,
) -> Result<(Loaded<S>, dozen_log::Guard), ExitCode> {
    let loaded = match settings::load::<S>(web, jobs, needs, validate, None) {
        Ok(loaded) => loaded,
        Err(error) => {
            #[allow(clippy::print_stderr, reason = "logging is not set up yet")]
            {
                eprintln!("{}: invalid configuration:\n{error}", names.service);
            }
            return Err(ExitCode::from(exit_code::CONFIG));
        }
    };
    let log = match init_logging(loaded.log.clone(), names, logs_to) {
        Ok(log) => log,
        Err(error) => {
            // Settings were validated: a global subscriber already set, or
            // no writer thread.
            #[allow(clippy::print_stderr, reason = "logging could not be set up")]
            {
                eprintln!("{}: cannot set up logging: {error}", names.service);
            }
            return Err(ExitCode::from(exit_code::START_FAILED));
        }
    };
    // A person at a terminal reads what was set; a machine gets the whole report.
    if log.format() == dozen_log::Format::Pretty {
        let set = loaded.report.set_only();
        tracing::info!(process = names.process, config = %set, "configuration loaded");
    } else {
        tracing::info!(process = names.process, config = %loaded.report, "configuration loaded");
    }
    Ok((loaded, log))
}

/// Logging from `settings`, under the service's own name and version when
/// neither `SERVICE_NAME` nor `K_SERVICE` names it.
fn init_logging(
    settings: LogSettings,
    names: &Names<'_>,
    logs_to: LogsTo,
) -> Result<dozen_log::Guard, dozen_log::Error> {
    let mut builder = dozen_log::Builder::new();
    if logs_to == LogsTo::Stderr {
        // `auto` follows the terminal the lines go to.
        if settings.log_format == dozen_log::Format::Auto && std::io::stderr().is_terminal() {
            builder = builder.with_format(dozen_log::Format::Pretty);
        }
        builder = builder.with_writer(std::io::stderr);
    }
    if settings.service().is_none() {
        let version = settings
            .service_version
            .as_deref()
            .or(settings.k_revision.as_deref())
            .filter(|v| !v.trim().is_empty())
            .unwrap_or(names.version);
        builder = builder.with_service(names.service, version);
    }
    builder.settings(settings).init()
}

/// From the shutdown on: signals are handled, and every later phase is raced
/// against them.
async fn start<S>(
    process: &str,
    loaded: Loaded<S>,
    database: DatabasePlan,
    log: &dozen_log::Guard,
    kind: Kind<S>,
) -> ExitCode
where
    S: Send + Sync + 'static,
{
    let Loaded {
        app,
        web,
        shutdown,
        #[cfg(feature = "jobs")]
        jobs,
        ..
    } = loaded;
    let shutdown = match build_shutdown(shutdown, matches!(kind, Kind::Web(_)), log) {
        Ok(shutdown) => shutdown,
        Err(code) => return code,
    };
    let health = Health::new(&shutdown);
    let ctx = Context::new(app, shutdown.clone(), health.clone(), process, database);
    match (kind, web) {
        (Kind::Web(f), Some((web, http))) => web::run(f, ctx, &health, web, http).await,
        (Kind::Named(f), _) => named(process, f, ctx).await,
        #[cfg(feature = "jobs")]
        (Kind::Worker(f), _) => {
            let Some(jobs) = jobs else {
                unreachable!("the worker process type loads JobsSettings")
            };
            named(process, Box::new(move |ctx| f(ctx, jobs)), ctx).await
        }
        (Kind::Web(_), None) => unreachable!("the web process type loads WebSettings"),
    }
}

/// The shutdown of the process, beginning `Starting`, with the log flush
/// wired once: as the last teardown hook and before a forced exit. A
/// process type other than web receives no traffic: no propagation delay,
/// whatever `SHUTDOWN_DELAY` says (a ConfigMap shared with the web process
/// sets it for the web process).
pub(crate) fn build_shutdown(
    settings: ShutdownSettings,
    web: bool,
    log: &dozen_log::Guard,
) -> Result<Shutdown, ExitCode> {
    let mut builder = Shutdown::builder().with_starting(true);
    if !web {
        builder = builder.with_delay(Duration::ZERO).with_serving(false);
    }
    let failed = |error: dozen_shutdown::Error| {
        tracing::error!(%error, "cannot set up shutdown");
        ExitCode::from(if error.var().is_some() {
            exit_code::CONFIG
        } else {
            exit_code::START_FAILED
        })
    };
    let shutdown = builder.settings(settings).build().map_err(failed)?;
    let forced = log.flusher();
    shutdown.on_forced_exit(move || forced.flush());
    let flusher = log.flusher();
    shutdown
        .on_teardown("flush logs", FLUSH_BUDGET, move || async move {
            // Off the runtime, and within the budget: a stdout nobody reads
            // would otherwise hold a worker thread for the whole
            // FLUSH_TIMEOUT, and the teardown would overrun (exit 124) or
            // not depending on how many worker threads there are.
            let within = FLUSH_BUDGET.saturating_sub(FLUSH_MARGIN);
            let _ = tokio::task::spawn_blocking(move || flusher.flush_within(within)).await;
        })
        .map_err(failed)?;
    Ok(shutdown)
}

/// A named process type: its function runs as a tracked task; when it
/// returns, shutdown begins (with the task-failed outcome when it returned
/// an error).
async fn named<S>(process: &str, f: ProcessFn<S>, ctx: Context<S>) -> ExitCode
where
    S: Send + Sync + 'static,
{
    let shutdown = ctx.shutdown().clone();
    shutdown.mark_ready();
    tracing::info!(process, "started");
    let done = shutdown.clone();
    let phases = ctx.phases().clone();
    let work = f(ctx);
    shutdown.spawn(process.to_owned(), async move {
        match work.await {
            // Stopped during its start-up (attaching its database), whatever
            // the function made of the error: said so already; the
            // shutdown's outcome is the exit code.
            Err(_) if phases.were_stopped() => Ok(()),
            Ok(()) => {
                done.trigger();
                Ok(())
            }
            Err(error) => Err(error),
        }
    });
    shutdown.wait().await.into()
}
