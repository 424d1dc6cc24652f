//! Differential test: on flat structs and well-formed input, dozen-config
//! gives what envy 0.4.2 gives.

use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Level {
    Debug,
    Info,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Flat {
    name: String,
    port: u16,
    workers: u32,
    offset: i64,
    ratio: f64,
    debug: bool,
    level: Level,
    letter: char,
    limit: Option<u16>,
    tags: Vec<String>,
    counts: Vec<u8>,
    #[serde(default)]
    retries: u8,
}

fn flat_env() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        "[a-zA-Z0-9_./:-]{0,20}",
        any::<u16>(),
        any::<u32>(),
        any::<i64>(),
        -1e9f64..1e9,
        any::<bool>(),
        prop_oneof![Just("debug"), Just("info")],
        "[a-z]",
        proptest::option::of(any::<u16>()),
        proptest::collection::vec("[a-z0-9]{1,8}", 0..4),
        proptest::collection::vec(any::<u8>(), 0..4),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(
                name,
                port,
                workers,
                offset,
                ratio,
                debug,
                level,
                letter,
                limit,
                tags,
                counts,
                retries,
            )| {
                let mut vars = vec![
                    ("NAME".to_string(), name),
                    ("PORT".into(), port.to_string()),
                    ("WORKERS".into(), workers.to_string()),
                    ("OFFSET".into(), offset.to_string()),
                    ("RATIO".into(), ratio.to_string()),
                    ("DEBUG".into(), debug.to_string()),
                    ("LEVEL".into(), level.to_string()),
                    ("LETTER".into(), letter),
                    ("TAGS".into(), tags.join(",")),
                    (
                        "COUNTS".into(),
                        counts
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    ("UNRELATED".into(), "x".into()),
                ];
                if let Some(limit) = limit {
                    vars.push(("LIMIT".into(), limit.to_string()));
                }
                if let Some(retries) = retries {
                    vars.push(("RETRIES".into(), retries.to_string()));
                }
                vars
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn same_values_as_envy(vars in flat_env()) {
        let ours: Flat = dozen_config::from_iter(vars.clone()).unwrap();
        let theirs: Flat = envy::from_iter(vars.clone()).unwrap();
        prop_assert_eq!(&ours, &theirs);

        let prefixed: Vec<(String, String)> =
            vars.into_iter().map(|(k, v)| (format!("APP_{k}"), v)).collect();
        let ours: Flat = dozen_config::prefixed("APP_").from_iter(prefixed.clone()).unwrap();
        let theirs: Flat = envy::prefixed("APP_").from_iter(prefixed).unwrap();
        prop_assert_eq!(ours, theirs);
    }
}

#[test]
fn where_envy_fails_or_leaks_we_do_not() {
    let vars = |port: &str| {
        vec![
            ("NAME".to_string(), "x".to_string()),
            ("PORT".into(), port.into()),
        ]
    };
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only errors matter")]
    struct Two {
        name: String,
        port: u16,
    }
    let envy_err = envy::from_iter::<_, Two>(vars("s3cr3t"))
        .unwrap_err()
        .to_string();
    assert!(
        envy_err.contains("s3cr3t"),
        "envy 0.4.2 echoes the value: {envy_err}"
    );
    let ours = dozen_config::from_iter::<_, Two>(vars("s3cr3t"))
        .unwrap_err()
        .to_string();
    assert_eq!(ours, "PORT: invalid value (an integer from 0 to 65535)");
}
