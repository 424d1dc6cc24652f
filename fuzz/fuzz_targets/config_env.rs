//! dozen-config's loader (`Loader::from_iter_with_report`) fed a random environment for a
//! representative configuration: nested structs through `__`, `Option`, `Vec`, a map,
//! `Secret<String>`, a humantime duration, `bool`, `u16`, `i64`, `String`, and `_FILE`
//! variables naming files that do not exist; with and without a prefix, strict or not.
//!
//! It never panics. No problem's `Display` or `Debug` contains a value from the environment
//! of at least `MIN_LEN` bytes, once the variable names, the texts the loader writes for
//! this type anyway (its `expected` descriptions, from a baseline run) and, for an unreadable
//! file, the path it names (shown by design) are taken out; a value that is itself part of a
//! name or of that fixed text is not checked. On success, the report never shows the value
//! of a `Secret`.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use dozen_config::{Loader, ProblemKind, Secret};
use dozen_fuzz::{MIN_LEN, occurs_elsewhere, url_secrets_in_text};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

// Most fields have defaults, so that random environments often load and the report is
// checked too; the required ones and the invalid values keep the error paths busy.
#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loaded")]
struct Config {
    #[serde(default)]
    port: u16,
    #[serde(default)]
    offset: i64,
    name: String,
    #[serde(default)]
    enabled: bool,
    #[serde(default = "thirty_seconds", with = "humantime_serde")]
    timeout: Duration,
    #[serde(default)]
    api_token: Secret<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    limits: BTreeMap<String, u16>,
    nickname: Option<String>,
    db: Db,
    cache: Option<Cache>,
}

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loaded")]
struct Db {
    url: Secret<String>,
    #[serde(default)]
    max_connections: u16,
    #[serde(default, with = "humantime_serde")]
    idle: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only loaded")]
struct Cache {
    #[serde(with = "humantime_serde")]
    ttl: Duration,
    #[serde(default)]
    sizes: Vec<u16>,
}

/// The variables `Config` reads, some misspellings, and `_FILE` variants.
const NAMES: &[&str] = &[
    "PORT",
    "OFFSET",
    "NAME",
    "ENABLED",
    "TIMEOUT",
    "API_TOKEN",
    "TAGS",
    "LIMITS",
    "NICKNAME",
    "DB__URL",
    "DB__MAX_CONNECTIONS",
    "DB__IDLE",
    "CACHE__TTL",
    "CACHE__SIZES",
    "API_TOKEN_FILE",
    "DB__URL_FILE",
    "NAME_FILE",
    "PORT_FILE",
    "CACHE__TTL_FILE",
    "PROT",
    "DB__URLS",
    "DB_URL",
    "CACHE",
    "DB",
];

/// Values that parse as some field, so the fuzzer gets past the first error cheaply.
const VALUES: &[&str] = &[
    "8080",
    "0",
    "65536",
    "-9223372036854775808",
    "9223372036854775808",
    "30s",
    "1m 30s",
    "18446744073709551615s",
    "true",
    "off",
    "a=1,b=2",
    "a=1,a=2",
    "x,y\\,z",
    "1,2,,3",
    "",
    " ",
    "postgres://app:s3cr3tpw@db/app",
    "k=",
    "=",
    "\\",
    "on,off",
    "postgres://app@db/app?password=hunter22",
    "nats://T0K3N123@nats:4222",
    "redis://cache,postgres://u:secondpw@db/x",
];

/// Where `_FILE` variables point: under a directory that does not exist.
const NO_DIR: &str = "/nonexistent-dozen-fuzz";

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    prefixed: bool,
    strict: bool,
    vars: Vec<(u8, Value)>,
}

fn loader(prefixed: bool, strict: bool) -> Loader {
    let loader = if prefixed {
        dozen_config::prefixed("APP_")
    } else {
        Loader::new()
    };
    if strict { loader.strict() } else { loader }
}

fn prefix(prefixed: bool) -> &'static str {
    if prefixed { "APP_" } else { "" }
}

/// The texts the loader writes whatever the values: every problem (`Display` and `Debug`)
/// and its `expected` description, for baseline environments whose values are too short to
/// be checked, with and without the prefix, strict or not: every variable missing, empty,
/// or set to text no field but a string accepts; and every variable set along with its
/// `_FILE` variant, which names a file that does not exist.
fn fixed_texts() -> &'static Vec<String> {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut envs: Vec<Vec<(&str, String)>> = vec![Vec::new()];
        for value in ["", "\u{1}", "\u{1}=\u{1}", "\u{1},\u{1}", "1,\u{1}"] {
            let plain = NAMES.iter().filter(|n| !n.ends_with("_FILE"));
            envs.push(plain.map(|n| (*n, value.to_owned())).collect());
        }
        envs.push(
            NAMES
                .iter()
                .map(|n| {
                    let value = if n.ends_with("_FILE") {
                        format!("{NO_DIR}/x")
                    } else {
                        "\u{1}".to_owned()
                    };
                    (*n, value)
                })
                .collect(),
        );
        let mut texts = Vec::new();
        for (prefixed, strict) in [(false, false), (false, true), (true, false), (true, true)] {
            for env in &envs {
                let env = env
                    .iter()
                    .map(|(n, v)| (format!("{}{n}", prefix(prefixed)), v.clone()));
                let Err(e) = loader(prefixed, strict).from_iter_with_report::<_, Config>(env)
                else {
                    continue;
                };
                for p in e.problems() {
                    texts.push(p.to_string());
                    texts.push(format!("{p:?}"));
                    match p.kind() {
                        ProblemKind::Empty { expected } | ProblemKind::Invalid { expected, .. } => {
                            texts.push(expected.clone());
                        }
                        ProblemKind::Unreadable { reason, .. } => texts.push(reason.clone()),
                        _ => {}
                    }
                }
            }
        }
        texts.sort();
        texts.dedup();
        texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
        texts
    })
}

/// `text` with every occurrence of each of `masks` (and of its `Debug` spelling) replaced by
/// NULs, longest first; no environment value holds a NUL.
fn mask(text: &str, masks: &[String]) -> String {
    let mut masks: Vec<String> = masks
        .iter()
        .flat_map(|m| [m.clone(), debug_spelling(m)])
        .filter(|m| !m.is_empty())
        .collect();
    masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let mut out = text.to_owned();
    for m in &masks {
        out = out.replace(m.as_str(), &"\0".repeat(m.chars().count()));
    }
    out
}

/// How `Debug` writes `s` inside its quotes.
fn debug_spelling(s: &str) -> String {
    let debug = format!("{s:?}");
    debug[1..debug.len() - 1].to_owned()
}

fuzz_target!(|input: Input| {
    let pre = prefix(input.prefixed);
    let env: Vec<(String, String)> = input
        .vars
        .iter()
        .map(|(n, v)| {
            let name = NAMES[usize::from(*n) % NAMES.len()];
            let mut value = match v {
                Value::Known(k) => VALUES[usize::from(*k) % VALUES.len()].to_owned(),
                Value::Raw(s) => s.replace('\0', ""),
            };
            if name.ends_with("_FILE") {
                value = format!("{NO_DIR}/{value}");
            }
            (format!("{pre}{name}"), value)
        })
        .collect();
    let result =
        loader(input.prefixed, input.strict).from_iter_with_report::<_, Config>(env.clone());

    // Names, each prefixed or not, are never secret; nor is fixed text.
    let mut names: Vec<String> = NAMES
        .iter()
        .flat_map(|n| [(*n).to_owned(), format!("APP_{n}")])
        .collect();
    names.extend(env.iter().map(|(n, _)| n.clone()));
    let mut known = names.clone();
    known.extend(fixed_texts().iter().cloned());
    known.push(format!("{NO_DIR}/"));
    let checked: Vec<&str> = env
        .iter()
        .map(|(_, v)| v.as_str())
        .filter(|v| v.len() >= MIN_LEN && !known.iter().any(|k| k.contains(v)))
        .collect();

    match result {
        Err(e) => {
            assert!(e.problems().count() > 0, "an error with no problem");
            for p in e.problems() {
                let mut masks = known.clone();
                if let ProblemKind::Unreadable { path, .. } | ProblemKind::TooLarge { path } =
                    p.kind()
                {
                    masks.push(path.display().to_string());
                    let debug = format!("{path:?}");
                    masks.push(debug.trim_matches('"').to_owned());
                }
                let display = mask(&p.to_string(), &masks);
                let debug = mask(&format!("{p:?}"), &masks);
                for v in &checked {
                    assert!(
                        !display.contains(v) && !debug.contains(&debug_spelling(v)),
                        "value {v:?} in a problem\n problem: {p}\n debug: {p:?}\n env: {env:?}"
                    );
                }
            }
            // The whole error is these lines, one per problem.
            assert!(
                e.to_string().lines().count() >= e.problems().count(),
                "fewer lines than problems: {e}"
            );
        }
        Ok((config, report)) => {
            let secrets = [config.api_token.expose(), config.db.url.expose()];
            let shown = [
                report.to_string(),
                format!("{report:?}"),
                format!("{config:?}"),
            ];
            for s in secrets.iter().filter(|s| s.len() >= MIN_LEN) {
                // Legitimately shown when another variable that is not secret holds it too.
                let elsewhere = env.iter().any(|(n, v)| {
                    let secret_var = n.ends_with("API_TOKEN") || n.ends_with("DB__URL");
                    !secret_var && v.contains(*s)
                }) || known.iter().any(|k| k.contains(*s));
                if elsewhere
                    || ["[redacted]", "(environment)", "(default)", "(file)"]
                        .iter()
                        .any(|f| f.contains(*s))
                {
                    continue;
                }
                for text in &shown {
                    assert!(
                        !text.contains(*s),
                        "secret {s:?} shown: {text}\n env: {env:?}"
                    );
                }
            }
            // Nor the secrets of a URL inside any other value: a password, a NATS token, a
            // secret query parameter, in every URL of a list.
            for (name, value) in &env {
                for (at, s) in url_secrets_in_text(value) {
                    let elsewhere = occurs_elsewhere(value, s, &[at])
                        || env.iter().any(|(n, v)| n != name && v.contains(s))
                        || known.iter().any(|k| k.contains(s));
                    if s.len() < MIN_LEN || elsewhere {
                        continue;
                    }
                    let report = report.to_string();
                    assert!(
                        !report.contains(s),
                        "URL secret {s:?} of {name} shown in the report: {report}\n env: {env:?}"
                    );
                }
            }
        }
    }
});
