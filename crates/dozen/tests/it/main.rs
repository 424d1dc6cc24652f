//! Integration tests of the facade, one module per area.

#[cfg(feature = "service")]
mod process_types;
#[cfg(feature = "service")]
mod readiness_checks;
