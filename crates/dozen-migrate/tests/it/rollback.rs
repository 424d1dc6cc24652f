//! Promise: after a rollback, an older release meets a schema a newer one
//! migrated. Without `MIGRATE_ALLOW_NEWER` its `apply` and `validate` refuse,
//! naming the newer versions and the option; with it (setting or
//! `--allow-newer`) they log the newer versions, still check the checksums of
//! the migrations both sides know, and succeed. A migration deleted from the
//! middle of the set is never accepted.

use dozen_migrate::{Cli, ErrorKind, MigrateSettings};

use crate::support::{Kind, check_cli_rows, set};

const A: (&str, &str) = ("V1__a", "CREATE TABLE a (id INTEGER)");
const B: (&str, &str) = ("V2__b", "CREATE TABLE b (id INTEGER)");
const C: (&str, &str) = ("V3__c", "CREATE TABLE c (id INTEGER)");
const D: (&str, &str) = ("V4__d", "CREATE TABLE d (id INTEGER)");

#[tokio::test]
async fn an_older_release_applies_over_a_newer_schema_only_when_allowed() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(fresh) = kind.fresh("dm_rollback").await else {
            continue;
        };
        let db = crate::support::connect(&fresh.url).await;
        set(&[A, B, C, D])
            .apply(&db)
            .await
            .expect("the new release");
        let old = set(&[A, B]);

        let err = old.apply(&db).await.expect_err("newer versions refused");
        assert_eq!(err.kind(), ErrorKind::NewerVersions, "{kind:?}: {err}");
        assert_eq!(
            (err.version(), err.var()),
            (Some(3), Some("MIGRATE_ALLOW_NEWER"))
        );
        assert_eq!(
            err.to_string(),
            "the database holds migrations newer than this binary's latest (V2): V3__c, V4__d; \
             if the app was rolled back, accept them with MIGRATE_ALLOW_NEWER=true or --allow-newer"
        );
        let err = old.validate(&db).await.expect_err("newer versions refused");
        assert_eq!(err.kind(), ErrorKind::NewerVersions, "{kind:?}");

        // The setting, and the builder override.
        let mut settings = MigrateSettings::default();
        settings.migrate_allow_newer = true;
        for allowed in [
            old.clone().settings(settings),
            old.clone().with_allow_newer(true),
        ] {
            let report = allowed.apply(&db).await.expect("accepted");
            assert!(report.applied.is_empty(), "{kind:?}");
            assert_eq!(report.newer, vec![3, 4], "{kind:?}");
            let status = allowed.validate(&db).await.expect("valid");
            assert!(status.is_up_to_date(), "{kind:?}");
            assert_eq!(
                status.newer().map(|e| e.version).collect::<Vec<_>>(),
                [3, 4]
            );
        }

        // The versions both sides know are still checked.
        let edited = set(&[A, ("V2__b", "CREATE TABLE b (id BIGINT)")]).with_allow_newer(true);
        let err = edited.apply(&db).await.expect_err("divergent");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::Divergent, Some(2)),
            "{kind:?}"
        );

        // A file deleted from the middle is not a rollback.
        let gap = set(&[A, C, D]).with_allow_newer(true);
        let err = gap.apply(&db).await.expect_err("unknown");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::UnknownVersion, Some(2)),
            "{kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_takes_allow_newer() {
    for kind in [Kind::Sqlite, Kind::Postgres, Kind::MySql] {
        let Some(fresh) = kind.fresh("dm_rollback_cli").await else {
            continue;
        };
        let db = crate::support::connect(&fresh.url).await;
        // The test binary's 20 migrations, and a newer release's 21st.
        let newer = kind.newer_release();
        newer.apply(&db).await.expect("the newer release");
        let rows: &[(&str, u8, &str)] = &[
            (
                "apply",
                Cli::CHECK_FAILED,
                "V21__newer; if the app was rolled back",
            ),
            (
                "validate",
                Cli::CHECK_FAILED,
                "accept it with MIGRATE_ALLOW_NEWER=true or --allow-newer",
            ),
            (
                "status",
                Cli::SUCCESS,
                "NEWER (applied by a newer release; accept it with --allow-newer)",
            ),
            ("status --check", Cli::CHECK_FAILED, "the schema is at V21"),
            (
                "apply --allow-newer",
                Cli::SUCCESS,
                "nothing to apply; the schema is at V21; accepted V21 from a newer release",
            ),
            (
                "validate --allow-newer",
                Cli::SUCCESS,
                "20 applied migrations match this binary; 0 pending; 1 from a newer release accepted",
            ),
            (
                "status --check --allow-newer",
                Cli::SUCCESS,
                "applied by a newer release (accepted)",
            ),
            (
                "plan",
                Cli::CHECK_FAILED,
                "accept it with MIGRATE_ALLOW_NEWER=true",
            ),
            (
                "plan --allow-newer",
                Cli::SUCCESS,
                "-- migrate: 0 pending up to V20; the schema is at V21",
            ),
            ("wait --timeout 1s", Cli::SUCCESS, "the schema is at V21"),
        ];
        check_cli_rows(kind, &fresh.url, rows);
    }
}
