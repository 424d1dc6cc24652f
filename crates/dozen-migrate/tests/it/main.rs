//! The promises of dozen-migrate, one file each, tested against real databases: PostgreSQL and MariaDB from
//! `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` (skipped with a notice when unset,
//! a failure under CI), SQLite in a temporary directory.
//!
//! Several tests re-run this very executable as a child process (see
//! [`support::child_entry_point`]) to get real, separately killable migrators.

mod adopt_sqlx;
mod baseline_target;
mod cli;
mod compat;
mod durations;
mod expand_contract;
mod failure;
mod kill;
mod lock_identity;
mod modes;
mod no_transaction;
mod output;
mod race;
mod rollback;
mod settings;
mod support;
