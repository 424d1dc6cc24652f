//! SIGTERM at any start-up phase ends cleanly, with the exit code documented
//! for that phase in `src/main.rs`, and no phase carries on after it:
//!
//! | phase | exit after SIGTERM |
//! |---|---|
//! | configuration (held here by a `_FILE` that is a FIFO nobody writes) | killed by the signal (not handled yet), nothing logged |
//! | connect with retry (a closed port) | 0 |
//! | migrations (`MIGRATE_ON_START`, the lock held by the test) | 0 |
//! | bind (held here by a `bind(2)` slowed down through `LD_PRELOAD`) | 0 |
//! | serve | 0 |
//! | `todo-api migrate` (lock held) and `todo-api migrate wait` | 143 |
//!
//! "Nothing after the phase ran": the log says where start-up stopped, there
//! is no "ready" line, no migration was applied.

use std::time::Duration;

use sqlx::Connection as _;

use crate::support::{Proc, closed_port, runtime, spawn, stopped_in};
use crate::todo_api;

/// The advisory lock key dozen-migrate takes for its default history table,
/// `refinery_schema_history`, in `public` (pinned there by a unit test:
/// deployed releases agree on it).
const MIGRATION_LOCK_KEY: i64 = i64::from_ne_bytes(0xd383_eab6_99cb_7857_u64.to_ne_bytes());

fn terminate(app: &mut Proc) -> Option<i32> {
    app.signal("TERM");
    app.wait_exit(Duration::from_secs(15)).code()
}

#[test]
fn sigterm_while_reading_the_configuration_ends_the_process_and_logs_nothing() {
    use std::os::unix::process::ExitStatusExt as _;

    // Opening a FIFO for reading blocks until a writer comes: the configuration
    // phase stands still, as on a slow secrets volume.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fifo = dir.path().join("database-url");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let fifo = fifo.display().to_string();
    let mut app = spawn(
        todo_api(),
        &[],
        &[("DATABASE_URL_FILE", &fifo), ("PORT", "0")],
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        app.child.try_wait().expect("try_wait").is_none(),
        "it did not wait for the file"
    );
    app.signal("TERM");
    let status = app.wait_exit(Duration::from_secs(15));
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert!(
        app.logged().is_empty(),
        "logged before its configuration was read"
    );
}

#[test]
fn sigterm_while_connecting_with_retry_exits_0_and_serves_nothing() {
    let url = format!("postgres://app:pw@127.0.0.1:{}/app", closed_port());
    let mut app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("PORT", "0"),
            ("DATABASE_CONNECT_TIMEOUT", "120s"),
            ("SHUTDOWN_TIMEOUT", "30s"),
        ],
    );
    app.wait_for_retry();
    assert_eq!(terminate(&mut app), Some(0));
    stopped_in(&app, "connect");
}

/// A shared library that makes `bind(2)` take 3 s, after it has created
/// the file named by `SLOW_BIND_MARK`: loaded with `LD_PRELOAD`, it holds a
/// real process in its bind phase long enough to be signalled there. Built
/// with `cc`, the linker Rust itself needs on Linux.
fn slow_bind_library(dir: &std::path::Path) -> std::path::PathBuf {
    const SOURCE: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
    int (*real)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    const char *mark = getenv("SLOW_BIND_MARK");
    if (mark) {
        int marked = open(mark, O_CREAT | O_WRONLY, 0600);
        if (marked >= 0) close(marked);
        struct timespec wait = {3, 0};
        /* The whole 3 s, whatever signal interrupts the sleep. */
        while (nanosleep(&wait, &wait) == -1 && errno == EINTR) {}
    }
    return real(fd, addr, len);
}
"#;
    let source = dir.join("slow_bind.c");
    let library = dir.join("slow_bind.so");
    std::fs::write(&source, SOURCE).expect("write the shim");
    let built = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status()
        .expect("cc runs (Rust needs it to link)");
    assert!(built.success(), "the bind shim did not build");
    library
}

#[test]
fn sigterm_while_binding_the_port_exits_0_and_serves_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let library = slow_bind_library(dir.path());
    let mark = dir.path().join("binding");
    let (library, mark_path) = (library.display().to_string(), mark.display().to_string());
    let mut app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", "sqlite::memory:"),
            ("PORT", "0"),
            ("LD_PRELOAD", &library),
            ("SLOW_BIND_MARK", &mark_path),
        ],
    );
    let since = std::time::Instant::now();
    while !mark.exists() {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "the process never reached its bind"
        );
        assert!(
            app.child.try_wait().expect("try_wait").is_none(),
            "it exited before binding: {:#?}",
            app.logged()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(terminate(&mut app), Some(0));
    stopped_in(&app, "bind");
    let logged = app.logged();
    assert!(
        !logged.iter().any(|l| l["message"] == "listening"),
        "it listened after a signal in bind: {logged:#?}"
    );
}

/// A fresh PostgreSQL database, with a connection of the test's own to it.
struct Pg {
    url: String,
    conn: sqlx::PgConnection,
    rt: tokio::runtime::Runtime,
}

impl Pg {
    /// `None` (with the testkit's skip notice) when `TEST_POSTGRES_URL` is
    /// unset outside CI.
    fn fresh(prefix: &str) -> Option<Self> {
        let base = dozen_testkit::service_url(dozen_testkit::POSTGRES)?;
        let rt = runtime();
        let url = rt.block_on(dozen_testkit::fresh_postgres(&base, prefix));
        let conn = rt
            .block_on(sqlx::PgConnection::connect(&url))
            .expect("a connection to the fresh database");
        Some(Self { url, conn, rt })
    }

    fn hold_migration_lock(&mut self) {
        self.rt
            .block_on(
                sqlx::query("SELECT pg_advisory_lock($1)::text")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut self.conn),
            )
            .expect("the test takes the migration lock");
    }

    fn has_table(&mut self, table: &str) -> bool {
        self.rt
            .block_on(
                sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                    .bind(table)
                    .fetch_one(&mut self.conn),
            )
            .expect("to_regclass")
    }

    /// Sessions on this database other than the test's own.
    fn other_sessions(&mut self) -> i64 {
        self.rt
            .block_on(
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .fetch_one(&mut self.conn),
            )
            .expect("pg_stat_activity")
    }
}

#[test]
fn sigterm_while_migrations_wait_for_the_lock_exits_0_and_serves_nothing() {
    let Some(mut pg) = Pg::fresh("todo_sigterm_migrations") else {
        return;
    };
    pg.hold_migration_lock();
    let mut app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &pg.url),
            ("PORT", "0"),
            ("MIGRATE_ON_START", "true"),
            ("SHUTDOWN_TIMEOUT", "30s"),
        ],
    );
    app.wait_for("waiting for the migration lock", Duration::from_secs(60));
    assert_eq!(terminate(&mut app), Some(0));
    stopped_in(&app, "migrations");
    assert!(!pg.has_table("todos"), "a migration was applied");
}

#[test]
fn sigterm_stops_the_migrate_command_with_143_and_applies_nothing() {
    let Some(mut pg) = Pg::fresh("todo_sigterm_migrate_cmd") else {
        return;
    };
    pg.hold_migration_lock();
    let mut cmd = spawn(todo_api(), &["migrate"], &[("DATABASE_URL", &pg.url)]);
    cmd.wait_for("waiting for the migration lock", Duration::from_secs(60));
    assert_eq!(terminate(&mut cmd), Some(143), "stopped is not done");
    assert!(!pg.has_table("todos"), "a migration was applied");
    let seen = cmd.seen.lock().expect("not poisoned").join("\n");
    assert!(!seen.contains("applying"), "{seen}");
}

#[test]
fn sigterm_stops_migrate_wait_with_143() {
    let Some(mut pg) = Pg::fresh("todo_sigterm_migrate_wait") else {
        return;
    };
    let mut cmd = spawn(
        todo_api(),
        &["migrate", "wait", "--timeout", "10m"],
        &[("DATABASE_URL", &pg.url)],
    );
    // Waiting once its connection is open (signals are handled before it).
    let started = std::time::Instant::now();
    while pg.other_sessions() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "migrate wait never connected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        terminate(&mut cmd),
        Some(143),
        "an init container stopped while waiting must not count as done"
    );
    let seen = cmd.seen.lock().expect("not poisoned").join("\n");
    assert!(!seen.contains("the schema is at"), "{seen}");
}

#[test]
fn sigterm_while_serving_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("todo.db").display());
    let mut app = spawn(
        todo_api(),
        &[],
        &[
            ("DATABASE_URL", &url),
            ("PORT", "0"),
            ("SHUTDOWN_DELAY", "0s"),
        ],
    );
    app.listening();
    assert_eq!(terminate(&mut app), Some(0));
    assert!(
        !app.logged()
            .iter()
            .any(|l| l["message"] == "shutdown began during start-up; stopping there"),
        "serving is not start-up"
    );
}
