//! The `migrate` subcommand: parse ([`args`]), then dispatch ([`execute`]),
//! printing through [`output`] and ending with an [`exit`] code.

mod args;
mod execute;
mod exit;
mod json;
mod output;

use std::ffi::OsString;
use std::future::Future;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use dozen_backing::{PoolSettings, ServiceUrl};

use crate::database::Database;
use crate::migrator::Migrator;
use args::{Command, Format};

/// The `migrate` subcommand an application mounts: `myapp migrate [status|validate|plan|wait|baseline|adopt-sqlx|repair]`.
///
/// It parses its own arguments (those after `migrate`), prints its result on
/// stdout (one line per applied migration and a summary, or with `--format
/// json` one JSON document), progress while waiting for the lock and errors
/// on stderr, and returns an exit code a Kubernetes Job or an init container
/// can act on:
///
/// | code | meaning |
/// |---:|---|
/// | 0 | done: migrations applied, or nothing to do; the check or the wait succeeded |
/// | 1 | failed: a migration failed, the database is unreachable, a lock or wait deadline passed, a baseline, an adoption or a target was refused |
/// | 2 | usage: the arguments are wrong |
/// | 3 | check failed: `status --check` found pending, divergent or newer migrations or an INVALID index, `validate` or a run found a divergent, unknown, newer or out-of-order one or an INVALID index |
/// | 4 | dirty: a MySQL/MariaDB migration was left half applied; fix it by hand and run `repair` |
///
/// ```text
/// migrate [apply] [--dry-run] [--lock-timeout <duration>] [--allow-newer] [--target <version>]
/// migrate status [--check] [--allow-newer] [--format text|json]
/// migrate validate [--allow-newer] [--format text|json]
/// migrate plan [--target <version>] [--allow-newer] [--format text|json]
/// migrate wait [--timeout <duration>]
/// migrate baseline <version> [--lock-timeout <duration>]
/// migrate adopt-sqlx [--sqlx-table <name>] [--lock-timeout <duration>] [--format text|json]
/// migrate repair <version> (--applied | --not-applied)
/// ```
///
/// The settings come from the [`Migrator`] (its
/// [`MigrateSettings`](crate::MigrateSettings)); `--lock-timeout` overrides
/// `MIGRATE_LOCK_TIMEOUT`, `wait --timeout` overrides
/// `MIGRATE_WAIT_TIMEOUT` and `--allow-newer` sets `MIGRATE_ALLOW_NEWER` for
/// one run. The JSON shapes are documented in the crate's README. Durations are humantime, as in the
/// settings (`500ms`, `30s`, `1m 30s`), and at most [`Cli::MAX_DURATION`]
/// (24 hours): anything else is a usage error (exit 2) naming the flag,
/// such as `--lock-timeout: too large (at most 24h)`.
#[derive(Clone, Debug)]
pub struct Cli {
    migrator: Migrator,
    program: String,
    pool: PoolSettings,
}

impl Cli {
    /// Exit code: done.
    pub const SUCCESS: u8 = exit::SUCCESS;
    /// Exit code: a migration failed, the database is unreachable, or a deadline passed.
    pub const FAILURE: u8 = exit::FAILURE;
    /// Exit code: the arguments are wrong.
    pub const USAGE: u8 = exit::USAGE;
    /// Exit code: `status --check` or `validate` found the schema not as embedded.
    pub const CHECK_FAILED: u8 = exit::CHECK_FAILED;
    /// Exit code: a MySQL/MariaDB migration is half applied and needs `repair`.
    pub const DIRTY: u8 = exit::DIRTY;

    /// The longest `--lock-timeout` or `--timeout` accepted (and the longest
    /// `MIGRATE_*` duration): 24 hours. A Kubernetes Job or init container
    /// that waits longer has a problem no waiting solves.
    pub const MAX_DURATION: Duration = crate::duration::MAX;

    /// The command for `migrator`'s migrations and settings, named `migrate`
    /// in its usage text.
    #[must_use]
    pub fn new(migrator: Migrator) -> Self {
        Self {
            migrator,
            program: String::from("migrate"),
            pool: PoolSettings::default(),
        }
    }

    /// The name shown in the usage text, such as `"myapp migrate"`.
    #[must_use]
    pub fn with_program_name(mut self, name: impl Into<String>) -> Self {
        self.program = name.into();
        self
    }

    /// The app's pool settings (`DATABASE_CONNECT_TIMEOUT`, ...), which
    /// [`Cli::run`] connects with: it retries until
    /// `database_connect_timeout`, on a pool of at most two connections.
    /// Without it, dozen-backing's defaults (30 s to connect).
    #[must_use]
    pub fn with_pool_settings(mut self, settings: PoolSettings) -> Self {
        self.pool = settings;
        self
    }

    /// Connects to `database_url` (shown only with its password hidden), with
    /// retry until the connect deadline of [`Cli::with_pool_settings`], and
    /// runs the command in `args`, the arguments after `migrate`.
    pub async fn run<I, S>(&self, database_url: &ServiceUrl, args: I) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.run_connecting(args, || async {
            Database::connect_with(database_url, &self.pool)
                .await
                .map_err(|e| output::Chain(&e).to_string())
        })
        .await
    }

    /// Parses `args` (the arguments after `migrate`), then, unless they ask
    /// for help or are wrong, calls `connect` and runs the command on the
    /// database it returns. For an app that builds its own pool (with its own
    /// settings) but should not connect just to print its usage.
    ///
    /// An error from `connect` is printed on stderr (it must not show a
    /// password) and exits with [`Cli::FAILURE`].
    pub async fn run_connecting<I, S, F, Fut, D, E>(&self, args: I, connect: F) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<D, E>>,
        D: Into<Database>,
        E: std::fmt::Display,
    {
        let command = match self.parse(args) {
            Ok(Command::Help) => return self.help(),
            Ok(command) => command,
            Err(code) => return code,
        };
        match connect().await {
            Ok(db) => self.execute(db.into(), command).await,
            Err(e) => {
                output::error(&e);
                if command.format() == Format::Json {
                    let mut out = io::stdout();
                    json::print(&mut out, &json::not_connected(&e.to_string()));
                    let _ = out.flush();
                }
                ExitCode::from(exit::FAILURE)
            }
        }
    }

    /// Parses `args` (the arguments after `migrate`) without running
    /// anything: `Some(code)` when parsing alone answers them (`--help`
    /// printed on stdout, exit 0; a usage error printed on stderr, exit 2),
    /// `None` when they name a command that needs the database. For an app
    /// that loads its configuration only for a command that will run, so
    /// that help and usage errors work with an invalid one.
    pub fn preflight<I, S>(&self, args: I) -> Option<ExitCode>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        match self.parse(args) {
            Ok(Command::Help) => Some(self.help()),
            Ok(_) => None,
            Err(code) => Some(code),
        }
    }

    /// Runs the command in `args` (the arguments after `migrate`) on `db`.
    pub async fn run_on<I, S>(&self, db: impl Into<Database>, args: I) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        match self.parse(args) {
            Ok(Command::Help) => self.help(),
            Ok(command) => self.execute(db.into(), command).await,
            Err(code) => code,
        }
    }

    /// The command, or the usage error printed and its exit code.
    fn parse<I, S>(&self, args: I) -> Result<Command, ExitCode>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        args::parse(args.into_iter().map(Into::into)).map_err(|e| {
            output::usage_error(&e, &args::usage(&self.program));
            ExitCode::from(exit::of_error(&e))
        })
    }

    fn help(&self) -> ExitCode {
        output::help(&mut io::stdout(), &args::usage(&self.program));
        ExitCode::from(exit::SUCCESS)
    }

    async fn execute(&self, db: Database, command: Command) -> ExitCode {
        let (mut out, mut err) = (io::stdout(), io::stderr());
        let format = command.format();
        let streams = execute::Streams {
            out: &mut out,
            err: &mut err,
        };
        let result = execute::execute(&self.migrator, db, command, streams).await;
        let code = match result {
            Ok(code) => code,
            Err(e) => {
                output::error(&output::Chain(&e));
                if format == Format::Json {
                    json::print(&mut out, &json::failed(&e));
                }
                exit::of_error(&e)
            }
        };
        let _ = out.flush();
        ExitCode::from(code)
    }
}
