//! Parsing: the arguments after `migrate` become a [`Command`], or a usage
//! [`Error`] naming the flag. Nothing here prints or touches a database.

use std::ffi::OsString;
use std::time::Duration;

use refinery::SchemaVersion;

use crate::duration;
use crate::error::Error;
use crate::migrator::Resolution;
use crate::table_name::TableName;

/// What the arguments ask for. A flag that is absent is `None` (or `false`):
/// the [`Migrator`](crate::Migrator)'s own setting applies.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Command {
    Apply {
        dry_run: bool,
        lock_timeout: Option<Duration>,
        allow_newer: bool,
        target: Option<SchemaVersion>,
    },
    Status {
        check: bool,
        allow_newer: bool,
        format: Format,
    },
    Validate {
        allow_newer: bool,
        format: Format,
    },
    Plan {
        allow_newer: bool,
        target: Option<SchemaVersion>,
        format: Format,
    },
    Wait {
        timeout: Option<Duration>,
    },
    Repair {
        version: SchemaVersion,
        resolution: Resolution,
    },
    Baseline {
        version: SchemaVersion,
        lock_timeout: Option<Duration>,
    },
    AdoptSqlx {
        sqlx_table: Option<TableName>,
        lock_timeout: Option<Duration>,
        format: Format,
    },
    Help,
}

impl Command {
    /// How the command prints its result; [`Format::Text`] for those that
    /// have no `--format`.
    pub(super) fn format(&self) -> Format {
        match self {
            Self::Status { format, .. }
            | Self::Validate { format, .. }
            | Self::Plan { format, .. }
            | Self::AdoptSqlx { format, .. } => *format,
            Self::Apply { .. }
            | Self::Wait { .. }
            | Self::Repair { .. }
            | Self::Baseline { .. }
            | Self::Help => Format::Text,
        }
    }
}

/// How a command prints its result on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document, in the shape README.md documents.
    Json,
}

/// The usage text, under the program name (such as `myapp migrate`).
pub(super) fn usage(program: &str) -> String {
    format!(
        "usage:
  {program} [apply] [--dry-run] [--lock-timeout <duration>] [--allow-newer] [--target <version>]
  {program} status [--check] [--allow-newer] [--format text|json]
  {program} validate [--allow-newer] [--format text|json]
  {program} plan [--target <version>] [--allow-newer] [--format text|json]
  {program} wait [--timeout <duration>]
  {program} baseline <version> [--lock-timeout <duration>]
  {program} adopt-sqlx [--sqlx-table <name>] [--lock-timeout <duration>] [--format text|json]
  {program} repair <version> (--applied | --not-applied)

durations: 500ms, 30s, 1m 30s (at most 24h)
--allow-newer: accept applied migrations newer than this binary's (after a rollback)
adopt-sqlx: record the history of a database sqlx::migrate! migrated (default table _sqlx_migrations)
exit codes: 0 done, 1 failed, 2 usage, 3 check failed, 4 half-applied migration needs repair"
    )
}

/// Every flag and the positional version, as given; each command then takes
/// the ones it accepts.
#[derive(Default)]
struct Given {
    dry_run: bool,
    check: bool,
    allow_newer: bool,
    format: Format,
    lock_timeout: Option<Duration>,
    timeout: Option<Duration>,
    target: Option<SchemaVersion>,
    resolution: Option<Resolution>,
    version: Option<SchemaVersion>,
    sqlx_table: Option<TableName>,
    help: bool,
}

/// The flags each subcommand accepts (`<version>` for a positional version).
fn accepted(sub: &str) -> &'static [&'static str] {
    match sub {
        "apply" => &["--dry-run", "--lock-timeout", "--allow-newer", "--target"],
        "status" => &["--check", "--allow-newer", "--format"],
        "validate" => &["--allow-newer", "--format"],
        "plan" => &["--target", "--allow-newer", "--format"],
        "wait" => &["--timeout"],
        "baseline" => &["<version>", "--lock-timeout"],
        "adopt-sqlx" => &["--sqlx-table", "--lock-timeout", "--format"],
        "repair" => &["<version>", "--applied", "--not-applied"],
        _ => &[],
    }
}

/// Parses the arguments after `migrate`.
pub(super) fn parse(args: impl Iterator<Item = OsString>) -> Result<Command, Error> {
    let mut words = Vec::new();
    for a in args {
        words.push(
            a.into_string()
                .map_err(|_| Error::usage(None, String::from("an argument is not valid UTF-8")))?,
        );
    }
    let mut words = words.into_iter().peekable();
    let sub = match words.peek().map(String::as_str) {
        Some(
            "apply" | "status" | "validate" | "plan" | "wait" | "baseline" | "adopt-sqlx"
            | "repair" | "help",
        ) => words.next().unwrap_or_default(),
        _ => String::from("apply"),
    };
    if sub == "help" {
        return Ok(Command::Help);
    }
    let g = given(Words(words), accepted(&sub))?;
    if g.help {
        return Ok(Command::Help);
    }
    Ok(match sub.as_str() {
        "status" => Command::Status {
            check: g.check,
            allow_newer: g.allow_newer,
            format: g.format,
        },
        "validate" => Command::Validate {
            allow_newer: g.allow_newer,
            format: g.format,
        },
        "plan" => Command::Plan {
            allow_newer: g.allow_newer,
            target: g.target,
            format: g.format,
        },
        "wait" => Command::Wait { timeout: g.timeout },
        "baseline" => Command::Baseline {
            version: g.version.ok_or_else(|| {
                Error::usage(
                    None,
                    String::from("baseline needs the version up to which the tables exist"),
                )
            })?,
            lock_timeout: g.lock_timeout,
        },
        "adopt-sqlx" => Command::AdoptSqlx {
            sqlx_table: g.sqlx_table,
            lock_timeout: g.lock_timeout,
            format: g.format,
        },
        "repair" => match (g.version, g.resolution) {
            (Some(version), Some(resolution)) => Command::Repair {
                version,
                resolution,
            },
            (None, _) => {
                return Err(Error::usage(
                    None,
                    String::from("repair needs the version marked in progress"),
                ));
            }
            (_, None) => {
                return Err(Error::usage(
                    None,
                    String::from(
                        "repair needs --applied (its changes are in place) or --not-applied (they are undone)",
                    ),
                ));
            }
        },
        _ => Command::Apply {
            dry_run: g.dry_run,
            lock_timeout: g.lock_timeout,
            allow_newer: g.allow_newer,
            target: g.target,
        },
    })
}

/// Reads the flags in `accepted`; any other word is an error.
fn given(mut words: Words, accepted: &[&str]) -> Result<Given, Error> {
    let mut g = Given::default();
    while let Some(w) = words.next() {
        let flag = w.as_str();
        let takes = |f: &str| accepted.contains(&f);
        match flag {
            "-h" | "--help" => g.help = true,
            "--dry-run" if takes(flag) => g.dry_run = true,
            "--check" if takes(flag) => g.check = true,
            "--allow-newer" if takes(flag) => g.allow_newer = true,
            "--format" if takes(flag) => g.format = words.format()?,
            "--lock-timeout" if takes(flag) => {
                g.lock_timeout = Some(words.duration("--lock-timeout")?);
            }
            "--timeout" if takes(flag) => g.timeout = Some(words.duration("--timeout")?),
            "--target" if takes(flag) => g.target = Some(words.version("--target")?),
            "--sqlx-table" if takes(flag) => g.sqlx_table = Some(words.table("--sqlx-table")?),
            "--applied" | "--not-applied" if takes(flag) && g.resolution.is_some() => {
                return Err(Error::usage(
                    None,
                    String::from("give one of --applied and --not-applied"),
                ));
            }
            "--applied" if takes(flag) => g.resolution = Some(Resolution::Applied),
            "--not-applied" if takes(flag) => g.resolution = Some(Resolution::NotApplied),
            v if takes("<version>") && g.version.is_none() && !v.starts_with('-') => {
                g.version = Some(version(v, None)?);
            }
            other => return Err(unexpected(other)),
        }
    }
    Ok(g)
}

/// A migration version, `7` or `V7`; the error names the flag, if any.
fn version(v: &str, flag: Option<&'static str>) -> Result<SchemaVersion, Error> {
    let digits = v.strip_prefix(['V', 'v']).unwrap_or(v);
    digits.parse::<SchemaVersion>().map_err(|_| match flag {
        Some(f) => Error::usage(
            Some(f),
            format!("{f}: not a migration version (such as 7 or V7)"),
        ),
        None => Error::usage(None, format!("`{}` is not a migration version", short(v))),
    })
}

/// The words left, with the reading of a flag's value.
struct Words(std::iter::Peekable<std::vec::IntoIter<String>>);

impl Words {
    fn next(&mut self) -> Option<String> {
        self.0.next()
    }

    /// The value of `--format`.
    fn format(&mut self) -> Result<Format, Error> {
        match self.0.next().as_deref() {
            Some("text") => Ok(Format::Text),
            Some("json") => Ok(Format::Json),
            Some(_) => Err(Error::usage(
                Some("--format"),
                String::from("--format: not a format (text or json)"),
            )),
            None => Err(Error::usage(
                Some("--format"),
                String::from("--format: missing value (text or json)"),
            )),
        }
    }

    /// The value of `flag`, a migration version.
    fn version(&mut self, flag: &'static str) -> Result<SchemaVersion, Error> {
        let value = self.0.next().ok_or_else(|| {
            Error::usage(
                Some(flag),
                format!("{flag}: missing value (a migration version such as 7 or V7)"),
            )
        })?;
        version(&value, Some(flag))
    }

    /// The value of `flag`, a table name.
    fn table(&mut self, flag: &'static str) -> Result<TableName, Error> {
        let value = self.0.next().ok_or_else(|| {
            Error::usage(
                Some(flag),
                format!("{flag}: missing value (a table name such as _sqlx_migrations)"),
            )
        })?;
        TableName::new(&value).map_err(|e| Error::usage(Some(flag), format!("{flag}: {e}")))
    }

    /// The value of `flag`, a duration; the error names the flag, not the value.
    fn duration(&mut self, flag: &'static str) -> Result<Duration, Error> {
        let value = self.0.next().ok_or_else(|| {
            Error::usage(
                Some(flag),
                format!("{flag}: missing value (a duration such as 500ms, 30s or 1m 30s)"),
            )
        })?;
        duration::parse(&value).map_err(|p| {
            Error::usage(
                Some(flag),
                format!("{flag}: {} ({})", p.reason(), p.expected()),
            )
        })
    }
}

fn unexpected(arg: &str) -> Error {
    Error::usage(None, format!("unexpected argument `{}`", short(arg)))
}

/// Arguments are the operator's own input; still, keep an accidental paste short.
fn short(arg: &str) -> String {
    arg.chars().take(32).collect()
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
                (Err(g), Err(e)) => assert!(g.to_string().contains(e), "{args:?}: {g}"),
                _ => panic!("{args:?}: got {got:?}, expected {expected:?}"),
            }
        };
        let apply = |dry_run, lock_timeout| {
            Ok(Command::Apply {
                dry_run,
                lock_timeout,
                allow_newer: false,
                target: None,
            })
        };
        let status = |check, allow_newer, format| {
            Ok(Command::Status {
                check,
                allow_newer,
                format,
            })
        };
        let secs = |s| Some(Duration::from_secs(s));
        check(&[], apply(false, None));
        check(&["apply"], apply(false, None));
        check(&["--dry-run"], apply(true, None));
        check(&["apply", "--lock-timeout", "30s"], apply(false, secs(30)));
        check(
            &["apply", "--lock-timeout", "1m 30s"],
            apply(false, secs(90)),
        );
        check(
            &["--lock-timeout"],
            Err("--lock-timeout: missing value (a duration"),
        );
        check(
            &["--lock-timeout", "soon"],
            Err("--lock-timeout: not a duration (such as 500ms, 30s or 1m 30s)"),
        );
        check(
            &["--lock-timeout", "90"],
            Err("--lock-timeout: not a duration"),
        );
        check(
            &["wait", "--timeout", "48h"],
            Err("--timeout: too large (at most 24h)"),
        );
        check(&["--lock-timeout", "25h"], Err("--lock-timeout: too large"));
        check(&["status"], status(false, false, Format::Text));
        check(&["status", "--check"], status(true, false, Format::Text));
        check(
            &["status", "--format", "json", "--allow-newer"],
            status(false, true, Format::Json),
        );
        check(
            &["status", "--format", "yaml"],
            Err("--format: not a format (text or json)"),
        );
        check(&["status", "--format"], Err("--format: missing value"));
        check(&["status", "--chekc"], Err("unexpected argument `--chekc`"));
        check(
            &["status", "--dry-run"],
            Err("unexpected argument `--dry-run`"),
        );
        check(
            &["validate"],
            Ok(Command::Validate {
                allow_newer: false,
                format: Format::Text,
            }),
        );
        check(
            &["validate", "--allow-newer", "--format", "json"],
            Ok(Command::Validate {
                allow_newer: true,
                format: Format::Json,
            }),
        );
        check(&["validate", "x"], Err("unexpected argument"));
        check(
            &["--allow-newer", "--target", "V3"],
            Ok(Command::Apply {
                dry_run: false,
                lock_timeout: None,
                allow_newer: true,
                target: Some(3),
            }),
        );
        check(&["--target"], Err("--target: missing value"));
        check(
            &["--target", "three"],
            Err("--target: not a migration version"),
        );
        check(
            &["plan", "--target", "4", "--format", "json"],
            Ok(Command::Plan {
                allow_newer: false,
                target: Some(4),
                format: Format::Json,
            }),
        );
        check(&["plan", "--check"], Err("unexpected argument `--check`"));
        check(
            &["baseline", "V5"],
            Ok(Command::Baseline {
                version: 5,
                lock_timeout: None,
            }),
        );
        check(&["baseline"], Err("baseline needs the version"));
        check(&["baseline", "5", "6"], Err("unexpected argument `6`"));
        let adopt = |sqlx_table: Option<&str>, lock_timeout, format| {
            Ok(Command::AdoptSqlx {
                sqlx_table: sqlx_table.map(|t| TableName::new(t).expect("valid")),
                lock_timeout,
                format,
            })
        };
        check(&["adopt-sqlx"], adopt(None, None, Format::Text));
        check(
            &[
                "adopt-sqlx",
                "--sqlx-table",
                "app._sqlx_migrations",
                "--format",
                "json",
            ],
            adopt(Some("app._sqlx_migrations"), None, Format::Json),
        );
        check(
            &["adopt-sqlx", "--lock-timeout", "30s"],
            adopt(None, secs(30), Format::Text),
        );
        check(
            &["adopt-sqlx", "--sqlx-table"],
            Err("--sqlx-table: missing value (a table name"),
        );
        check(
            &["adopt-sqlx", "--sqlx-table", "x;drop"],
            Err("--sqlx-table: migration table name is invalid"),
        );
        check(&["adopt-sqlx", "5"], Err("unexpected argument `5`"));
        check(
            &["adopt-sqlx", "--check"],
            Err("unexpected argument `--check`"),
        );
        check(&["adopt-sqlx", "--help"], Ok(Command::Help));
        check(&["wait"], Ok(Command::Wait { timeout: None }));
        check(
            &["wait", "--timeout", "5m"],
            Ok(Command::Wait { timeout: secs(300) }),
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
    fn a_bad_duration_is_a_usage_error_naming_the_flag_not_the_value() {
        for (flag, value, reason) in [
            ("--timeout", "25h", "too large (at most 24h)"),
            ("--timeout", "86401s", "too large (at most 24h)"),
            (
                "--timeout",
                "18446744073709551615s",
                "too large (at most 24h)",
            ),
            ("--lock-timeout", "1441m", "too large (at most 24h)"),
            ("--lock-timeout", "86400001ms", "too large (at most 24h)"),
            (
                "--timeout",
                "soon",
                "not a duration (such as 500ms, 30s or 1m 30s)",
            ),
        ] {
            let command = if flag == "--timeout" { "wait" } else { "apply" };
            let error =
                parse([command, flag, value].into_iter().map(OsString::from)).expect_err(value);
            assert_eq!(error.kind(), crate::error::ErrorKind::Usage);
            assert_eq!(error.var(), Some(flag));
            assert_eq!(error.to_string(), format!("{flag}: {reason}"));
        }
    }
}
