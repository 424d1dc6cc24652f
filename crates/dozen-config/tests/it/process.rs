//! `from_env` against the real process environment, in a child process:
//! the test binary re-runs itself with the variables set, since setting them
//! in this process needs `unsafe` (and would race with other tests).

use std::process::Command;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "printed")]
struct Config {
    port: u16,
    name: String,
    tags: Vec<String>,
    cache: Option<Cache>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "printed")]
struct Cache {
    size: u32,
}

const CHILD: &str = "DOZEN_CONFIG_TEST_CHILD";

/// Runs in the child: loads and prints.
#[test]
fn child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let loader = dozen_config::prefixed("DZT_");
    let loader = if std::env::var_os("STRICT_FOR_TEST").is_some() {
        loader.strict()
    } else {
        loader
    };
    #[cfg(feature = "dotenv")]
    let loader = match std::env::var_os("DOTENV_FOR_TEST") {
        Some(path) => loader.dotenv_path(path),
        None => loader,
    };
    match loader.from_env_with_report::<Config>() {
        Ok((config, report)) => println!("\nRESULT OK {config:?} | {report}"),
        Err(e) => println!("\nRESULT ERR {}", e.to_string().replace('\n', " / ")),
    }
}

fn run(vars: &[(&std::ffi::OsStr, &std::ffi::OsStr)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "process::child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no result in {stdout}"))
        .to_owned()
}

#[test]
fn reads_the_process_environment() {
    let os = std::ffi::OsStr::new;
    assert_eq!(
        run(&[
            (os("DZT_PORT"), os("8080")),
            (os("DZT_NAME"), os("svc")),
            (os("DZT_TAGS"), os("a,b"))
        ]),
        "OK Config { port: 8080, name: \"svc\", tags: [\"a\", \"b\"], cache: None } | \
         DZT_PORT=8080 (environment), DZT_NAME=svc (environment), DZT_TAGS=\"a,b\" (environment), \
         DZT_CACHE (default)"
    );
    // An absent optional struct with a nested variable set is found by the
    // one scan of the environment.
    assert_eq!(
        run(&[
            (os("DZT_PORT"), os("1")),
            (os("DZT_NAME"), os("n")),
            (os("DZT_TAGS"), os("")),
            (os("DZT_CACHE__SIZE"), os("64")),
        ]),
        "OK Config { port: 1, name: \"n\", tags: [], cache: Some(Cache { size: 64 }) } | \
         DZT_PORT=1 (environment), DZT_NAME=n (environment), DZT_TAGS=\"\" (environment), \
         DZT_CACHE__SIZE=64 (environment)"
    );
    assert_eq!(
        run(&[(os("DZT_PORT"), os("x")), (os("DZT_TAGS"), os(""))]),
        "ERR DZT_PORT: invalid value (an integer from 0 to 65535) / DZT_NAME: missing (required)"
    );
}

#[test]
fn strict_mode_lists_the_process_environment_under_the_prefix() {
    let os = std::ffi::OsStr::new;
    let set = [
        (os("STRICT_FOR_TEST"), os("1")),
        (os("DZT_PORT"), os("1")),
        (os("DZT_NAME"), os("n")),
        (os("DZT_TAGS"), os("")),
    ];
    assert_eq!(
        run(&set),
        "OK Config { port: 1, name: \"n\", tags: [], cache: None } | \
         DZT_PORT=1 (environment), DZT_NAME=n (environment), DZT_TAGS=\"\" (environment), \
         DZT_CACHE (default)"
    );
    // Names under the prefix that no field reads are errors; names outside
    // it (`DZTX`, `XDZT_PROT`) are not.
    let mut with_unknown = set.to_vec();
    with_unknown.extend([
        (os("DZT_PROT"), os("2")),
        (os("DZT_CACHE__SIZ"), os("1")),
        (os("DZT_NAME_FILE_X"), os("1")),
        (os("DZTX"), os("1")),
        (os("XDZT_PROT"), os("1")),
    ]);
    assert_eq!(
        run(&with_unknown),
        "ERR DZT_CACHE__SIZE: missing (required) / \
         DZT_CACHE__SIZ: unknown variable (did you mean DZT_CACHE__SIZE?) / \
         DZT_NAME_FILE_X: unknown variable (did you mean DZT_NAME_FILE?) / \
         DZT_PROT: unknown variable (did you mean DZT_PORT?)"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_values_are_errors_not_panics() {
    use std::os::unix::ffi::OsStrExt as _;
    let os = std::ffi::OsStr::new;
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let bad_name = std::ffi::OsStr::from_bytes(b"DZT_JUNK\xff");
    assert_eq!(
        run(&[
            (os("DZT_PORT"), os("1")),
            (os("DZT_NAME"), bad),
            (os("DZT_TAGS"), os("")),
            (bad_name, bad)
        ]),
        "ERR DZT_NAME: invalid value (valid UTF-8)"
    );
}

#[cfg(feature = "dotenv")]
#[test]
fn dotenv_never_overrides_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "DZT_PORT=1\nDZT_NAME=from-file\nDZT_TAGS=x\n").unwrap();
    let os = std::ffi::OsStr::new;
    assert_eq!(
        run(&[
            (os("DOTENV_FOR_TEST"), path.as_os_str()),
            (os("DZT_NAME"), os("from-env")),
        ]),
        "OK Config { port: 1, name: \"from-env\", tags: [\"x\"], cache: None } | \
         DZT_PORT=1 (environment), DZT_NAME=from-env (environment), DZT_TAGS=x (environment), \
         DZT_CACHE (default)"
    );
}
