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
    options: Option<std::collections::BTreeMap<String, String>>,
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
fn secret_keys_of_a_map_are_hidden_like_query_parameters() {
    check(
        &[
            ("APP_DATABASE_URL", "postgres://app@db/app"),
            (
                "APP_OPTIONS",
                "sslmode=require, password=mapPw\\,tail9 ,Token=mapT0ken,note=a\\,b",
            ),
        ],
        "mapPw",
        "APP_OPTIONS=\"sslmode=require, password=***,Token=***,note=a\\\\,b\" (environment)",
    );
    let report = report_of(&[
        ("APP_DATABASE_URL", "postgres://app@db/app"),
        ("APP_OPTIONS", "Token=mapT0ken,x=tail9"),
    ]);
    assert_hidden(&report, "mapT0ken");
    assert!(report.to_string().contains("x=tail9"), "{report}");
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
        "APP_PIN: invalid value (an integer from 0 to 4294967295)\n\
         APP_URL: invalid value (a URL such as https://example.com/)\n\
         APP_PORT: invalid value (an integer from 0 to 65535)\n\
         APP_KEY_FILE: cannot read the file it names, entity not found (a readable file of UTF-8 text)"
    );
    let debug = format!("{err:?}");
    for secret in ["s3cr3tpin", "pa55word", "9999999999", "hunter2hunter2"] {
        assert!(!text.contains(secret), "{text}");
        assert!(!debug.contains(secret), "{debug}");
    }
}

/// Where a secret sits in a URL.
#[derive(Debug, Clone, Copy)]
enum Spot {
    Password,
    Token,
    Query,
    Fragment,
}

const SCHEMES: &[&str] = &[
    "postgres", "mysql", "redis", "amqp", "https", "nats", "kafka",
];
/// Schemes whose lone user info is a token, not a user name.
const TOKEN_SCHEMES: &[&str] = &["nats", "kafka"];
/// Secret parameter names as deployments write them (dozen-redact's tests
/// hold its whole list).
const SECRET_PARAMS: &[&str] = &[
    "Password",
    "sslpassword",
    "access_token",
    "api_key",
    "sig",
    "client_secret",
    "X-Amz-Credential",
    "code",
];

mod props {
    use std::collections::BTreeMap;

    use dozen_config::{Secret, prefixed};
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::{SCHEMES, SECRET_PARAMS, Spot, TOKEN_SCHEMES, report_texts};

    /// A secret: upper-case `Zq` never occurs in the rest of the generated
    /// text, so finding it anywhere is a leak.
    fn secret() -> impl Strategy<Value = String> {
        "[A-Za-z0-9]{6,14}".prop_map(|s| format!("Zq{s}"))
    }

    /// A URL with `secret` (if any) at a random spot, among ordinary parts.
    fn url(secret: Option<String>) -> impl Strategy<Value = String> {
        (
            proptest::sample::select(SCHEMES),
            proptest::sample::select(TOKEN_SCHEMES),
            prop_oneof![
                Just(Spot::Password),
                Just(Spot::Token),
                Just(Spot::Query),
                Just(Spot::Fragment)
            ],
            "[a-z]{0,5}",
            "[a-z]{1,8}(:[0-9]{1,5})?",
            "(/[a-z]{0,6}){0,2}",
            proptest::collection::vec("[a-z]{1,5}=[a-z0-9]{0,5}", 0..4),
            proptest::sample::select(SECRET_PARAMS),
            any::<prop::sample::Index>(),
        )
            .prop_map(
                move |(scheme, token_scheme, spot, user, host, path, params, name, at)| {
                    let Some(secret) = &secret else {
                        let query = params.join("&");
                        return format!("{scheme}://{user}@{host}{path}?{query}");
                    };
                    let mut params = params;
                    let (scheme, userinfo, fragment) = match spot {
                        Spot::Password => (scheme, format!("{user}:{secret}@"), String::new()),
                        Spot::Token => (token_scheme, format!("{secret}@"), String::new()),
                        Spot::Query => {
                            let i = at.index(params.len() + 1);
                            params.insert(i, format!("{name}={secret}"));
                            (scheme, String::new(), String::new())
                        }
                        Spot::Fragment => (scheme, String::new(), format!("#{secret}")),
                    };
                    let query = if params.is_empty() {
                        String::new()
                    } else {
                        format!("?{}", params.join("&"))
                    };
                    format!("{scheme}://{userinfo}{host}{path}{query}{fragment}")
                },
            )
    }

    /// A list of one to four URLs, the secret one at a random position.
    fn list(secret: String) -> impl Strategy<Value = String> {
        (
            url(Some(secret)),
            proptest::collection::vec(url(None), 0..4),
            any::<prop::sample::Index>(),
            prop_oneof![Just(","), Just(", ")],
        )
            .prop_map(|(with_secret, mut others, at, sep)| {
                let i = at.index(others.len() + 1);
                others.insert(i, with_secret);
                others.join(sep)
            })
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "loaded, then checked")]
    struct Config {
        url: String,
        urls: Vec<String>,
        typed: Option<url::Url>,
        from_file: String,
        labels: BTreeMap<String, String>,
        secrets: Secrets,
        port: u16,
    }

    /// The fields that hold `Secret`s, whose `Debug` is checked whole.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "shown through Debug")]
    struct Secrets {
        token: Secret<String>,
        keys: Vec<Secret<String>>,
    }

    #[derive(Debug, Clone)]
    struct Case {
        secrets: Vec<String>,
        url: String,
        urls: String,
        typed: String,
        file: String,
        labels: String,
        token: String,
        keys: String,
        port: &'static str,
    }

    fn case() -> impl Strategy<Value = Case> {
        proptest::collection::vec(secret(), 7).prop_flat_map(|s| {
            (
                url(Some(s[0].clone())),
                list(s[1].clone()),
                prop_oneof![
                    url(Some(s[2].clone())),
                    // A URL that does not parse, with the secret in it.
                    Just(format!("postgres://u:{}@[::1/db", s[2])),
                ],
                prop_oneof![url(Some(s[3].clone())), Just(s[3].clone())],
                list(s[4].clone()).prop_map(|l| format!("primary={}", l.replace(',', "\\,"))),
                Just(s[5].clone()),
                Just(format!("{},{}", s[6], s[5])),
                prop_oneof![Just("8080"), Just("http"), Just("")],
                Just(s),
            )
                .prop_map(
                    |(url, urls, typed, file, labels, token, keys, port, secrets)| Case {
                        secrets,
                        url,
                        urls,
                        typed,
                        file,
                        labels,
                        token,
                        keys,
                        port,
                    },
                )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Secrets at random spots of random URLs and lists, in a file and
        /// in `Secret` fields: never in the report, `Debug` or an error,
        /// whether the load succeeds or fails on another variable.
        #[test]
        fn secrets_in_random_positions_are_never_shown(case in case()) {
            let file = crate::file(format!("{}\n", case.file).as_bytes());
            let mut pairs = vec![
                ("P_URL", case.url.clone()),
                ("P_URLS", case.urls.clone()),
                ("P_TYPED", case.typed.clone()),
                ("P_FROM_FILE_FILE", file.path().to_string_lossy().into_owned()),
                ("P_LABELS", case.labels.clone()),
                ("P_SECRETS__TOKEN", case.token.clone()),
                ("P_SECRETS__KEYS", case.keys.clone()),
            ];
            if !case.port.is_empty() {
                pairs.push(("P_PORT", case.port.to_owned()));
            }
            let pairs: Vec<(String, String)> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let mut shown = Vec::new();
            let mut loaded = false;
            match prefixed("P_").from_iter_with_report::<_, Config>(pairs) {
                Ok((config, report)) => {
                    shown.extend(report_texts(&report));
                    shown.push(format!("{:?}", config.secrets));
                    prop_assert_eq!(config.secrets.token.expose(), &case.token);
                    loaded = true;
                }
                Err(err) => {
                    shown.push(err.to_string());
                    shown.push(format!("{err:?}"));
                }
            }
            for text in &shown {
                prop_assert!(!text.contains("Zq"), "a secret in {}", text);
            }
            // And, once loaded, each secret read through a file or a Secret
            // is registered.
            let registry = dozen_redact::secrets();
            for secret in [&case.file, &case.token, &case.secrets[6]] {
                prop_assert!(
                    !loaded || !registry.mask(secret).contains("Zq"),
                    "{} not registered",
                    secret
                );
            }
        }
    }
}
