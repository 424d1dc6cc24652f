//! What a process reads from the environment: the app's own settings and
//! dozen's, loaded together with every problem in one list, and described
//! for the `config` command.

use std::time::Duration;

use dozen_config::{Description, Problem, Report};
use dozen_log::LogSettings;
use dozen_shutdown::ShutdownSettings;
use dozen_shutdown::axum::HttpSettings;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The port the web process binds when `PORT` is unset.
pub const DEFAULT_PORT: u16 = 8080;

/// The teardown budget of the final log flush, reserved from
/// `SHUTDOWN_TIMEOUT` and checked with the other settings.
pub(crate) const FLUSH_BUDGET: Duration = Duration::from_secs(1);

/// What the final flush leaves of [`FLUSH_BUDGET`] for its hook to return
/// in: it gives up on a stuck output this much before the budget ends.
pub(crate) const FLUSH_MARGIN: Duration = Duration::from_millis(250);

/// The teardown budget of closing the database's pools, reserved from
/// `SHUTDOWN_TIMEOUT` and checked with the other settings.
#[cfg_attr(
    not(dozen_database),
    allow(dead_code, reason = "no database without a driver")
)]
pub(crate) const CLOSE_BUDGET: Duration = Duration::from_secs(3);

/// The settings of an app that has none of its own: the default of
/// [`Service`](super::Service)'s type parameter. It reads no variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct NoSettings {}

/// Where the web process listens.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `PORT` | the port of the application routes (and of `/livez` and `/readyz` unless `MANAGEMENT_PORT` is set); `0` picks a free one | 8080 |
/// | `MANAGEMENT_PORT` | a port of its own for `/livez` and `/readyz`, which the application port then does not serve | unset |
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct WebSettings {
    /// `PORT`.
    pub port: u16,
    /// `MANAGEMENT_PORT`.
    pub management_port: Option<u16>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            management_port: None,
        }
    }
}

/// dozen's settings that only the web process type reads: its ports and
/// serving limits.
type WebTuple = (WebSettings, HttpSettings);
/// dozen's settings that every process type reads. They load apart from
/// [`WebTuple`], so a bad `PORT` hides neither their own problems nor the
/// checks across them (the `RUST_LOG` filter, the drain budget).
type ProcessTuple = (ShutdownSettings, LogSettings);

/// What a process reads for its database, beyond the app's `DATABASE_URL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    not(dozen_database),
    allow(
        dead_code,
        reason = "a database needs the backing feature and a driver"
    )
)]
pub(crate) enum Needs {
    /// No database.
    #[default]
    Nothing,
    /// A pool: `PoolSettings`.
    Pool,
    /// A pool and its migrations: `PoolSettings`, `MigrateSettings`,
    /// `SchemaSettings`.
    Migrations,
}

/// What a database reads, loaded.
#[cfg(dozen_database)]
pub(crate) struct DatabaseSettings {
    pub(crate) pool: dozen_backing::PoolSettings,
    #[cfg(feature = "migrate")]
    pub(crate) migrate: Option<(
        dozen_migrate::MigrateSettings,
        super::schema::SchemaSettings,
    )>,
}

/// Everything a process read, checked.
pub(crate) struct Loaded<S> {
    /// What its database reads, when it has one.
    #[cfg(dozen_database)]
    pub(crate) database: Option<DatabaseSettings>,
    pub(crate) app: S,
    /// `Some` for the web process type.
    pub(crate) web: Option<(WebSettings, HttpSettings)>,
    /// `JOBS_*`: `Some` for the worker process type and the `jobs` command.
    #[cfg(feature = "jobs")]
    pub(crate) jobs: Option<dozen_jobs::JobsSettings>,
    pub(crate) shutdown: ShutdownSettings,
    pub(crate) log: LogSettings,
    /// What was read, secrets redacted, for the one report line.
    pub(crate) report: Report,
}

/// An app's own checks of its settings.
pub(crate) type Validate<S> = dyn Fn(&S) -> Vec<Problem> + Send + Sync;

/// Loads the app's settings `S` and dozen's for the web process type
/// (`web`) or a named one, with `JOBS_*` when it takes jobs (`jobs`: the
/// worker process type, the `jobs` command), from `vars` (the process
/// environment when `None`), then checks them.
///
/// # Errors
///
/// Every problem in one list: the load errors of `S` or else its own
/// checks (`validate`), then the load errors of the web settings, then
/// those of `JOBS_*`, then those of the shutdown and log settings or else
/// their checks (the `RUST_LOG` filter and the drain budget), whatever
/// else failed.
pub(crate) fn load<S: DeserializeOwned>(
    web: bool,
    jobs: bool,
    needs: Needs,
    validate: Option<&Validate<S>>,
    vars: Option<&[(String, String)]>,
) -> Result<Loaded<S>, dozen_config::Error> {
    let mut problems = dozen_config::Error::from_problems([]);
    let app = with_report::<S>(vars).map_err(|error| problems.extend(error.problems().cloned()));
    if let (Ok((app, _)), Some(validate)) = (&app, validate) {
        problems.extend(validate(app));
    }
    let web_settings = with_report_if::<WebTuple>(web, vars)
        .map_err(|error| problems.extend(error.problems().cloned()));
    let jobs_settings =
        load_jobs(jobs, vars).map_err(|error| problems.extend(error.problems().cloned()));
    let process = with_report::<ProcessTuple>(vars)
        .map_err(|error| problems.extend(error.problems().cloned()));
    let database =
        load_database(needs, vars).map_err(|error| problems.extend(error.problems().cloned()));
    #[cfg_attr(
        not(dozen_database),
        allow(unused_mut, reason = "no database to budget for")
    )]
    let mut budgets = vec![("flush logs", FLUSH_BUDGET)];
    #[cfg(dozen_database)]
    if let Ok((Some(database), _)) = &database {
        if let Err(error) = database.pool.validate() {
            problems.extend([problem(&error.to_string())]);
        }
        budgets.push(("close database pool", CLOSE_BUDGET));
    }
    if let Ok(((shutdown, log), _)) = &process {
        if let Err(error) = log.validate() {
            problems.extend([problem(&error.to_string())]);
        }
        // Only the web process type waits out the propagation delay; a
        // process type that receives no traffic drains at once, so a
        // ConfigMap shared with web must not fail its check.
        let checked = if web {
            shutdown.check_drain_budget(&budgets)
        } else {
            let mut undelayed = shutdown.clone();
            undelayed.shutdown_delay = Some(Duration::ZERO);
            undelayed.check_drain_budget(&budgets)
        };
        if let Err(error) = checked {
            problems.extend([problem(&error.to_string())]);
        }
    }
    match (app, web_settings, jobs_settings, process, database) {
        (
            Ok((app, app_report)),
            Ok((web, web_report)),
            Ok((_jobs, jobs_report)),
            Ok(((shutdown, log), process_report)),
            Ok((_database, db_report)),
        ) if problems.problems().len() == 0 => {
            let mut report = app_report;
            report.extend(web_report);
            report.extend(jobs_report);
            report.extend(process_report);
            report.extend(db_report);
            Ok(Loaded {
                app,
                web,
                #[cfg(feature = "jobs")]
                jobs: _jobs,
                shutdown,
                log,
                #[cfg(dozen_database)]
                database: _database,
                report,
            })
        }
        _ => Err(problems),
    }
}

/// `JOBS_*` when the process takes jobs (`jobs`), with its report (empty
/// otherwise).
#[cfg(feature = "jobs")]
fn load_jobs(
    jobs: bool,
    vars: Option<&[(String, String)]>,
) -> Result<(Option<dozen_jobs::JobsSettings>, Report), dozen_config::Error> {
    with_report_if(jobs, vars)
}

/// Without the jobs feature, no process takes jobs.
#[cfg(not(feature = "jobs"))]
#[allow(
    clippy::unnecessary_wraps,
    reason = "the same signature as with the jobs feature"
)]
fn load_jobs(
    _jobs: bool,
    _vars: Option<&[(String, String)]>,
) -> Result<((), Report), dozen_config::Error> {
    Ok(((), Report::default()))
}

/// What a database reads, for `needs`, with its report (empty for none).
#[cfg(dozen_database)]
fn load_database(
    needs: Needs,
    vars: Option<&[(String, String)]>,
) -> Result<(Option<DatabaseSettings>, Report), dozen_config::Error> {
    match needs {
        Needs::Nothing => Ok((None, Report::default())),
        Needs::Pool => with_report::<dozen_backing::PoolSettings>(vars).map(|(pool, report)| {
            let database = DatabaseSettings {
                pool,
                #[cfg(feature = "migrate")]
                migrate: None,
            };
            (Some(database), report)
        }),
        #[cfg(feature = "migrate")]
        Needs::Migrations => {
            with_report::<MigrationsTuple>(vars).map(|((pool, migrate, schema), report)| {
                let database = DatabaseSettings {
                    pool,
                    migrate: Some((migrate, schema)),
                };
                (Some(database), report)
            })
        }
        #[cfg(not(feature = "migrate"))]
        Needs::Migrations => unreachable!("migrations are declared with the migrate feature"),
    }
}

/// Without a database driver, no database to read for.
#[cfg(not(dozen_database))]
#[allow(
    clippy::unnecessary_wraps,
    reason = "the same signature as with a driver"
)]
fn load_database(
    _needs: Needs,
    _vars: Option<&[(String, String)]>,
) -> Result<((), Report), dozen_config::Error> {
    Ok(((), Report::default()))
}

/// What a database with migrations reads.
#[cfg(feature = "migrate")]
type MigrationsTuple = (
    dozen_backing::PoolSettings,
    dozen_migrate::MigrateSettings,
    super::schema::SchemaSettings,
);

/// `T` with its report when the process reads it (`wanted`); else nothing,
/// with an empty report.
fn with_report_if<T: DeserializeOwned>(
    wanted: bool,
    vars: Option<&[(String, String)]>,
) -> Result<(Option<T>, Report), dozen_config::Error> {
    if !wanted {
        return Ok((None, Report::default()));
    }
    with_report(vars).map(|(settings, report)| (Some(settings), report))
}

fn with_report<T: DeserializeOwned>(
    vars: Option<&[(String, String)]>,
) -> Result<(T, Report), dozen_config::Error> {
    match vars {
        None => dozen_config::from_env_with_report(),
        Some(vars) => dozen_config::Loader::new().from_iter_with_report(vars.iter().cloned()),
    }
}

/// A problem from an error that reads `VAR: what is wrong (what was
/// expected)`, as every dozen error about a variable does.
fn problem(message: &str) -> Problem {
    let (var, rest) = message.split_once(": ").unwrap_or(("", message));
    let (what, expected) = rest
        .strip_suffix(')')
        .and_then(|rest| rest.split_once(" ("))
        .unwrap_or((rest, ""));
    Problem::new(var, what, expected)
}

/// Every variable the web process type (`web`) or a named one reads, with
/// `JOBS_*` when it takes jobs (`jobs`): the app's, then dozen's.
pub(crate) fn describe<S: DeserializeOwned>(web: bool, jobs: bool, needs: Needs) -> Description {
    #[cfg(feature = "jobs")]
    if jobs {
        return describe_app::<(S, dozen_jobs::JobsSettings)>(web, needs);
    }
    let _ = jobs;
    describe_app::<S>(web, needs)
}

/// Every variable of `A` (the app's settings, with what the process type
/// reads for its role) and of dozen's settings for `web` and `needs`.
fn describe_app<S: DeserializeOwned>(web: bool, needs: Needs) -> Description {
    match (web, needs) {
        #[cfg(dozen_database)]
        (true, Needs::Pool) => {
            dozen_config::describe::<(S, WebTuple, ProcessTuple, dozen_backing::PoolSettings)>()
        }
        #[cfg(dozen_database)]
        (false, Needs::Pool) => {
            dozen_config::describe::<(S, ProcessTuple, dozen_backing::PoolSettings)>()
        }
        #[cfg(feature = "migrate")]
        (true, Needs::Migrations) => {
            dozen_config::describe::<(S, WebTuple, ProcessTuple, MigrationsTuple)>()
        }
        #[cfg(feature = "migrate")]
        (false, Needs::Migrations) => {
            dozen_config::describe::<(S, ProcessTuple, MigrationsTuple)>()
        }
        (true, _) => dozen_config::describe::<(S, WebTuple, ProcessTuple)>(),
        (false, _) => dozen_config::describe::<(S, ProcessTuple)>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct App {
        greeting: String,
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn no_empty_greeting(app: &App) -> Vec<Problem> {
        if app.greeting.is_empty() {
            vec![Problem::new("GREETING", "blank", "some words")]
        } else {
            Vec::new()
        }
    }

    #[test]
    fn every_problem_in_one_list() {
        let check = |web: bool, pairs: &[(&str, &str)], expected: &[&str]| {
            let vars = vars(pairs);
            let validate: &Validate<App> = &no_empty_greeting;
            let got = match load::<App>(web, false, Needs::Nothing, Some(validate), Some(&vars)) {
                Ok(_) => String::new(),
                Err(error) => error.to_string(),
            };
            assert_eq!(got, expected.join("\n"), "{pairs:?}");
        };
        check(true, &[("GREETING", "hi")], &[]);
        // A bad PORT hides neither the checks of the other settings nor
        // the app's own.
        check(
            true,
            &[
                ("GREETING", ""),
                ("PORT", "eighty"),
                ("SHUTDOWN_TIMEOUT", "1s"),
                ("RUST_LOG", "info,[x"),
            ],
            &[
                "GREETING: blank (some words)",
                "PORT: invalid value (an integer from 0 to 65535)",
                "RUST_LOG: not a valid filter (directives such as info,my_crate=debug)",
                "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY and the teardown budgets flush logs 1s)",
            ],
        );
        // A bad SHUTDOWN_TIMEOUT is one problem, not a second about its
        // drain budget.
        check(
            true,
            &[
                ("GREETING", "hi"),
                ("PORT", "eighty"),
                ("SHUTDOWN_TIMEOUT", "soon"),
            ],
            &[
                "PORT: invalid value (an integer from 0 to 65535)",
                "SHUTDOWN_TIMEOUT: invalid value (a duration in humantime syntax such as `5s` or `1m 30s`, at most 1h)",
            ],
        );
        check(
            true,
            &[("PORT", "eighty"), ("LOG_FORMAT", "xml")],
            &[
                "GREETING: missing (required)",
                "PORT: invalid value (an integer from 0 to 65535)",
                "LOG_FORMAT: invalid value (one of json, pretty, auto)",
            ],
        );
        check(
            true,
            &[
                ("GREETING", ""),
                ("SHUTDOWN_TIMEOUT", "1s"),
                ("RUST_LOG", "info,[x"),
            ],
            &[
                "GREETING: blank (some words)",
                "RUST_LOG: not a valid filter (directives such as info,my_crate=debug)",
                "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY and the teardown budgets flush logs 1s)",
            ],
        );
        check(
            true,
            &[("GREETING", "hi"), ("HTTP_MAX_BODY_BYTES", "0")],
            &["HTTP_MAX_BODY_BYTES: too small (at least 1)"],
        );
        // A named process type reads no PORT.
        check(false, &[("GREETING", "hi"), ("PORT", "eighty")], &[]);
    }

    #[test]
    fn the_report_lists_what_the_process_type_reads() {
        let vars = vars(&[("GREETING", "hi"), ("PORT", "0")]);
        let web = load::<App>(true, false, Needs::Nothing, None, Some(&vars)).unwrap();
        let report = web.report.to_string();
        assert!(
            report.starts_with(
                "GREETING=hi (environment), PORT=0 (environment), MANAGEMENT_PORT (default)"
            ),
            "{report}"
        );
        assert!(report.contains("HTTP_MAX_CONNECTIONS"), "{report}");
        assert!(report.contains("HTTP_MAX_BODY_BYTES (default)"), "{report}");
        // On a terminal: what was set, and a count of the rest.
        let set = web.report.set_only().to_string();
        assert!(set.starts_with("GREETING=hi, PORT=0, "), "{set}");
        assert!(set.ends_with("more at their defaults"), "{set}");
        let worker = load::<App>(false, false, Needs::Nothing, None, Some(&vars)).unwrap();
        let report = worker.report.to_string();
        assert!(!report.contains("PORT"), "{report}");
        assert!(report.contains("SHUTDOWN_TIMEOUT"), "{report}");
    }

    #[test]
    fn the_description_lists_what_the_process_type_reads() {
        let names = |web| {
            describe::<App>(web, false, Needs::Nothing)
                .vars()
                .map(|var| var.name().to_owned())
                .collect::<Vec<_>>()
        };
        let web = names(true);
        for var in [
            "GREETING",
            "PORT",
            "MANAGEMENT_PORT",
            "HTTP_MAX_CONNECTIONS",
            "HTTP_MAX_BODY_BYTES",
            "SHUTDOWN_TIMEOUT",
            "RUST_LOG",
            "LOG_FORMAT",
        ] {
            assert!(
                web.iter().any(|name| name == var),
                "{var} missing from {web:?}"
            );
        }
        let worker = names(false);
        assert!(
            !worker
                .iter()
                .any(|name| name.contains("PORT") || name.starts_with("HTTP_")),
            "{worker:?}"
        );
        assert!(
            worker.iter().any(|name| name == "SHUTDOWN_TIMEOUT"),
            "{worker:?}"
        );
    }

    #[test]
    fn an_app_without_settings_reads_only_dozens() {
        let loaded = load::<NoSettings>(true, false, Needs::Nothing, None, Some(&[])).unwrap();
        assert_eq!(loaded.web.unwrap().0.port, DEFAULT_PORT);
        let report = loaded.report.to_string();
        assert!(report.starts_with("PORT (default)"), "{report}");
        let described = describe::<NoSettings>(true, false, Needs::Nothing);
        assert_eq!(described.vars().next().map(|var| var.name()), Some("PORT"));
    }
}
