//! No secret of a URL survives `redact_urls`, wherever it sits; what is not secret stays.

use dozen_redact::{MARKER, is_secret_param, redact_urls};
use proptest::prelude::*;

#[track_caller]
fn check(input: &str, expected: &str) {
    assert_eq!(redact_urls(input), expected, "input: {input}");
}

#[test]
fn hides_every_secret_of_a_url() {
    let table = [
        ("postgres://app:pw-123@db/app", "postgres://app:***@db/app"),
        (
            "postgres://app@db/app?password=hunter22",
            "postgres://app@db/app?password=***",
        ),
        (
            "postgres://h/d?sslmode=require&sslpassword=x1",
            "postgres://h/d?sslmode=require&sslpassword=***",
        ),
        (
            "postgres://h/d?sslmode=require#frag",
            "postgres://h/d?sslmode=require#***",
        ),
        ("nats://TOKEN123@nats:4222", "nats://***@nats:4222"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("amqp://guest:guest@mq/%2f", "amqp://guest:***@mq/%2f"),
        (
            "https://h/cb?code=abc&state=1",
            "https://h/cb?code=***&state=1",
        ),
        ("https://h/x?pass%77ord=abc", "https://h/x?pass%77ord=***"),
        (
            "postgres://[::1]:5432/d?PASSWORD=Z",
            "postgres://[::1]:5432/d?PASSWORD=***",
        ),
        // A list: each URL on its own.
        (
            "postgres://a:p1@h1/d,postgres://b:p2@h2/d?token=t",
            "postgres://a:***@h1/d,postgres://b:***@h2/d?token=***",
        ),
        ("x nats://abc@h y", "x nats://***@h y"),
        // Unencoded special characters in a password are hidden whole.
        ("postgres://u:p?ss/w@h/d", "postgres://u:***@h/d"),
    ];
    for (input, expected) in table {
        check(input, expected);
    }
}

/// A password or a secret parameter value with white space or a control byte in it, which
/// the `url` crate takes as part of it, is hidden whole: each used to end the URL and leave
/// the rest of the secret shown.
#[test]
fn hides_a_secret_with_white_space_in_it() {
    let table = [
        (
            "postgres://app:hunter 22@db/app",
            "postgres://app:***@db/app",
        ),
        (
            "postgres://app:hunter\n22@db/app",
            "postgres://app:***@db/app",
        ),
        (
            "postgres://app:hunter\t22@db/app",
            "postgres://app:***@db/app",
        ),
        ("postgres://app:hunter\r\n 22@db", "postgres://app:***@db"),
        (
            "redis://:correct horse battery@cache:6379/0",
            "redis://:***@cache:6379/0",
        ),
        // As dozen-config's report quotes a value.
        (
            "DATABASE_URL=\"postgres://app:hunter 22@db/app\"",
            "DATABASE_URL=\"postgres://app:***@db/app\"",
        ),
        // A password that starts like a port, and one with an `@` of its own.
        ("postgres://app:12 34@db/app", "postgres://app:***@db/app"),
        ("postgres://app:p w@x@db/app", "postgres://app:***@db/app"),
        // A user name with an `@`, before a password with a space.
        ("postgres://u@x:p w@db/app", "postgres://u@x:***@db/app"),
        // In a list, and followed by a query.
        (
            "postgres://a:p w@h1/d,postgres://b:p2@h2/d",
            "postgres://a:***@h1/d,postgres://b:***@h2/d",
        ),
        (
            "postgres://a:p w@h1/d?sslmode=require&password=x y&x=1 then",
            "postgres://a:***@h1/d?sslmode=require&password=***&x=1 then",
        ),
        // A secret value runs to the next `&`, line break or the end, not the next space.
        (
            "postgres://h/d?sslpassword=abc def ghi",
            "postgres://h/d?sslpassword=***",
        ),
        (
            "postgres://h/d?sslpassword=abc def&sslmode=require",
            "postgres://h/d?sslpassword=***&sslmode=require",
        ),
        (
            "postgres://h/d?sslpassword=abc def&token=x\ty z\nnext line",
            "postgres://h/d?sslpassword=***&token=***\nnext line",
        ),
        (
            "postgres://h/d?page=2&token=x\ty&password= z",
            "postgres://h/d?page=2&token=***&password=***",
        ),
        // A token (a lone user info, where it is hidden) with a space in it.
        ("nats://my tok@nats:4222", "nats://***@nats:4222"),
        ("x nats://a b\tc@h:1/s y", "x nats://***@h:1/s y"),
        // A user name where the scheme takes one is not a token: shown as written.
        ("postgres://app x@db/app", "postgres://app x@db/app"),
        // A password with a space and then a `/`, `?` or `#`: `app:pa` is no `host:port`.
        (
            "postgres://app:pa ss/wd@db/app",
            "postgres://app:***@db/app",
        ),
        ("postgres://app:a b?c@db/app", "postgres://app:***@db/app"),
        // After a `#` in a password, the rest of the URL is hidden, as without the space.
        ("postgres://app:a b#c@db/app", "postgres://app:***@***"),
        (
            "DATABASE_URL=\"mysql://u:p w/x@db/app\" (environment)\nnext",
            "DATABASE_URL=\"mysql://u:***@db/app\" (environment)\nnext",
        ),
        // The price: a `host:port`, words, then an `@` with no `/` between.
        (
            "redis://cache:6379 for bob@example.com",
            "redis://cache:***@example.com",
        ),
        // And, for a token scheme, a host, words, then an `@`.
        (
            "nats://nats is down, ask ops@example.com",
            "nats://***@example.com",
        ),
    ];
    for (input, expected) in table {
        check(input, expected);
    }
}

/// `;` separates parameters as `&` does (old HTML forms, and servers that still take it); the
/// value of a secret one still runs to the next `&`, so a `;` inside it does not end it.
#[test]
fn a_semicolon_separates_parameters() {
    let table = [
        ("https://h/x?a=1;password=x", "https://h/x?a=1;password=***"),
        (
            "https://h/x?password=ab;cd&x=1",
            "https://h/x?password=***&x=1",
        ),
        (
            "https://h/x?a=1;b=2&token=t;u",
            "https://h/x?a=1;b=2&token=***",
        ),
    ];
    for (input, expected) in table {
        check(input, expected);
    }
}

#[test]
fn keeps_what_is_not_secret() {
    for text in [
        "postgres://app@db:5432/app?sslmode=require&application_name=x",
        "sqlite://todo.db?mode=rwc",
        "sqlite::memory:",
        "plain text: with colons",
        "redis://cache:6379",
        "://nothing",
        // Ordinary text after a URL: a `/`, `?` or `#` ends its authority before an `@`.
        "connected to postgres://db/app at 10:00 @ home",
        "postgres://app@db:5432 connected as bob@example.com",
        "listening on http://0.0.0.0:8080 at 10:00",
        "GET https://h/x?page=2 took 3ms for bob@example.com",
        "redis://cache:6379 is up; see https://status.example/x?page=1 or mail ops@example.com",
        "",
    ] {
        check(text, text);
    }
}

#[test]
fn the_documented_names_are_secret() {
    for name in [
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
        "client_secret",
        "X-Amz-Credential",
        "authorization",
        "apikey",
        "api-key",
        "access_key",
        "private_key",
        "credential",
        // Signed URLs and prefixed keys.
        "X-Amz-Signature",
        "X-Goog-Signature",
        "X-Amz-Security-Token",
        "X-Api-Key",
        "google_api_key",
        "private_key_id",
        // Case does not matter, for the exact names either.
        "API_KEY",
        "Sig",
        "AUTHORIZATION",
        "ApiKey",
        "Private_Key",
        "Access_Key",
        "CODE",
        "Auth",
        "KEY",
        "PassWord",
    ] {
        assert!(is_secret_param(name), "{name}");
    }
    for name in [
        "sslmode",
        "mode",
        "authSource",
        "db",
        "keyspace",
        "page",
        "keys",
        "codec",
        "signed",
        "author",
    ] {
        assert!(!is_secret_param(name), "{name}");
    }
}

/// Each name of the list hides its value in a URL, whatever its case.
#[test]
fn a_url_hides_the_value_of_every_documented_name() {
    for name in [
        "password",
        "pwd",
        "secret",
        "token",
        "credential",
        "signature",
        "apikey",
        "api_key",
        "api-key",
        "private_key",
        "auth",
        "authorization",
        "key",
        "access_key",
        "sig",
        "code",
        "X-Amz-Signature",
        "X-Api-Key",
    ] {
        for name in [name.to_owned(), name.to_ascii_uppercase()] {
            let url = format!("https://h.test/p?page=2&{name}=V4lue-0f-{name}&x=1");
            check(&url, &format!("https://h.test/p?page=2&{name}=***&x=1"));
        }
    }
}

/// A secret made of characters that are valid, unencoded, in userinfo or a query value.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_~.-]{8,24}"
}

/// A secret of words (upper-case letters and digits, so that none occurs in the rest of a
/// URL) with one or two bytes matching `between` between them.
fn spaced_secret(between: &str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[A-Z0-9]{{6,10}}({between}{{1,2}}[A-Z0-9]{{6,10}}){{1,3}}"
    ))
    .unwrap()
}

fn scheme() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "redis",
        "amqp",
        "https",
    ])
}

#[derive(Debug, Clone)]
enum Place {
    Password,
    Param(&'static str),
    Fragment,
    NatsToken,
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Password),
        prop::sample::select(vec![
            "password",
            "sslpassword",
            "access_token",
            "api_key",
            "sig",
            "code",
            "Token"
        ])
        .prop_map(Place::Param),
        Just(Place::Fragment),
        Just(Place::NatsToken),
    ]
}

fn url_with(scheme: &str, place: &Place, secret: &str, noise: &str) -> String {
    match place {
        Place::Password => format!("{scheme}://user:{secret}@host:1/db?mode={noise}"),
        Place::Param(name) => format!("{scheme}://user@host/db?mode={noise}&{name}={secret}&x=1"),
        Place::Fragment => format!("{scheme}://host/db?mode={noise}#{secret}"),
        Place::NatsToken => format!("nats://{secret}@host:4222"),
    }
}

proptest! {
    #[test]
    fn no_secret_survives_in_a_list(
        items in prop::collection::vec((scheme(), place(), secret(), "[a-z]{1,6}"), 1..5),
        sep in prop::sample::select(vec![",", ";", " ", ", "]),
        prefix in "[A-Z_]{0,8}=?",
    ) {
        let urls: Vec<String> = items.iter().map(|(s, p, sec, n)| url_with(s, p, sec, n)).collect();
        let text = format!("{prefix}{}", urls.join(sep));
        let out = redact_urls(&text);
        for (_, _, sec, _) in &items {
            prop_assert!(!out.contains(sec.as_str()), "{sec} survives in {out}");
        }
        prop_assert!(out.contains(MARKER));
    }

    /// Passwords, NATS tokens and secret parameter values made of words with white space or
    /// control bytes between them (and a password with a `/` or `?` after its space): no
    /// word survives, in a list of URLs. A line break ends a secret
    /// value (as documented), so the values have none.
    #[test]
    fn no_spaced_secret_survives_in_a_list(
        items in prop::collection::vec(
            (
                scheme(),
                prop_oneof![
                    spaced_secret("[ \t\n\r]").prop_map(|s| (Place::Password, s)),
                    spaced_secret("[ \t]").prop_map(|s| (Place::Param("sslpassword"), s)),
                    spaced_secret("[ \t\n\r]").prop_map(|s| (Place::NatsToken, s)),
                    spaced_secret("[ \t]{1,2}[A-Z]{3,4}[/?]").prop_map(|s| (Place::Password, s)),
                ],
                "[a-z]{1,6}",
            ),
            1..5,
        ),
        sep in prop::sample::select(vec![",", " ", ", ", "\n", "\t"]),
    ) {
        let urls: Vec<String> = items.iter().map(|(s, (p, sec), n)| url_with(s, p, sec, n)).collect();
        let text = urls.join(sep);
        let out = redact_urls(&text);
        for (_, (_, sec), _) in &items {
            for word in sec.split([' ', '\t', '\n', '\r', '/', '?']).filter(|w| !w.is_empty()) {
                prop_assert!(!out.contains(word), "{word} of {sec:?} survives in {out:?}");
            }
        }
    }

    #[test]
    fn never_panics_and_never_grows_a_secret(text in "\\PC{0,200}") {
        let _ = redact_urls(&text);
    }
}

/// The inputs the fuzzer found (fuzz/known-crashes/redact_urls), each a secret that used
/// to survive.
#[test]
fn the_fuzzers_finds_stay_fixed() {
    let table = [
        (
            "postgres://app:it's-a-secret@db/app",
            "postgres://app:***@db/app",
        ),
        (
            "postgres://db/app?name=`x`&password=hunter22",
            "postgres://db/app?name=`x`&password=***",
        ),
        (
            "https://api.example/v1?next=a:b@c&access_token=secret123",
            "https://api.example/v1?next=a:b@c&access_token=***",
        ),
        (
            "nats://s3cr3tT0ken@nats:4222/?next=a:b@c",
            "nats://***@nats:4222/?next=a:b@c",
        ),
        (
            "https://app.example/login?next=https://api.example/x?access_token=secret123",
            "https://app.example/login?next=https://api.example/x?access_token=***",
        ),
        (
            r#"{"u":"postgres://a:pw1234@h/d","v":"x"}"#,
            r#"{"u":"postgres://a:***@h/d","v":"x"}"#,
        ),
        ("postgres://u:p?ss@h/d", "postgres://u:***@h/d"),
        (
            "c:///s?pass://app:hunter22@h/x=1",
            "c:///s?pass://app:***@h/x=***",
        ),
        // A broken authority whose hidden span swallows the start of the query.
        (
            "oa://,e:%3c:///s?a:b@c&pass=secret-1",
            "oa://,e:***@c&pass=***",
        ),
        ("oa://,e:%3c:///s#a:b@c&pass=secret-1", "oa://,e:***"),
    ];
    for (input, expected) in table {
        check(input, expected);
    }
}

#[test]
fn deeply_nested_urls_do_not_overflow_the_stack() {
    let text = "a://".repeat(10_000) + "u:secret-pw@h";
    let out = redact_urls(&text);
    assert!(!out.contains("secret-pw"));
}

#[test]
fn a_url_inside_another_across_its_parameters_is_redacted() {
    // Found by the fuzzer: the inner URL's password spans the outer query's `&`.
    check(
        "sc://&pepp?sc://&pas:t@nast;2;4T4@xast@T0",
        "sc://&pepp?sc://&pas:***@T0",
    );
}

#[test]
fn text_with_very_many_urls_is_hidden_past_the_limit() {
    let text = "x://h ".repeat(300) + "nats://tok-secret@h";
    assert!(!redact_urls(&text).contains("tok-secret"));
}

/// A `\` ends the authority only for the URL standard's special schemes (`http`, `https`,
/// `ws`, `wss`, `ftp`, `file`), as the `url` crate reads it: in a `postgres` or `mysql` URL it
/// is part of the password, which every driver sends, and must be hidden with the rest.
#[test]
fn a_backslash_in_a_password_is_hidden_where_drivers_read_one() {
    for (input, expected) in [
        (
            "mysql://root:2024\\Summer@db/app",
            "mysql://root:***@db/app",
        ),
        (
            "postgres://app:\\pw-7Kq@db/app",
            "postgres://app:***@db/app",
        ),
        ("redis://:s3cr\\et@cache:6379", "redis://:***@cache:6379"),
        ("amqp://u:a]b\\c@mq/vh", "amqp://u:***@mq/vh"),
        // For `https` the `\` is a `/`: the authority is `h.test`, the rest a path.
        ("https://h.test\\u:p@x", "https://h.test\\u:p@x"),
    ] {
        check(input, expected);
        if input.starts_with("https") {
            continue;
        }
        let url = url::Url::parse(input).unwrap();
        let password = url.password().unwrap();
        let raw = password.replace("%5C", "\\");
        assert!(!redact_urls(input).contains(&raw), "{raw} of {input}");
    }
}

proptest! {
    /// Whatever printable ASCII a password holds, where the `url` crate parses the URL and
    /// reads that whole password, the redacted text does not hold it.
    #[test]
    fn a_password_the_url_crate_reads_is_hidden(
        scheme in prop::sample::select(vec!["postgres", "mysql", "redis", "amqp", "nats", "https"]),
        password in "[!-~]{6,20}",
    ) {
        let input = format!("{scheme}://user:{password}@db.internal:5432/app");
        if let Ok(url) = url::Url::parse(&input)
            && url.host_str() == Some("db.internal")
            && let Some(read) = url.password()
            && percent_encoding::percent_decode_str(read).decode_utf8_lossy() == password
        {
            let out = redact_urls(&input);
            prop_assert!(!out.contains(&password), "{password} survives in {out}");
        }
    }
}
