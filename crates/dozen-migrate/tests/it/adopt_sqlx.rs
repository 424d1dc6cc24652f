//! Promise: `adopt-sqlx` adopts a database that sqlx's own migrator
//! migrated: refinery's history is recorded for the embedded migrations of
//! sqlx's versions, under the lock, without running anything, so that
//! `status` is up to date and `apply` runs only what sqlx never ran. It
//! refuses, naming the version, a sqlx migration that failed, a version on
//! one side only, and SQL whose SHA-384 is not sqlx's checksum, and records
//! nothing then; run again, it finds the database adopted and changes nothing.

use std::path::Path;
use std::time::Duration;

use dozen_migrate::{Adoption, Cli, Database, ErrorKind, Migrator};

use crate::support::{Kind, check_cli_rows, connect, execute, log_counts, once_each, run_cli, set};

const CREATE: &str =
    "CREATE TABLE counter (n INTEGER NOT NULL);\nINSERT INTO counter (n) VALUES (1);\n";
const BUMP: &str = "UPDATE counter SET n = n + 1;\n";
const BUMP_TEN: &str = "UPDATE counter SET n = n + 10;\n";

/// sqlx's migrator, run on `db` over `files` (sqlx's `<version>_<description>.sql`
/// names) written to a temporary folder, as `sqlx migrate run` would.
async fn sqlx_migrate(
    db: &Database,
    files: &[(&str, &str)],
) -> Result<(), sqlx::migrate::MigrateError> {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write migration");
    }
    let migrator = sqlx::migrate::Migrator::new(Path::new(dir.path())).await?;
    match db {
        Database::Postgres(p) => migrator.run(p).await,
        Database::MySql(p) => migrator.run(p).await,
        Database::Sqlite(p) => migrator.run(p).await,
        _ => unreachable!("all features are on in tests"),
    }
}

/// The counter the migrations create and bump.
async fn counter(db: &Database) -> i64 {
    match db {
        Database::Postgres(p) => {
            sqlx::query_scalar("SELECT n::int8 FROM counter")
                .fetch_one(p)
                .await
        }
        Database::MySql(p) => {
            sqlx::query_scalar("SELECT CAST(n AS SIGNED) FROM counter")
                .fetch_one(p)
                .await
        }
        Database::Sqlite(p) => {
            sqlx::query_scalar("SELECT n FROM counter")
                .fetch_one(p)
                .await
        }
        _ => unreachable!("all features are on in tests"),
    }
    .expect("counter")
}

fn versions(adoption: &Adoption) -> Vec<i32> {
    adoption.migrations.iter().map(|a| a.version).collect()
}

/// sqlx's `1_create_counter.sql` and `2_bump_the_counter.sql`.
const SQLX_FILES: &[(&str, &str)] = &[
    ("1_create_counter.sql", CREATE),
    ("2_bump_the_counter.sql", BUMP),
];

/// A fresh database that sqlx's migrator migrated with [`SQLX_FILES`], or
/// `None` when the server's variable is unset.
async fn sqlx_migrated(kind: Kind, prefix: &str) -> Option<(crate::support::Fresh, Database)> {
    let fresh = kind.fresh(prefix).await?;
    let db = connect(&fresh.url).await;
    sqlx_migrate(&db, SQLX_FILES)
        .await
        .expect("sqlx's migrator");
    Some((fresh, db))
}

/// The refinery side of sqlx's `1_create_counter.sql` and `2_bump_the_counter.sql`.
fn binary() -> Migrator {
    set(&[("V1__create_counter", CREATE), ("V2__bump_counter", BUMP)])
}

#[tokio::test]
async fn adopted_database_is_up_to_date_and_nothing_runs_again() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some((_fresh, db)) = sqlx_migrated(kind, "dm_adopt").await else {
            continue;
        };
        assert_eq!(counter(&db).await, 2, "{kind:?}");
        let migrator = binary();
        assert_eq!(
            migrator
                .status(&db)
                .await
                .expect("status")
                .pending()
                .count(),
            2
        );

        let adoption = migrator.adopt_sqlx(&db).await.expect("adopt");
        assert_eq!(
            (versions(&adoption), adoption.already_adopted),
            (vec![1, 2], false),
            "{kind:?}"
        );
        assert_eq!(adoption.migrations[1].name, "bump_counter");
        assert_eq!(adoption.migrations[1].sqlx_description, "bump the counter");

        let status = migrator.status(&db).await.expect("status");
        assert!(status.is_up_to_date(), "{kind:?}: {status:?}");
        assert_eq!(status.current_version(), Some(2), "{kind:?}");
        migrator.validate(&db).await.expect("validate");
        // Re-running V1 would fail on its CREATE TABLE, V2 would bump the counter.
        let report = migrator.apply(&db).await.expect("apply");
        assert!(report.applied.is_empty(), "{kind:?}: {report:?}");
        assert_eq!(counter(&db).await, 2, "{kind:?}");

        // Again: nothing to write.
        let again = migrator.adopt_sqlx(&db).await.expect("adopt again");
        assert_eq!(
            (versions(&again), again.already_adopted),
            (vec![1, 2], true),
            "{kind:?}"
        );

        // The next release adds V3: only V3 runs, and adoption still holds.
        let next = set(&[
            ("V1__create_counter", CREATE),
            ("V2__bump_counter", BUMP),
            ("V3__bump_counter_ten", BUMP_TEN),
        ]);
        let report = next.apply(&db).await.expect("apply V3");
        assert_eq!(
            report.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
            [3],
            "{kind:?}"
        );
        assert_eq!(counter(&db).await, 12, "{kind:?}");
        assert!(
            next.adopt_sqlx(&db).await.expect("adopted").already_adopted,
            "{kind:?}"
        );
    }
}

/// Each refusal leaves refinery's history empty.
async fn assert_nothing_recorded(kind: Kind, db: &Database) {
    let status = binary().status(db).await.expect("status");
    assert_eq!(status.current_version(), None, "{kind:?}: {status:?}");
}

#[tokio::test]
async fn a_failed_sqlx_migration_or_no_sqlx_history_is_refused() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(fresh) = kind.fresh("dm_adopt_failed").await else {
            continue;
        };
        let db = connect(&fresh.url).await;
        let err = binary().adopt_sqlx(&db).await.expect_err("no sqlx table");
        assert_eq!(err.kind(), ErrorKind::NoSqlxHistory, "{kind:?}");
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: there is no table `_sqlx_migrations` (sqlx's history); \
             name sqlx's table if it has another name"
        );
        let named =
            binary().with_sqlx_table(dozen_migrate::TableName::new("sqlx_history").expect("valid"));
        let err = named.adopt_sqlx(&db).await.expect_err("no such table");
        assert!(err.to_string().contains("no table `sqlx_history`"), "{err}");

        if kind == Kind::MySql {
            // MariaDB commits DDL at once: sqlx's row for V2, written with
            // success = false before the migration ran, stays when it fails.
            let failing =
                "CREATE TABLE half (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n";
            sqlx_migrate(
                &db,
                &[
                    ("1_create_counter.sql", CREATE),
                    ("2_bump_the_counter.sql", failing),
                ],
            )
            .await
            .expect_err("V2 fails");
        } else {
            // PostgreSQL and SQLite roll a failed migration back with its row;
            // the row MariaDB leaves is made by hand.
            sqlx_migrate(&db, SQLX_FILES)
                .await
                .expect("sqlx's migrator");
            execute(
                &db,
                "UPDATE _sqlx_migrations SET success = false WHERE version = 2",
            )
            .await;
        }
        let err = binary().adopt_sqlx(&db).await.expect_err("failed");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::SqlxFailed, Some(2)),
            "{kind:?}"
        );
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: sqlx migration 2 (bump the counter) failed (success = false in \
             `_sqlx_migrations`): its changes may be half applied; complete or undo them by hand and \
             resolve it with sqlx first"
        );
        assert_nothing_recorded(kind, &db).await;
    }
}

#[tokio::test]
async fn a_version_on_one_side_only_is_refused() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(fresh) = kind.fresh("dm_adopt_missing").await else {
            continue;
        };
        let db = connect(&fresh.url).await;
        sqlx_migrate(
            &db,
            &[
                ("1_create_counter.sql", CREATE),
                ("3_bump_counter.sql", BUMP),
            ],
        )
        .await
        .expect("sqlx's migrator");

        // sqlx applied 3, the binary lacks it.
        let err = set(&[("V1__create_counter", CREATE)])
            .adopt_sqlx(&db)
            .await
            .expect_err("3 not embedded");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::SqlxMismatch, Some(3)),
            "{kind:?}"
        );
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: sqlx migration 3 (bump counter) is applied but not embedded in this \
             binary (embed it as V3__<name>.sql, its SQL unchanged)"
        );
        // The binary has 2, older than sqlx's newest, which sqlx never ran.
        let err = set(&[
            ("V1__create_counter", CREATE),
            ("V2__bump_counter_ten", BUMP_TEN),
            ("V3__bump_counter", BUMP),
        ])
        .adopt_sqlx(&db)
        .await
        .expect_err("2 never applied");
        assert_eq!(
            (err.kind(), err.version()),
            (ErrorKind::SqlxMismatch, Some(2)),
            "{kind:?}"
        );
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: migration V2__bump_counter_ten is embedded but sqlx never applied it, \
             and it is older than sqlx's newest migration 3"
        );
        assert_nothing_recorded(kind, &db).await;
        assert_eq!(counter(&db).await, 2, "{kind:?}");
    }
}

#[tokio::test]
async fn sql_that_differs_or_another_history_is_refused() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some((_fresh, db)) = sqlx_migrated(kind, "dm_adopt_checksum").await else {
            continue;
        };

        // One character more than sqlx ran (a trailing newline) is another SQL.
        let edited = format!("{BUMP}\n");
        let err = set(&[
            ("V1__create_counter", CREATE),
            ("V2__bump_counter", edited.as_str()),
        ])
        .adopt_sqlx(&db)
        .await
        .expect_err("checksum");
        assert_eq!(
            (err.kind(), err.version(), err.migration_name()),
            (ErrorKind::SqlxMismatch, Some(2), Some("bump_counter")),
            "{kind:?}"
        );
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: the SQL of migration V2__bump_counter differs from what sqlx applied as \
             2 (bump the counter): the SHA-384 checksums differ"
        );
        assert_nothing_recorded(kind, &db).await;

        // A refinery history of something else: not sqlx's, refused.
        set(&[("V1__other", "CREATE TABLE other (id INTEGER)")])
            .apply(&db)
            .await
            .expect("another history");
        let err = binary().adopt_sqlx(&db).await.expect_err("history exists");
        assert_eq!(err.kind(), ErrorKind::HistoryExists, "{kind:?}");
        assert_eq!(
            err.to_string(),
            "adopt-sqlx refused: the history table already records 1 migration (up to V1) that are not \
             sqlx's; adopt-sqlx is for a database that sqlx alone migrated"
        );
    }
}

/// Runs `adopt` while another session holds dozen-migrate's lock for the
/// default history table, expecting it to time out; then lets the lock go.
async fn with_lock_held(
    kind: Kind,
    url: &str,
    adopt: impl AsyncFn() -> Result<Adoption, dozen_migrate::Error>,
) {
    let side = connect(url).await;
    macro_rules! held {
        ($pool:expr, $hold:expr, $release:expr) => {{
            let mut conn = $pool.acquire().await.expect("a connection");
            sqlx::raw_sql(sqlx::AssertSqlSafe($hold))
                .execute(&mut *conn)
                .await
                .expect("hold");
            let err = adopt().await.expect_err("the lock is held");
            assert_eq!(err.kind(), ErrorKind::LockTimeout, "{kind:?}: {err}");
            sqlx::raw_sql(sqlx::AssertSqlSafe($release))
                .execute(&mut *conn)
                .await
                .expect("release");
        }};
    }
    match &side {
        Database::Postgres(p) => {
            let key = i64::from_ne_bytes(
                crate::support::fnv1a(&["dozen-migrate", "refinery_schema_history"]).to_ne_bytes(),
            );
            held!(
                p,
                format!("SELECT pg_advisory_lock({key})"),
                format!("SELECT pg_advisory_unlock({key})")
            );
        }
        Database::MySql(p) => {
            let name = crate::support::mysql_lock_name(p).await;
            held!(
                p,
                format!("DO GET_LOCK('{name}', 0)"),
                format!("DO RELEASE_LOCK('{name}')")
            );
        }
        Database::Sqlite(p) => held!(p, String::from("BEGIN IMMEDIATE"), String::from("ROLLBACK")),
        _ => unreachable!("all features are on in tests"),
    }
    side.close().await;
}

#[tokio::test]
async fn adoption_waits_for_the_migration_lock() {
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some((fresh, db)) = sqlx_migrated(kind, "dm_adopt_lock").await else {
            continue;
        };
        let migrator = binary().with_lock_timeout(Duration::from_millis(300));
        with_lock_held(kind, &fresh.url, async || migrator.adopt_sqlx(&db).await).await;
        assert_nothing_recorded(kind, &db).await;
        let adoption = migrator.adopt_sqlx(&db).await.expect("the lock is free");
        assert_eq!(versions(&adoption), [1, 2], "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_adopts_the_test_migrations() {
    let Some(fresh) = Kind::Sqlite.fresh("dm_adopt_cli").await else {
        return;
    };
    let db = connect(&fresh.url).await;
    // The 20 test migrations under sqlx's names (`V7__create_labels.sql` is
    // `7_create_labels.sql`), applied by sqlx.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrations/sqlite");
    let files: Vec<(String, String)> = std::fs::read_dir(&folder)
        .expect("migrations folder")
        .map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            let (version, rest) = name
                .trim_start_matches('V')
                .split_once("__")
                .expect("V{n}__name");
            (
                format!("{version}_{rest}"),
                std::fs::read_to_string(&path).expect("read"),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    sqlx_migrate(&db, &files).await.expect("sqlx's migrator");
    assert_eq!(log_counts(&db).await, once_each(20));

    let rows: &[(&str, u8, &str)] = &[
        (
            "adopt-sqlx --help",
            Cli::SUCCESS,
            "adopt-sqlx [--sqlx-table <name>] [--lock-timeout <duration>]",
        ),
        (
            "adopt-sqlx --sqlx-table",
            Cli::USAGE,
            "error: --sqlx-table: missing value",
        ),
        ("adopt-sqlx 20", Cli::USAGE, "unexpected argument `20`"),
        ("status --check", Cli::CHECK_FAILED, "20 pending"),
        (
            "adopt-sqlx --sqlx-table sqlx_history",
            Cli::FAILURE,
            "error: adopt-sqlx refused: there is no table `sqlx_history`",
        ),
        (
            "adopt-sqlx --lock-timeout 30s",
            Cli::SUCCESS,
            "migrate: recorded the 20 migrations of _sqlx_migrations as applied without running them; \
             the schema is at V20",
        ),
        (
            "status --check",
            Cli::SUCCESS,
            "the schema is at V20; this binary's latest is V20; 0 pending",
        ),
        (
            "apply",
            Cli::SUCCESS,
            "nothing to apply; the schema is at V20",
        ),
        (
            "adopt-sqlx",
            Cli::SUCCESS,
            "migrate: already adopted: the history records the 20 migrations of _sqlx_migrations; the schema is at V20",
        ),
    ];
    check_cli_rows(Kind::Sqlite, &fresh.url, rows);
    assert_eq!(log_counts(&db).await, once_each(20));

    let (code, stdout, stderr) = run_cli(Kind::Sqlite, &fresh.url, "adopt-sqlx --format json");
    assert_eq!(code, Cli::SUCCESS, "{stderr}");
    crate::output::golden("adopt-sqlx.json", &stdout);
}
