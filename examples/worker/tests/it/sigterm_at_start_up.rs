//! SIGTERM at any start-up phase of the worker ends cleanly with exit 0 and
//! takes no job: while it connects with retry (a closed port), and while it
//! waits for the migrate Job to bring the schema up to date.

use std::time::Duration;

use crate::support::{closed_port, runtime, spawn, stopped_in};
use crate::worker;

#[test]
fn sigterm_while_connecting_with_retry_exits_0_and_takes_no_job() {
    let url = format!("postgres://app:pw@127.0.0.1:{}/app", closed_port());
    let mut w = spawn(
        worker(),
        &[],
        &[("DATABASE_URL", &url), ("DATABASE_CONNECT_TIMEOUT", "120s")],
    );
    w.wait_for_retry();
    w.signal("TERM");
    assert_eq!(w.wait_exit(Duration::from_secs(15)).code(), Some(0));
    stopped_in(&w, "connect");
}

#[test]
fn sigterm_while_waiting_for_the_schema_exits_0_and_takes_no_job() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url = runtime().block_on(dozen_testkit::fresh_postgres(&base, "worker_sigterm_wait"));
    let mut w = spawn(worker(), &[], &[("DATABASE_URL", &url)]);
    w.wait_for(
        "waiting for the migrate Job to bring the schema up to date",
        Duration::from_secs(60),
    );
    w.signal("TERM");
    assert_eq!(w.wait_exit(Duration::from_secs(15)).code(), Some(0));
    stopped_in(&w, "migrations");
}
