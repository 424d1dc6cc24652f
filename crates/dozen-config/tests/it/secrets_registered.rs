//! Promise: defence in depth. Every value loaded as `Secret<T>` (whole, and
//! each item of a secret list or map) or read through `X_FILE` is registered
//! with dozen-redact, so a log line that echoes it (a driver's error, say) has
//! it masked, once the load succeeds; values shorter than
//! `dozen_redact::MIN_SECRET_LEN` are exempt.

use std::collections::BTreeMap;

use dozen_config::{Secret, prefixed};
use serde::Deserialize;

use crate::env;

fn masked(text: &str) -> String {
    dozen_redact::secrets().mask(text).into_owned()
}

#[derive(Debug, Deserialize)]
#[allow(dead_code, reason = "only the registry matters")]
struct Config {
    password: Secret<String>,
    keys: Vec<Secret<String>>,
    signing: Secret<Vec<String>>,
    by_name: Secret<BTreeMap<String, String>>,
    from_file: String,
    short: Secret<String>,
    plain: String,
}

#[test]
fn secrets_and_file_values_are_masked_in_any_line() {
    let file = crate::file(b"postgres://app:regFILEpw@db/app\n");
    let path = file.path().to_str().unwrap();
    prefixed("REG_")
        .from_iter::<_, Config>(env(&[
            ("REG_PASSWORD", "  regPassw0rd  "),
            ("REG_KEYS", "regKeyOne1,regKeyTwo2"),
            ("REG_SIGNING", "regSignA1,regSignB2"),
            ("REG_BY_NAME", "primary=regMapVal1"),
            ("REG_FROM_FILE_FILE", path),
            ("REG_SHORT", "abc12"),
            ("REG_PLAIN", "regPlainValue"),
        ]))
        .unwrap();
    let line = "driver said: regPassw0rd | regKeyOne1 regKeyTwo2 | regSignA1,regSignB2 \
                regSignB2 | regMapVal1 | postgres://app:regFILEpw@db/app | abc12 | regPlainValue";
    assert_eq!(
        masked(line),
        "driver said: *** | *** *** | *** *** | *** | *** | abc12 | regPlainValue"
    );
    // As JSON and percent-encoded, as a log line or a URL carries them.
    assert_eq!(masked("{\"m\":\"regPassw0rd\"}"), "{\"m\":\"***\"}");
}

#[test]
fn a_failed_load_registers_nothing() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the registry matters")]
    struct Failing {
        token: Secret<String>,
        port: u16,
    }
    let pairs = env(&[("REGF_TOKEN", "regFailTok3n")]);
    prefixed("REGF_")
        .from_iter::<_, Failing>(pairs.clone())
        .unwrap_err();
    assert_eq!(masked("x regFailTok3n y"), "x regFailTok3n y");
    // The same value, once it loads, is registered.
    let mut pairs = pairs;
    pairs.push(("REGF_PORT".into(), "1".into()));
    prefixed("REGF_").from_iter::<_, Failing>(pairs).unwrap();
    assert_eq!(masked("x regFailTok3n y"), "x *** y");
}

/// A `Secret` of a struct, or of a map given as nested variables (`X__KEY`), is read from
/// several variables: each of them is as secret as the whole, hidden in the report and
/// registered, and `describe` says so.
#[test]
fn a_secret_struct_or_nested_map_hides_and_registers_each_of_its_values() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the report and the registry matter")]
    struct Creds {
        user: String,
        password: String,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only the report and the registry matter")]
    struct WithCreds {
        creds: Secret<Creds>,
        tokens: Secret<BTreeMap<String, String>>,
        plain: String,
    }
    let (_, report) = prefixed("NESTS_")
        .from_iter_with_report::<_, WithCreds>(env(&[
            ("NESTS_CREDS__USER", "nestUserName1"),
            ("NESTS_CREDS__PASSWORD", "nestHunter2pw"),
            ("NESTS_TOKENS__GITHUB", "nestGhToken99"),
            ("NESTS_PLAIN", "nestPlainValue"),
        ]))
        .unwrap();
    let texts = crate::no_secret_printed::report_texts(&report);
    for secret in ["nestUserName1", "nestHunter2pw", "nestGhToken99"] {
        for text in &texts {
            assert!(!text.contains(secret), "{secret} shown in {text}");
        }
    }
    assert!(report.to_string().contains("nestPlainValue"), "{report}");
    assert_eq!(
        masked("x nestHunter2pw nestGhToken99 nestPlainValue"),
        "x *** *** nestPlainValue"
    );
}
