//! Settings load from a map with the real environment emptied: `LogSettings` comes from a
//! configuration loader (here dozen-config, from a list of pairs; nothing reads the process
//! environment), builds a working layer, and a bad value is an error naming the variable, never
//! the value. Builder overrides win over the settings whatever the order of the calls.

use tracing_subscriber::prelude::*;

use dozen_log::{Builder, ErrorKind, Format, LogSettings};

use crate::{Capture, parse_strict};

/// The settings loaded from `pairs`, or the loader's message.
fn load(pairs: &[(&str, &str)]) -> Result<LogSettings, String> {
    dozen_config::from_iter(pairs.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())))
        .map_err(|e| e.to_string())
}

/// The lines one ERROR event (with an error, so that `serviceContext` is written) and one DEBUG
/// event give through the layer that `builder` builds, inside a span with a trace id.
fn lines(builder: Builder) -> Vec<serde_json::Value> {
    let out = Capture::default();
    let (layer, guard) = builder.with_writer(out.clone()).layer().unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::error_span!("req", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
        let _entered = span.enter();
        let err = std::io::Error::other("disk full");
        tracing::error!(error = &err as &dyn std::error::Error, "failed");
        tracing::debug!("detail");
    });
    guard.flush();
    out.take()
        .lines()
        .map(|l| parse_strict(l).unwrap())
        .collect()
}

#[test]
fn settings_from_a_map_build_the_layer() {
    if !dozen_testkit::rerun_with_empty_environment(
        module_path!(),
        "settings_from_a_map_build_the_layer",
    ) {
        return;
    }
    let settings = load(&[
        ("RUST_LOG", "warn"),
        ("LOG_FORMAT", "json"),
        ("K_SERVICE", "svc"),
        ("K_REVISION", "svc-001"),
        ("GOOGLE_CLOUD_PROJECT", "my-project-123"),
    ])
    .unwrap();
    assert_eq!(settings.log_format, Format::Json);
    assert_eq!(settings.service(), Some(("svc", "svc-001")));
    let lines = lines(Builder::new().settings(settings));
    assert_eq!(lines.len(), 1, "the filter is RUST_LOG's: {lines:?}");
    let line = &lines[0];
    assert_eq!(line["serviceContext"]["service"], "svc");
    assert_eq!(line["serviceContext"]["version"], "svc-001");
    assert_eq!(
        line["logging.googleapis.com/trace"],
        "projects/my-project-123/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[test]
fn an_empty_map_gives_the_defaults() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings, LogSettings::default());
    assert_eq!(settings.rust_log, "info");
    assert_eq!(settings.log_format, Format::Auto);
    assert_eq!(settings.log_queue, dozen_log::Queue::Off);
    assert_eq!(settings.service(), None);
}

#[test]
fn log_queue_takes_its_three_values() {
    for (value, expected) in [
        ("off", dozen_log::Queue::Off),
        ("wait", dozen_log::Queue::Wait),
        ("drop", dozen_log::Queue::Drop),
    ] {
        assert_eq!(load(&[("LOG_QUEUE", value)]).unwrap().log_queue, expected);
    }
}

#[test]
fn service_name_and_version_win_over_cloud_run_s() {
    fn check(pairs: &[(&str, &str)], expected: Option<(&str, &str)>) {
        let settings = load(pairs).unwrap();
        assert_eq!(settings.service(), expected, "{pairs:?}");
    }
    check(
        &[("SERVICE_NAME", "a"), ("K_SERVICE", "b")],
        Some(("a", "")),
    );
    check(
        &[
            ("K_SERVICE", "b"),
            ("SERVICE_VERSION", "1"),
            ("K_REVISION", "b-2"),
        ],
        Some(("b", "1")),
    );
    check(&[("K_REVISION", "b-2")], None);
    check(&[("SERVICE_NAME", "")], None);
}

#[test]
fn bad_values_name_the_variable_never_the_value() {
    fn check(pairs: &[(&str, &str)], expected: &str) {
        let message = load(pairs).unwrap_err();
        assert_eq!(message, expected, "{pairs:?}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
    check(
        &[("LOG_FORMAT", "s3cr3t-xml")],
        "LOG_FORMAT: invalid value (one of json, pretty, auto)",
    );
    check(
        &[("LOG_QUEUE", "s3cr3t-lossy")],
        "LOG_QUEUE: invalid value (one of off, wait, drop)",
    );
    check(
        &[("GOOGLE_CLOUD_PROJECT", "S3CR3T PROJECT")],
        "GOOGLE_CLOUD_PROJECT: not a project id (lower-case letters, digits and hyphens)",
    );
}

/// The error of building `builder`'s layer: its message, variable and kind.
fn build_error(builder: Builder) -> (String, Option<String>, ErrorKind) {
    let err = builder
        .with_writer(std::io::sink)
        .layer::<tracing_subscriber::Registry>()
        .err()
        .unwrap();
    (err.to_string(), err.var().map(str::to_owned), err.kind())
}

#[test]
fn the_filter_is_checked_by_validate_and_when_the_builder_builds() {
    let settings = load(&[("RUST_LOG", "info,[s3cr3t")]).unwrap();
    assert_eq!(
        build_error(Builder::new().settings(settings)),
        (
            "RUST_LOG: not a valid filter (directives such as info,my_crate=debug)".to_owned(),
            Some("RUST_LOG".to_owned()),
            ErrorKind::InvalidSetting
        )
    );
    // `validate` checks it before anything is built, so an app lists it with its other
    // configuration problems; a `with_filter` override replaces it.
    let settings = load(&[("RUST_LOG", "info,[s3cr3t")]).unwrap();
    let err = settings.validate().unwrap_err();
    assert_eq!(err.var(), Some("RUST_LOG"));
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
    assert!(
        build_error(Builder::new().settings(settings.clone()).with_filter("[x"))
            .1
            .is_none()
    );
    assert!(
        Builder::new()
            .settings(settings)
            .with_filter("info")
            .with_writer(std::io::sink)
            .layer::<tracing_subscriber::Registry>()
            .is_ok()
    );
    assert_eq!(
        build_error(Builder::new().with_filter("[s3cr3t")),
        (
            "with_filter: not a valid filter (directives such as info,my_crate=debug)".to_owned(),
            None,
            ErrorKind::InvalidSetting
        )
    );
}

#[test]
fn settings_built_in_code_are_checked_too() {
    let mut settings = LogSettings::default();
    settings.google_cloud_project = Some("S3CR3T PROJECT".to_owned());
    assert_eq!(
        build_error(Builder::new().settings(settings)),
        (
            "GOOGLE_CLOUD_PROJECT: not a project id (lower-case letters, digits and hyphens)"
                .to_owned(),
            Some("GOOGLE_CLOUD_PROJECT".to_owned()),
            ErrorKind::InvalidSetting
        )
    );
}

#[test]
fn overrides_win_whatever_the_order() {
    let settings = || {
        load(&[
            ("RUST_LOG", "error"),
            ("SERVICE_NAME", "from-env"),
            ("GOOGLE_CLOUD_PROJECT", "env-project"),
        ])
        .unwrap()
    };
    let check = |builder: Builder| {
        let lines = lines(builder);
        assert_eq!(lines.len(), 2, "the filter is the override's: {lines:?}");
        assert_eq!(lines[0]["serviceContext"]["service"], "from-code");
        assert_eq!(lines[0]["serviceContext"]["version"], "7");
        let trace = lines[0]["logging.googleapis.com/trace"].as_str().unwrap();
        assert!(trace.starts_with("projects/code-project/"), "{trace}");
    };
    let overrides = |b: Builder| {
        b.with_filter("debug")
            .with_service("from-code", "7")
            .with_project_id("code-project")
            .with_format(Format::Json)
    };
    check(overrides(Builder::new()).settings(settings()));
    check(overrides(Builder::new().settings(settings())));
}

#[test]
fn a_second_init_is_an_error() {
    // The test binary's global default is still free: take it with a layer from the builder, then
    // a second install must fail without panicking.
    let (layer, _guard) = Builder::new()
        .with_format(Format::Json)
        .with_writer(std::io::sink)
        .layer()
        .unwrap();
    let first = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
    assert!(first.is_ok());
    let err = Builder::new()
        .with_writer(std::io::sink)
        .with_panic_hook(false)
        .init()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a global tracing subscriber is already set"
    );
    assert_eq!(err.kind(), ErrorKind::AlreadySet);
    assert_eq!(err.var(), None);
}

#[test]
fn the_error_can_cross_threads_and_be_boxed() {
    fn check<E: std::error::Error + Send + Sync + 'static>() {}
    check::<dozen_log::Error>();
}

/// The guard tells which format is in effect, `Auto` resolved, so an app can write for people
/// on a terminal and for machines otherwise.
#[test]
fn the_guard_tells_the_format_in_effect() {
    fn check(format: Option<Format>, expected: Format) {
        let mut builder = Builder::new().with_writer(Capture::default());
        if let Some(format) = format {
            builder = builder.with_format(format);
        }
        let (_layer, guard) = builder.layer::<tracing_subscriber::Registry>().unwrap();
        assert_eq!(guard.format(), expected, "{format:?}");
    }
    check(Some(Format::Pretty), Format::Pretty);
    check(Some(Format::Json), Format::Json);
    // Auto with a writer of its own is JSON: that writer is not a terminal.
    check(Some(Format::Auto), Format::Json);
    check(None, Format::Json);
}
