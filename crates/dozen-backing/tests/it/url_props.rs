//! Promise: no password ever appears in `Display`, `Debug` or an error, whatever it holds
//! and wherever it sits (a property test over random URLs of every known scheme).

use dozen_backing::ServiceUrl;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

const SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "pgsql",
    "mysql",
    "mariadb",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "nats",
    "http",
    "https",
    "mongodb",
];

/// Passwords start with three capital letters, which no other part of the generated URLs
/// (lower-case schemes, users, hosts and databases) and no message of this crate contains,
/// so finding the password in an output can only be a leak.
fn password() -> impl Strategy<Value = String> {
    "[A-Z]{3}[ -~]{0,24}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,7}"
}

fn assert_hidden(password: &str, outputs: &[String]) -> Result<(), TestCaseError> {
    let encoded = utf8_percent_encode(password, NON_ALPHANUMERIC).to_string();
    for output in outputs {
        prop_assert!(!output.contains(password), "{output:?} shows {password:?}");
        prop_assert!(!output.contains(&encoded), "{output:?} shows {encoded:?}");
    }
    Ok(())
}

fn outputs(input: &str) -> Vec<String> {
    match input.parse::<ServiceUrl>() {
        Ok(url) => vec![url.to_string(), format!("{url:?}"), format!("{url:#?}")],
        Err(e) => vec![e.to_string(), format!("{e:?}")],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoded_password_never_shown(
        scheme in proptest::sample::select(SCHEMES),
        user in name(),
        password in password(),
        host in name(),
        port in 1_u16..,
        db in name(),
    ) {
        let encoded = utf8_percent_encode(&password, NON_ALPHANUMERIC);
        let input = format!("{scheme}://{user}:{encoded}@{host}:{port}/{db}");
        let url = input.parse::<ServiceUrl>().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(url.has_password());
        assert_hidden(&password, &outputs(&input))?;
    }

    #[test]
    fn raw_password_never_shown_even_when_it_breaks_the_url(
        scheme in proptest::sample::select(SCHEMES),
        user in name(),
        password in password(),
        host in name(),
        db in name(),
    ) {
        let input = format!("{scheme}://{user}:{password}@{host}/{db}");
        assert_hidden(&password, &outputs(&input))?;
    }

    #[test]
    fn password_in_the_query_never_shown(
        key in proptest::sample::select(&["password", "pass", "sslpassword", "token", "auth_token", "secret"][..]),
        password in password(),
        host in name(),
        db in name(),
    ) {
        let encoded = utf8_percent_encode(&password, NON_ALPHANUMERIC);
        for input in [
            format!("postgres://{host}/{db}?sslmode=disable&{key}={encoded}"),
            format!("redis+unix:///run/{host}.sock?{key}={encoded}&db=1"),
            format!("sqlite://{db}.db?{key}={encoded}"),
        ] {
            assert_hidden(&password, &outputs(&input))?;
        }
    }

    #[test]
    fn nats_token_never_shown(token in password(), host in name()) {
        let encoded = utf8_percent_encode(&token, NON_ALPHANUMERIC);
        assert_hidden(&token, &outputs(&format!("nats://{encoded}@{host}:4222")))?;
    }

    #[test]
    fn arbitrary_text_never_echoed_in_errors(text in "[A-Z]{3}[ -~]{0,40}") {
        // Text without a known scheme: the error names no part of it.
        if let Err(e) = text.parse::<ServiceUrl>() {
            prop_assert!(!e.to_string().contains(&text[..3]), "{e}");
        }
    }
}
