//! Promise: `describe` lists every variable a type reads, derived from the
//! type alone (no environment): its full name, a type hint, whether it is
//! required, optional or defaulted, and whether it is a secret, as a Markdown
//! table and as a `.env.example`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use dozen_config::{Requirement, Secret, prefixed};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Config {
    database_url: Secret<url::Url>,
    #[serde(default = "port")]
    port: u16,
    debug: bool,
    #[serde(with = "humantime_serde")]
    timeout: Duration,
    hosts: Vec<String>,
    ports: Option<Vec<u16>>,
    labels: BTreeMap<String, u8>,
    listen: SocketAddr,
    data: PathBuf,
    mode: Mode,
    ratio: f32,
    db: Db,
    cache: Option<Cache>,
}

fn port() -> u16 {
    8080
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Web,
    Worker,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Db {
    host: String,
    #[serde(default)]
    pool: u8,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the description matters")]
struct Cache {
    url: String,
}

#[test]
fn describes_every_variable() {
    let description = prefixed("APP_").describe::<Config>();
    let rows: Vec<(&str, &str, Requirement, bool)> = description
        .vars()
        .map(|v| (v.name(), v.hint(), v.requirement(), v.is_secret()))
        .collect();
    use Requirement::{Default, Optional, Required};
    assert_eq!(
        rows,
        [
            ("APP_DATABASE_URL", "url", Required, true),
            ("APP_PORT", "integer", Default, false),
            ("APP_DEBUG", "bool", Required, false),
            ("APP_TIMEOUT", "duration", Required, false),
            ("APP_HOSTS", "list of string", Required, false),
            ("APP_PORTS", "list of integer", Optional, false),
            ("APP_LABELS", "map of key=integer", Required, false),
            ("APP_LISTEN", "socket address", Required, false),
            ("APP_DATA", "path", Required, false),
            ("APP_MODE", "one of web, worker", Required, false),
            ("APP_RATIO", "number", Required, false),
            ("APP_DB__HOST", "string", Required, false),
            ("APP_DB__POOL", "integer", Default, false),
            ("APP_CACHE__URL", "string", Optional, false),
        ]
    );
    let markdown = description.markdown();
    assert!(markdown.starts_with("| Variable | Type | Required | Secret |\n|---|---|---|---|\n| `APP_DATABASE_URL` | url | required | yes |\n"), "{markdown}");
    assert!(markdown.contains("| `APP_PORT` | integer | has a default | no |\n"));
    let example = description.env_example();
    assert!(example.starts_with("# url, required, secret (or APP_DATABASE_URL_FILE=/path/to/file)\nAPP_DATABASE_URL=\n# integer, has a default\n# APP_PORT=\n"), "{example}");
    assert_eq!(
        dozen_config::describe::<Db>()
            .vars()
            .map(|v| v.name())
            .collect::<Vec<_>>(),
        ["HOST", "POOL"]
    );
}

/// A field whose own check accepts only some words (a `deserialize_with`
/// that refuses the tracer's placeholder) is described, and so is every field
/// after it: the check does not end the description. Serde names missing
/// fields in field order, so behind a required field of that kind the
/// requirement of a later field cannot be learned: it is listed as required,
/// the safe side (`LAST` here is).
#[test]
fn a_field_that_accepts_only_some_words_does_not_hide_the_fields_after_it() {
    fn only_words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "json" | "pretty" => Ok(s),
            _ => Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Other("another word"),
                &"json or pretty",
            )),
        }
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the description matters")]
    struct Words {
        first: Option<u16>,
        #[serde(default, deserialize_with = "only_words")]
        format: String,
        #[serde(deserialize_with = "only_words")]
        style: String,
        after: Option<String>,
        last: u8,
    }
    let described = dozen_config::describe::<Words>();
    let vars: Vec<(&str, Requirement)> = described
        .vars()
        .map(|v| (v.name(), v.requirement()))
        .collect();
    assert_eq!(
        vars,
        [
            ("FIRST", Requirement::Optional),
            ("FORMAT", Requirement::Default),
            ("STYLE", Requirement::Required),
            ("AFTER", Requirement::Optional),
            ("LAST", Requirement::Required),
        ],
        "{described}"
    );
}

/// A duration whose own visitor refuses every placeholder (a lower bound
/// above zero, as dozen-jobs' `JOBS_LEASE` has) is described, and so is
/// every field after it.
#[test]
fn a_visitor_that_refuses_every_placeholder_does_not_hide_the_fields_after_it() {
    struct AtLeastOneSecond;
    impl serde::de::Visitor<'_> for AtLeastOneSecond {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a duration of at least 1s")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let d = humantime_serde::re::humantime::parse_duration(v)
                .map_err(|_| E::custom("not a duration"))?;
            if d < Duration::from_secs(1) {
                return Err(E::custom("too small"));
            }
            Ok(d)
        }
    }
    fn at_least_1s<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_str(AtLeastOneSecond)
    }
    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only the description matters")]
    struct Jobs {
        #[serde(default)]
        first: u32,
        #[serde(default = "one_second", deserialize_with = "at_least_1s")]
        lease: Duration,
        #[serde(default)]
        after: Option<String>,
    }
    fn one_second() -> Duration {
        Duration::from_secs(1)
    }
    let names: Vec<String> = dozen_config::describe::<Jobs>()
        .vars()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(names, ["FIRST", "LEASE", "AFTER"]);
}

/// A `Secret` marks what it holds however it is read: each variable of a secret struct or
/// of a secret map, and a list (or a map) whose items are secrets.
#[test]
fn secrets_inside_structs_lists_and_maps_are_described_as_secrets() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the description matters")]
    struct WithSecrets {
        creds: Secret<Db>,
        keys: Vec<Secret<String>>,
        by_name: BTreeMap<String, Secret<String>>,
        plain: Vec<String>,
    }
    let description = prefixed("APP_").describe::<WithSecrets>();
    let rows: Vec<(&str, bool)> = description
        .vars()
        .map(|v| (v.name(), v.is_secret()))
        .collect();
    assert_eq!(
        rows,
        [
            ("APP_CREDS__HOST", true),
            ("APP_CREDS__POOL", true),
            ("APP_KEYS", true),
            ("APP_BY_NAME", true),
            ("APP_PLAIN", false),
        ]
    );
    assert!(
        description
            .env_example()
            .contains("(or APP_KEYS_FILE=/path/to/file)"),
        "{}",
        description.env_example()
    );
}
