//! Run with: cargo run -p example-todo-api
//!
//! The web process type: a todo JSON API on `PORT` (8080), backed by
//! `DATABASE_URL` (a SQLite file by default; PostgreSQL or MariaDB by URL).
//!
//! ```text
//! todo-api                                   serve the API
//! todo-api migrate [status|validate|wait|repair ...]   the admin process (factor XII)
//! todo-api config [--format markdown|env]    every variable it reads
//! ```
//!
//! On the SQLite default the web process applies migrations itself before it
//! turns ready, so the first run just works. With a server database it does
//! not (unless `MIGRATE_ON_START=true`): it waits for the Kubernetes Job that
//! runs `todo-api migrate`, answering `/livez` 200 and `/readyz` 503 until
//! the schema is there. The life of the process and its exit codes are
//! `dozen::service`'s: a SIGTERM in any start-up phase stops it there with
//! exit 0, and `todo-api migrate` stopped so exits 143.

use std::process::ExitCode;

fn main() -> ExitCode {
    example_todo_api::service::web().run()
}
