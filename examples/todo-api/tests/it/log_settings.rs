//! The log settings are part of the app's configuration: the report of the
//! "configuration loaded" line and `describe` list `RUST_LOG`, `LOG_FORMAT`
//! and the other variables dozen-log uses, and a bad `LOG_FORMAT` is a
//! configuration error like any other.

use example_todo_api::config::Settings;

fn pairs(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_report_and_describe_list_the_log_settings() {
    let (_, report) = dozen_config::prefixed("")
        .from_iter_with_report::<_, Settings>(pairs(&[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "debug"),
        ]))
        .unwrap();
    let report = report.to_string();
    for listed in ["LOG_FORMAT=json", "RUST_LOG=debug", "GOOGLE_CLOUD_PROJECT"] {
        assert!(report.contains(listed), "{listed} in {report}");
    }
    let described = dozen_config::describe::<Settings>().to_string();
    for var in ["RUST_LOG", "LOG_FORMAT", "SERVICE_NAME", "K_REVISION"] {
        assert!(described.contains(var), "{var} in {described}");
    }
}

#[test]
fn a_bad_log_format_is_a_configuration_error() {
    let err = dozen_config::from_iter::<_, Settings>(pairs(&[("LOG_FORMAT", "xml")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LOG_FORMAT: invalid value, expected one of json, pretty, auto"
    );
}
