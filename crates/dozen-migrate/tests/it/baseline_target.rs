//! Promise: `baseline V` adopts a database whose tables exist and whose
//! history is empty, recording the migrations up to V without running them,
//! and is refused once a history exists; `--target V` applies up to V only,
//! and is refused below the current version or for a version not embedded.

use dozen_migrate::{Cli, ErrorKind};

use crate::support::{Kind, check_cli_rows, execute, set};

const A: (&str, &str) = ("V1__a", "CREATE TABLE a (id INTEGER)");
const B: (&str, &str) = ("V2__b", "CREATE TABLE b (id INTEGER)");
const C: (&str, &str) = ("V3__c", "CREATE TABLE c (id INTEGER)");
const D: (&str, &str) = ("V4__d", "CREATE TABLE d (id INTEGER)");

fn versions(report: &dozen_migrate::Report) -> Vec<i32> {
    report.applied.iter().map(|a| a.version).collect()
}

#[tokio::test]
async fn baseline_adopts_an_existing_database_once() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(fresh) = kind.fresh("dm_baseline").await else {
            continue;
        };
        let db = crate::support::connect(&fresh.url).await;
        // Tables made before migrations were adopted: running V1 or V2 again
        // would fail on them.
        execute(
            &db,
            "CREATE TABLE a (id INTEGER); CREATE TABLE b (id INTEGER)",
        )
        .await;
        let migrator = set(&[A, B, C]);

        let err = migrator.baseline(&db, 9).await.expect_err("not embedded");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::NotEmbedded, Some(9)),
            "{kind:?}"
        );
        assert_eq!(migrator.baseline(&db, 2).await.expect("baseline"), [1, 2]);
        let status = migrator.status(&db).await.expect("status");
        assert_eq!(status.current_version(), Some(2), "{kind:?}");
        let report = migrator.apply(&db).await.expect("apply after the baseline");
        assert_eq!(versions(&report), [3], "{kind:?}");

        let err = migrator.baseline(&db, 2).await.expect_err("history exists");
        assert_eq!(err.kind(), ErrorKind::HistoryExists, "{kind:?}");
        assert_eq!(
            err.to_string(),
            "baseline refused: the history table already records 3 migrations (up to V3); \
             baseline is for a database with tables and no history"
        );
    }
}

#[tokio::test]
async fn target_applies_up_to_a_version_and_never_back() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(fresh) = kind.fresh("dm_target").await else {
            continue;
        };
        let db = crate::support::connect(&fresh.url).await;
        let migrator = set(&[A, B, C, D]);

        let plan = migrator
            .clone()
            .with_target(2)
            .plan(&db)
            .await
            .expect("plan");
        assert_eq!(
            plan.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
            [1, 2]
        );
        let report = migrator
            .clone()
            .with_target(2)
            .apply(&db)
            .await
            .expect("to V2");
        assert_eq!(versions(&report), [1, 2], "{kind:?}");
        let report = migrator
            .clone()
            .with_target(2)
            .apply(&db)
            .await
            .expect("again");
        assert!(report.applied.is_empty(), "{kind:?}");

        let err = migrator
            .clone()
            .with_target(1)
            .apply(&db)
            .await
            .expect_err("below");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::TargetBelowCurrent, Some(1))
        );
        assert_eq!(
            err.to_string(),
            "target V1 is below the current version V2: migrations are never undone; give V2 or later"
        );
        let err = migrator
            .clone()
            .with_target(1)
            .plan(&db)
            .await
            .expect_err("below");
        assert_eq!(err.kind(), ErrorKind::TargetBelowCurrent, "{kind:?}");
        let err = migrator
            .clone()
            .with_target(7)
            .apply(&db)
            .await
            .expect_err("unknown");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::NotEmbedded, Some(7))
        );

        let report = migrator.apply(&db).await.expect("the rest");
        assert_eq!(versions(&report), [3, 4], "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_takes_baseline_and_target() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_target_cli").await else {
        return;
    };
    let rows: &[(&str, u8, &str)] = &[
        ("baseline", Cli::USAGE, "baseline needs the version"),
        ("--target V5", Cli::SUCCESS, "applied 5 migrations in"),
        (
            "--target 5",
            Cli::SUCCESS,
            "nothing to apply; the schema is at V5",
        ),
        (
            "--target 3",
            Cli::FAILURE,
            "error: target V3 is below the current version V5",
        ),
        (
            "--target 25",
            Cli::FAILURE,
            "error: migration V25 is not embedded in this binary",
        ),
        (
            "baseline 3",
            Cli::FAILURE,
            "error: baseline refused: the history table already records 5 migrations",
        ),
        (
            "--dry-run --target 7",
            Cli::SUCCESS,
            "would apply V7__create_labels",
        ),
        ("--target 7", Cli::SUCCESS, "applied V7__create_labels ("),
        (
            "status",
            Cli::SUCCESS,
            "the schema is at V7; this binary's latest is V20; 13 pending",
        ),
    ];
    check_cli_rows(Kind::Sqlite, &fresh.url, rows);

    let Some(fresh) = Kind::Sqlite.fresh("dm_baseline_cli").await else {
        return;
    };
    let rows: &[(&str, u8, &str)] = &[
        (
            "baseline V20 --lock-timeout 30s",
            Cli::SUCCESS,
            "recorded 20 migrations as applied without running them; the schema is at V20",
        ),
        ("status --check", Cli::SUCCESS, "0 pending"),
    ];
    check_cli_rows(Kind::Sqlite, &fresh.url, rows);
}
