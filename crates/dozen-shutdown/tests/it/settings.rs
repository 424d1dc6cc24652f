//! Settings are data an app's loader fills, not something this crate reads:
//! `ShutdownSettings` and `HttpSettings` load from a map of variables with
//! the real environment untouched, take their documented defaults, build a
//! `Shutdown`, and a value that is wrong is reported by its variable and
//! never echoed. A builder's single-field overrides win over the settings
//! whatever the order of the calls.

use std::time::Duration;

use dozen_shutdown::{ErrorKind, KUBERNETES_DEFAULT_DELAY, Shutdown, ShutdownSettings};
use serde::de::DeserializeOwned;

/// Loads `T` from `vars` alone, as dozen-config loads an app's settings.
pub(crate) fn load<T: DeserializeOwned>(vars: &[(&str, &str)]) -> Result<T, dozen_config::Error> {
    dozen_config::from_iter(
        vars.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    )
}

/// Checks what `vars` load as: `Ok((delay, timeout))`, or `Err("VAR:
/// fragment")`, an error that starts with `VAR: `, contains the fragment and
/// echoes no value.
#[track_caller]
pub(crate) fn check(vars: &[(&str, &str)], expected: Result<(Option<Duration>, Duration), &str>) {
    match (load::<ShutdownSettings>(vars), expected) {
        (Ok(settings), Ok((delay, timeout))) => {
            assert_eq!(settings.shutdown_delay, delay, "delay for {vars:?}");
            assert_eq!(settings.shutdown_timeout, timeout, "timeout for {vars:?}");
        }
        (Err(error), Err(expected)) => check_error(vars, &error, expected),
        (got, expected) => panic!("for {vars:?}: got {got:?}, expected {expected:?}"),
    }
}

/// `error` starts with `VAR: ` and contains what follows in `expected`
/// (`VAR: fragment`), and neither its message nor its `Debug` holds a value.
#[track_caller]
pub(crate) fn check_error(vars: &[(&str, &str)], error: &dyn std::error::Error, expected: &str) {
    let (var, fragment) = expected.split_once(": ").expect("VAR: fragment");
    let shown = error.to_string();
    assert!(
        shown.starts_with(&format!("{var}: ")),
        "{shown:?} for {vars:?}"
    );
    assert!(shown.contains(fragment), "{shown:?} lacks {fragment:?}");
    for (_, value) in vars {
        assert!(!shown.contains(value), "{shown:?} echoes {value:?}");
        assert!(
            !format!("{error:?}").contains(value),
            "Debug echoes {value:?}"
        );
    }
}

#[test]
fn humantime_durations_load_with_their_defaults() {
    let s = Duration::from_secs;
    check(&[], Ok((None, s(25))));
    check(&[("SHUTDOWN_DELAY", "5s")], Ok((Some(s(5)), s(25))));
    check(&[("SHUTDOWN_DELAY", "0s")], Ok((Some(s(0)), s(25))));
    check(
        &[("SHUTDOWN_DELAY", " 1500ms ")],
        Ok((Some(Duration::from_millis(1500)), s(25))),
    );
    check(&[("SHUTDOWN_TIMEOUT", "1m 30s")], Ok((None, s(90))));
    let syntax = "humantime syntax such as `5s` or `1m 30s`";
    check(
        &[("SHUTDOWN_DELAY", "s3cr3t")],
        Err(&format!("SHUTDOWN_DELAY: {syntax}")),
    );
    check(
        &[("SHUTDOWN_DELAY", "2s"), ("SHUTDOWN_TIMEOUT", "25")],
        Err(&format!("SHUTDOWN_TIMEOUT: {syntax}")),
    );
}

#[test]
fn the_default_delay_follows_kubernetes_service_host() {
    let delay = |vars: &[(&str, &str)]| load::<ShutdownSettings>(vars).unwrap().delay();
    assert_eq!(delay(&[]), Duration::ZERO);
    assert_eq!(
        delay(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1")]),
        KUBERNETES_DEFAULT_DELAY
    );
    assert_eq!(
        delay(&[
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("SHUTDOWN_DELAY", "0s")
        ]),
        Duration::ZERO
    );
    assert_eq!(ShutdownSettings::default().delay(), Duration::ZERO);
}

#[test]
fn deserializes_with_the_variable_names_as_fields() {
    let check = |json: &str, delay: Option<Duration>, timeout: Duration| {
        let settings: ShutdownSettings = serde_json::from_str(json).expect(json);
        assert_eq!(
            (settings.shutdown_delay, settings.shutdown_timeout),
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
    assert!(serde_json::from_str::<ShutdownSettings>(r#"{"shutdown_timeout":"soon"}"#).is_err());

    // Flattened into an app's settings, the fields keep their variable names.
    #[derive(serde::Deserialize)]
    struct App {
        port: u16,
        #[serde(flatten)]
        shutdown: ShutdownSettings,
    }
    let app: App =
        serde_json::from_str(r#"{"port":8080,"shutdown_delay":"2s","shutdown_timeout":"20s"}"#)
            .unwrap();
    assert_eq!(app.port, 8080);
    let mut expected = ShutdownSettings::default();
    expected.shutdown_delay = Some(Duration::from_secs(2));
    expected.shutdown_timeout = Duration::from_secs(20);
    assert_eq!(app.shutdown, expected);
}

#[test]
fn builder_overrides_win_over_the_settings_whatever_the_order() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = Duration::from_secs;
    let settings: ShutdownSettings =
        load(&[("SHUTDOWN_DELAY", "3s"), ("SHUTDOWN_TIMEOUT", "20s")]).unwrap();
    rt.block_on(async {
        let quiet = || Shutdown::builder().with_signals(false).with_watchdog(false);
        let before = quiet()
            .with_delay(Duration::ZERO)
            .settings(settings.clone())
            .build()
            .unwrap();
        let after = quiet()
            .settings(settings.clone())
            .with_delay(Duration::ZERO)
            .build()
            .unwrap();
        let timeout = quiet()
            .with_timeout(s(10))
            .settings(settings.clone())
            .build()
            .unwrap();
        let plain = quiet().settings(settings.clone()).build().unwrap();
        assert_eq!((before.delay(), before.timeout()), (Duration::ZERO, s(20)));
        assert_eq!((after.delay(), after.timeout()), (Duration::ZERO, s(20)));
        assert_eq!((timeout.delay(), timeout.timeout()), (s(3), s(10)));
        assert_eq!((plain.delay(), plain.timeout()), (s(3), s(20)));
    });
}

#[test]
fn validate_names_the_variable_with_no_value() {
    let s = Duration::from_secs;
    let mut settings = ShutdownSettings::default();
    assert!(settings.validate().is_ok());
    settings.shutdown_delay = Some(s(25));
    let error = settings.validate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoDrainBudget);
    assert_eq!(error.var(), Some("SHUTDOWN_TIMEOUT"));
    assert_eq!(
        error.to_string(),
        "SHUTDOWN_TIMEOUT: too short to drain (expected at least 1s left after SHUTDOWN_DELAY)"
    );
    settings.shutdown_delay = Some(s(7200));
    let error = settings.validate().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfRange);
    assert_eq!(error.var(), Some("SHUTDOWN_DELAY"));
    assert_eq!(error.to_string(), "SHUTDOWN_DELAY: too large (at most 1h)");
}

/// The evidence: every setting the crate takes comes from a map of
/// variables (this test reads no environment; the process's own is left as
/// it is), a `Shutdown` and a server are built from them, and a bad
/// `SHUTDOWN_TIMEOUT` is reported as `SHUTDOWN_TIMEOUT: ...`.
#[cfg(feature = "axum")]
#[test]
fn settings_load_from_a_map_with_no_environment_read_and_build_a_shutdown() {
    if !dozen_testkit::rerun_with_empty_environment(
        module_path!(),
        "settings_load_from_a_map_with_no_environment_read_and_build_a_shutdown",
    ) {
        return;
    }
    use dozen_shutdown::axum::HttpSettings;

    let s = Duration::from_secs;
    let vars = [
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("SHUTDOWN_TIMEOUT", "30s"),
        ("HTTP_HEADER_READ_TIMEOUT", "5s"),
        ("HTTP_MAX_CONNECTIONS", "64"),
    ];
    let (shutdown, http): (ShutdownSettings, HttpSettings) = load(&vars).unwrap();
    assert_eq!(
        shutdown.kubernetes_service_host.as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(http.http_header_read_timeout, s(5));
    assert_eq!(http.http_body_read_timeout, s(30));
    assert_eq!(http.http_max_connections, 64);

    // The clock is paused, so the 5 s delay passes at once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let built = Shutdown::builder()
            .with_signals(false)
            .with_watchdog(false)
            .settings(shutdown)
            .build()
            .unwrap();
        assert_eq!(
            (built.delay(), built.timeout()),
            (KUBERNETES_DEFAULT_DELAY, s(30))
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = dozen_shutdown::axum::serve(listener, axum::Router::new(), built.clone())
            .settings(http);
        built.spawn("http server", server);
        built.trigger();
        assert_eq!(built.wait().await, dozen_shutdown::Outcome::Clean);
    });

    let bad = [("SHUTDOWN_TIMEOUT", "soon")];
    let error = load::<(ShutdownSettings, HttpSettings)>(&bad).unwrap_err();
    check_error(&bad, &error, "SHUTDOWN_TIMEOUT: humantime syntax");
}
