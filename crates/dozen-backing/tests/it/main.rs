//! Integration tests of dozen-backing, one module per area. Tests that need a server read
//! its URL from `TEST_POSTGRES_URL`, `TEST_MYSQL_URL` or `TEST_REDIS_URL` and are skipped
//! (with a notice) when it is unset, except under CI.

#[cfg(feature = "_sqlx")]
mod settings;
mod url_props;
mod url_table;
