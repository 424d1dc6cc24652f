#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod duration;
mod env;
mod error;
mod outcome;
mod shutdown;
mod signals;
mod watchdog;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

pub use config::{DEFAULT_TIMEOUT, KUBERNETES_DEFAULT_DELAY, MIN_DRAIN_BUDGET, ShutdownConfig};
pub use duration::MAX_DURATION;
pub use error::Error;
pub use outcome::{Outcome, exit_code};
pub use shutdown::{Builder, FORCED_EXIT_FLUSH_LIMIT, Readiness, Shutdown, TaskOutput};
