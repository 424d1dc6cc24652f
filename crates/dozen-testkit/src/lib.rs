//! Test support shared by the dozen crates' integration tests (not published).
//!
//! Tests that need a real PostgreSQL, MariaDB or Redis read its URL from the
//! environment, as sqlx's own CI does. On a laptop without the service the test
//! prints `skipped: set TEST_POSTGRES_URL to run` and passes; when `CI` is set,
//! a missing variable is a failure, so CI can never skip silently.

pub mod walk;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable holding the PostgreSQL URL for tests.
pub const POSTGRES: &str = "TEST_POSTGRES_URL";
/// The variable holding the MySQL/MariaDB URL for tests.
pub const MYSQL: &str = "TEST_MYSQL_URL";
/// The variable holding the Redis URL for tests.
pub const REDIS: &str = "TEST_REDIS_URL";

/// The URL in `var`, or `None` after printing why the test is skipped.
///
/// # Panics
///
/// When `var` is unset or empty while `CI` is set: CI must never skip silently.
#[must_use]
pub fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) => {
            panic!("{var} is not set, but CI is: a service-backed test would be skipped silently")
        }
        _ => {
            #[allow(clippy::print_stderr, reason = "the skip notice is the point")]
            {
                eprintln!("skipped: set {var} to run");
            }
            None
        }
    }
}

/// A name no other test run on this machine uses: `prefix`, the process id, a
/// clock reading and a counter, lower-case ASCII so it is a valid database name.
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{nanos:x}_{n}", std::process::id()).to_ascii_lowercase()
}

/// `url` with its database (the path) replaced by `database`, query kept.
#[must_use]
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The start of the name of every database [`fresh_postgres`] and
/// [`fresh_mysql`] create, followed by a [`unique_name`], which holds the
/// creating process's id.
///
/// Tests never drop their databases, so without a sweep a machine that runs
/// the suite keeps hundreds of them. The first of those calls in a process
/// drops, on the same server, every database with this mark whose creating
/// process no longer exists, at most [`SWEEP_LIMIT`] of them per call. It does
/// so only where a process can be looked up (Linux's `/proc`) and only on a
/// server on the loopback address, where the process ids are this machine's.
/// A database still in use is left for a later sweep.
pub const FRESH_MARK: &str = "dzt_";

/// At most this many databases are dropped by one sweep (a drop takes about
/// 0.15 s on PostgreSQL), so that a machine with hundreds of leftovers does not
/// make one test's set-up slow: every test process that makes a database
/// sweeps once, each starting at another place in the list, so a run of the
/// suite drops more than it leaves.
pub const SWEEP_LIMIT: usize = 8;

/// Whether this process should sweep the server at `url` now: the first time
/// it is asked, where processes can be looked up, for a loopback server.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn sweep_now(url: &str) -> bool {
    use std::sync::atomic::AtomicBool;
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let loopback = [
        "@127.0.0.1",
        "@localhost",
        "@[::1]",
        "://127.0.0.1",
        "://localhost",
        "://[::1]",
    ]
    .iter()
    .any(|host| url.contains(host));
    loopback && std::path::Path::new("/proc/self").exists() && !SWEPT.swap(true, Ordering::Relaxed)
}

/// The id of the process that made `name` with [`unique_name`]
/// (`{prefix}_{pid}_{clock}_{counter}`), read from the end since the prefix
/// may hold `_`.
#[cfg(any(feature = "postgres", feature = "mysql", test))]
fn creator_pid(name: &str) -> Option<u32> {
    let mut parts = name.rsplit('_');
    parts.next()?;
    parts.next()?;
    parts.next()?.parse().ok()
}

/// Whether `name` carries [`FRESH_MARK`] and the process that created it is gone.
#[cfg(any(feature = "postgres", feature = "mysql", test))]
fn is_leftover(name: &str) -> bool {
    name.starts_with(FRESH_MARK)
        && creator_pid(name)
            .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Dropping the leftover databases of dead test processes; see [`FRESH_MARK`].
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod sweep {
    use super::{FRESH_MARK, is_leftover};

    /// Up to `limit` leftovers among `names`, from a place that
    /// depends on the process, so that processes sweeping at once do not
    /// queue behind each other's drops of the same database.
    fn leftovers(mut names: Vec<String>, limit: usize) -> impl Iterator<Item = String> {
        names.retain(|n| is_leftover(n));
        if !names.is_empty() {
            let start = std::process::id() as usize % names.len();
            names.rotate_left(start);
        }
        names.into_iter().take(limit)
    }

    /// The `LIKE` pattern of the marked names (`_` escaped).
    fn pattern() -> String {
        format!("{}%", FRESH_MARK.replace('_', "\\_"))
    }

    /// Drops up to `limit` leftovers on the PostgreSQL server `conn` is
    /// connected to and returns how many it dropped. Errors are ignored: another process may be
    /// dropping the same database, or it may still be in use.
    #[cfg(feature = "postgres")]
    pub(crate) async fn postgres(conn: &mut sqlx::PgConnection, limit: usize) -> usize {
        let names: Vec<String> =
            match sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
                .bind(pattern())
                .fetch_all(&mut *conn)
                .await
            {
                Ok(names) => names,
                Err(_) => return 0,
            };
        let mut dropped = 0;
        for name in leftovers(names, limit) {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\"");
            if sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut *conn)
                .await
                .is_ok()
            {
                dropped += 1;
            }
        }
        dropped
    }

    /// Drops the leftovers on the MySQL/MariaDB server `conn` is connected to
    /// and returns how many it dropped, as [`postgres`] does. A database whose
    /// tables are locked is given up on after a second.
    #[cfg(feature = "mysql")]
    pub(crate) async fn mysql(conn: &mut sqlx::MySqlConnection, limit: usize) -> usize {
        let names: Vec<String> = match sqlx::query_scalar(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE ?",
        )
        .bind(pattern())
        .fetch_all(&mut *conn)
        .await
        {
            Ok(names) => names,
            Err(_) => return 0,
        };
        if sqlx::raw_sql("SET SESSION lock_wait_timeout = 1")
            .execute(&mut *conn)
            .await
            .is_err()
        {
            return 0;
        }
        let mut dropped = 0;
        for name in leftovers(names, limit) {
            let drop = format!("DROP DATABASE IF EXISTS `{name}`");
            if sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut *conn)
                .await
                .is_ok()
            {
                dropped += 1;
            }
        }
        dropped
    }
}

/// Creates an empty PostgreSQL database with a unique name on the server at
/// `url` and returns the URL that points at it.
///
/// The database outlives the test: nothing drops it at the end, since a test
/// that fails or is killed would leave it anyway. Instead the first call in a
/// process drops the databases whose creating process is gone (see
/// [`FRESH_MARK`]).
#[cfg(feature = "postgres")]
pub async fn fresh_postgres(url: &str, prefix: &str) -> String {
    use sqlx::Connection as _;
    let name = format!("{FRESH_MARK}{}", unique_name(prefix));
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES}: {e}"));
    if sweep_now(url) {
        sweep::postgres(&mut conn, SWEEP_LIMIT).await;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    with_database(url, &name)
}

/// Creates an empty MySQL/MariaDB database with a unique name on the server at
/// `url` and returns the URL that points at it, and drops the leftovers as
/// [`fresh_postgres`] does.
#[cfg(feature = "mysql")]
pub async fn fresh_mysql(url: &str, prefix: &str) -> String {
    use sqlx::Connection as _;
    let name = format!("{FRESH_MARK}{}", unique_name(prefix));
    let mut conn = sqlx::MySqlConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {MYSQL}: {e}"));
    if sweep_now(url) {
        sweep::mysql(&mut conn, SWEEP_LIMIT).await;
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    with_database(url, &name)
}

/// The variable that marks the child copy of a test binary started by
/// [`rerun_with_empty_environment`]; the only variable that child has.
pub const EMPTY_ENVIRONMENT_MARK: &str = "DOZEN_TESTKIT_EMPTY_ENVIRONMENT";

/// Runs the calling test again in a child copy of the test binary whose
/// environment is empty, so that the test shows its code reads no process
/// variable: a setting it still needs would be missing there.
///
/// `module` is the test's `module_path!()` and `test` its function name. Call it
/// first in the test and go on with the test's body only when it returns
/// `true`:
///
/// - in the test run, it starts the child on this one test, waits, and panics
///   with the child's output unless that test ran and passed there; it
///   returns `false`;
/// - in the child, it checks that the environment holds nothing but
///   [`EMPTY_ENVIRONMENT_MARK`] and returns `true`.
///
/// # Panics
///
/// When the child cannot be started, fails, or runs no test, or when the
/// child's environment is not empty.
#[must_use]
pub fn rerun_with_empty_environment(module: &str, test: &str) -> bool {
    if std::env::var_os(EMPTY_ENVIRONMENT_MARK).is_some() {
        let others: Vec<_> = std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| name != EMPTY_ENVIRONMENT_MARK)
            .collect();
        assert!(
            others.is_empty(),
            "the environment is not empty: {others:?}"
        );
        return true;
    }
    // libtest names a test by its path below the crate: drop the crate's name.
    let name = match module.split_once("::") {
        Some((_, below)) => format!("{below}::{test}"),
        None => test.to_owned(),
    };
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env_clear()
        .env(EMPTY_ENVIRONMENT_MARK, "1")
        .output()
        .expect("the test binary starts again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in an empty environment: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_the_path_and_keeps_the_query() {
        let check = |url: &str, expected: &str| assert_eq!(with_database(url, "d1"), expected);
        check("postgres://u@h:5432/postgres", "postgres://u@h:5432/d1");
        check(
            "mysql://root@127.0.0.1:3306/test?ssl-mode=disabled",
            "mysql://root@127.0.0.1:3306/d1?ssl-mode=disabled",
        );
        check("postgres://h", "postgres://h/d1");
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("t"), unique_name("t"));
    }

    /// The id of a process that has exited.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait for true");
        pid
    }

    #[test]
    fn the_creator_is_read_from_the_end_of_the_name() {
        let name = format!("{FRESH_MARK}{}", unique_name("a_b_c"));
        assert_eq!(creator_pid(&name), Some(std::process::id()));
        assert_eq!(creator_pid("dzt_x"), None);
        assert_eq!(creator_pid("dzt_x_y_1_2"), None);
    }

    #[test]
    fn only_marked_names_of_dead_processes_are_leftovers() {
        let dead = dead_pid();
        let live = std::process::id();
        assert!(is_leftover(&format!("{FRESH_MARK}t_{dead}_ab_0")));
        assert!(!is_leftover(&format!("{FRESH_MARK}t_{live}_ab_0")));
        assert!(!is_leftover(&format!("t_{dead}_ab_0")), "no mark: not ours");
        assert!(!is_leftover(&format!("{FRESH_MARK}t")), "no pid: not ours");
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    /// Three databases for a sweep: one left by a dead process, which must go,
    /// one of this live process and one without the mark, which must stay.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    struct SweepCase {
        dead: String,
        live: String,
        unmarked: String,
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    impl SweepCase {
        fn new() -> Self {
            Self {
                dead: format!("{FRESH_MARK}sweep_{}_0_0", dead_pid()),
                live: format!("{FRESH_MARK}{}", unique_name("sweep")),
                unmarked: unique_name("sweep"),
            }
        }

        fn all(&self) -> [&String; 3] {
            [&self.dead, &self.live, &self.unmarked]
        }

        /// Checks which of the three are `left` after the sweep and returns
        /// those to drop at the end.
        fn check(&self, dropped: usize, left: &[String]) -> [&String; 2] {
            assert!(dropped >= 1, "the dead process's database was not dropped");
            assert!(!left.contains(&self.dead), "{left:?}");
            assert!(
                left.contains(&self.live) && left.contains(&self.unmarked),
                "{left:?}"
            );
            [&self.live, &self.unmarked]
        }
    }

    /// A database left by a dead process is dropped; one of a live process,
    /// and one without the mark, are kept.
    #[cfg(feature = "postgres")]
    #[test]
    fn a_sweep_drops_the_databases_of_dead_processes_on_postgres() {
        use sqlx::Connection as _;
        let Some(url) = service_url(POSTGRES) else {
            return;
        };
        let case = SweepCase::new();
        let run = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        block_on(async {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            for name in case.all() {
                run(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect(name);
            }
            // Every leftover: dead test processes may have left more than the limit.
            let dropped = sweep::postgres(&mut conn, usize::MAX).await;
            let [a, b, c] = case.all();
            let left: Vec<String> =
                sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname IN ($1, $2, $3)")
                    .bind(a)
                    .bind(b)
                    .bind(c)
                    .fetch_all(&mut conn)
                    .await
                    .expect("list");
            for name in case.check(dropped, &left) {
                run(format!("DROP DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect(name);
            }
        });
    }

    /// The same on MariaDB.
    #[cfg(feature = "mysql")]
    #[test]
    fn a_sweep_drops_the_databases_of_dead_processes_on_mysql() {
        use sqlx::Connection as _;
        let Some(url) = service_url(MYSQL) else {
            return;
        };
        let case = SweepCase::new();
        let run = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        block_on(async {
            let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("connect");
            for name in case.all() {
                run(format!("CREATE DATABASE `{name}`"))
                    .execute(&mut conn)
                    .await
                    .expect(name);
            }
            // Every leftover: dead test processes may have left more than the limit.
            let dropped = sweep::mysql(&mut conn, usize::MAX).await;
            let [a, b, c] = case.all();
            let left: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                 WHERE schema_name IN (?, ?, ?)",
            )
            .bind(a)
            .bind(b)
            .bind(c)
            .fetch_all(&mut conn)
            .await
            .expect("list");
            for name in case.check(dropped, &left) {
                run(format!("DROP DATABASE `{name}`"))
                    .execute(&mut conn)
                    .await
                    .expect(name);
            }
        });
    }
}
