//! The example's integration tests: the real `todo-api` binary over real HTTP,
//! on SQLite and, where their URLs are set, PostgreSQL and MariaDB.

mod admin_output;
mod bodies_are_bounded;
mod crud;
mod every_variable_reported;
mod getting_started;
mod hostile_input;
mod list_is_paginated;
mod manifests;
mod patch_is_atomic;
mod replicas;
mod shutdown;
mod sigterm_at_start_up;
mod support;

use std::path::Path;

/// The API on `url`, on a free port, migrating on start, with `env` too.
fn serve(url: &str, env: &[(&str, &str)]) -> support::Proc {
    let mut all = vec![
        ("DATABASE_URL", url),
        ("PORT", "0"),
        ("MIGRATE_ON_START", "true"),
    ];
    all.extend_from_slice(env);
    support::spawn(todo_api(), &[], &all)
}

/// The binary under test.
fn todo_api() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_todo-api"))
}
