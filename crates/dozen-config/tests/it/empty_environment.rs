//! In a process with an empty environment, a load from the environment gives
//! every default and a load from a map gives the map's values: the loader
//! needs no variable of its own (not even `HOME` or `PATH`), which is what the
//! other crates' settings tests rely on when they load from a map.

use std::time::Duration;

use serde::Deserialize;

use crate::env;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(default)]
struct Settings {
    port: u16,
    #[serde(with = "humantime_serde")]
    shutdown_timeout: Duration,
    database_url: Option<dozen_config::Secret<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8080,
            shutdown_timeout: Duration::from_secs(25),
            database_url: None,
        }
    }
}

#[test]
fn the_environment_gives_the_defaults_and_a_map_its_values() {
    if !dozen_testkit::rerun_with_empty_environment(
        module_path!(),
        "the_environment_gives_the_defaults_and_a_map_its_values",
    ) {
        return;
    }
    let (settings, report) = dozen_config::from_env_with_report::<Settings>().unwrap();
    assert_eq!(settings, Settings::default());
    assert_eq!(
        report.to_string(),
        "PORT (default), SHUTDOWN_TIMEOUT (default), DATABASE_URL (default)"
    );
    let settings: Settings =
        dozen_config::from_iter(env(&[("PORT", "9000"), ("SHUTDOWN_TIMEOUT", "1m 30s")])).unwrap();
    assert_eq!(
        (settings.port, settings.shutdown_timeout),
        (9000, Duration::from_secs(90))
    );
}
