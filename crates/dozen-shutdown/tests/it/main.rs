//! Integration tests of dozen-shutdown, one module per area.

mod durations_are_bounded;
mod lifecycle;
mod outcome;
mod settings;

#[cfg(feature = "axum")]
mod body_limit;
#[cfg(feature = "axum")]
mod forced_exit_is_bounded;
#[cfg(feature = "axum")]
mod http;
#[cfg(feature = "axum")]
mod panics;
#[cfg(feature = "axum")]
mod process;
#[cfg(feature = "axum")]
mod signal_semantics;
#[cfg(feature = "axum")]
mod slow_clients;
#[cfg(feature = "axum")]
mod startup_phases;
