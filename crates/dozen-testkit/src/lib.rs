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

/// Creates an empty PostgreSQL database with a unique name on the server at
/// `url` and returns the URL that points at it.
#[cfg(feature = "postgres")]
pub async fn fresh_postgres(url: &str, prefix: &str) -> String {
    use sqlx::Connection as _;
    let name = unique_name(prefix);
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    with_database(url, &name)
}

/// Creates an empty MySQL/MariaDB database with a unique name on the server at
/// `url` and returns the URL that points at it.
#[cfg(feature = "mysql")]
pub async fn fresh_mysql(url: &str, prefix: &str) -> String {
    use sqlx::Connection as _;
    let name = unique_name(prefix);
    let mut conn = sqlx::MySqlConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {MYSQL}: {e}"));
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
}
