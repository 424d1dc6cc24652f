//! Promise: in strict mode every variable under the prefix that no field
//! reads is a problem, with the nearest known name within edit distance 2 as
//! a suggestion; names under a struct read as a map are accepted.

use dozen_config::{Loader, ProblemKind, prefixed};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the errors matter")]
struct Config {
    database_url: String,
    #[serde(default)]
    port: u16,
    db: Option<Db>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the errors matter")]
struct Db {
    host: String,
}

fn check(loader: &Loader, pairs: &[(&str, &str)], expected: &str) {
    let result = loader.from_iter::<_, Config>(crate::env(pairs));
    let text = result.map_or_else(|e| e.to_string(), |_| String::new());
    assert_eq!(text, expected, "{pairs:?}");
}

#[test]
fn unknown_variables_are_errors_with_a_suggestion() {
    let strict = prefixed("APP_").strict();
    check(
        &strict,
        &[
            ("APP_DATABASE_URL", "x"),
            ("OTHER", "1"),
            ("APP_PORT_FILE_X", "1"),
        ],
        "APP_PORT_FILE_X: unknown variable (did you mean APP_PORT_FILE?)",
    );
    check(
        &strict,
        &[
            ("APP_DATABSE_URL", "x"),
            ("APP_PROT", "1"),
            ("APP_DB__HOTS", "h"),
            ("APP_DB__HOST", "h"),
        ],
        "APP_DATABASE_URL: missing (required)\n\
         APP_DATABSE_URL: unknown variable (did you mean APP_DATABASE_URL?)\n\
         APP_DB__HOTS: unknown variable (did you mean APP_DB__HOST?)\n\
         APP_PROT: unknown variable (did you mean APP_PORT?)",
    );
    check(
        &strict,
        &[("APP_DATABASE_URL_FILE", "/nonexistent"), ("APP_PORT", "1")],
        "APP_DATABASE_URL_FILE: cannot read the file it names, entity not found (a readable file of UTF-8 text)",
    );
    check(
        &strict,
        &[
            ("APP_DATABASE_URL", "x"),
            ("APP_DB__HOST", "h"),
            ("APP_ZZZZZZZ", "h"),
        ],
        "APP_ZZZZZZZ: unknown variable (no field reads it)",
    );
    // Without strict, unknown variables are ignored.
    check(
        &prefixed("APP_"),
        &[("APP_DATABASE_URL", "x"), ("APP_DATABSE_URL", "x")],
        "",
    );

    let err = strict
        .from_iter::<_, Config>(crate::env(&[("APP_DATABASE_URL", "x"), ("APP_PROT", "1")]))
        .unwrap_err();
    let problem = err.problems().next().unwrap();
    assert_eq!(problem.var(), "APP_PROT");
    assert_eq!(
        problem.kind(),
        &ProblemKind::Unknown {
            suggestion: Some("APP_PORT".into())
        }
    );
}
