//! The todo application shared by its two process types: `todo-api` (web)
//! and `worker` (the `example-worker` package). One codebase, one release, two
//! ways to run it (factors I and VIII).
//!
//! Start-up is `dozen::service`'s, in both binaries: configuration (exit 78
//! with every problem listed), logging, shutdown, the port (web), the
//! database connected with retry, migrations where this process owns them
//! (`MIGRATE_ON_START`, on by default on SQLite) or else a wait for the
//! migrate Job, then the work; each phase raced against SIGTERM.

pub mod config;
pub mod db;
pub mod jobs;
pub mod routes;
pub mod service;

pub use config::Config;
