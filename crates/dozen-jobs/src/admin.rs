//! The `jobs` admin commands: `status`, `dead` and `retry`, over any
//! [`Admin`] backend. Parse, then run, then print: results go to stdout
//! (text, or JSON with `--format json`), problems to stderr, as with
//! `migrate`.

use std::io::Write;

use serde::Serialize;

use crate::backend::{Admin, Counts, DeadJob};
use crate::error::{Error, ErrorKind};
use crate::job::JobId;

/// The usage of the `jobs` commands, after `PROGRAM jobs`.
pub const USAGE: &str = "\
jobs status [--format text|json]     counts of jobs by state
jobs dead [--limit N] [--format text|json]
                                     dead jobs, with their last errors (default limit 100)
jobs retry ID|--all-dead [--format text|json]
                                     make dead jobs pending again, with fresh attempts
";

/// Exit codes of the `jobs` commands.
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// The command line was wrong.
    pub const USAGE: u8 = 2;
    /// No dead job with that id.
    pub const NOT_FOUND: u8 = 1;
    /// The queue's store failed.
    pub const UNAVAILABLE: u8 = 69;
}

/// A parsed `jobs` command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `jobs status`.
    Status {
        /// The output format.
        format: Format,
    },
    /// `jobs dead`.
    Dead {
        /// The most jobs listed.
        limit: usize,
        /// The output format.
        format: Format,
    },
    /// `jobs retry ID` or `jobs retry --all-dead`.
    Retry {
        /// One job, or `None` for every dead job.
        id: Option<JobId>,
        /// The output format.
        format: Format,
    },
}

/// The output format of a `jobs` command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs: one JSON document on stdout.
    Json,
}

/// Parses the arguments after `jobs`.
///
/// # Errors
///
/// A message naming the argument that was wrong, for stderr above the usage
/// (exit [`exit::USAGE`]).
pub fn parse<I, T>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    let mut words = Vec::new();
    for arg in args {
        let arg = arg.into();
        match arg.into_string() {
            Ok(arg) => words.push(arg),
            Err(raw) => return Err(format!("argument {raw:?} is not UTF-8")),
        }
    }
    let mut words = words.into_iter();
    let Some(command) = words.next() else {
        return Err("a command is needed: status, dead or retry".to_owned());
    };
    let mut format = Format::Text;
    let mut limit = 100;
    let mut all_dead = false;
    let mut id = None;
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (word.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| words.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--format" => {
                format = match value("--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => return Err(format!("--format: expected text or json, got {other:?}")),
                }
            }
            "--limit" if command == "dead" => {
                let raw = value("--limit")?;
                limit = raw
                    .parse()
                    .map_err(|_| format!("--limit: expected a number, got {raw:?}"))?;
            }
            "--all-dead" if command == "retry" && inline.is_none() => all_dead = true,
            _ if command == "retry" && !word.starts_with('-') && id.is_none() => {
                id = Some(
                    word.parse::<JobId>()
                        .map_err(|_| format!("retry: expected a job id, got {word:?}"))?,
                );
            }
            _ => return Err(format!("unexpected argument {word:?} for jobs {command}")),
        }
    }
    match command.as_str() {
        "status" => Ok(Command::Status { format }),
        "dead" => Ok(Command::Dead { limit, format }),
        "retry" => match (id, all_dead) {
            (Some(id), false) => Ok(Command::Retry {
                id: Some(id),
                format,
            }),
            (None, true) => Ok(Command::Retry { id: None, format }),
            (Some(_), true) => Err("retry: give an id or --all-dead, not both".to_owned()),
            (None, false) => Err("retry: give a job id or --all-dead".to_owned()),
        },
        other => Err(format!(
            "unknown jobs command {other:?}: expected status, dead or retry"
        )),
    }
}

/// What a command found, as printed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Output {
    Status(Counts),
    Dead { dead: Vec<DeadJob> },
    Retried { retried: u64 },
}

/// Runs `command` on `backend`, prints its result on `out` and its problem
/// on `err`, and answers the exit code.
pub async fn run<A: Admin>(
    backend: &A,
    command: &Command,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    let (format, result) = match command {
        Command::Status { format } => (*format, backend.counts().await.map(Output::Status)),
        Command::Dead { limit, format } => (
            *format,
            backend.dead(*limit).await.map(|dead| Output::Dead { dead }),
        ),
        Command::Retry {
            id: Some(id),
            format,
        } => (
            *format,
            backend
                .retry_dead(*id)
                .await
                .map(|()| Output::Retried { retried: 1 }),
        ),
        Command::Retry { id: None, format } => (
            *format,
            backend
                .retry_all_dead()
                .await
                .map(|retried| Output::Retried { retried }),
        ),
    };
    match result {
        Ok(output) => {
            let text = match format {
                Format::Json => {
                    let mut json = serde_json::to_string_pretty(&output)
                        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
                    json.push('\n');
                    json
                }
                Format::Text => text(&output),
            };
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            exit::OK
        }
        Err(error) => {
            let _ = writeln!(err, "jobs: {error}");
            code(&error)
        }
    }
}

fn code(error: &Error) -> u8 {
    match error.kind() {
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::Invalid => exit::USAGE,
        _ => exit::UNAVAILABLE,
    }
}

fn text(output: &Output) -> String {
    match output {
        Output::Status(c) => format!(
            "pending {} (due now {})\nrunning {}\ndone    {}\ndead    {}\n",
            c.pending, c.due, c.running, c.done, c.dead
        ),
        Output::Dead { dead } if dead.is_empty() => "no dead jobs\n".to_owned(),
        Output::Dead { dead } => {
            let mut text = String::new();
            for job in dead {
                text.push_str(&format!(
                    "{} {} after {} attempts: {}\n",
                    job.id,
                    job.name,
                    job.attempts,
                    job.last_error.as_deref().unwrap_or("(no error recorded)")
                ));
            }
            text
        }
        Output::Retried { retried } => format!("retried {retried}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_or_refused_by_name() {
        let check = |args: &[&str], expected: Result<Command, &str>| {
            assert_eq!(
                parse(args.iter().copied()),
                expected.map_err(str::to_owned),
                "{args:?}"
            );
        };
        let json = Format::Json;
        check(
            &["status"],
            Ok(Command::Status {
                format: Format::Text,
            }),
        );
        check(
            &["status", "--format", "json"],
            Ok(Command::Status { format: json }),
        );
        check(
            &["status", "--format=json"],
            Ok(Command::Status { format: json }),
        );
        check(
            &["dead", "--limit", "5"],
            Ok(Command::Dead {
                limit: 5,
                format: Format::Text,
            }),
        );
        check(
            &["retry", "42", "--format", "json"],
            Ok(Command::Retry {
                id: Some(JobId(42)),
                format: json,
            }),
        );
        check(
            &["retry", "--all-dead"],
            Ok(Command::Retry {
                id: None,
                format: Format::Text,
            }),
        );
        check(&[], Err("a command is needed: status, dead or retry"));
        check(
            &["stats"],
            Err("unknown jobs command \"stats\": expected status, dead or retry"),
        );
        check(
            &["status", "--format", "yaml"],
            Err("--format: expected text or json, got \"yaml\""),
        );
        check(&["status", "--format"], Err("--format needs a value"));
        check(
            &["status", "--limit", "3"],
            Err("unexpected argument \"--limit\" for jobs status"),
        );
        check(
            &["dead", "--limit", "many"],
            Err("--limit: expected a number, got \"many\""),
        );
        check(&["retry"], Err("retry: give a job id or --all-dead"));
        check(
            &["retry", "7", "--all-dead"],
            Err("retry: give an id or --all-dead, not both"),
        );
        check(
            &["retry", "x7"],
            Err("retry: expected a job id, got \"x7\""),
        );
        check(
            &["retry", "1", "2"],
            Err("unexpected argument \"2\" for jobs retry"),
        );
    }
}
