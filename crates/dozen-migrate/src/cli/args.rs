//! Parsing: the arguments after `migrate` become a [`Command`], or a usage
//! [`Error`] naming the flag. Nothing here prints or touches a database.

use std::ffi::OsString;
use std::time::Duration;

use refinery::SchemaVersion;

use crate::duration;
use crate::error::Error;
use crate::migrator::Resolution;

/// What the arguments ask for. A duration flag that is absent is `None`: the
/// [`Migrator`](crate::Migrator)'s own setting applies.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Command {
    Apply {
        dry_run: bool,
        lock_timeout: Option<Duration>,
    },
    Status {
        check: bool,
    },
    Validate,
    Wait {
        timeout: Option<Duration>,
    },
    Repair {
        version: SchemaVersion,
        resolution: Resolution,
    },
    Help,
}

/// The usage text, under the program name (such as `myapp migrate`).
pub(super) fn usage(program: &str) -> String {
    format!(
        "usage:
  {program} [apply] [--dry-run] [--lock-timeout <duration>]
  {program} status [--check]
  {program} validate
  {program} wait [--timeout <duration>]
  {program} repair <version> (--applied | --not-applied)

durations: 500ms, 30s, 1m 30s (at most 24h)
exit codes: 0 done, 1 failed, 2 usage, 3 check failed, 4 half-applied migration needs repair"
    )
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
        Some("apply" | "status" | "validate" | "wait" | "repair" | "help") => words.next(),
        Some("-h" | "--help") => return Ok(Command::Help),
        _ => None,
    };
    let mut words = Words(words);
    match sub.as_deref() {
        None | Some("apply") => {
            let mut dry_run = false;
            let mut lock_timeout = None;
            while let Some(w) = words.next() {
                match w.as_str() {
                    "--dry-run" => dry_run = true,
                    "--lock-timeout" => lock_timeout = Some(words.duration("--lock-timeout")?),
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
            while let Some(w) = words.next() {
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
            let mut timeout = None;
            while let Some(w) = words.next() {
                match w.as_str() {
                    "--timeout" => timeout = Some(words.duration("--timeout")?),
                    "-h" | "--help" => return Ok(Command::Help),
                    other => return Err(unexpected(other)),
                }
            }
            Ok(Command::Wait { timeout })
        }
        Some("repair") => repair(words),
        Some(_) => Ok(Command::Help),
    }
}

fn repair(mut words: Words) -> Result<Command, Error> {
    let mut version = None;
    let mut resolution = None;
    while let Some(w) = words.next() {
        match w.as_str() {
            "--applied" | "--not-applied" if resolution.is_some() => {
                return Err(Error::usage(
                    None,
                    String::from("give one of --applied and --not-applied"),
                ));
            }
            "--applied" => resolution = Some(Resolution::Applied),
            "--not-applied" => resolution = Some(Resolution::NotApplied),
            "-h" | "--help" => return Ok(Command::Help),
            v if version.is_none() && !v.starts_with('-') => {
                let digits = v.strip_prefix(['V', 'v']).unwrap_or(v);
                version = Some(digits.parse::<SchemaVersion>().map_err(|_| {
                    Error::usage(None, format!("`{}` is not a migration version", short(v)))
                })?);
            }
            other => return Err(unexpected(other)),
        }
    }
    match (version, resolution) {
        (Some(version), Some(resolution)) => Ok(Command::Repair {
            version,
            resolution,
        }),
        (None, _) => Err(Error::usage(
            None,
            String::from("repair needs the version marked in progress"),
        )),
        (_, None) => Err(Error::usage(
            None,
            String::from(
                "repair needs --applied (its changes are in place) or --not-applied (they are undone)",
            ),
        )),
    }
}

/// The words left, with the reading of a flag's value.
struct Words(std::iter::Peekable<std::vec::IntoIter<String>>);

impl Words {
    fn next(&mut self) -> Option<String> {
        self.0.next()
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
        check(&["status"], Ok(Command::Status { check: false }));
        check(&["status", "--check"], Ok(Command::Status { check: true }));
        check(&["status", "--chekc"], Err("unexpected argument `--chekc`"));
        check(&["validate"], Ok(Command::Validate));
        check(&["validate", "x"], Err("unexpected argument"));
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
