//! Promise: no secret is ever printed. Whatever a URL holds, and wherever its secrets sit
//! (a user-info password, a NATS token, the value of any parameter of the documented list
//! of secret names), `Display`, `Debug` and every error this crate produces for it (parse
//! errors included, such as a bad port next to a password) show none of them, as written
//! or percent-encoded.

use dozen_backing::{Error, ServiceUrl};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use crate::in_runtime;

/// The documented list of secret query parameter names (dozen-redact's README), and
/// spellings that contain one.
pub(crate) const SECRET_PARAMS: &[&str] = &[
    "password",
    "sslpassword",
    "pass",
    "pwd",
    "secret",
    "token",
    "access_token",
    "api_key",
    "key",
    "sig",
    "signature",
    "auth",
    "code",
    "Client_Secret",
    "authorization",
];

const SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "pgsql",
    "mysql",
    "mariadb",
    "redis",
    "rediss",
    "valkey",
    "amqp",
    "amqps",
    "nats",
    "http",
    "https",
    "mongodb",
    "sqlite",
    "foo",
];

/// Secrets start with three capital letters, which no other generated part and no
/// message of this crate contains, so finding one in an output can only be a leak.
pub(crate) fn secret() -> impl Strategy<Value = String> {
    "[A-Z]{3}[ -~]{0,24}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,7}"
}

/// Every text this crate prints for `input`: Display and Debug when it parses, the error
/// otherwise, and the errors the drivers' entry points give for it.
pub(crate) fn printed(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push_error = |e: &Error| {
        out.push(e.to_string());
        out.push(format!("{e:?}"));
    };
    match input.parse::<ServiceUrl>() {
        Ok(url) => {
            for error in entry_point_errors(&url) {
                push_error(&error);
            }
            out.push(url.to_string());
            out.push(format!("{url:?}"));
            out.push(format!("{url:#?}"));
        }
        Err(e) => push_error(&e),
    }
    let json = serde_json::to_string(input).unwrap();
    if let Err(e) = serde_json::from_str::<ServiceUrl>(&json) {
        out.push(e.to_string());
    }
    out
}

/// The errors of building a client or pool for `url` of every kind this build has: a
/// wrong kind, a parameter the driver refuses, a driver's own parse error.
#[allow(unused_mut, unused_variables, reason = "depends on the features")]
fn entry_point_errors(url: &ServiceUrl) -> Vec<Error> {
    let mut errors = Vec::new();
    #[cfg(feature = "_sqlx")]
    let settings = dozen_backing::PoolSettings::default();
    #[cfg(feature = "postgres")]
    errors.extend(dozen_backing::connect_lazy::<dozen_backing::Postgres>(url, &settings).err());
    #[cfg(feature = "mysql")]
    errors.extend(dozen_backing::connect_lazy::<dozen_backing::MySql>(url, &settings).err());
    #[cfg(feature = "sqlite")]
    errors.extend(dozen_backing::connect_lazy::<dozen_backing::Sqlite>(url, &settings).err());
    #[cfg(feature = "redis")]
    errors.extend(dozen_backing::redis::client(url).err());
    errors
}

#[track_caller]
pub(crate) fn assert_hidden(secret: &str, outputs: &[String]) -> Result<(), TestCaseError> {
    let encoded = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let plus = encoded.replace("%20", "+");
    for output in outputs {
        for form in [secret, &encoded, &plus] {
            prop_assert!(!output.contains(form), "{output:?} shows {form:?}");
        }
    }
    Ok(())
}

/// The cases the issue reported, and their relatives.
#[test]
fn reported_cases_show_no_secret() {
    const S: &str = "Hunter2-s3cret";
    let cases = [
        format!("postgres://app@db/app?password={S}"),
        format!("postgres://app@db/app?sslmode=require&sslpassword={S}"),
        format!("postgres://app:{S}@db/app?sslmode=require#x"),
        format!("postgres://app:{S}@db:99999/app"),
        format!("postgres://app@db:99999/app?password={S}"),
        format!("nats://{S}@nats:4222"),
        format!("nats://{S}@nats:badport"),
        format!("redis://:{S}@cache:6379/0?token={S}"),
        format!("mysql://root@db/app?password={S}&api_key={S}"),
        format!("sqlite://app.db?mode=rwc&key={S}"),
        format!("http://example.com/x?access_token={S}&code={S}&sig={S}"),
        format!("foo://{S}@host/"),
        format!("postgres://app:{S}@db/app#{S}"),
    ];
    in_runtime(|| {
        for input in &cases {
            let outputs = printed(input);
            assert!(!outputs.is_empty());
            for output in &outputs {
                assert!(!output.contains(S), "{input}: {output}");
            }
        }
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A URL with secrets in random positions: user-info password, token, secret
    /// parameters among harmless ones, percent-encoded as a user would write them.
    #[test]
    fn secrets_in_random_positions_never_printed(
        scheme in proptest::sample::select(SCHEMES),
        user in name(),
        password in proptest::option::of(secret()),
        token in proptest::option::of(secret()),
        host in name(),
        port in proptest::option::of(0_u32..100_000),
        db in name(),
        params in proptest::collection::vec(
            (prop_oneof![
                proptest::sample::select(SECRET_PARAMS).prop_map(|k| (k.to_owned(), true)),
                proptest::sample::select(&["sslmode", "application_name", "db", "mode", "x"][..])
                    .prop_map(|k| (k.to_owned(), false)),
            ], secret(), name()),
            0..5,
        ),
    ) {
        let mut secrets = Vec::new();
        let userinfo = match (&password, &token) {
            (Some(p), _) => {
                secrets.push(p.clone());
                format!("{user}:{}@", utf8_percent_encode(p, NON_ALPHANUMERIC))
            }
            (None, Some(t)) if matches!(scheme, "nats" | "foo") => {
                secrets.push(t.clone());
                format!("{}@", utf8_percent_encode(t, NON_ALPHANUMERIC))
            }
            _ => format!("{user}@"),
        };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let query: Vec<String> = params
            .iter()
            .map(|((key, is_secret), value, plain)| {
                if *is_secret {
                    secrets.push(value.clone());
                    format!("{key}={}", utf8_percent_encode(value, NON_ALPHANUMERIC))
                } else {
                    format!("{key}={plain}")
                }
            })
            .collect();
        let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        let input = if scheme == "sqlite" {
            format!("sqlite://{db}.db{query}")
        } else {
            format!("{scheme}://{userinfo}{host}{port}/{db}{query}")
        };
        let outputs = in_runtime(|| printed(&input));
        for secret in &secrets {
            assert_hidden(secret, &outputs)?;
        }
    }

    /// The same secrets written raw, so that they break the URL in every way a user
    /// can: the error (or the URL, if it still parses) shows none of them.
    #[test]
    fn raw_secrets_never_printed_even_when_they_break_the_url(
        scheme in proptest::sample::select(SCHEMES),
        user in name(),
        secret in secret(),
        host in name(),
        port in proptest::option::of("[0-9a-z]{1,6}"),
        key in proptest::sample::select(SECRET_PARAMS),
        position in 0_usize..3,
    ) {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let input = match position {
            0 => format!("{scheme}://{user}:{secret}@{host}{port}/db"),
            1 => format!("{scheme}://{host}{port}/db?{key}={secret}"),
            _ => format!("{scheme}://{secret}@{host}{port}/db"),
        };
        if position == 2
            && (!matches!(scheme, "nats" | "foo") || secret.contains(['/', '?', '#', '\\']))
        {
            // A lone user name is a user, not a secret, for the other schemes; and a
            // token cut by `/`, `?` or `#` is, by the URL's own syntax, a host.
            return Ok(());
        }
        if scheme == "sqlite" && position != 1 {
            // After `sqlite://` comes a file path, as sqlx reads it: no user info.
            return Ok(());
        }
        let outputs = in_runtime(|| printed(&input));
        assert_hidden(&secret, &outputs)?;
    }
}
