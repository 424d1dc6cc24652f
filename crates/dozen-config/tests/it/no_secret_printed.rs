//! Promise: no secret is printed. The "configuration loaded" report (its
//! `Display` and its entries), `Debug` and every error hide URL passwords and
//! tokens in every URL of a value, the values of secret query parameters,
//! fragments, anything read through `X_FILE`, and `Secret<T>`; one marker,
//! `***`, everywhere.

use dozen_config::{Report, Secret, ValueSource, prefixed};
use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the report matters")]
struct Urls {
    database_url: String,
    nats_url: Option<String>,
    brokers: Option<Vec<String>>,
    api_url: Option<url::Url>,
}

fn report_of(pairs: &[(&str, &str)]) -> Report {
    prefixed("APP_")
        .from_iter_with_report::<_, Urls>(env(pairs))
        .unwrap()
        .1
}

/// Each of the report's forms: `Display`, each entry's `Display` and value,
/// and `Debug`.
pub(crate) fn report_texts(report: &Report) -> Vec<String> {
    let mut texts = vec![report.to_string(), format!("{report:?}")];
    for entry in report.entries() {
        texts.push(entry.to_string());
        texts.push(format!("{entry:?}"));
        texts.extend(entry.value().map(str::to_owned));
    }
    texts
}

fn assert_hidden(report: &Report, secret: &str) {
    for text in report_texts(report) {
        assert!(!text.contains(secret), "{secret} shown in {text}");
    }
}

/// Loads `pairs` and checks that `secret` is hidden in every form of the
/// report, and that its `Display` shows `shown`.
fn check(pairs: &[(&str, &str)], secret: &str, shown: &str) {
    let report = report_of(pairs);
    assert_hidden(&report, secret);
    assert!(
        report.to_string().contains(shown),
        "{shown} not in {report}"
    );
}

// The three cases of issue 12, each printed in full before.

#[test]
fn a_password_query_parameter_is_hidden() {
    check(
        &[("APP_DATABASE_URL", "postgres://app@db/app?password=pw9Zq1x")],
        "pw9Zq1x",
        "APP_DATABASE_URL=postgres://app@db/app?password=*** (environment)",
    );
}

#[test]
fn a_nats_token_is_hidden() {
    check(
        &[
            ("APP_DATABASE_URL", "postgres://app@db/app"),
            ("APP_NATS_URL", "nats://T0KENzz9@nats:4222"),
        ],
        "T0KENzz9",
        "APP_NATS_URL=nats://***@nats:4222 (environment)",
    );
}

#[test]
fn the_second_url_of_a_list_is_hidden() {
    check(
        &[
            ("APP_DATABASE_URL", "postgres://app@db/app"),
            (
                "APP_BROKERS",
                "amqp://a:one1pass@mq1/v,amqp://b:two2pass@mq2/v",
            ),
        ],
        "two2pass",
        "APP_BROKERS=\"amqp://a:***@mq1/v,amqp://b:***@mq2/v\" (environment)",
    );
}

#[test]
fn secret_query_parameters_and_fragments_are_hidden_typed_urls_too() {
    check(
        &[(
            "APP_DATABASE_URL",
            "mysql://root@db/test?sslmode=required&sslpassword=k3y5ecret#frag0nt",
        )],
        "k3y5ecret",
        "APP_DATABASE_URL=mysql://root@db/test?sslmode=required&sslpassword=***#*** (environment)",
    );
    check(
        &[
            ("APP_DATABASE_URL", "postgres://app@db/app"),
            (
                "APP_API_URL",
                "https://api.example.com/v1?access_token=tok3n9abc",
            ),
        ],
        "tok3n9abc",
        "APP_API_URL=https://api.example.com/v1?access_token=*** (environment)",
    );
}

#[test]
fn a_value_read_through_a_file_is_never_shown_only_where_it_came_from() {
    // Not a secret by any rule but where it came from: still hidden.
    let file = crate::file(b"postgres://app@db/plainfilevalue\n");
    let path = file.path().to_str().unwrap();
    let (urls, report) = prefixed("APP_")
        .from_iter_with_report::<_, Urls>(env(&[("APP_DATABASE_URL_FILE", path)]))
        .unwrap();
    assert_eq!(urls.database_url, "postgres://app@db/plainfilevalue");
    assert_hidden(&report, "plainfilevalue");
    assert_hidden(&report, path);
    let entry = report.entries().next().unwrap();
    assert_eq!(entry.var(), "APP_DATABASE_URL");
    assert_eq!(entry.source(), ValueSource::File);
    assert_eq!(entry.value(), Some("***"));
    assert_eq!(
        entry.to_string(),
        "APP_DATABASE_URL=*** (from APP_DATABASE_URL_FILE)"
    );
}

#[test]
fn one_marker_everywhere() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the output matters")]
    struct Config {
        token: Secret<String>,
        url: String,
    }
    let (config, report) = prefixed("APP_")
        .from_iter_with_report::<_, Config>(env(&[
            ("APP_TOKEN", "t0k3nvalue"),
            ("APP_URL", "redis://:pw123456@cache"),
        ]))
        .unwrap();
    assert_eq!(
        format!("{config:?}"),
        "Config { token: ***, url: \"redis://:pw123456@cache\" }"
    );
    assert_eq!(config.token.to_string(), dozen_redact::MARKER);
    assert_eq!(
        report.to_string(),
        "APP_TOKEN=*** (environment), APP_URL=redis://:***@cache (environment)"
    );
    assert!(!report.to_string().contains("[redacted]"));
}

#[test]
fn errors_never_echo_a_value_nor_a_file_path() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the errors matter")]
    struct Config {
        pin: Secret<u32>,
        url: url::Url,
        port: u16,
        key: Secret<String>,
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("hunter2hunter2");
    let err = prefixed("APP_")
        .from_iter::<_, Config>(env(&[
            ("APP_PIN", "s3cr3tpin"),
            ("APP_URL", "postgres://u:pa55word@[::1/db"),
            ("APP_PORT", "99999999999999999999999"),
            ("APP_KEY_FILE", missing.to_str().unwrap()),
        ]))
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "APP_PIN: invalid value, expected an integer from 0 to 4294967295\n\
         APP_URL: invalid value, expected a URL such as https://example.com/\n\
         APP_PORT: invalid value, expected an integer from 0 to 65535\n\
         APP_KEY_FILE: cannot read the file it names (entity not found)"
    );
    let debug = format!("{err:?}");
    for secret in ["s3cr3tpin", "pa55word", "9999999999", "hunter2hunter2"] {
        assert!(!text.contains(secret), "{text}");
        assert!(!debug.contains(secret), "{debug}");
    }
}
