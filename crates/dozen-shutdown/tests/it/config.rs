//! Settings: `SHUTDOWN_DELAY` and `SHUTDOWN_TIMEOUT` read from the environment
//! or deserialized, with errors that name the variable and never its value.

use std::ffi::OsString;
use std::time::Duration;

use dozen_shutdown::ShutdownConfig;

pub(crate) fn check(vars: &[(&str, &str)], expected: Result<(Option<Duration>, Duration), &str>) {
    let got = ShutdownConfig::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| OsString::from(value))
    });
    match (got, expected) {
        (Ok(config), Ok((delay, timeout))) => {
            assert_eq!(config.shutdown_delay, delay, "delay for {vars:?}");
            assert_eq!(config.shutdown_timeout, timeout, "timeout for {vars:?}");
        }
        (Err(error), Err(message)) => {
            let shown = error.to_string();
            assert_eq!(shown, message, "for {vars:?}");
            for (_, value) in vars {
                assert!(
                    !shown.contains(value),
                    "error {shown:?} echoes the value {value:?}"
                );
                assert!(
                    !format!("{error:?}").contains(value),
                    "Debug echoes {value:?}"
                );
            }
        }
        (got, expected) => panic!("for {vars:?}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn from_lookup_reads_humantime_durations() {
    let s = Duration::from_secs;
    check(&[], Ok((None, s(25))));
    check(&[("SHUTDOWN_DELAY", "5s")], Ok((Some(s(5)), s(25))));
    check(&[("SHUTDOWN_DELAY", "0s")], Ok((Some(s(0)), s(25))));
    check(
        &[("SHUTDOWN_DELAY", " 1500ms ")],
        Ok((Some(Duration::from_millis(1500)), s(25))),
    );
    check(&[("SHUTDOWN_TIMEOUT", "1m 30s")], Ok((None, s(90))));
    check(
        &[("SHUTDOWN_DELAY", ""), ("SHUTDOWN_TIMEOUT", "")],
        Ok((None, s(25))),
    );
    check(
        &[("SHUTDOWN_DELAY", "s3cr3t")],
        Err(
            "SHUTDOWN_DELAY: not a valid duration (expected humantime syntax such as `5s` or `1m 30s`)",
        ),
    );
    check(
        &[("SHUTDOWN_DELAY", "2s"), ("SHUTDOWN_TIMEOUT", "25")],
        Err(
            "SHUTDOWN_TIMEOUT: not a valid duration (expected humantime syntax such as `5s` or `1m 30s`)",
        ),
    );
}

#[test]
fn deserializes_with_the_variable_names_as_fields() {
    let check = |json: &str, delay: Option<Duration>, timeout: Duration| {
        let config: ShutdownConfig = serde_json::from_str(json).expect(json);
        assert_eq!(
            (config.shutdown_delay, config.shutdown_timeout),
            (delay, timeout),
            "{json}"
        );
    };
    check("{}", None, Duration::from_secs(25));
    check(
        r#"{"shutdown_delay":"3s"}"#,
        Some(Duration::from_secs(3)),
        Duration::from_secs(25),
    );
    check(
        r#"{"shutdown_timeout":"10s"}"#,
        None,
        Duration::from_secs(10),
    );
    assert!(serde_json::from_str::<ShutdownConfig>(r#"{"shutdown_timeout":"soon"}"#).is_err());

    // Flattened into an app's settings, the fields keep their variable names.
    #[derive(serde::Deserialize)]
    struct App {
        port: u16,
        #[serde(flatten)]
        shutdown: ShutdownConfig,
    }
    let app: App =
        serde_json::from_str(r#"{"port":8080,"shutdown_delay":"2s","shutdown_timeout":"20s"}"#)
            .unwrap();
    assert_eq!(app.port, 8080);
    assert_eq!(
        app.shutdown,
        ShutdownConfig::default()
            .with_delay(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(20))
    );
}
