//! The worker's blocks of the getting-started guide are executed against the
//! real `worker` binary, on SQLite, PostgreSQL and MariaDB (each where its
//! test URL is set, always under CI), with a reminder enqueued as the API
//! would have: the worker sends it, stops cleanly on SIGTERM, and the queue
//! then counts it done. The harness and its rules: `dozen_testkit::walk`.

use std::path::Path;

use dozen_testkit::walk::Walk;
use sqlx::Row as _;

use crate::leases::prepare;
use crate::support::{runtime, targets};

#[test]
fn the_guide_walks_the_worker() {
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/getting-started.md");
    let rt = runtime();
    for target in targets("worker_guide") {
        let db = rt.block_on(prepare(&target, 1));
        let walked = Walk::new()
            .binary("example-worker", env!("CARGO_BIN_EXE_worker"))
            .env("DATABASE_URL", &target.url)
            .run(&guide, "worker");
        assert_eq!(walked, 1, "{}: the worker block", target.name);
        let done: i64 = rt
            .block_on(
                sqlx::query("SELECT COUNT(*) FROM dozen_jobs WHERE state = 'done'")
                    .fetch_one(&db.pool),
            )
            .expect("count the jobs done")
            .get(0);
        assert_eq!(done, 1, "{}: the reminder was sent", target.name);
    }
}
