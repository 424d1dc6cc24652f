use std::ffi::OsString;
use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dozen_backing::ServiceUrl;
use refinery::SchemaVersion;

use crate::{Database, Error, ErrorKind, Migrator, Progress, Resolution, State};

/// The `migrate` subcommand an application mounts: `myapp migrate [status|validate|wait|repair]`.
///
/// It parses its own arguments (those after `migrate`), prints one line per
/// migration and a summary on stdout, errors on stderr, and returns an exit
/// code a Kubernetes Job or an init container can act on:
///
/// | code | meaning |
/// |---:|---|
/// | 0 | done: migrations applied, or nothing to do; the check or the wait succeeded |
/// | 1 | failed: a migration failed, the database is unreachable, a lock or wait deadline passed |
/// | 2 | usage: the arguments are wrong |
/// | 3 | check failed: `status --check` found pending or divergent migrations, `validate` found a divergent, unknown or out-of-order one |
/// | 4 | dirty: a MySQL/MariaDB migration was left half applied; fix it by hand and run `repair` |
///
/// ```text
/// migrate [apply] [--dry-run] [--lock-timeout <duration>]
/// migrate status [--check]
/// migrate validate
/// migrate wait [--timeout <duration>]
/// migrate repair <version> (--applied | --not-applied)
/// ```
///
/// Durations are seconds (`90`) or carry a unit (`500ms`, `30s`, `5m`, `1h`),
/// and are at most [`Cli::MAX_DURATION`] (24 hours): a larger one is a usage
/// error (exit 2) naming the flag.
#[derive(Clone, Debug)]
pub struct Cli {
    migrator: Migrator,
    program: String,
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Apply {
        dry_run: bool,
        lock_timeout: Option<Duration>,
    },
    Status {
        check: bool,
    },
    Validate,
    Wait {
        timeout: Duration,
    },
    Repair {
        version: SchemaVersion,
        resolution: Resolution,
    },
    Help,
}

const DEFAULT_WAIT: Duration = Duration::from_secs(300);

impl Cli {
    /// Exit code: done.
    pub const SUCCESS: u8 = 0;
    /// Exit code: a migration failed, the database is unreachable, or a deadline passed.
    pub const FAILURE: u8 = 1;
    /// Exit code: the arguments are wrong.
    pub const USAGE: u8 = 2;
    /// Exit code: `status --check` or `validate` found the schema not as embedded.
    pub const CHECK_FAILED: u8 = 3;
    /// Exit code: a MySQL/MariaDB migration is half applied and needs `repair`.
    pub const DIRTY: u8 = 4;

    /// The longest `--lock-timeout` or `--timeout` accepted: 24 hours. A
    /// Kubernetes Job or init container that waits longer has a problem no
    /// waiting solves.
    pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

    /// The command for `migrator`'s migrations, named `migrate` in its usage text.
    #[must_use]
    pub fn new(migrator: Migrator) -> Self {
        Self {
            migrator,
            program: String::from("migrate"),
        }
    }

    /// The name shown in the usage text, such as `"myapp migrate"`.
    #[must_use]
    pub fn with_program_name(mut self, name: impl Into<String>) -> Self {
        self.program = name.into();
        self
    }

    /// Connects to `database_url` (shown only with its password hidden) and
    /// runs the command in `args`, the arguments after `migrate`.
    pub async fn run<I, S>(&self, database_url: &ServiceUrl, args: I) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let command = match self.parse(args) {
            Ok(c) => c,
            Err(code) => return ExitCode::from(code),
        };
        if command == Command::Help {
            return ExitCode::from(self.execute_on(None, command).await);
        }
        match Database::connect(database_url).await {
            Ok(db) => ExitCode::from(self.execute_on(Some(db), command).await),
            Err(e) => ExitCode::from(report_error(&e)),
        }
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
            Ok(c) => c,
            Err(code) => return ExitCode::from(code),
        };
        if command == Command::Help {
            return ExitCode::from(self.execute_on(None, command).await);
        }
        match connect().await {
            Ok(db) => ExitCode::from(self.execute_on(Some(db.into()), command).await),
            Err(e) => {
                let _ = writeln!(io::stderr().lock(), "error: {e}");
                ExitCode::from(Self::FAILURE)
            }
        }
    }

    /// Runs the command in `args` (the arguments after `migrate`) on `db`.
    pub async fn run_on<I, S>(&self, db: impl Into<Database>, args: I) -> ExitCode
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        match self.parse(args) {
            Ok(command) => ExitCode::from(self.execute_on(Some(db.into()), command).await),
            Err(code) => ExitCode::from(code),
        }
    }

    fn parse<I, S>(&self, args: I) -> Result<Command, u8>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        parse(args.into_iter().map(Into::into)).map_err(|msg| {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "error: {msg}\n\n{}", usage(&self.program));
            Self::USAGE
        })
    }

    async fn execute_on(&self, db: Option<Database>, command: Command) -> u8 {
        let mut out = io::stdout();
        let result = match (db, command) {
            (_, Command::Help) => {
                let _ = writeln!(out, "{}", usage(&self.program));
                return Self::SUCCESS;
            }
            (None, _) => return Self::FAILURE,
            (Some(db), command) => self.execute(db, command, &mut out).await,
        };
        let _ = out.flush();
        match result {
            Ok(code) => code,
            Err(e) => report_error(&e),
        }
    }

    async fn execute(
        &self,
        db: Database,
        command: Command,
        out: &mut (dyn Write + Send),
    ) -> Result<u8, Error> {
        let m = &self.migrator;
        match command {
            Command::Help => Ok(Self::SUCCESS),
            Command::Apply {
                dry_run: true,
                lock_timeout: _,
            } => {
                let status = m.status(db).await?;
                if let Some(e) = status.problem() {
                    return Err(e);
                }
                let mut n = 0_usize;
                for e in status.pending() {
                    n += 1;
                    let _ = writeln!(out, "would apply V{}__{}", e.version, e.name);
                }
                let _ = writeln!(
                    out,
                    "migrate: {n} pending, nothing applied (dry run); schema at {}",
                    version_text(status.current_version())
                );
                Ok(Self::SUCCESS)
            }
            Command::Apply {
                dry_run: false,
                lock_timeout,
            } => {
                let m = match lock_timeout {
                    Some(t) => &m.clone().with_lock_timeout(t),
                    None => m,
                };
                let start = Instant::now();
                let report = m
                    .apply_with(db, |p| match p {
                        Progress::Locked { waited } if waited >= Duration::from_millis(100) => {
                            let _ = writeln!(out, "migrate: lock taken after {}", secs(waited));
                        }
                        Progress::Applying { migration } => {
                            let _ = write!(out, "applying {migration} ... ");
                            let _ = out.flush();
                        }
                        Progress::Applied { duration, .. } => {
                            let _ = writeln!(out, "ok ({})", secs(duration));
                        }
                        _ => {}
                    })
                    .await;
                let report = match report {
                    Ok(r) => r,
                    Err(e) => {
                        if e.kind() == ErrorKind::MigrationFailed {
                            let _ = writeln!(out, "FAILED");
                        }
                        return Err(e);
                    }
                };
                let version = report
                    .applied
                    .last()
                    .map(|a| a.version)
                    .or_else(|| m.migrations().last().map(refinery::Migration::version));
                let _ = match report.applied.len() {
                    0 => writeln!(
                        out,
                        "migrate: nothing to apply; schema at {}",
                        version_text(version)
                    ),
                    n => writeln!(
                        out,
                        "migrate: applied {n} migration{} in {}; schema at {}",
                        if n == 1 { "" } else { "s" },
                        secs(start.elapsed()),
                        version_text(version)
                    ),
                };
                Ok(Self::SUCCESS)
            }
            Command::Status { check } => {
                let status = m.status(db).await?;
                for e in status.entries() {
                    let label = format!("V{}__{}", e.version, e.name);
                    let _ = match &e.state {
                        State::Applied { applied_on } => {
                            writeln!(out, "{label:<40} applied {applied_on}")
                        }
                        State::Pending => writeln!(out, "{label:<40} pending"),
                        State::Divergent { applied_name } => writeln!(
                            out,
                            "{label:<40} DIVERGENT (the database applied `{applied_name}` with another checksum)"
                        ),
                        State::Unknown => {
                            writeln!(out, "{label:<40} UNKNOWN (applied, not in this binary)")
                        }
                        State::OutOfOrder => writeln!(
                            out,
                            "{label:<40} OUT OF ORDER (older than the newest applied, never applied)"
                        ),
                        State::InProgress { started_on } => writeln!(
                            out,
                            "{label:<40} IN PROGRESS since {started_on} (possibly half applied: check, then `repair`)"
                        ),
                    };
                }
                let pending = status.pending().count();
                let _ = writeln!(
                    out,
                    "migrate: schema at {} of {}; {pending} pending{}",
                    version_text(status.current_version()),
                    version_text(status.target_version()),
                    if status.problem().is_some() {
                        "; see the lines in capitals"
                    } else {
                        ""
                    }
                );
                Ok(if check && !status.is_up_to_date() {
                    if status
                        .problem()
                        .is_some_and(|e| e.kind() == ErrorKind::Dirty)
                    {
                        Self::DIRTY
                    } else {
                        Self::CHECK_FAILED
                    }
                } else {
                    Self::SUCCESS
                })
            }
            Command::Validate => {
                let status = m.validate(db).await?;
                let applied = status
                    .entries()
                    .iter()
                    .filter(|e| matches!(e.state, State::Applied { .. }))
                    .count();
                let _ = writeln!(
                    out,
                    "migrate: {applied} applied migrations match this binary; {} pending",
                    status.pending().count()
                );
                Ok(Self::SUCCESS)
            }
            Command::Wait { timeout } => {
                let start = Instant::now();
                let status = m.wait(db, timeout).await?;
                let _ = writeln!(
                    out,
                    "migrate: schema at {} after {}",
                    version_text(status.current_version()),
                    secs(start.elapsed())
                );
                Ok(Self::SUCCESS)
            }
            Command::Repair {
                version,
                resolution,
            } => {
                m.repair(db, version, resolution).await?;
                let _ = writeln!(
                    out,
                    "migrate: V{version} marked {}",
                    match resolution {
                        Resolution::Applied => "applied",
                        Resolution::NotApplied => "not applied; the next run applies it",
                    }
                );
                Ok(Self::SUCCESS)
            }
        }
    }
}

fn report_error(e: &Error) -> u8 {
    let mut err = io::stderr().lock();
    let _ = write!(err, "error: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let _ = write!(err, ": {s}");
        source = s.source();
    }
    let _ = writeln!(err);
    match e.kind() {
        ErrorKind::Dirty => Cli::DIRTY,
        ErrorKind::Divergent | ErrorKind::UnknownVersion | ErrorKind::OutOfOrder => {
            Cli::CHECK_FAILED
        }
        _ => Cli::FAILURE,
    }
}

fn version_text(v: Option<SchemaVersion>) -> String {
    v.map_or_else(|| String::from("no version"), |v| format!("version {v}"))
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn usage(program: &str) -> String {
    format!(
        "usage:
  {program} [apply] [--dry-run] [--lock-timeout <duration>]
  {program} status [--check]
  {program} validate
  {program} wait [--timeout <duration>]
  {program} repair <version> (--applied | --not-applied)

exit codes: 0 done, 1 failed, 2 usage, 3 check failed, 4 half-applied migration needs repair"
    )
}

fn parse(args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.map(|a| {
        a.into_string()
            .map_err(|_| String::from("an argument is not valid UTF-8"))
    });
    let mut words = Vec::new();
    for a in &mut args {
        words.push(a?);
    }
    let mut words = words.into_iter().peekable();
    let sub = match words.peek().map(String::as_str) {
        Some("apply" | "status" | "validate" | "wait" | "repair" | "help") => words.next(),
        Some("-h" | "--help") => return Ok(Command::Help),
        _ => None,
    };
    let flag_value = |flag: &str, words: &mut std::iter::Peekable<std::vec::IntoIter<String>>| {
        words.next().ok_or_else(|| format!("{flag} needs a value"))
    };
    match sub.as_deref() {
        None | Some("apply") => {
            let mut dry_run = false;
            let mut lock_timeout = None;
            while let Some(w) = words.next() {
                match w.as_str() {
                    "--dry-run" => dry_run = true,
                    "--lock-timeout" => {
                        lock_timeout = Some(duration(
                            "--lock-timeout",
                            &flag_value("--lock-timeout", &mut words)?,
                        )?);
                    }
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(unexpected(other)),
                }
            }
            Ok(Command::Apply {
                dry_run,
                lock_timeout,
            })
        }
        Some("status") => {
            let mut check = false;
            for w in words {
                match w.as_str() {
                    "--check" => check = true,
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(unexpected(other)),
                }
            }
            Ok(Command::Status { check })
        }
        Some("validate") => match words.next() {
            None => Ok(Command::Validate),
            Some(w) if w == "-h" || w == "--help" => Ok(Command::Help),
            Some(w) => Err(unexpected(&w)),
        },
        Some("wait") => {
            let mut timeout = DEFAULT_WAIT;
            while let Some(w) = words.next() {
                match w.as_str() {
                    "--timeout" => {
                        timeout = duration("--timeout", &flag_value("--timeout", &mut words)?)?;
                    }
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(unexpected(other)),
                }
            }
            Ok(Command::Wait { timeout })
        }
        Some("repair") => {
            let mut version = None;
            let mut resolution = None;
            for w in words {
                match w.as_str() {
                    "--applied" | "--not-applied" if resolution.is_some() => {
                        return Err(String::from("give one of --applied and --not-applied"));
                    }
                    "--applied" => resolution = Some(Resolution::Applied),
                    "--not-applied" => resolution = Some(Resolution::NotApplied),
                    "-h" | "--help" => return Ok(Command::Help),
                    v if version.is_none() && !v.starts_with('-') => {
                        let digits = v.strip_prefix(['V', 'v']).unwrap_or(v);
                        version = Some(
                            digits
                                .parse::<SchemaVersion>()
                                .map_err(|_| format!("`{v}` is not a migration version"))?,
                        );
                    }
                    other => return Err(unexpected(other)),
                }
            }
            match (version, resolution) {
                (Some(version), Some(resolution)) => Ok(Command::Repair {
                    version,
                    resolution,
                }),
                (None, _) => Err(String::from("repair needs the version marked in progress")),
                (_, None) => Err(String::from(
                    "repair needs --applied (its changes are in place) or --not-applied (they are undone)",
                )),
            }
        }
        Some(_) => Ok(Command::Help),
    }
}

fn unexpected(arg: &str) -> String {
    // Arguments are the operator's own input; still, keep an accidental paste short.
    let shown: String = arg.chars().take(32).collect();
    format!("unexpected argument `{shown}`")
}

/// A flag's duration, at most [`Cli::MAX_DURATION`]; the error names the flag
/// and not the value.
fn duration(flag: &str, s: &str) -> Result<Duration, String> {
    let bad = || format!("{flag}: not a duration (expected such as 90, 500ms, 30s, 5m, 1h)");
    let too_long = || format!("{flag}: too long (expected at most 24h)");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    if n.is_empty() {
        return Err(bad());
    }
    // Digits only; a number too large for u64 is too long, not malformed.
    let Ok(n) = n.parse::<u64>() else {
        return Err(if unit_scale(unit).is_some() {
            too_long()
        } else {
            bad()
        });
    };
    let (per, millis) = unit_scale(unit).ok_or_else(bad)?;
    let d = n.checked_mul(per).map(|v| {
        if millis {
            Duration::from_millis(v)
        } else {
            Duration::from_secs(v)
        }
    });
    match d {
        Some(d) if d <= Cli::MAX_DURATION => Ok(d),
        _ => Err(too_long()),
    }
}

/// A unit's multiplier, and whether the result counts milliseconds.
fn unit_scale(unit: &str) -> Option<(u64, bool)> {
    match unit {
        "" | "s" => Some((1, false)),
        "ms" => Some((1, true)),
        "m" => Some((60, false)),
        "h" => Some((3600, false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        let check = |args: &[&str], expected: Result<Command, &str>| {
            let got = parse(args.iter().map(OsString::from));
            match (&got, &expected) {
                (Ok(g), Ok(e)) => assert_eq!(g, e, "{args:?}"),
                (Err(g), Err(e)) => assert!(g.contains(e), "{args:?}: {g}"),
                _ => panic!("{args:?}: got {got:?}, expected {expected:?}"),
            }
        };
        let apply = |dry_run, lock_timeout| {
            Ok(Command::Apply {
                dry_run,
                lock_timeout,
            })
        };
        check(&[], apply(false, None));
        check(&["apply"], apply(false, None));
        check(&["--dry-run"], apply(true, None));
        check(
            &["apply", "--lock-timeout", "30s"],
            apply(false, Some(Duration::from_secs(30))),
        );
        check(&["--lock-timeout"], Err("--lock-timeout needs a value"));
        check(
            &["--lock-timeout", "soon"],
            Err("--lock-timeout: not a duration"),
        );
        check(&["wait", "--timeout", "48h"], Err("--timeout: too long"));
        check(&["--lock-timeout", "25h"], Err("--lock-timeout: too long"));
        check(&["status"], Ok(Command::Status { check: false }));
        check(&["status", "--check"], Ok(Command::Status { check: true }));
        check(&["status", "--chekc"], Err("unexpected argument `--chekc`"));
        check(&["validate"], Ok(Command::Validate));
        check(&["validate", "x"], Err("unexpected argument"));
        check(
            &["wait"],
            Ok(Command::Wait {
                timeout: DEFAULT_WAIT,
            }),
        );
        check(
            &["wait", "--timeout", "5m"],
            Ok(Command::Wait {
                timeout: Duration::from_secs(300),
            }),
        );
        check(
            &["wait", "--timeout", "90"],
            Ok(Command::Wait {
                timeout: Duration::from_secs(90),
            }),
        );
        check(
            &["repair", "7", "--applied"],
            Ok(Command::Repair {
                version: 7,
                resolution: Resolution::Applied,
            }),
        );
        check(
            &["repair", "--not-applied", "V12"],
            Ok(Command::Repair {
                version: 12,
                resolution: Resolution::NotApplied,
            }),
        );
        check(&["repair", "7"], Err("repair needs --applied"));
        check(&["repair", "--applied"], Err("repair needs the version"));
        check(
            &["repair", "7", "--applied", "--not-applied"],
            Err("give one of"),
        );
        check(
            &["repair", "seven", "--applied"],
            Err("`seven` is not a migration version"),
        );
        check(&["help"], Ok(Command::Help));
        check(&["--help"], Ok(Command::Help));
        check(&["status", "-h"], Ok(Command::Help));
        check(&["frobnicate"], Err("unexpected argument `frobnicate`"));
    }

    #[test]
    fn parses_durations() {
        let check = |s: &str, expected: Option<Duration>| {
            assert_eq!(duration("--timeout", s).ok(), expected, "{s}");
        };
        check("0", Some(Duration::ZERO));
        check("90", Some(Duration::from_secs(90)));
        check("250ms", Some(Duration::from_millis(250)));
        check("2h", Some(Duration::from_secs(7200)));
        check("", None);
        check("1.5s", None);
        check("-1", None);
        check("5d", None);
        check("99999999999999999999h", None);
        check("24h", Some(Cli::MAX_DURATION));
        check("86400000ms", Some(Cli::MAX_DURATION));
    }

    #[test]
    fn durations_above_the_maximum_are_usage_errors_naming_the_flag() {
        for (flag, value) in [
            ("--timeout", "25h"),
            ("--timeout", "86401"),
            ("--timeout", "18446744073709551615s"),
            ("--timeout", "18446744073709551615h"),
            ("--timeout", "99999999999999999999999"),
            ("--lock-timeout", "1441m"),
            ("--lock-timeout", "86400001ms"),
        ] {
            let error = duration(flag, value).unwrap_err();
            assert_eq!(error, format!("{flag}: too long (expected at most 24h)"));
            assert!(!error.contains(value), "{error}");
        }
        let error = duration("--timeout", "soon").unwrap_err();
        assert!(error.starts_with("--timeout: not a duration"), "{error}");
        assert!(!error.contains("soon"), "{error}");
    }
}
