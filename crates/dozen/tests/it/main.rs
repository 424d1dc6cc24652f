//! Integration tests of the facade, one module per area.

#[cfg(all(
    feature = "service",
    feature = "migrate",
    feature = "postgres",
    feature = "any"
))]
mod database;
#[cfg(feature = "service")]
mod http_limits;
#[cfg(all(
    feature = "service",
    feature = "jobs",
    feature = "migrate",
    feature = "postgres"
))]
mod jobs_store;
#[cfg(feature = "service")]
mod panics;
#[cfg(feature = "service")]
mod process_types;
#[cfg(feature = "service")]
mod readiness_checks;
#[cfg(feature = "service")]
mod stalled_stdout;
#[cfg(all(
    feature = "service",
    feature = "jobs",
    feature = "migrate",
    feature = "sqlite"
))]
mod worker;

/// A command that runs `module`'s `child` test (which calls [`run_child`])
/// in a new process: an empty environment but for `SERVICE_ARGS` (`args`)
/// and JSON logs, standard input closed.
#[cfg(feature = "service")]
fn child_command(module: &str, args: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "--ignored",
            "--exact",
            &format!("{module}::child"),
            "--nocapture",
            "--quiet",
        ])
        .env_clear()
        .env("SERVICE_ARGS", args)
        .env("LOG_FORMAT", "json")
        .stdin(std::process::Stdio::null());
    command
}

/// The body of each module's `child` test: runs `service` with the
/// arguments in `SERVICE_ARGS` and ends the process with its exit code.
#[cfg(feature = "service")]
fn run_child<S>(service: dozen::service::Service<S>) -> !
where
    S: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let args = std::env::var("SERVICE_ARGS").unwrap_or_default();
    let code = service.run_from(args.split_whitespace());
    let code = (0..=u8::MAX).find(|n| std::process::ExitCode::from(*n) == code);
    std::process::exit(code.map_or(1, i32::from));
}

/// A child's own stdout, an admin command's result: the test harness
/// writes a line or two first.
#[cfg(all(
    feature = "service",
    feature = "jobs",
    feature = "migrate",
    any(feature = "postgres", feature = "sqlite")
))]
fn command_stdout(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|line| {
            !line.is_empty() && !line.starts_with("running ") && !line.starts_with("test ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
