//! Promise, checked on random environments: loading never panics, and
//! neither the error text nor its `Debug` contains a value that was set.

use std::collections::BTreeMap;
use std::time::Duration;

use dozen_config::{Secret, prefixed};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only errors matter")]
struct Config {
    port: u16,
    debug: bool,
    ratio: Option<f64>,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    url: Option<url::Url>,
    password: Secret<String>,
    hosts: Vec<u16>,
    labels: BTreeMap<String, i8>,
    mode: Option<Mode>,
    letter: Option<char>,
    db: Db,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Web,
    Worker,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only errors matter")]
struct Db {
    host: std::net::IpAddr,
    #[serde(default)]
    pool: u8,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only errors matter")]
struct Extra {
    extra_count: Option<u32>,
    extra_name: Option<String>,
}

const NAMES: &[&str] = &[
    "APP_PORT",
    "APP_DEBUG",
    "APP_RATIO",
    "APP_TIMEOUT",
    "APP_URL",
    "APP_PASSWORD",
    "APP_HOSTS",
    "APP_LABELS",
    "APP_MODE",
    "APP_LETTER",
    "APP_DB__HOST",
    "APP_DB__POOL",
    "APP_EXTRA_COUNT",
    "APP_EXTRA_NAME",
    "APP_DB",
    "APP_",
    "APP_PORTS",
    "APP_DB__",
];

/// A value that is checked for leaks: it holds a marker that no message has.
fn secretish() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[0-9a-z ,=:./-]{0,30}",
        proptest::collection::vec(any::<char>(), 0..3000).prop_map(|v| v.into_iter().collect()),
    ]
    .prop_map(|s| format!("\u{a4}{s}"))
}

/// A value that may well parse, to reach the success paths too.
fn plausible() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "-?[0-9]{1,6}",
        "(true|false|yes|off|1|0)",
        "[0-9]{1,3}(ms|s|m| min)",
        "(web|worker|Web)",
        "[0-9]{1,3}(,[0-9]{1,3}){0,3}",
        "[a-z]=[0-9]{1,3}(,[a-z]=-?[0-9]{1,3}){0,2}",
        "(https://example.com/|127.0.0.1|::1|x)",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(NAMES).prop_map(str::to_owned),
        1 => "APP_\\PC{0,12}",
        1 => "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn no_panic_and_no_value_in_errors(
        vars in proptest::collection::vec((name(), prop_oneof![secretish(), plausible()]), 0..24),
        strict in any::<bool>(),
    ) {
        let loader = if strict { prefixed("APP_").strict() } else { prefixed("APP_") };
        let result = loader.from_iter::<_, Config>(vars.clone());
        let Err(err) = result else {
            return Ok(());
        };
        let text = err.to_string();
        let debug = format!("{err:?}");
        prop_assert!(err.problems().count() > 0);
        // A value that is part of a name is shown as that name.
        let in_names = |v: &str| vars.iter().any(|(k, _)| k.contains(v));
        for (_, value) in vars
            .iter()
            .filter(|(_, v)| v.starts_with('\u{a4}') && !in_names(v))
        {
            // Only a value's leading marker plus some text would identify it.
            prop_assert!(!text.contains(value.as_str()), "{text}");
            prop_assert!(!debug.contains(value.as_str()), "{debug}");
        }
        let marker_in_names = vars.iter().any(|(k, _)| k.contains('\u{a4}'));
        prop_assert!(!text.contains('\u{a4}') || marker_in_names, "{}", text);
    }
}
