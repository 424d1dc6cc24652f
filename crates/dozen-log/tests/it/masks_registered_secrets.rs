//! Defence in depth: a value registered in `dozen_redact` never reaches a line dozen-log writes,
//! in the JSON and the pretty format, whoever logged it and wherever in the line it sits
//! (message, event field, span field, error chain, label, `httpRequest` member, target of a
//! driver's warning), nor the panic hook's report on standard error. Values shorter than
//! `dozen_redact::MIN_SECRET_LEN` are exempt.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_subscriber::prelude::*;

use crate::child::{child, json_lines};
use crate::{Capture, parse_strict};

/// Registered by the tests of this module only; no other test logs these values.
const PASSWORD: &str = "Tr0ub4dor-and-3";
const QUOTED: &str = "quo\"te\\d-secret";

fn register() {
    assert!(dozen_redact::register(PASSWORD) || dozen_redact::secrets().mask(PASSWORD) == "***");
    dozen_redact::register(QUOTED);
}

#[derive(Debug)]
struct DriverError(String);

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DriverError {}

struct Options;

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Options {{ password: {PASSWORD:?}, other: {QUOTED} }}")
    }
}

/// Logs the secrets in every place a line has.
fn emit() {
    let span = tracing::info_span!("connect", url = %format!("postgres://app:{PASSWORD}@db/app"));
    let _e = span.enter();
    let err = DriverError(format!("password authentication failed: {PASSWORD}"));
    tracing::warn!(
        target: "sqlx::postgres::notice",
        options = ?Options,
        error = &err as &dyn std::error::Error,
        labels.key = PASSWORD,
        httpRequest.requestUrl = format!("/x?p={PASSWORD}").as_str(),
        quoted = QUOTED,
        "connection to postgres://app:{PASSWORD}@db/app failed ({QUOTED})"
    );
}

fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_180_000)
}

#[test]
fn registered_values_never_reach_a_json_line() {
    register();
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    let out = capture.take();
    let v = parse_strict(out.trim_end()).unwrap();
    let text = v.to_string();
    assert!(!text.contains(PASSWORD), "{out}");
    assert!(!text.contains(QUOTED), "{out}");
    assert!(!out.contains(PASSWORD), "{out}");
    assert!(!out.contains("quo\\\"te\\\\d-secret"), "{out}");
    assert_eq!(
        v["message"],
        "connection to postgres://app:***@db/app failed (***)"
    );
    assert_eq!(v["url"], "postgres://app:***@db/app");
    assert_eq!(v["quoted"], "***");
    assert_eq!(v["logging.googleapis.com/labels"]["key"], "***");
}

#[test]
fn registered_values_never_reach_a_pretty_line() {
    register();
    let capture = Capture::default();
    let layer = dozen_log::pretty_layer()
        .with_ansi(false)
        .with_clock(fixed_clock)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    let out = capture.take();
    assert!(!out.contains(PASSWORD), "{out}");
    assert!(
        !out.contains("te\\\\d-secret") && !out.contains("te\\d-secret"),
        "{out}"
    );
    assert!(out.contains("postgres://app:***@db/app"), "{out}");
}

#[test]
fn values_shorter_than_the_minimum_are_not_masked() {
    // Documented exemption: masking every short word would mangle more than it protects.
    assert!(!dozen_redact::register("abc12"));
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!("code abc12");
    });
    let v = parse_strict(capture.take().trim_end()).unwrap();
    assert_eq!(v["message"], "code abc12");
}

#[test]
fn cutting_a_long_line_never_leaves_part_of_a_secret() {
    register();
    let capture = Capture::default();
    let layer = dozen_log::json_layer()
        .with_max_line_bytes(1024)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        // Wherever the cut falls, it must not fall inside the secret.
        for pad in 600..1000 {
            let text = format!("{}{PASSWORD}{}", "a".repeat(pad), "b".repeat(2000));
            tracing::info!(field = text.as_str(), "{text}");
        }
    });
    let out = capture.take();
    assert_eq!(out.lines().count(), 400);
    for line in out.lines() {
        let v = parse_strict(line).unwrap();
        assert_eq!(v["dozen.truncated"], true);
        assert!(!line.contains(&PASSWORD[..6]), "{line}");
    }
}

/// The child role `panic-secret`: panics with a registered value in the payload, as
/// `unwrap` on a driver's error does.
pub(crate) fn panic_with_secret() {
    register();
    let _guard = crate::child::from_env().init().unwrap();
    let span = tracing::info_span!(
        "connect",
        dsn = format!("postgres://app:{PASSWORD}@db").as_str()
    );
    let _entered = span.enter();
    connect().unwrap();
}

/// A driver's error that echoes the connection string.
fn connect() -> Result<(), String> {
    Err(format!("auth failed for postgres://app:{PASSWORD}@db"))
}

/// The child role `panic-secret-own-hook`: as `panic-secret`, with the application's own hook
/// installed before dozen-log's.
pub(crate) fn panic_with_secret_own_hook() {
    std::panic::set_hook(Box::new(|_| eprintln!("own hook ran")));
    panic_with_secret();
}

/// The payload of `panic-secret`, masked.
const MASKED_PAYLOAD: &str =
    "called `Result::unwrap()` on an `Err` value: \"auth failed for postgres://app:***@db\"";

#[test]
fn the_panic_report_is_masked_on_both_outputs() {
    // (role, LOG_FORMAT, RUST_BACKTRACE)
    let cases = [
        ("panic-secret", "json", None),
        ("panic-secret", "pretty", None),
        ("panic-secret", "json", Some("1")),
        ("panic-secret", "pretty", Some("full")),
        ("panic-secret-own-hook", "json", None),
        ("panic-secret-own-hook", "pretty", Some("1")),
    ];
    for (role, format, backtrace) in cases {
        let case = format!("{role} {format} RUST_BACKTRACE={backtrace:?}");
        let mut envs = vec![("LOG_FORMAT", format)];
        envs.extend(backtrace.map(|b| ("RUST_BACKTRACE", b)));
        let out = child(role, &envs).output().unwrap();
        assert!(!out.status.success(), "{case}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stdout.contains(PASSWORD), "{case}: {stdout}");
        assert!(!stderr.contains(PASSWORD), "{case}: {stderr}");
        if format == "json" {
            let lines = json_lines(&out.stdout);
            let panic_line = lines
                .iter()
                .find(|l| l["severity"] == "CRITICAL")
                .unwrap_or_else(|| panic!("{case}: {stdout}"));
            assert_eq!(
                panic_line["message"],
                format!("panicked: {MASKED_PAYLOAD}"),
                "{case}"
            );
            assert_eq!(panic_line["dsn"], "postgres://app:***@db", "{case}");
        }
        // The standard hook's report, once: in the pretty format the only one.
        let file = "crates/dozen-log/tests/it/masks_registered_secrets.rs";
        assert_eq!(
            stderr.matches(" panicked at ").count(),
            1,
            "{case}: {stderr}"
        );
        let report = stderr
            .lines()
            .skip_while(|l| !l.starts_with("thread '"))
            .take(2)
            .collect::<Vec<_>>();
        assert!(
            report[0].contains(&format!(" panicked at {file}:")),
            "{case}: {stderr}"
        );
        assert_eq!(report[1], MASKED_PAYLOAD, "{case}: {stderr}");
        assert_eq!(
            stderr.contains("stack backtrace:"),
            backtrace.is_some(),
            "{case}: {stderr}"
        );
        assert_eq!(
            stderr.contains("own hook ran"),
            role.ends_with("own-hook"),
            "{case}: {stderr}"
        );
    }
}

/// A config struct whose derived `Debug` shows the password, as drivers' options do.
#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug only")]
struct ConnectOptions {
    host: &'static str,
    password: String,
}

mod property {
    use proptest::prelude::*;

    use super::*;

    /// Printable ASCII (quotes and backslashes included) and a few other letters.
    fn secret() -> impl Strategy<Value = String> {
        "[ -~äéß€中]{6,24}".prop_map(|tail| format!("zq-{tail}"))
    }

    /// Every string in `v`, keys included.
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
                out.push(k.clone());
                strings(x, out);
            }),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_registered_value_never_reaches_a_line_wherever_it_is(
            secret in secret(),
            before in "[ -~]{0,12}",
            after in "[ -~]{0,12}",
        ) {
            prop_assume!(dozen_redact::register(&secret));
            let text = format!("{before}{secret}{after}");
            let debug_form = format!("{secret:?}");
            let debug_form = &debug_form[1..debug_form.len() - 1];
            let options = ConnectOptions { host: "db", password: secret.clone() };
            let err = DriverError(text.clone());
            let capture = Capture::default();
            let layer = dozen_log::json_layer().with_writer(capture.clone());
            let pretty = Capture::default();
            let pretty_layer = dozen_log::pretty_layer().with_ansi(false).with_writer(pretty.clone());
            let subscriber = tracing_subscriber::registry().with(layer).with(pretty_layer);
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("s", in_span = text.as_str(), shown = %text);
                let _e = span.enter();
                tracing::error!(
                    plain = text.as_str(),
                    debug = ?text,
                    options = ?options,
                    error = &err as &dyn std::error::Error,
                    labels.l = text.as_str(),
                    "{text}"
                );
            });
            let out = capture.take();
            let v = parse_strict(out.trim_end()).unwrap();
            let mut all = Vec::new();
            strings(&v, &mut all);
            for s in &all {
                prop_assert!(!s.contains(&secret), "{s:?} in {out}");
                prop_assert!(!s.contains(debug_form), "{s:?} in {out}");
            }
            let pretty = pretty.take();
            prop_assert!(!pretty.contains(&secret), "{pretty}");
            prop_assert!(!pretty.contains(debug_form), "{pretty}");
        }
    }
}
