//! Promise: eight migrator processes started together against an empty
//! database all succeed, and each migration is applied exactly once.

use std::io::Read as _;

use crate::support::{Kind, log_counts, now_ms, once_each, spawn_migrator};

async fn check(kind: Kind) {
    let Some(fresh) = kind.fresh("dm_race").await else {
        return;
    };
    // Far enough ahead for eight processes to start on a loaded 2-core machine.
    let start_at = now_ms() + 1500;
    let children: Vec<_> = (0..8)
        .map(|_| spawn_migrator(kind, &fresh.url, Some(start_at)))
        .collect();
    let mut applied_counts = Vec::new();
    for mut child in children {
        let status = child.wait().expect("wait");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("read");
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        assert!(status.success(), "{kind:?} migrator failed: {out}\n{err}");
        let n: usize = out
            .lines()
            .find_map(|l| l.strip_prefix("report applied="))
            .unwrap_or_else(|| panic!("no report from a {kind:?} migrator: {out}\n{err}"))
            .parse()
            .expect("count");
        applied_counts.push(n);
    }
    applied_counts.sort_unstable();
    assert_eq!(
        applied_counts,
        [0, 0, 0, 0, 0, 0, 0, 20],
        "{kind:?}: one runner applies all, seven nothing"
    );

    let db = crate::support::connect(&fresh.url).await;
    assert_eq!(
        log_counts(&db).await,
        once_each(20),
        "{kind:?}: each version applied exactly once"
    );
    let status = kind.migrator().status(&db).await.expect("status");
    assert!(status.is_up_to_date(), "{kind:?}: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_postgres() {
    check(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_mysql() {
    check(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_sqlite() {
    check(Kind::Sqlite).await;
}
