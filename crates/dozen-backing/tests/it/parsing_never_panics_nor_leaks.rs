//! Promise, as a fuzz-style invariant of `ServiceUrl::parse`: for any text (random, and
//! random URL-shaped), parsing never panics; when it succeeds, no password, token or
//! secret-parameter value of the input appears in `Display` or `Debug`; when it fails,
//! the error is one of a fixed set of messages (a known scheme and a fixed reason), so
//! it cannot carry anything of the input, secrets included.
//!
//! What counts as a password is read from the text itself, not only from the `url`
//! crate: a parser that sees no user info (`admin:pw@db/app`, a scheme forgotten, or
//! `jdbc:postgresql://app:pw@db/app`) cannot be the judge of what it failed to see.

use dozen_backing::{Kind, ServiceUrl};
use proptest::prelude::*;

use crate::in_runtime;
use crate::no_secret_printed::{SECRET_PARAMS, assert_hidden, printed};

/// Every reason a parse error can give, after `invalid <scheme> url: `.
fn reasons() -> Vec<String> {
    use url::ParseError as P;
    let mut reasons: Vec<String> = [
        P::EmptyHost,
        P::IdnaError,
        P::InvalidPort,
        P::InvalidIpv4Address,
        P::InvalidIpv6Address,
        P::InvalidDomainCharacter,
        P::RelativeUrlWithoutBase,
        P::RelativeUrlWithCannotBeABaseBase,
        P::SetHostOnCannotBeABaseUrl,
        P::Overflow,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    reasons.extend(
        [
            "missing scheme",
            "contains whitespace or a control character, which the URL would not keep as written; percent-encode it (a space as %20)",
            "has a fragment (`#`), which no driver reads; write a `#` inside a password or a name as %23",
            "empty host (for a Unix socket, add ?host=/dir)",
            "empty host (for a Unix socket, add ?socket=/path)",
            "expected `scheme://`",
            "missing socket path",
            "missing host",
            "missing database file path",
            "database file path is not UTF-8 once percent-decoded",
        ]
        .map(str::to_owned),
    );
    reasons
}

/// The schemes an error may name: the known ones, lower-cased.
const KNOWN_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "pgsql",
    "mysql",
    "mariadb",
    "sqlite",
    "sqlite3",
    "redis",
    "rediss",
    "redis+unix",
    "unix",
    "valkey",
    "valkeys",
    "valkey+unix",
    "amqp",
    "amqps",
    "nats",
    "tls",
    "http",
    "https",
];

/// `s` as written and percent-decoded.
fn add(out: &mut Vec<String>, s: &str) {
    out.push(s.to_owned());
    out.push(
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned(),
    );
}

/// The password of `input` as its text reads, whatever a URL parser makes of it: in the
/// first stretch that looks like an authority (after `://` if there is one, else from the
/// start, since `admin:pw@db` may be a URL whose scheme was forgotten), up to its last `@`,
/// what follows the first `:`. SQLite's text after the scheme is a file path, as sqlx
/// reads it, so it has none.
fn textual_password(input: &str) -> Option<&str> {
    let text = input.trim();
    if text
        .split_once(':')
        .is_some_and(|(scheme, _)| Kind::from_scheme(scheme) == Kind::Sqlite)
    {
        return None;
    }
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password)
}

/// The secrets of `input` as two independent readers see them, each as serialized and
/// decoded: the text itself ([`textual_password`]) and the `url` crate.
fn oracle_secrets(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(password) = textual_password(input) {
        add(&mut out, password);
    }
    let Ok(url) = url::Url::parse(input.trim()) else {
        return out;
    };
    let kind = Kind::from_scheme(url.scheme());
    if kind != Kind::Sqlite {
        if let Some(password) = url.password() {
            add(&mut out, password);
        } else if kind == Kind::Nats
            || (kind == Kind::Other
                && !["mongodb", "mongodb+srv", "ftp", "ssh"].contains(&url.scheme()))
        {
            add(&mut out, url.username());
        }
    }
    for pair in url.query().unwrap_or_default().split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let name = url::form_urlencoded::parse(key.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        if dozen_redact::is_secret_param(&name) {
            add(&mut out, value);
            out.extend(url::form_urlencoded::parse(pair.as_bytes()).map(|(_, v)| v.into_owned()));
        }
    }
    out
}

fn check(input: &str) -> Result<(), TestCaseError> {
    match ServiceUrl::parse(input) {
        Ok(url) => {
            let outputs = [url.to_string(), format!("{url:?}"), format!("{url:#?}")];
            let serialized = url::Url::parse(input.trim())
                .map(String::from)
                .unwrap_or_default();
            for secret in oracle_secrets(input) {
                // A secret short enough, or repeated enough (as written or as the URL
                // serializes it), to appear elsewhere by chance proves nothing; nor does
                // one that the Debug frame itself holds (`    `, `Postgres`).
                let frame = format!("ServiceUrl {{ kind: {:?}, url: \"\" }}", url.kind());
                if secret.trim().len() < 4
                    || frame.contains(secret.trim())
                    || secret.contains('*')
                    || input.matches(&secret).count() > 1
                    || serialized.matches(&secret).count() > 1
                {
                    continue;
                }
                for output in &outputs {
                    prop_assert!(
                        !output.contains(&secret),
                        "{input:?}: {output:?} shows {secret:?}"
                    );
                }
            }
        }
        Err(error) => {
            let message = error.to_string();
            let (prefix, reason) = message
                .split_once(" url: ")
                .ok_or_else(|| TestCaseError::fail(format!("{input:?}: {message}")))?;
            let scheme = prefix.strip_prefix("invalid ").unwrap_or("?");
            prop_assert!(
                scheme == "service" || KNOWN_SCHEMES.contains(&scheme),
                "{input:?}: {message}"
            );
            prop_assert!(
                reasons().iter().any(|r| r == reason),
                "{input:?}: {message}"
            );
            prop_assert_eq!(
                format!("{error:?}"),
                format!(
                    "Error {{ kind: InvalidUrl, var: None, message: {message:?}, attempts: 0 }}"
                )
            );
        }
    }
    Ok(())
}

/// A piece of a URL: characters that mean something to a URL parser, and others.
fn piece() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9:@/?#&=%.\\[\\]+~ \\\\-]{0,10}"
}

fn url_shaped() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            proptest::sample::select(KNOWN_SCHEMES).prop_map(str::to_owned),
            Just("mongodb".to_owned()),
            "[a-zA-Z][a-zA-Z0-9+.-]{0,6}",
        ],
        proptest::sample::select(&["://", ":", ":/", ":///", "::"][..]),
        proptest::option::of((piece(), proptest::option::of(piece()))),
        piece(),
        proptest::option::of("[0-9a-z]{0,7}"),
        piece(),
        proptest::collection::vec(
            (
                prop_oneof![
                    proptest::sample::select(SECRET_PARAMS).prop_map(str::to_owned),
                    "[a-z_-]{1,8}",
                ],
                piece(),
            ),
            0..4,
        ),
        proptest::option::of(piece()),
    )
        .prop_map(
            |(scheme, sep, userinfo, host, port, path, params, fragment)| {
                let mut s = format!("{scheme}{sep}");
                if let Some((user, password)) = userinfo {
                    s.push_str(&user);
                    if let Some(p) = password {
                        s.push(':');
                        s.push_str(&p);
                    }
                    s.push('@');
                }
                s.push_str(&host);
                if let Some(port) = port {
                    s.push(':');
                    s.push_str(&port);
                }
                s.push_str(&path);
                for (i, (k, v)) in params.iter().enumerate() {
                    s.push(if i == 0 { '?' } else { '&' });
                    s.push_str(&format!("{k}={v}"));
                }
                if let Some(f) = fragment {
                    s.push('#');
                    s.push_str(&f);
                }
                s
            },
        )
}

/// 1024 cases a run, or `PROPTEST_CASES` for a longer fuzzing session.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1024)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_text(input in "\\PC{0,64}") {
        check(&input)?;
    }

    #[test]
    fn url_shaped_text(input in url_shaped()) {
        check(&input)?;
    }
}

#[test]
fn known_hard_inputs() {
    for input in [
        "",
        " ",
        ":",
        "://",
        "postgres://",
        "postgres://@",
        "postgres://:@/",
        "postgres://u:p@[::1",
        "postgres://u:p@[::1]:99999/",
        "postgres://u:Hunter2@/d?host=",
        "postgres://u:Hunter2@/d?host=/x&host=/y",
        "mysql://u:Hunter2@/d?socket=/s",
        "nats://Hunter2@",
        "sqlite:",
        "sqlite::memory:",
        "sqlite://%FF",
        "redis+unix://?db=1",
        "x://\u{0}@\u{7f}",
        "http://é.com/?token=Hunter2",
        "postgres://h/d?=&&=&token",
        // No `//`: the `url` crate sees no user info, the text does.
        "admin:Hunter2-pw@localhost/orders",
        "app:Hunter22@db.internal:5432/app",
        "jdbc:postgresql://app:Hunter22@db/app",
        "foo:app:Hunter22@db/app",
        "foo:/app:Hunter22@db/app",
        "nats:Hunter22@nats:4222",
        // Whitespace and controls inside, which the `url` crate would encode or drop.
        "postgres://app:Hunter 22@db/app",
        "postgres://app:Hunter\n22@db/app",
        "postgres://app:Hunter\t22@db/app",
        "postgres://app:Hunter\r22@db/app",
        "postgres://app:Hunter\u{a0}22@db/app",
        "postgres://app:Hunter\u{2028}22@db/app",
        "postgres://app:Hunter\u{85}22@db/app",
    ] {
        check(input).unwrap();
    }
}

/// A secret of at least 6 characters starting with three capitals, which no message of
/// this crate contains: finding it in an output can only be a leak.
fn secret() -> impl Strategy<Value = String> {
    "[A-Z]{3}[ -~]{3,24}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases() / 2))]

    /// A generated secret in every user-info-like position, with and without `//`, with
    /// no scheme, with a `jdbc:` prefix, written raw or percent-encoded: whatever this crate
    /// prints for the input (`Display`, `Debug`, the parse error, the errors of every
    /// pool and client built from it) never shows it. The oracle is the secret itself, not
    /// what a URL parser finds in the input.
    #[test]
    fn user_info_like_secrets_never_printed(
        scheme in prop_oneof![
            proptest::sample::select(KNOWN_SCHEMES).prop_map(str::to_owned),
            Just("mongodb".to_owned()),
            "[a-z][a-z0-9+.-]{0,6}",
        ],
        user in "[a-z][a-z0-9]{0,7}",
        secret in secret(),
        host in "[a-z][a-z0-9.]{0,9}",
        port in proptest::option::of(1_u16..),
        shape in 0_usize..8,
        encoded in any::<bool>(),
    ) {
        if Kind::from_scheme(&scheme) == Kind::Sqlite {
            // After `sqlite:` comes a file path, as sqlx reads it: no user info.
            return Ok(());
        }
        let written = if encoded {
            percent_encoding::utf8_percent_encode(&secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        } else {
            secret.clone()
        };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let s = written;
        let input = match shape {
            0 => format!("{scheme}://{user}:{s}@{host}{port}/app"),
            1 => format!("{scheme}:{user}:{s}@{host}{port}/app"),
            2 => format!("{user}:{s}@{host}{port}/app"),
            3 => format!("{scheme}:/{user}:{s}@{host}{port}/app"),
            4 => format!("jdbc:{scheme}://{user}:{s}@{host}{port}/app"),
            5 => format!("{scheme}:{s}@{host}{port}/app"),
            6 => format!(" {scheme}:{user}:{s}@{host}{port}/app\n"),
            _ => format!("{user}:{s}@{host}{port}"),
        };
        let outputs = in_runtime(|| printed(&input));
        assert_hidden(&secret, &outputs)?;
    }
}
