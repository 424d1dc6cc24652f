//! Integration tests of the facade, one module per area.

#[cfg(all(
    feature = "service",
    feature = "migrate",
    feature = "postgres",
    feature = "any"
))]
mod database;
#[cfg(feature = "service")]
mod process_types;
#[cfg(feature = "service")]
mod readiness_checks;
#[cfg(feature = "service")]
mod stalled_stdout;
