//! The entry point of a service: one call runs the whole life of a process.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use dozen::service::Service;
//!
//! #[derive(serde::Deserialize)]
//! struct Settings {
//!     #[serde(default)]
//!     greeting: Option<String>,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Service::<Settings>::new("hello", env!("CARGO_PKG_VERSION"))
//!         .web(|ctx| async move {
//!             let greeting = ctx.settings().greeting.clone().unwrap_or_else(|| "hello".into());
//!             Router::new().route("/", get(move || async move { greeting }))
//!         })
//!         .run()
//! }
//! ```
//!
//! See the crate's README for the life of a process, the commands, the
//! health model and the exit codes.

mod args;
#[cfg(dozen_database)]
mod attached;
mod body;
mod box_error;
mod context;
#[cfg(dozen_database)]
mod database;
pub mod exit_code;
mod health;
#[cfg(feature = "jobs")]
mod jobs;
mod lifecycle;
#[cfg(feature = "migrate")]
mod migrate;
#[cfg(feature = "migrate")]
mod schema;
mod settings;
mod slot;
mod step;
mod stopped;
mod watchdog;
mod web;

use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;

use dozen_config::Problem;
use serde::de::DeserializeOwned;

pub use context::Context;
pub use health::{Check, DEFAULT_CHECK_INTERVAL, DEFAULT_CHECK_TIMEOUT, Health};
#[cfg(feature = "migrate")]
pub use schema::SchemaSettings;
pub use settings::{DEFAULT_PORT, NoSettings, WebSettings};
pub use step::{BoxError, StepResult};
pub use watchdog::WEDGED_AFTER;

use args::{Admin, Command, Format};
use lifecycle::{Kind, Names};
use settings::{Needs, Validate};
use step::WebFn;

/// The name of the web process type, on the command line and in logs.
const WEB: &str = "web";

/// The name of the process type of [`Service::worker`].
#[cfg(feature = "jobs")]
const WORKER: &str = "worker";

/// A service: its name and version, its settings type `S`, and its process
/// types. [`run`](Self::run) runs one of them, as the command line says.
///
/// `S` is the app's own settings, loaded by dozen-config from the
/// environment together with dozen's ([`NoSettings`] when the app has none). Build
/// with [`new`](Self::new), add the web process type with
/// [`web`](Self::web) and named ones with [`process`](Self::process), then
/// [`run`](Self::run) from `main`.
#[must_use]
pub struct Service<S = NoSettings> {
    name: String,
    version: String,
    validate: Option<Box<Validate<S>>>,
    web: Option<WebFn<S>>,
    /// The named process types (`Kind::Named`, or the `Kind::Worker` of
    /// [`worker`](Self::worker)), in the order declared.
    processes: Vec<(String, Kind<S>)>,
    #[cfg(dozen_database)]
    database: database::Declared<S>,
    /// The queue of the `jobs` command, from [`with_jobs`](Self::with_jobs).
    #[cfg(feature = "jobs")]
    jobs: Option<Box<jobs::QueueOf<S>>>,
    /// The queue of the `jobs` command, on the backend of the worker
    /// [`worker`](Self::worker) builds: used when `jobs` is `None`.
    #[cfg(feature = "jobs")]
    worker_jobs: Option<Box<jobs::QueueOf<S>>>,
}

/// The database a process attaches, planned from its settings.
#[cfg(dozen_database)]
pub(crate) type DatabasePlan = Option<std::sync::Arc<database::Plan>>;
/// Without a database driver, none.
#[cfg(not(dozen_database))]
pub(crate) type DatabasePlan = ();

impl<S> fmt::Debug for Service<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("web", &self.web.is_some())
            .field(
                "processes",
                &self
                    .processes
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<S> Service<S>
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    /// A service named `name` (the program name in the usage, and the
    /// service name of its logs unless `SERVICE_NAME` or `K_SERVICE` is set)
    /// at `version` (usually `env!("CARGO_PKG_VERSION")`).
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            validate: None,
            web: None,
            processes: Vec::new(),
            #[cfg(dozen_database)]
            database: database::Declared::default(),
            #[cfg(feature = "jobs")]
            jobs: None,
            #[cfg(feature = "jobs")]
            worker_jobs: None,
        }
    }

    /// The app's job queue, opened by `queue` from a process's context
    /// (usually on its database: `SqlQueue::new(ctx.database().await?, ..)`).
    /// It adds the command `PROGRAM jobs status|dead|retry`, which runs
    /// `queue` with the process's settings and logging (on stderr) and
    /// prints its result on stdout (`--format json` for programs).
    ///
    /// A service with a [`worker`](Self::worker) has the command already,
    /// on the worker's backend: `with_jobs` is for a command that opens the
    /// queue otherwise, and then it wins.
    #[cfg(feature = "jobs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jobs")))]
    pub fn with_jobs<F, Fut, B, E>(mut self, queue: F) -> Self
    where
        F: Fn(Context<S>) -> Fut + 'static,
        Fut: Future<Output = Result<B, E>> + Send + 'static,
        B: dozen_jobs::Admin + 'static,
        E: Into<BoxError>,
    {
        self.jobs = Some(jobs::declare(queue));
        self
    }

    /// The process type `worker`, which runs the app's job worker: `build`
    /// returns it (the queue and its handlers), usually on the database:
    /// `Worker::new(SqlQueue::new(ctx.database().await?, ..)).handle(..)`.
    /// The process then reads dozen-jobs' `JobsSettings` too
    /// (`JOBS_CONCURRENCY`, `JOBS_LEASE`, ...), gives them to the worker and
    /// runs it until shutdown has drained it; it exits 0 then (70 when
    /// `build` returned an error, 0 when shutdown began while `build` was
    /// still connecting or waiting for the schema).
    ///
    /// `JOBS_*` replace the settings `build` gave with
    /// `Worker::settings`; a `Worker::with_*` override (say
    /// `with_concurrency(1)`) still wins over them. The worker reserves the
    /// shutdown's teardown budgets (closing the pool, flushing the logs)
    /// itself.
    ///
    /// It also adds the command `PROGRAM jobs status|dead|retry`, which
    /// calls `build` and runs on the worker's backend, never its handlers
    /// (unless [`with_jobs`](Self::with_jobs) opens the queue otherwise).
    ///
    /// # Panics
    ///
    /// When a process type named `worker` is declared already.
    #[cfg(feature = "jobs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jobs")))]
    pub fn worker<F, Fut, B, E>(mut self, build: F) -> Self
    where
        F: Fn(Context<S>) -> Fut + 'static,
        Fut: Future<Output = Result<dozen_jobs::Worker<B>, E>> + Send + 'static,
        B: dozen_jobs::Backend + dozen_jobs::Admin,
        E: Into<BoxError>,
    {
        let (run, queue) = jobs::declare_worker(build);
        self.add_process(WORKER.to_owned(), Kind::Worker(run));
        self.worker_jobs = Some(queue);
        self
    }

    /// The queue of the `jobs` command: [`with_jobs`](Self::with_jobs)'s,
    /// or else the worker's.
    #[cfg(feature = "jobs")]
    fn jobs_queue(&self) -> Option<&jobs::QueueOf<S>> {
        self.jobs.as_deref().or(self.worker_jobs.as_deref())
    }

    /// The admin commands the service has.
    fn admin(&self) -> Admin {
        Admin {
            migrate: self.has_migrations(),
            #[cfg(feature = "jobs")]
            jobs: self.jobs_queue().is_some(),
            #[cfg(not(feature = "jobs"))]
            jobs: false,
        }
    }

    /// A database, at the URL `url` reads from the app's settings (its
    /// `DATABASE_URL`): the process then reads `PoolSettings` too
    /// (`DATABASE_MAX_CONNECTIONS`, `DATABASE_CONNECT_TIMEOUT`, ...), and
    /// [`Context::database`] attaches it.
    #[cfg(dozen_database)]
    #[cfg_attr(docsrs, doc(cfg(feature = "backing")))]
    pub fn with_database<F>(mut self, url: F) -> Self
    where
        F: Fn(&S) -> &dozen_backing::ServiceUrl + Send + Sync + 'static,
    {
        self.database.url = Some(Box::new(move |settings: &S| url(settings).clone()));
        self
    }

    /// The app's migrations, embedded in the binary, for the database of
    /// [`with_database`](Self::with_database) (`migrator` is given its URL,
    /// to pick the dialect's set): the process then reads
    /// `MigrateSettings` and [`SchemaSettings`] too, and
    /// [`Context::database`] applies them when `MIGRATE_ON_START` says so
    /// (by default on SQLite) or else waits for the migrate Job, and
    /// registers the readiness check `schema`. It also adds the command
    /// `PROGRAM migrate [status|validate|wait|repair|...]`.
    #[cfg(feature = "migrate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
    pub fn with_migrations<F, E>(mut self, migrator: F) -> Self
    where
        F: Fn(&dozen_backing::ServiceUrl) -> Result<dozen_migrate::Migrator, E>
            + Send
            + Sync
            + 'static,
        E: Into<BoxError>,
    {
        self.database.migrations = Some(Box::new(move |url: &dozen_backing::ServiceUrl| {
            migrator(url).map_err(Into::into)
        }));
        self
    }

    /// Whether the service has migrations, and so a `migrate` command.
    fn has_migrations(&self) -> bool {
        self.needs() == Needs::Migrations
    }

    /// What the process reads for its database.
    fn needs(&self) -> Needs {
        #[cfg(dozen_database)]
        return self.database.needs();
        #[cfg(not(dozen_database))]
        Needs::Nothing
    }

    /// The app's own checks of its settings, beyond what their types say.
    /// Its problems ([`Problem::new`]) are listed with every other
    /// configuration problem, and the process exits 78.
    pub fn with_validate<F, I>(mut self, validate: F) -> Self
    where
        F: Fn(&S) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = Problem>,
    {
        self.validate = Some(Box::new(move |settings: &S| {
            validate(settings).into_iter().collect()
        }));
        self
    }

    /// The web process type, the default one: `f` is its start-up, which
    /// returns the app's router (or a `Result` of it). It runs once the port
    /// is bound and the health routes answer, raced against shutdown; the
    /// router is served, behind the request log, once it returns.
    pub fn web<F, Fut>(mut self, f: F) -> Self
    where
        F: FnOnce(Context<S>) -> Fut + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: StepResult<axum::Router>,
    {
        self.web = Some(step::boxed(f));
        self
    }

    /// A named process type, run with `PROGRAM name`: the same start-up
    /// (settings, logs, shutdown) without a port. `f` runs as a tracked task
    /// and should return once [`Shutdown::stopping`] resolves; when it
    /// returns, the process shuts down (exit 0, or 70 when it returned an
    /// error).
    ///
    /// [`Shutdown::stopping`]: dozen_shutdown::Shutdown::stopping
    ///
    /// # Panics
    ///
    /// When `name` is `web`, `config` or `help`, or `migrate` or `jobs` (the
    /// admin commands' names, which the command line gives to those commands
    /// when the service has them, whatever the order of the builder's calls),
    /// starts with `-`, or is already taken: the command line could not reach
    /// it.
    pub fn process<F, Fut>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: FnOnce(Context<S>) -> Fut + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: StepResult<()>,
    {
        self.add_process(name.into(), Kind::Named(step::boxed(f)));
        self
    }

    /// Adds the named process type `name`.
    ///
    /// # Panics
    ///
    /// As [`process`](Self::process).
    fn add_process(&mut self, name: String, kind: Kind<S>) {
        assert!(
            !matches!(name.as_str(), WEB | "config" | "help" | "migrate" | "jobs")
                && !name.starts_with('-')
                && !self.processes.iter().any(|(taken, _)| *taken == name),
            "process type name {name:?} is reserved or taken"
        );
        self.processes.push((name, kind));
    }

    /// Runs the process the command line asks for, and returns its exit
    /// code (see [`exit_code`]). Return it from `main`.
    ///
    /// Parses the arguments first: `--help`, `--version` and
    /// `config [--format markdown|env] [PROCESS]` print to stdout and exit
    /// 0 without reading the configuration; anything unknown prints the
    /// usage on stderr and exits 2. Otherwise it runs the process type
    /// named (the web one, or the first named one, by default) on a
    /// multi-threaded tokio runtime of its own.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os().skip(1))
    }

    /// As [`run`](Self::run), with `args` (those after the program name)
    /// instead of the process's arguments: for a test that runs a service
    /// in a child process of its own, or a `main` that takes some
    /// arguments first.
    pub fn run_from<I>(self, args: I) -> ExitCode
    where
        I: IntoIterator,
        I::Item: Into<std::ffi::OsString>,
    {
        let names: Vec<&str> = self.process_names().collect();
        let command = args::parse(args.into_iter().map(Into::into), &names, self.admin());
        match command {
            Err(problem) => {
                let usage = self.usage();
                write_all(
                    io::stderr(),
                    &format!("{}: {problem}\n\n{usage}", self.name),
                );
                ExitCode::from(exit_code::USAGE)
            }
            Ok(Command::Help) => write_all(io::stdout(), &self.usage()),
            Ok(Command::Version) => {
                write_all(io::stdout(), &format!("{} {}\n", self.name, self.version))
            }
            Ok(Command::Config { format, process }) => {
                let web = self.is_web(process.as_deref());
                let jobs = self.takes_jobs(process.as_deref());
                let description = settings::describe::<S>(web, jobs, self.needs());
                write_all(
                    io::stdout(),
                    &match format {
                        Format::Markdown => description.markdown(),
                        Format::Env => description.env_example(),
                    },
                )
            }
            Ok(Command::Run { process }) => self.run_process(process.as_deref()),
            #[cfg(feature = "migrate")]
            Ok(Command::Migrate { args }) => {
                let names = Names {
                    service: &self.name,
                    version: &self.version,
                    process: "migrate",
                };
                migrate::run(&names, self.validate.as_deref(), &self.database, args)
            }
            #[cfg(not(feature = "migrate"))]
            Ok(Command::Migrate { .. }) => unreachable!("parsed only with migrations"),
            #[cfg(feature = "jobs")]
            Ok(Command::Jobs { args }) => {
                let names = Names {
                    service: &self.name,
                    version: &self.version,
                    process: "jobs",
                };
                let Some(queue) = self.jobs_queue() else {
                    unreachable!("parsed only with a queue")
                };
                #[cfg(dozen_database)]
                let database = &self.database;
                #[cfg(not(dozen_database))]
                let database = &std::marker::PhantomData;
                jobs::run(
                    &names,
                    self.validate.as_deref(),
                    self.needs(),
                    database,
                    queue,
                    args,
                )
            }
            #[cfg(not(feature = "jobs"))]
            Ok(Command::Jobs { .. }) => unreachable!("parsed only with a queue"),
        }
    }

    /// Checks the settings of `process` (a process type, or the command
    /// `migrate` or `jobs`) as its start-up would, against `vars` instead
    /// of the process's environment, and starts nothing: for a test that
    /// the deployment's variables (a Kubernetes ConfigMap and the
    /// container's `env`) configure each process type rightly. It reads
    /// what that process reads, runs dozen's checks across the settings
    /// (the drain budget of `SHUTDOWN_DELAY` and `SHUTDOWN_TIMEOUT`, the
    /// pool's ranges, the `RUST_LOG` filter) and the app's own
    /// ([`with_validate`](Self::with_validate)).
    ///
    /// # Errors
    ///
    /// Every problem, one `VAR: what is wrong` line each: what the process
    /// would list on stderr before it exits 78.
    ///
    /// # Panics
    ///
    /// When the service has no process type or command named `process`.
    pub fn check_settings<I>(&self, process: &str, vars: I) -> Result<(), dozen_config::Error>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let known = self.process_names().any(|name| name == process)
            || (process == "migrate" && self.admin().migrate)
            || (process == "jobs" && self.admin().jobs);
        assert!(known, "no process type or command named {process:?}");
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let web = process == WEB;
        let jobs = process == "jobs" || self.takes_jobs(Some(process));
        settings::load::<S>(
            web,
            jobs,
            self.needs(),
            self.validate.as_deref(),
            Some(&vars),
        )
        .map(drop)
    }

    fn run_process(mut self, process: Option<&str>) -> ExitCode {
        let (process, kind) = if self.is_web(process) {
            (WEB.to_owned(), self.web.take().map(Kind::Web))
        } else {
            let index = match process {
                Some(name) => self.processes.iter().position(|(n, _)| n == name),
                None => Some(0).filter(|_| !self.processes.is_empty()),
            };
            match index {
                Some(i) => {
                    let (name, kind) = self.processes.swap_remove(i);
                    (name, Some(kind))
                }
                None => (String::new(), None),
            }
        };
        let Some(kind) = kind else {
            let usage = self.usage();
            write_all(
                io::stderr(),
                &format!("{}: no process type to run\n\n{usage}", self.name),
            );
            return ExitCode::from(exit_code::USAGE);
        };
        let names = Names {
            service: &self.name,
            version: &self.version,
            process: &process,
        };
        let needs = self.needs();
        #[cfg(dozen_database)]
        let database = &self.database;
        #[cfg(not(dozen_database))]
        let database = &std::marker::PhantomData;
        lifecycle::run(&names, self.validate.as_deref(), needs, database, kind)
    }

    /// Whether `process` (`None`: the default) is the web process type.
    fn is_web(&self, process: Option<&str>) -> bool {
        match process {
            Some(name) => name == WEB,
            None => self.web.is_some(),
        }
    }

    /// Whether `process` (`None`: the default) takes jobs, and so reads
    /// `JOBS_*`.
    fn takes_jobs(&self, process: Option<&str>) -> bool {
        if self.is_web(process) {
            return false;
        }
        let named = match process {
            Some(name) => self.processes.iter().find(|(taken, _)| taken == name),
            None => self.processes.first(),
        };
        named.is_some_and(|(_, kind)| kind.takes_jobs())
    }

    /// The process types, the default first.
    fn process_names(&self) -> impl Iterator<Item = &str> {
        self.web
            .as_ref()
            .map(|_| WEB)
            .into_iter()
            .chain(self.processes.iter().map(|(name, _)| name.as_str()))
    }

    fn usage(&self) -> String {
        let about: Vec<(&str, &str)> = self
            .process_names()
            .map(|name| {
                let about = if name == WEB {
                    "the HTTP service on PORT, with /livez and /readyz"
                } else if self.takes_jobs(Some(name)) {
                    "the job worker, with JOBS_*"
                } else {
                    "a process type of this service"
                };
                (name, about)
            })
            .collect();
        args::usage(&self.name, &self.version, &about, self.admin())
    }
}

/// Writes `text` to `out`; a closed pipe (`hello config | head`) is no
/// failure of the command, so write errors are ignored, not panicked on as
/// `print!` would.
fn write_all(mut out: impl Write, text: &str) -> ExitCode {
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    ExitCode::SUCCESS
}
