//! The command line is read before the configuration: `--help`, `--version` and `config`
//! work with an invalid one and print no log line; an unknown argument is a
//! usage error (2); an invalid configuration is listed on stderr, nothing
//! on stdout, exit 78.

use crate::support::run;

/// An invalid configuration, which only a process that serves reads.
const BAD_PORT: (&str, &str) = ("PORT", "eighty");

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

#[test]
fn help_lists_the_commands_and_process_types() {
    for flag in ["--help", "-h", "help"] {
        let out = run(&[flag], &[BAD_PORT]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{flag}: {stdout}");
        for expected in [
            "Usage:",
            "hello config [--format markdown|env]",
            "Process types:",
            "  web ",
        ] {
            assert!(
                stdout.contains(expected),
                "{flag}: {expected:?} missing from:\n{stdout}"
            );
        }
        assert!(out.stderr.is_empty(), "{flag}: {}", text(&out.stderr));
    }
}

#[test]
fn version_prints_the_name_and_version_with_an_invalid_configuration() {
    for flag in ["--version", "-V"] {
        let out = run(&[flag], &[BAD_PORT]);
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!("hello {}\n", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        assert!(out.stderr.is_empty(), "{flag}: {}", text(&out.stderr));
    }
}

#[test]
fn config_prints_every_variable_without_reading_them() {
    let out = run(&["config"], &[BAD_PORT]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("| Variable |"),
        "a Markdown table, no log line first:\n{stdout}"
    );
    for var in [
        "GREETING",
        "WARM_UP",
        "PORT",
        "MANAGEMENT_PORT",
        "HTTP_MAX_CONNECTIONS",
        "LOG_FORMAT",
        "RUST_LOG",
        "SHUTDOWN_DELAY",
        "SHUTDOWN_TIMEOUT",
    ] {
        assert!(
            stdout.contains(&format!("| `{var}` |")),
            "{var} missing from:\n{stdout}"
        );
    }

    let out = run(&["config", "--format", "env"], &[BAD_PORT]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("\n# PORT=\n"), "{stdout}");
    assert!(stdout.contains("\n# SHUTDOWN_TIMEOUT=\n"), "{stdout}");
}

#[test]
fn unknown_arguments_are_usage_errors() {
    for args in [
        &["--port", "80"][..],
        &["serve"],
        &["web", "now"],
        &["config", "--format", "yaml"],
    ] {
        let out = run(args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage:"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
}

#[test]
fn an_invalid_configuration_is_listed_on_stderr_with_exit_78() {
    let out = run(
        &[],
        &[BAD_PORT, ("WARM_UP", "soon"), ("SHUTDOWN_TIMEOUT", "1s")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        text(&out.stdout)
    );
    // A bad PORT hides no other problem, not even the drain budget checked
    // across the shutdown settings: each is listed, once.
    for problem in [
        "WARM_UP: invalid value",
        "PORT: invalid value (an integer from 0 to 65535)",
        "SHUTDOWN_TIMEOUT: too short to drain",
    ] {
        assert_eq!(
            stderr.matches(problem).count(),
            1,
            "{problem:?} not listed once in:\n{stderr}"
        );
    }
    for value in ["eighty", "soon"] {
        assert!(
            !stderr.contains(value),
            "the value {value:?} is echoed:\n{stderr}"
        );
    }
}
