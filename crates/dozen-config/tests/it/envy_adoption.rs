//! A service moving from envy changes one path (`envy::` to `dozen_config::`) and keeps its
//! settings struct: the calls have the same names and type parameters and give the same values.
//! Where the two differ, each difference listed in docs/migrating.md is shown here against envy
//! 0.4 itself: names matched exactly, not lower-cased; a `rename` honoured; every problem
//! reported, none echoing its value; list items trimmed; more spellings of a bool; an empty
//! `Option` is `None`.

use serde::Deserialize;

fn pairs(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[derive(Debug, Deserialize, PartialEq)]
struct Settings {
    port: u16,
    database_url: String,
    #[serde(default)]
    workers: Option<u8>,
}

#[test]
fn the_same_calls_give_the_same_settings() {
    let vars = pairs(&[
        ("APP_PORT", "8080"),
        ("APP_DATABASE_URL", "postgres://db/app"),
    ]);
    let before: Settings = envy::prefixed("APP_").from_iter(vars.clone()).unwrap();
    let after: Settings = dozen_config::prefixed("APP_").from_iter(vars).unwrap();
    assert_eq!(before, after);
}

#[test]
fn names_are_matched_exactly_not_lower_cased() {
    let vars = pairs(&[("Port", "8080"), ("database_url", "postgres://db/app")]);
    assert!(envy::from_iter::<_, Settings>(vars.clone()).is_ok());
    let err = dozen_config::from_iter::<_, Settings>(vars).unwrap_err();
    assert_eq!(
        err.to_string(),
        "PORT: missing (required)\nDATABASE_URL: missing (required)"
    );
}

#[test]
fn a_rename_is_honoured() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Renamed {
        #[serde(rename = "dbUrl")]
        db_url: String,
    }
    let vars = pairs(&[("DBURL", "postgres://db/app")]);
    assert!(envy::from_iter::<_, Renamed>(vars.clone()).is_err());
    let ours: Renamed = dozen_config::from_iter(vars).unwrap();
    assert_eq!(ours.db_url, "postgres://db/app");
}

#[test]
fn every_problem_is_reported_and_no_value_echoed() {
    let vars = pairs(&[("PORT", "s3cr3t-port"), ("WORKERS", "many")]);
    let envy_err = envy::from_iter::<_, Settings>(vars.clone())
        .unwrap_err()
        .to_string();
    assert!(
        !envy_err.contains('\n'),
        "envy stops at the first: {envy_err}"
    );
    let ours = dozen_config::from_iter::<_, Settings>(vars)
        .unwrap_err()
        .to_string();
    assert_eq!(
        ours,
        "PORT: invalid value (an integer from 0 to 65535)\n\
         DATABASE_URL: missing (required)\n\
         WORKERS: invalid value (an integer from 0 to 255)"
    );
}

#[test]
fn lists_bools_and_empty_options() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Values {
        tags: Vec<String>,
        debug: bool,
        limit: Option<u16>,
    }
    let vars = pairs(&[("TAGS", "a, b"), ("DEBUG", "true"), ("LIMIT", "")]);
    let theirs = envy::from_iter::<_, Values>(vars.clone());
    let ours: Values = dozen_config::from_iter(vars).unwrap();
    assert_eq!(
        ours,
        Values {
            tags: vec!["a".into(), "b".into()],
            debug: true,
            limit: None
        }
    );
    // envy keeps the space of " b" and cannot read an empty LIMIT as a number.
    assert!(theirs.is_err(), "{theirs:?}");
    let theirs: Values = envy::from_iter(pairs(&[("TAGS", "a, b"), ("DEBUG", "true")])).unwrap();
    assert_eq!(theirs.tags, ["a", " b"]);
    for yes in ["yes", "on", "1"] {
        let vars = pairs(&[("TAGS", ""), ("DEBUG", yes)]);
        assert!(envy::from_iter::<_, Values>(vars.clone()).is_err(), "{yes}");
        assert!(
            dozen_config::from_iter::<_, Values>(vars).unwrap().debug,
            "{yes}"
        );
    }
}
