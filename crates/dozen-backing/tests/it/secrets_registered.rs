//! Promise (defence in depth): every secret a parsed `ServiceUrl` holds (its password,
//! a NATS token, the value of each secret query parameter) is registered with
//! `dozen_redact`, as written and as decoded, so that dozen-log masks it in any line,
//! whoever writes it (a driver that echoes its connection string, say). Values shorter
//! than `dozen_redact::MIN_SECRET_LEN` bytes are exempt, as documented.

use dozen_backing::ServiceUrl;

/// `text` as dozen-log writes it: with every registered secret masked.
fn masked(text: &str) -> String {
    dozen_redact::secrets().mask(text).into_owned()
}

#[track_caller]
fn check(input: &str, secrets: &[&str]) {
    let _url: ServiceUrl = input.parse().unwrap();
    for secret in secrets {
        let line = format!("driver says: cannot use {secret} here");
        let out = masked(&line);
        assert!(!out.contains(secret), "{input}: {secret} shown in {out}");
        assert!(out.contains(dozen_redact::MARKER), "{out}");
    }
}

#[test]
fn parsed_secrets_are_masked_in_any_line() {
    // Each test value is unique to this test, so nothing else registered it.
    check(
        "postgres://app:Reg1%2Fpass%40word@db/app",
        &["Reg1%2Fpass%40word", "Reg1/pass@word"],
    );
    check("nats://Reg2TokenValue@nats:4222", &["Reg2TokenValue"]);
    check(
        "postgres://app@db/app?password=Reg3+pass%26word&sslmode=require",
        &["Reg3+pass%26word", "Reg3 pass&word"],
    );
    check(
        "redis://cache/0?access_token=Reg4-access-token",
        &["Reg4-access-token"],
    );
    check("sqlite://app.db?key=Reg5SqliteKey", &["Reg5SqliteKey"]);
    check("foo://Reg6OtherToken@host/", &["Reg6OtherToken"]);
}

#[test]
fn harmless_parts_are_not_registered() {
    let _url: ServiceUrl =
        "postgres://Reg7username@Reg7hostname/Reg7database?application_name=Reg7application"
            .parse()
            .unwrap();
    let line = "Reg7username Reg7hostname Reg7database Reg7application";
    assert_eq!(masked(line), line);
}

#[test]
fn short_secrets_are_exempt_as_documented() {
    let _url: ServiceUrl = "postgres://app:Rg8@db/app".parse().unwrap();
    assert!(dozen_redact::MIN_SECRET_LEN > "Rg8".len());
    assert_eq!(masked("x Rg8 y"), "x Rg8 y");
}
