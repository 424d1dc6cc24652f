//! The getting-started guide is executed: every shell block it marks
//! `<!-- walk: NAME -->` runs against the real `todo-api` binary, on SQLite and
//! (where `TEST_POSTGRES_URL` is set, always under CI) on PostgreSQL, and its
//! output must be what the guide shows (the harness and its rules:
//! `dozen_testkit::walk`). The worker's blocks are walked by the worker's
//! tests, which have its binary.

use std::path::{Path, PathBuf};

use dozen_testkit::walk::Walk;

use crate::support;

fn guide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/getting-started.md")
}

/// Walks the blocks named `name`, the binary for `cargo run -q -p
/// example-todo-api`, the test server on `port`; how many there were.
fn walk(name: &str, port: Option<u16>, env: &[(&str, &str)]) -> usize {
    let mut walk = Walk::new().binary("example-todo-api", env!("CARGO_BIN_EXE_todo-api"));
    if let Some(port) = port {
        walk = walk.port(port);
    }
    for (k, v) in env {
        walk = walk.env(k, v);
    }
    walk.run(&guide(), name)
}

/// A server on `url`, on a free port, as `cargo run -p example-todo-api` starts it.
fn server(url: &str, env: &[(&str, &str)]) -> (support::Proc, u16) {
    let mut all = vec![("DATABASE_URL", url), ("PORT", "0")];
    all.extend_from_slice(env);
    let app = support::spawn(Path::new(env!("CARGO_BIN_EXE_todo-api")), &[], &all);
    let port = app.listening().port();
    (app, port)
}

#[test]
fn the_guide_walks_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let (mut app, port) = server(&url, &[]);
    assert!(walk("api", Some(port), &[]) >= 2, "no api block walked");
    assert_eq!(walk("config-error", None, &[]), 1);
    // Once more, on a database that already holds todos: the guide works from any state.
    assert!(walk("api", Some(port), &[]) >= 2);
    app.signal("TERM");
    assert!(app.wait_exit(std::time::Duration::from_secs(30)).success());
}

/// The logs section: each block starts a server of its own on the embedded
/// default, in its own directory, and reads its log file.
#[test]
fn the_guide_walks_the_logs() {
    assert_eq!(walk("logs", Some(support::closed_port()), &[]), 2);
}

#[test]
fn the_guide_walks_on_postgres() {
    let Some(base) = dozen_testkit::service_url(dozen_testkit::POSTGRES) else {
        return;
    };
    let url = support::runtime().block_on(dozen_testkit::fresh_postgres(&base, "guide_walk"));
    assert_eq!(
        walk("postgres-migrate", None, &[("DATABASE_URL", &url)]),
        1,
        "the migrate block"
    );
    let (mut app, port) = server(&url, &[]);
    assert!(walk("api", Some(port), &[]) >= 2, "no api block walked");
    app.signal("TERM");
    assert!(app.wait_exit(std::time::Duration::from_secs(30)).success());
}
