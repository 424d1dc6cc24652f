//! Test support shared by the dozen crates' integration tests (not published).
//!
//! Tests that need a real PostgreSQL, MariaDB or Redis read its URL from the
//! environment, as sqlx's own CI does. On a laptop without the service the test
//! prints `skipped: set TEST_POSTGRES_URL to run` and passes; when `CI` is set,
//! a missing variable is a failure, so CI can never skip silently.

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
