//! The worker's integration tests: real `worker` processes, real signals, on
//! SQLite and, where their URLs are set, PostgreSQL and MariaDB.

#[path = "../../../todo-api/tests/it/support.rs"]
mod support;

mod admin;
mod getting_started;
mod identity_and_clock;
mod leases;
mod reads_only_its_own;
mod sigterm_at_start_up;

use std::path::Path;

/// The binary under test.
fn worker() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_worker"))
}
