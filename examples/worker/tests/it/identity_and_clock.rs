//! A worker's identity and its leases hold whatever the host says: the owner
//! id is unique per process even when `HOSTNAME` is unset and every worker is
//! pid 1 (one container each), and lease times come from the database's
//! clock, so a worker whose clock is an hour off still leases for `JOBS_LEASE`
//! as the database counts it.

use std::process::Command;
use std::time::Duration;

use dozen_backing::ServiceUrl;
use example_todo_api::db::Db;
use sqlx::Row as _;

use crate::leases::prepare;
use crate::support::{runtime, spawn, targets};
use crate::worker;

/// Whether this machine can give a child its own pid namespace (root, or
/// unprivileged user namespaces); CI can.
fn pid_namespaces() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn two_workers_that_are_both_pid_1_without_hostname_have_different_owner_ids() {
    if !pid_namespaces() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to run `unshare --pid --fork`"
        );
        eprintln!("skipped: `unshare --pid --fork` is not permitted here");
        return;
    }
    let target = targets("worker_owner").remove(0);
    let worker = worker().to_str().expect("a UTF-8 path");
    let owners: Vec<String> = (0..2)
        .map(|_| {
            // HOSTNAME unset (spawn clears the environment), pid 1 in a
            // namespace of its own.
            let w = spawn(
                std::path::Path::new("unshare"),
                &["--pid", "--fork", "--kill-child", worker],
                &[("DATABASE_URL", &target.url)],
            );
            let line = w.wait_for("taking jobs", Duration::from_secs(60));
            line["owner"].as_str().expect("an owner").to_owned()
        })
        .collect();
    assert!(
        owners.iter().all(|o| o.starts_with("worker-1-")),
        "both are pid 1 without HOSTNAME: {owners:?}"
    );
    assert_ne!(owners[0], owners[1], "two processes, one owner id");
}

#[test]
fn leases_are_timed_by_the_database_clock_not_the_workers() {
    // libfaketime, preloaded into the worker itself (so that the test's kill
    // reaches the worker, not a wrapper).
    let lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    if !std::path::Path::new(lib).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have libfaketime (Debian package faketime)"
        );
        eprintln!("skipped: libfaketime is not installed");
        return;
    }
    let rt = runtime();
    // SQLite's clock is the worker's own (it runs in the worker's process).
    for target in targets("worker_clock")
        .into_iter()
        .filter(|t| t.name != "sqlite")
    {
        let name = target.name;
        let db = rt.block_on(prepare(&target, 1));
        // The worker's clock runs an hour ahead of the database's.
        let w = spawn(
            worker(),
            &[],
            &[
                ("LD_PRELOAD", lib),
                ("FAKETIME", "+1h"),
                ("DATABASE_URL", &target.url),
                ("JOBS_LEASE", "60s"),
                ("JOB_WORK_TIME", "60s"),
            ],
        );
        w.wait_for("job claimed", Duration::from_secs(60));
        let (until, now) = rt.block_on(lease_and_now(&db, &target.url));
        let ahead = until - now;
        assert!(
            (50_000..=60_000).contains(&ahead),
            "{name}: a 60 s lease ends {ahead} ms after the database's now"
        );
    }
}

/// The end of the first job's lease (its `run_at` while leased) and the database's current time, both in ms.
async fn lease_and_now(db: &Db, url: &str) -> (i64, i64) {
    let url: ServiceUrl = url.parse().expect("a URL");
    let dialect = example_todo_api::db::Dialect::of(&url).expect("a dialect");
    let sql = format!(
        "SELECT run_at, {} AS now FROM dozen_jobs ORDER BY id LIMIT 1",
        dialect.now_ms_sql()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&db.pool)
        .await
        .expect("the lease");
    (row.get("run_at"), row.get("now"))
}
