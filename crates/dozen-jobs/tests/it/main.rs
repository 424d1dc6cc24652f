//! dozen-jobs against real databases: SQLite in a temporary file, and the
//! PostgreSQL and MariaDB of `TEST_POSTGRES_URL` and `TEST_MYSQL_URL`, each
//! test in a database of its own.
#![cfg(all(
    feature = "any",
    feature = "postgres",
    feature = "mysql",
    feature = "sqlite"
))]

#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "nats")]
mod nats_support;
mod processes;
mod queue;
mod runtime;
mod support;
