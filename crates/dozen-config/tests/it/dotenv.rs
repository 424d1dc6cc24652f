//! Promise: `.env` files are read only when asked, only fill in what the
//! environment does not set (earlier files before later ones), never change
//! the process environment, and a file that cannot be read or parsed is a
//! problem naming the file and the entry, never quoting its content.

use dozen_config::{Loader, prefixed};
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize, PartialEq)]
struct Config {
    port: u16,
    name: String,
    #[serde(default)]
    debug: bool,
}

#[test]
fn dotenv_fills_in_and_never_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join(".env");
    let second = dir.path().join(".env.local");
    std::fs::write(&first, "APP_PORT=1\nAPP_NAME=from-file\n# comment\n").unwrap();
    std::fs::write(&second, "APP_PORT=2\nAPP_DEBUG=true\n").unwrap();
    let loader = prefixed("APP_").dotenv_path(&first).dotenv_path(&second);
    let config: Config = loader.from_iter(env(&[("APP_NAME", "from-env")])).unwrap();
    assert_eq!(
        config,
        Config {
            port: 1,
            name: "from-env".into(),
            debug: true
        }
    );
    // The files filled in the load, not the process environment.
    assert_eq!(std::env::var_os("APP_DEBUG"), None);
    // Not asked, not read.
    let err = prefixed("APP_")
        .from_iter::<_, Config>(env(&[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "APP_PORT: missing (required)\nAPP_NAME: missing (required)"
    );
    // `.dotenv()` reads ./.env only if it exists.
    assert!(
        Loader::new()
            .dotenv()
            .from_iter::<_, Config>(env(&[]))
            .is_err()
    );
}

#[test]
fn dotenv_problems_never_quote_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, "APP_PORT=1\nAPP_NAME s3cr3t\n").unwrap();
    let err = prefixed("APP_")
        .dotenv_path(&bad)
        .from_iter::<_, Config>(env(&[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: cannot parse entry 2", bad.display())
    );
    assert_eq!(err.problems().next().unwrap().var(), "");

    let missing = dir.path().join("missing.env");
    let err = prefixed("APP_")
        .dotenv_path(&missing)
        .from_iter::<_, Config>(env(&[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: cannot read the file", missing.display())
    );
}
