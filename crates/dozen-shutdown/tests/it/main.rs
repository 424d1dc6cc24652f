//! Integration tests of dozen-shutdown, one module per area.

mod config;
mod lifecycle;
mod outcome;

#[cfg(feature = "axum")]
mod http;
#[cfg(feature = "axum")]
mod process;
