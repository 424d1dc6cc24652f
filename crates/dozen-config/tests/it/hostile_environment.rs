//! Promise: the loader survives any environment. Random names and values
//! (empty, huge numbers, nested `__` names, `_FILE` pointing to missing,
//! non-UTF-8 or secret files) fed into a representative settings struct
//! (nested structs, options, lists, maps, `Secret`, durations, bools,
//! numbers) never panic it; its errors name variables and never contain a
//! value; its report never shows a secret or a file's content; and every
//! secret it read is registered with dozen-redact.
//!
//! The core check is [`check_environment`]. This file depends only on
//! dozen-config, dozen-redact, serde, humantime-serde and tempfile, so a
//! cargo-fuzz target can include it as is (`#[path = ".."] mod
//! hostile_environment;`) and call `check_environment(pairs)` with pairs
//! decoded from its input: a panic is a finding.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use dozen_config::{Secret, ValueSource, prefixed};
use serde::Deserialize;

/// A character no message of the crate holds: a value containing it must
/// never appear in an error, and it must not either unless a name has it.
pub(crate) const MARK: char = '\u{a4}';

/// The prefix every variable of [`Settings`] starts with.
pub(crate) const PREFIX: &str = "HOST_";

/// A value that stands for the path of a fixture file (see [`fixture`]).
pub(crate) const FILE_REFS: &[&str] = &[
    "@file:secret",
    "@file:latin1",
    "@file:missing",
    "@file:empty",
    "@file:dir",
];

/// A representative settings struct.
#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "loaded, then checked")]
pub(crate) struct Settings {
    port: u16,
    workers: Option<u8>,
    ratio: f64,
    #[serde(default)]
    debug: bool,
    #[serde(with = "humantime_serde")]
    timeout: Duration,
    #[serde(default, with = "humantime_serde")]
    idle: Option<Duration>,
    database_url: Secret<String>,
    replicas: Vec<String>,
    #[serde(default)]
    keys: Vec<Secret<String>>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    limits: HashMap<String, u64>,
    offset: Option<i128>,
    big: Option<u128>,
    mode: Mode,
    db: Db,
    cache: Option<Cache>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Web,
    Worker,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "loaded, then checked")]
pub(crate) struct Db {
    host: String,
    port: Option<u16>,
    password: Option<Secret<String>>,
    pool: Pool,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "loaded, then checked")]
pub(crate) struct Pool {
    max: u32,
    #[serde(default)]
    min: u32,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "loaded, then checked")]
pub(crate) struct Cache {
    url: String,
    #[serde(with = "humantime_serde")]
    ttl: Duration,
    token: Secret<String>,
}

/// Every variable [`Settings`] reads, with some near misses.
pub(crate) const NAMES: &[&str] = &[
    "HOST_PORT",
    "HOST_WORKERS",
    "HOST_RATIO",
    "HOST_DEBUG",
    "HOST_TIMEOUT",
    "HOST_IDLE",
    "HOST_DATABASE_URL",
    "HOST_DATABASE_URL_FILE",
    "HOST_REPLICAS",
    "HOST_KEYS",
    "HOST_KEYS_FILE",
    "HOST_LABELS",
    "HOST_LIMITS",
    "HOST_LIMITS__A",
    "HOST_OFFSET",
    "HOST_BIG",
    "HOST_MODE",
    "HOST_DB__HOST",
    "HOST_DB__HOST_FILE",
    "HOST_DB__PORT",
    "HOST_DB__PASSWORD",
    "HOST_DB__PASSWORD_FILE",
    "HOST_DB__POOL__MAX",
    "HOST_DB__POOL__MIN",
    "HOST_DB__POOL__MAX__X",
    "HOST_DB__POOL",
    "HOST_DB",
    "HOST_DB____",
    "HOST_CACHE__URL",
    "HOST_CACHE__TTL",
    "HOST_CACHE__TOKEN",
    "HOST_CACHE__TOKEN_FILE",
    "HOST_CACHE",
    "HOST_",
    "HOST___",
];

/// The fixture files `@file:NAME` values stand for; made once per process.
pub(crate) fn fixture(name: &str) -> Option<PathBuf> {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.path().join(name), bytes).expect("a fixture file");
        };
        write("secret", "\u{a4}fileSecretValue\n".as_bytes());
        write("latin1", b"caf\xe9\xa4\xff");
        write("empty", b"");
        std::fs::create_dir(dir.path().join("dir")).expect("a fixture directory");
        dir
    });
    let file = name.strip_prefix("@file:")?;
    Some(dir.path().join(file))
}

/// The core check: loads [`Settings`] under [`PREFIX`] from `pairs` (a value
/// `@file:NAME` is replaced by that fixture's path) and panics if any promise
/// is broken:
///
/// - loading never panics;
/// - a failed load has at least one problem, each naming a variable under
///   the prefix (or the prefix itself);
/// - no error (`Display` or `Debug`) contains a value holding [`MARK`], nor
///   the mark at all unless a name holds it, nor a fixture's path;
/// - a loaded report shows every `Secret` and every value read from a file
///   as `***`, and `Debug` of a `Secret` field is `***`;
/// - every `Secret` value of 6 bytes or more is masked by
///   `dozen_redact::secrets()`.
pub(crate) fn check_environment(pairs: Vec<(String, String)>) {
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(name, value)| match fixture(&value) {
            Some(path) => (name, path.to_string_lossy().into_owned()),
            None => (name, value),
        })
        .collect();
    let loaded = prefixed(PREFIX).from_iter_with_report::<_, Settings>(pairs.clone());
    check_outcome(&pairs, loaded);
}

/// The checks of [`check_environment`] on a load's outcome, given the
/// variables it read (for a load from the process environment, its
/// variables with non-UTF-8 ones converted lossily).
pub(crate) fn check_outcome(
    pairs: &[(String, String)],
    loaded: Result<(Settings, dozen_config::Report), dozen_config::Error>,
) {
    let marked: Vec<&str> = pairs
        .iter()
        .map(|(_, v)| v.as_str())
        .filter(|v| v.contains(MARK))
        .collect();
    let mark_in_names = pairs.iter().any(|(n, _)| n.contains(MARK));
    match loaded {
        Err(err) => {
            assert!(err.problems().count() > 0, "an error with no problem");
            let text = err.to_string();
            let debug = format!("{err:?}");
            for problem in err.problems() {
                assert!(
                    problem.var().starts_with(PREFIX) || problem.var() == PREFIX,
                    "{problem}"
                );
            }
            for shown in [&text, &debug] {
                for value in &marked {
                    assert!(!shown.contains(value), "a value in {shown}");
                }
                assert!(mark_in_names || !shown.contains(MARK), "{shown}");
                for file in FILE_REFS {
                    let path = fixture(file).expect("a fixture");
                    let path = path.to_string_lossy();
                    assert!(!shown.contains(&*path), "a path in {shown}");
                }
            }
        }
        Ok((settings, report)) => {
            for entry in report.entries() {
                if entry.is_secret() || entry.source() == ValueSource::File {
                    assert_eq!(entry.value(), Some(dozen_redact::MARKER), "{entry}");
                    assert!(
                        entry
                            .to_string()
                            .starts_with(&format!("{}=***", entry.var())),
                        "{entry}"
                    );
                }
            }
            let mut secrets = vec![(
                format!("{:?}", settings.database_url),
                settings.database_url.expose(),
            )];
            if let Some(password) = &settings.db.password {
                secrets.push((format!("{password:?}"), password.expose()));
            }
            if let Some(cache) = &settings.cache {
                secrets.push((format!("{:?}", cache.token), cache.token.expose()));
            }
            for key in &settings.keys {
                secrets.push((format!("{key:?}"), key.expose()));
            }
            let registry = dozen_redact::secrets();
            for (debug, value) in secrets {
                assert_eq!(debug, dozen_redact::MARKER);
                if value.len() >= dozen_redact::MIN_SECRET_LEN {
                    assert!(
                        !registry.mask(value).contains(value.as_str()),
                        "not registered"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{FILE_REFS, MARK, NAMES, check_environment};

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => proptest::sample::select(NAMES).prop_map(str::to_owned),
            1 => "HOST_[A-Z_]{0,6}(__[A-Z_]{0,6}){0,3}(_FILE)?",
            1 => "HOST_\\PC{0,10}",
            1 => "\\PC{0,10}",
        ]
    }

    fn marked() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,30}",
            "[0-9a-z ,=:./@?&#-]{0,40}",
            "(postgres|nats|redis)://[a-z]{0,5}:?[a-z0-9]{0,8}@[a-z]{1,5}/[a-z]{0,4}\\?password=",
        ]
        .prop_map(|s| format!("{s}{MARK}{}", s.len()))
    }

    fn ordinary() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("   ".to_owned()),
            "-?[0-9]{1,45}",
            Just("340282366920938463463374607431768211456".to_owned()),
            Just("-170141183460469231731687303715884105729".to_owned()),
            Just("18446744073709551616".to_owned()),
            "-?[0-9]{1,5}\\.[0-9]{0,5}(e[0-9]{1,4})?",
            Just("NaN".to_owned()),
            "(true|false|yes|OFF|1|0|maybe)",
            "[0-9]{1,25}(ns|ms|s|m|h|d|y)( [0-9]{1,3}s)?",
            "(web|worker|Web|)",
            "[a-z0-9]{1,8}(,[a-z0-9]{0,8}){0,4}",
            "([a-z]{1,3}=[0-9a-z]{0,20}),?([a-z]{1,3}=-?[0-9]{1,22}){0,3}",
            "\\\\,\\\\\\\\,[a-z]{0,3}\\\\,",
            proptest::sample::select(FILE_REFS).prop_map(str::to_owned),
            "(postgres://h/d|redis://:pw@c)",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        #[test]
        fn any_environment_loads_or_fails_cleanly(
            pairs in proptest::collection::vec(
                (name(), prop_oneof![2 => ordinary(), 1 => marked()]),
                0..40,
            ),
        ) {
            check_environment(pairs);
        }
    }

    const CHILD: &str = "DOZEN_CONFIG_HOSTILE_CHILD";

    /// Runs in the child: loads from the real process environment, which
    /// may hold names and values that are not UTF-8, and checks the outcome.
    #[test]
    fn child() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        let pairs: Vec<(String, String)> = std::env::vars_os()
            .map(|(n, v)| {
                (
                    n.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect();
        let loaded =
            dozen_config::prefixed(super::PREFIX).from_env_with_report::<super::Settings>();
        let text = match &loaded {
            Ok(_) => "loaded".to_owned(),
            Err(e) => e.to_string().replace('\n', " / "),
        };
        super::check_outcome(&pairs, loaded);
        println!("\nRESULT {text}");
    }

    fn os_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            ordinary().prop_map(String::into_bytes),
            marked().prop_map(String::into_bytes),
            // Not UTF-8, with the mark.
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(|mut v| {
                v.extend_from_slice(b"\xff\xc2\xa4");
                v
            }),
        ]
        // The OS refuses a NUL byte in a value.
        .prop_map(|v| v.into_iter().filter(|b| *b != 0).collect())
    }

    fn os_name() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => name().prop_map(String::into_bytes),
            1 => "HOST_[A-Z]{0,4}".prop_map(|n| {
                let mut n = n.into_bytes();
                n.push(0xff);
                n
            }),
        ]
        // The OS refuses these in a name.
        .prop_filter("a name the OS takes", |n| {
            !n.is_empty() && !n.contains(&b'=') && !n.contains(&0)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// The process environment, non-UTF-8 names and values included: a
        /// child process loads it and checks the outcome; it must exit
        /// cleanly with a result.
        #[cfg(unix)]
        #[test]
        fn any_process_environment_loads_or_fails_cleanly(
            vars in proptest::collection::vec((os_name(), os_value()), 0..16),
        ) {
            use std::os::unix::ffi::OsStrExt as _;
            let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "hostile_environment::tests::child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1");
            for (name, value) in &vars {
                let value = std::str::from_utf8(value)
                    .ok()
                    .and_then(super::fixture)
                    .map_or_else(|| value.clone(), |p| p.into_os_string().into_encoded_bytes());
                cmd.env(std::ffi::OsStr::from_bytes(name), std::ffi::OsStr::from_bytes(&value));
            }
            let out = cmd.output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            prop_assert!(out.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
            prop_assert!(stdout.contains("\nRESULT "), "{}", stdout);
        }
    }

    /// Non-UTF-8 values, names and `_FILE` paths in the process environment
    /// are problems on their variables, never panics.
    #[cfg(unix)]
    #[test]
    fn non_utf8_in_the_process_environment_is_reported() {
        use std::os::unix::ffi::OsStrExt as _;
        let os = |b: &[u8]| std::ffi::OsStr::from_bytes(b).to_owned();
        let latin1 = super::fixture("@file:latin1").unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "hostile_environment::tests::child",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env(os(b"HOST_PORT"), os(b"80\xff"))
            .env(os(b"HOST_DB__HOST"), os(b"caf\xe9"))
            .env(os(b"HOST_\xffJUNK"), os(b"x"))
            .env(os(b"HOST_DATABASE_URL_FILE"), os(b"/tmp/\xff"))
            .env(os(b"HOST_CACHE__TOKEN_FILE"), latin1)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        let result = stdout
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap();
        for expected in [
            "HOST_PORT: invalid value (valid UTF-8)",
            "HOST_DATABASE_URL_FILE: invalid value (valid UTF-8)",
            "HOST_DB__HOST: invalid value (valid UTF-8)",
            "HOST_CACHE__TOKEN_FILE: cannot read the file it names, not valid UTF-8 (a readable file of UTF-8 text)",
        ] {
            assert!(result.contains(expected), "{expected} not in {result}");
        }
    }

    /// A full, valid environment, so the success path is checked too
    /// (random ones rarely get every required variable right).
    #[test]
    fn a_valid_environment_with_files_passes_the_check() {
        let pairs = [
            ("HOST_PORT", "8080"),
            ("HOST_RATIO", "0.5"),
            ("HOST_TIMEOUT", "30s"),
            ("HOST_DATABASE_URL_FILE", "@file:secret"),
            (
                "HOST_REPLICAS",
                "postgres://a:hostPw1x@r1/d,nats://hostTok3n@r2",
            ),
            ("HOST_KEYS", "hostKeyOne,hostKeyTwo"),
            ("HOST_LABELS", "a=b"),
            ("HOST_BIG", "340282366920938463463374607431768211455"),
            ("HOST_MODE", "web"),
            ("HOST_DB__HOST", "db"),
            ("HOST_DB__PASSWORD", "hostDbPassw0rd"),
            ("HOST_DB__POOL__MAX", "4"),
            ("HOST_CACHE__URL", "redis://cache"),
            ("HOST_CACHE__TTL", "1m"),
            ("HOST_CACHE__TOKEN", "hostCacheT0k"),
        ];
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| {
                let v = super::fixture(v).map_or_else(
                    || (*v).to_owned(),
                    |path| path.to_string_lossy().into_owned(),
                );
                ((*n).to_owned(), v)
            })
            .collect();
        let (settings, report) = dozen_config::prefixed(super::PREFIX)
            .from_iter_with_report::<_, super::Settings>(owned.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.database_url.expose(), "\u{a4}fileSecretValue");
        let text = report.to_string();
        for secret in [
            "fileSecretValue",
            "hostPw1x",
            "hostTok3n",
            "hostKeyOne",
            "hostDbPassw0rd",
            "hostCacheT0k",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        check_environment(owned);
    }
}
