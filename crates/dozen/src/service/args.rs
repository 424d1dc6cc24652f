//! The command line, parsed before anything else is read, so that `--help`
//! and `config` work with an invalid configuration and print no log line.
//! Printing is the caller's: this module only parses and writes the usage.

use std::ffi::OsString;
use std::fmt::Write as _;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `--help`, `-h` or `help`: the usage on stdout.
    Help,
    /// `--version` or `-V`.
    Version,
    /// `config [--format markdown|env] [PROCESS]`: the environment reference.
    Config {
        format: Format,
        process: Option<String>,
    },
    /// `[PROCESS]`: run a process type; `None` for the default one.
    Run { process: Option<String> },
    /// `migrate ARGS...`: dozen-migrate's command line, when the service
    /// has migrations; it parses `args` itself.
    Migrate { args: Vec<OsString> },
    /// `jobs ARGS...`: the job queue's admin commands, when the service has
    /// a queue; dozen-jobs parses `args`.
    Jobs { args: Vec<OsString> },
}

/// The admin commands a service has, besides `config`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Admin {
    /// `migrate`: the service has migrations.
    pub(crate) migrate: bool,
    /// `jobs`: the service has a job queue.
    pub(crate) jobs: bool,
}

/// The form of the environment reference `config` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// A Markdown table (the default).
    Markdown,
    /// A `.env.example` file.
    Env,
}

/// Parses the arguments after the program name; `processes` are the names
/// of the process types. The error is one line saying what is wrong.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
    processes: &[&str],
    admin: Admin,
) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    if admin.migrate && args.peek().is_some_and(|first| first == "migrate") {
        return Ok(Command::Migrate {
            args: args.skip(1).collect(),
        });
    }
    if admin.jobs && args.peek().is_some_and(|first| first == "jobs") {
        return Ok(Command::Jobs {
            args: args.skip(1).collect(),
        });
    }
    let mut args = args.map(|arg| {
        arg.into_string()
            .map_err(|_| "an argument is not valid UTF-8".to_owned())
    });
    let Some(first) = args.next().transpose()? else {
        return Ok(Command::Run { process: None });
    };
    let command = match first.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "-V" | "--version" => Command::Version,
        "config" => return parse_config(args, processes),
        name if processes.contains(&name) => Command::Run {
            process: Some(first),
        },
        other => return Err(unknown("command", other)),
    };
    match args.next().transpose()? {
        None => Ok(command),
        Some(extra) if is_help(&extra) => Ok(Command::Help),
        Some(extra) => Err(unknown("argument", &extra)),
    }
}

fn parse_config(
    args: impl Iterator<Item = Result<String, String>>,
    processes: &[&str],
) -> Result<Command, String> {
    let mut format = Format::Markdown;
    let mut process = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next().transpose()? {
        let value = match arg.split_once('=') {
            Some(("--format", value)) => Some(value.to_owned()),
            _ if arg == "--format" => Some(
                args.next()
                    .transpose()?
                    .ok_or("--format: missing value (markdown or env)")?,
            ),
            _ => None,
        };
        match (value, arg.as_str()) {
            (Some(value), _) => {
                format = match value.as_str() {
                    "markdown" | "md" => Format::Markdown,
                    "env" => Format::Env,
                    _ => return Err("--format: unknown format (markdown or env)".to_owned()),
                };
            }
            (None, help) if is_help(help) => return Ok(Command::Help),
            (None, name) if process.is_none() && processes.contains(&name) => {
                process = Some(arg);
            }
            (None, other) => return Err(unknown("argument", other)),
        }
    }
    Ok(Command::Config { format, process })
}

fn is_help(arg: &str) -> bool {
    matches!(arg, "-h" | "--help")
}

/// `unknown command "x"`, the argument quoted as a debug string so that a
/// control character in it cannot reach the terminal.
fn unknown(what: &str, arg: &str) -> String {
    format!("unknown {what} {arg:?}")
}

/// The usage text: the commands, then the process types, the default first.
pub(crate) fn usage(
    program: &str,
    version: &str,
    processes: &[(&str, &str)],
    admin: Admin,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{program} {version}\n\n\
         Usage:\n  \
         {program} [PROCESS]                                run a process type (default: {default})\n  \
         {program} config [--format markdown|env] [PROCESS]  print the environment variables PROCESS reads\n  \
         {migrate}{jobs}{program} --help | --version\n\n\
         Process types:\n",
        default = processes.first().map_or("none", |(name, _)| *name),
        jobs = if admin.jobs {
            format!(
                "{program} jobs status|dead|retry ...                the job queue (see {program} jobs --help)\n  "
            )
        } else {
            String::new()
        },
        migrate = if admin.migrate {
            format!(
                "{program} migrate [apply|status|validate|wait|repair] ...  the schema (see {program} migrate --help)\n  "
            )
        } else {
            String::new()
        },
    );
    for (name, about) in processes {
        let _ = writeln!(out, "  {name:<10} {about}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str], expected: Result<Command, &str>) {
        let admin = Admin {
            migrate: true,
            jobs: true,
        };
        let got = parse(args.iter().map(OsString::from), &["web", "worker"], admin);
        assert_eq!(got, expected.map_err(str::to_owned), "{args:?}");
    }

    fn run(process: Option<&str>) -> Result<Command, &'static str> {
        Ok(Command::Run {
            process: process.map(str::to_owned),
        })
    }

    fn config(format: Format, process: Option<&str>) -> Result<Command, &'static str> {
        Ok(Command::Config {
            format,
            process: process.map(str::to_owned),
        })
    }

    #[test]
    fn commands_and_process_types() {
        check(&[], run(None));
        check(&["worker"], run(Some("worker")));
        check(&["web"], run(Some("web")));
        check(&["--help"], Ok(Command::Help));
        check(&["-h"], Ok(Command::Help));
        check(&["help"], Ok(Command::Help));
        check(&["worker", "--help"], Ok(Command::Help));
        check(&["--version"], Ok(Command::Version));
        check(&["-V"], Ok(Command::Version));
        check(&["config"], config(Format::Markdown, None));
        check(&["config", "--format", "env"], config(Format::Env, None));
        check(
            &["config", "--format=md", "worker"],
            config(Format::Markdown, Some("worker")),
        );
        check(
            &["config", "worker", "--format", "env"],
            config(Format::Env, Some("worker")),
        );
        check(&["config", "--help"], Ok(Command::Help));
        check(
            &["migrate", "wait", "--timeout", "1s"],
            Ok(Command::Migrate {
                args: ["wait", "--timeout", "1s"].map(OsString::from).to_vec(),
            }),
        );
        check(&["migrate"], Ok(Command::Migrate { args: Vec::new() }));
        check(
            &["jobs", "retry", "--all-dead"],
            Ok(Command::Jobs {
                args: ["retry", "--all-dead"].map(OsString::from).to_vec(),
            }),
        );
        assert_eq!(
            parse([OsString::from("jobs")], &["web"], Admin::default()),
            Err("unknown command \"jobs\"".to_owned())
        );
        assert_eq!(
            parse([OsString::from("migrate")], &["web"], Admin::default()),
            Err("unknown command \"migrate\"".to_owned())
        );
    }

    #[test]
    fn anything_else_is_a_usage_error() {
        check(&["serve"], Err("unknown command \"serve\""));
        check(&["--port"], Err("unknown command \"--port\""));
        check(&["worker", "now"], Err("unknown argument \"now\""));
        check(
            &["config", "--format"],
            Err("--format: missing value (markdown or env)"),
        );
        check(
            &["config", "--format", "yaml"],
            Err("--format: unknown format (markdown or env)"),
        );
        check(
            &["config", "web", "worker"],
            Err("unknown argument \"worker\""),
        );
        check(&["\u{1b}[2J"], Err("unknown command \"\\u{1b}[2J\""));
    }

    #[test]
    fn usage_lists_commands_and_process_types() {
        let text = usage(
            "hello",
            "1.0",
            &[("web", "the HTTP service"), ("worker", "jobs")],
            Admin {
                migrate: true,
                jobs: true,
            },
        );
        for line in [
            "hello 1.0",
            "config [--format markdown|env]",
            "(default: web)",
            "  worker     jobs",
            "hello migrate [apply|status",
            "hello jobs status|dead|retry",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
