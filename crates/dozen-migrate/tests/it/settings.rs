//! Promise: the migrate settings load from a map through the configuration
//! loader, with no environment read by this crate, and build a migrator and
//! its command; a bad value is reported on its variable, without the value.
//! A setting and a builder override combine whatever the order of the calls,
//! and the command line takes the same humantime durations (`1m 30s`) as the
//! settings, an override for one run.

use std::process::ExitCode;
use std::time::Duration;

use dozen_migrate::{Cli, MigrateSettings, Migrator, TableName};

use crate::support::Kind;

fn load(pairs: &[(&str, &str)]) -> Result<MigrateSettings, dozen_config::Error> {
    dozen_config::from_iter(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

#[test]
fn settings_load_from_a_map_with_the_real_environment_emptied() {
    if !dozen_testkit::rerun_with_empty_environment(
        module_path!(),
        "settings_load_from_a_map_with_the_real_environment_emptied",
    ) {
        return;
    }
    let settings = load(&[
        ("MIGRATE_TABLE", "app.history"),
        ("MIGRATE_LOCK_TIMEOUT", "1m 30s"),
        ("MIGRATE_WAIT_TIMEOUT", "45s"),
        ("MIGRATE_POLL_INTERVAL", "250ms"),
        ("MIGRATE_ALLOW_NEWER", "true"),
    ])
    .expect("valid settings");
    assert!(settings.migrate_allow_newer);
    assert_eq!(settings.migrate_table.as_str(), "app.history");
    assert_eq!(settings.migrate_lock_timeout, Duration::from_secs(90));
    assert_eq!(settings.migrate_wait_timeout, Duration::from_secs(45));
    assert_eq!(settings.migrate_poll_interval, Duration::from_millis(250));
    assert_eq!(load(&[]).expect("defaults"), MigrateSettings::default());

    let migrator = Migrator::from_migrations([])
        .expect("a valid set")
        .settings(settings);
    assert_eq!(migrator.table_name(), "app.history");
    assert_eq!(migrator.lock_timeout(), Duration::from_secs(90));
    assert_eq!(migrator.wait_timeout(), Duration::from_secs(45));
    assert_eq!(migrator.poll_interval(), Duration::from_millis(250));
    assert!(migrator.allow_newer());
    assert!(!migrator.clone().with_allow_newer(false).allow_newer());
    let cli = Cli::new(migrator).with_program_name("myapp migrate");
    assert!(format!("{cli:?}").contains("app.history"), "{cli:?}");

    let bad = [
        ("MIGRATE_TABLE", "user"),
        ("MIGRATE_LOCK_TIMEOUT", "25h"),
        ("MIGRATE_WAIT_TIMEOUT", "soon"),
        ("MIGRATE_POLL_INTERVAL", "90"),
    ];
    let message = load(&bad).expect_err("invalid settings").to_string();
    assert_eq!(
        message,
        "MIGRATE_TABLE: a reserved SQL word (another name, such as history)\n\
         MIGRATE_LOCK_TIMEOUT: too large (at most 24h)\n\
         MIGRATE_WAIT_TIMEOUT: not a duration (such as 500ms, 30s or 1m 30s)\n\
         MIGRATE_POLL_INTERVAL: not a duration (such as 500ms, 30s or 1m 30s)"
    );
    for (_, value) in bad {
        assert!(!message.contains(&format!(" {value}")), "{message}");
    }
    let message = load(&[("MIGRATE_TABLE", "a;drop table x")])
        .expect_err("not an identifier")
        .to_string();
    assert_eq!(
        message,
        "MIGRATE_TABLE: not a table name (ASCII letters, digits and _, optionally schema.table)"
    );
}

#[test]
fn an_override_wins_over_the_settings_whatever_the_order() {
    let settings = load(&[
        ("MIGRATE_LOCK_TIMEOUT", "90s"),
        ("MIGRATE_WAIT_TIMEOUT", "45s"),
    ])
    .expect("valid settings");
    let second = Duration::from_secs(1);
    let table = TableName::new("history").expect("a valid name");
    let base = || Migrator::from_migrations([]).expect("a valid set");
    let before = base()
        .with_lock_timeout(second)
        .with_table_name(table.clone())
        .settings(settings.clone());
    let after = base()
        .settings(settings)
        .with_lock_timeout(second)
        .with_table_name(table);
    for migrator in [before, after] {
        assert_eq!(migrator.lock_timeout(), second);
        assert_eq!(migrator.table_name(), "history");
        // The fields not overridden keep the settings' values.
        assert_eq!(migrator.wait_timeout(), Duration::from_secs(45));
        assert_eq!(migrator.poll_interval(), Duration::from_millis(500));
    }
}

#[tokio::test]
async fn the_command_line_takes_humantime_durations() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_cli_durations").await else {
        return;
    };
    let db = crate::support::connect(&fresh.url).await;
    let cli = Cli::new(Kind::Sqlite.migrator());
    for (args, code) in [
        (&["apply", "--lock-timeout", "1m 30s"][..], Cli::SUCCESS),
        (&["wait", "--timeout", "1m 30s"], Cli::SUCCESS),
        (&["--lock-timeout", "1h 1m"], Cli::SUCCESS),
        (&["--lock-timeout", "25h"], Cli::USAGE),
        (&["wait", "--timeout", "90"], Cli::USAGE),
    ] {
        assert_eq!(
            cli.run_on(&db, args.iter().copied()).await,
            ExitCode::from(code),
            "migrate {args:?}"
        );
    }
}
