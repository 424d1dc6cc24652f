//! Promise: a field reads the variable named after it, upper-cased, after
//! the prefix, matched exactly (a `rename` is honoured); a nested struct
//! reads `PARENT__FIELD` at any depth; an `Option` of a struct is `None` when
//! none of its variables is set.

use dozen_config::prefixed;
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize, PartialEq)]
struct Flat {
    database_url: String,
    #[serde(rename = "replicaURL")]
    replica: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Camel {
    max_connections: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Outer {
    db: Db,
    name: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Db {
    host: String,
    port: u16,
    pool: Pool,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Pool {
    size: u8,
}

#[test]
fn names_are_upper_cased_field_names_matched_exactly() {
    let flat: Flat = dozen_config::from_iter(env(&[
        ("DATABASE_URL", "postgres://db/app"),
        ("REPLICAURL", "postgres://replica/app"),
        ("database_url", "lower case is another variable"),
    ]))
    .unwrap();
    assert_eq!(
        flat,
        Flat {
            database_url: "postgres://db/app".into(),
            replica: "postgres://replica/app".into()
        }
    );

    // Lower-case names never match.
    let err =
        dozen_config::from_iter::<_, Flat>(env(&[("database_url", "x"), ("replicaurl", "y")]))
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "DATABASE_URL: missing (required)\nREPLICAURL: missing (required)"
    );

    let camel: Camel = prefixed("APP_")
        .from_iter(env(&[("APP_MAXCONNECTIONS", "7")]))
        .unwrap();
    assert_eq!(camel.max_connections, 7);
}

#[test]
fn nested_structs_use_double_underscores_at_any_depth() {
    let outer: Outer = prefixed("APP_")
        .from_iter(env(&[
            ("APP_NAME", "svc"),
            ("APP_DB__HOST", "db"),
            ("APP_DB__PORT", "5432"),
            ("APP_DB__POOL__SIZE", "9"),
        ]))
        .unwrap();
    assert_eq!(
        outer,
        Outer {
            db: Db {
                host: "db".into(),
                port: 5432,
                pool: Pool { size: 9 }
            },
            name: "svc".into()
        }
    );

    let err = prefixed("APP_")
        .from_iter::<_, Outer>(env(&[("APP_DB__PORT", "x")]))
        .unwrap_err();
    let vars: Vec<&str> = err.problems().map(|p| p.var()).collect();
    assert_eq!(
        vars,
        [
            "APP_DB__HOST",
            "APP_DB__PORT",
            "APP_DB__POOL__SIZE",
            "APP_NAME"
        ]
    );
}

#[test]
fn optional_nested_struct_is_none_without_its_variables() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Config {
        db: Option<Pool>,
    }
    let check = |pairs: &[(&str, &str)], expected: Option<u8>| {
        let config: Config = prefixed("APP_").from_iter(env(pairs)).unwrap();
        assert_eq!(config.db.map(|p| p.size), expected, "{pairs:?}");
    };
    check(&[], None);
    check(&[("APP_DB__SIZE", "3")], Some(3));
    check(&[("APP_DBX__SIZE", "3")], None);
}
