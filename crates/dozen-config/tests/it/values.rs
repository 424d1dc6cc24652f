//! Promise: each value type reads the documented text format (integers,
//! floats, the many spellings of `bool`, `char`, unit enums, `Option` with
//! empty as `None`, comma-separated lists and `key=value` maps with `\,`
//! escapes, humantime durations, any `FromStr` type), a bad value names what
//! was expected, and `#[serde(default)]` applies at every depth.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use dozen_config::{Loader, prefixed};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::env;

fn check<T: DeserializeOwned + PartialEq + std::fmt::Debug>(value: &str, expected: T) {
    #[derive(Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    struct One<T> {
        v: T,
    }
    let one: One<T> =
        dozen_config::from_iter(env(&[("V", value)])).unwrap_or_else(|e| panic!("{value:?}: {e}"));
    assert_eq!(one.v, expected, "{value:?}");
}

fn check_err<T: DeserializeOwned + std::fmt::Debug>(value: &str, expected: &str) {
    #[derive(Debug, Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    #[allow(dead_code, reason = "only the error matters")]
    struct One<T> {
        v: T,
    }
    let text = crate::error_text::<One<T>>(&Loader::new(), &[("V", value)]);
    assert_eq!(text, expected, "{value:?}");
}

#[test]
fn scalars() {
    check("42", 42u8);
    check(" 42 ", 42u16);
    check("-7", -7i64);
    check("340282366920938463463374607431768211455", u128::MAX);
    check("1.5", 1.5f64);
    check("x", 'x');
    check(" keep spaces ", " keep spaces ".to_string());
    check("", String::new());
    check("./data/file.db", PathBuf::from("./data/file.db"));
    check("::1", "::1".parse::<IpAddr>().unwrap());
    check(
        "127.0.0.1:8080",
        "127.0.0.1:8080".parse::<SocketAddr>().unwrap(),
    );
    check(
        "https://example.com/x",
        url::Url::parse("https://example.com/x").unwrap(),
    );
    check_err::<u8>("256", "V: invalid value (an integer from 0 to 255)");
    check_err::<i8>("-129", "V: invalid value (an integer from -128 to 127)");
    check_err::<char>("xy", "V: invalid value (a single character)");
    check_err::<IpAddr>(
        "1.2.3",
        "V: invalid value (an IP address such as 127.0.0.1)",
    );
}

#[test]
fn booleans() {
    for (text, expected) in [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("Yes", true),
        ("on", true),
        ("ON", true),
        ("false", false),
        ("False", false),
        ("0", false),
        ("no", false),
        ("NO", false),
        ("off", false),
        ("Off", false),
    ] {
        check(text, expected);
    }
    check_err::<bool>(
        "enabled",
        "V: invalid value (true or false (also 1/0, yes/no, on/off))",
    );
    check_err::<bool>("", "V: empty (true or false (also 1/0, yes/no, on/off))");
}

#[test]
fn options() {
    check::<Option<u16>>("8080", Some(8080));
    check::<Option<u16>>("", None);
    check::<Option<String>>("", None);
    check::<Option<String>>("x", Some("x".into()));
    check_err::<Option<u16>>("x", "V: invalid value (an integer from 0 to 65535)");

    #[derive(Debug, Deserialize)]
    struct Absent {
        v: Option<u16>,
    }
    let absent: Absent = dozen_config::from_iter(env(&[])).unwrap();
    assert_eq!(absent.v, None);
}

#[test]
fn lists() {
    check::<Vec<String>>("a, b ,c", vec!["a".into(), "b".into(), "c".into()]);
    check::<Vec<String>>("", Vec::new());
    check::<Vec<String>>("   ", Vec::new());
    check::<Vec<String>>("a\\,b,c", vec!["a,b".into(), "c".into()]);
    check::<Vec<String>>("a\\b", vec!["a\\b".into()]);
    check::<Vec<u16>>("80, 443", vec![80, 443]);
    check::<Vec<Option<u16>>>("80,,443", vec![Some(80), None, Some(443)]);
    check::<(u8, String)>("1, x", (1, "x".into()));
    check::<Vec<IpAddr>>(
        "127.0.0.1, ::1",
        vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()],
    );
    check_err::<Vec<u16>>(
        "80,x,443,y",
        "V: invalid item 2 (an integer from 0 to 65535)\nV: invalid item 4 (an integer from 0 to 65535)",
    );
    check_err::<Vec<IpAddr>>(
        "127.0.0.1,nope",
        "V: invalid item 2 (an IP address such as 127.0.0.1)",
    );
}

#[test]
fn maps() {
    check::<BTreeMap<String, u16>>(
        "a=1, b = 2",
        BTreeMap::from([("a".into(), 1), ("b".into(), 2)]),
    );
    check::<BTreeMap<String, String>>("", BTreeMap::new());
    check::<BTreeMap<String, String>>("k=a\\,b", BTreeMap::from([("k".into(), "a,b".into())]));
    check_err::<BTreeMap<String, u16>>("a=1,b", "V: invalid item 2 (key=value)");
    check_err::<BTreeMap<String, u16>>("a=x", "V: invalid item 1 (an integer from 0 to 65535)");
}

#[test]
fn enums() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Web,
        Worker,
    }
    check("worker", Mode::Worker);
    check(" web ", Mode::Web);
    check_err::<Mode>("Worker", "V: invalid value (one of web, worker)");
}

#[test]
fn durations_through_humantime_serde() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Config {
        #[serde(with = "humantime_serde")]
        delay: Duration,
        #[serde(default, with = "humantime_serde")]
        timeout: Option<Duration>,
    }
    let config: Config =
        dozen_config::from_iter(env(&[("DELAY", "1m 30s"), ("TIMEOUT", "250ms")])).unwrap();
    assert_eq!(
        config,
        Config {
            delay: Duration::from_secs(90),
            timeout: Some(Duration::from_millis(250))
        }
    );
    let config: Config = dozen_config::from_iter(env(&[("DELAY", "0")])).unwrap();
    assert_eq!(config.timeout, None);
}

#[test]
fn from_str_helper() {
    #[derive(Debug, PartialEq)]
    struct Hex(u32);
    impl std::str::FromStr for Hex {
        type Err = std::num::ParseIntError;
        fn from_str(s: &str) -> Result<Self, Self::Err> {
            u32::from_str_radix(s.trim_start_matches("0x"), 16).map(Hex)
        }
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "`after` only shows that loading goes on")]
    struct Config {
        #[serde(with = "dozen_config::from_str")]
        mask: Hex,
        #[serde(default, with = "dozen_config::from_str::option")]
        extra: Option<Hex>,
        after: u8,
    }
    let config: Config = dozen_config::from_iter(env(&[("MASK", "0xff"), ("AFTER", "1")])).unwrap();
    assert_eq!(config.mask, Hex(255));
    assert_eq!(config.extra, None);
    let text = crate::error_text::<Config>(
        &Loader::new(),
        &[("MASK", "0xZZ s3cr3t"), ("EXTRA", "s3cr3t"), ("AFTER", "x")],
    );
    let hex = std::any::type_name::<Hex>();
    assert_eq!(
        text,
        format!(
            "MASK: invalid value (a value that parses as {hex})\n\
             EXTRA: invalid value (a value that parses as {hex})\n\
             AFTER: invalid value (an integer from 0 to 255)"
        )
    );
}

#[test]
fn defaults_at_every_depth() {
    fn three() -> u8 {
        3
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct Config {
        #[serde(default)]
        workers: u8,
        #[serde(default = "three")]
        retries: u8,
        #[serde(default)]
        db: Db,
        cache: Cache,
    }
    #[derive(Debug, Deserialize, PartialEq, Default)]
    struct Db {
        #[serde(default = "three")]
        pool: u8,
        #[serde(default)]
        name: String,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default)]
    struct Cache {
        size: u32,
        ttl: u32,
    }
    impl Default for Cache {
        fn default() -> Self {
            Self { size: 100, ttl: 60 }
        }
    }
    let check = |pairs: &[(&str, &str)], expected: Config| {
        let config: Config = prefixed("APP_").from_iter(env(pairs)).unwrap();
        assert_eq!(config, expected, "{pairs:?}");
    };
    check(
        &[],
        Config {
            workers: 0,
            retries: 3,
            db: Db::default(),
            cache: Cache { size: 100, ttl: 60 },
        },
    );
    check(
        &[
            ("APP_RETRIES", "5"),
            ("APP_DB__NAME", "app"),
            ("APP_CACHE__TTL", "5"),
        ],
        Config {
            workers: 0,
            retries: 5,
            db: Db {
                pool: 3,
                name: "app".into(),
            },
            cache: Cache { size: 100, ttl: 5 },
        },
    );
}
