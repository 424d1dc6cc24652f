//! The example's integration tests: the real `todo-api` binary over real HTTP,
//! on SQLite and, where their URLs are set, PostgreSQL and MariaDB.

mod crud;
mod manifests;
mod replicas;
mod shutdown;
mod support;

use std::path::Path;

/// The binary under test.
fn todo_api() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_todo-api"))
}
