//! `init()` reads the environment; bad values are errors naming the variable, never the value.

use crate::child::init_result;

#[test]
fn environment_values() {
    fn check(envs: &[(&str, &str)], expected: &str) {
        assert_eq!(init_result(envs), expected, "{envs:?}");
    }
    check(&[], "ok");
    check(
        &[
            ("RUST_LOG", "warn,my_crate=debug"),
            ("LOG_FORMAT", "PRETTY"),
        ],
        "ok",
    );
    check(
        &[
            ("LOG_FORMAT", "auto"),
            ("K_SERVICE", "svc"),
            ("K_REVISION", "svc-001"),
        ],
        "ok",
    );
    check(&[("GOOGLE_CLOUD_PROJECT", "my-project-123")], "ok");
    check(&[("RUST_LOG", "")], "ok");
    check(
        &[("LOG_FORMAT", "s3cr3t-xml")],
        "err:invalid LOG_FORMAT: expected json, pretty or auto|LOG_FORMAT",
    );
    check(
        &[("RUST_LOG", "info,[s3cr3t")],
        "err:invalid RUST_LOG: not a valid filter|RUST_LOG",
    );
    check(
        &[("GOOGLE_CLOUD_PROJECT", "S3CR3T PROJECT")],
        "err:invalid GOOGLE_CLOUD_PROJECT: not a project id|GOOGLE_CLOUD_PROJECT",
    );
}

#[test]
fn a_second_init_is_an_error() {
    use tracing_subscriber::prelude::*;
    // The test binary's global default is still free: take it with a layer from the builder, then
    // a second install must fail without panicking.
    let (layer, _guard) = dozen_log::Builder::new()
        .format(dozen_log::Format::Json)
        .writer(std::io::sink)
        .layer()
        .unwrap();
    let first = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
    assert!(first.is_ok());
    let err = dozen_log::Builder::new()
        .writer(std::io::sink)
        .panic_hook(false)
        .init()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a global tracing subscriber is already set"
    );
    assert_eq!(err.variable(), None);
}
