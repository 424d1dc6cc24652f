#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod duration;
mod error;
mod flag;
mod handle;
mod hooks;
mod lock;
mod outcome;
mod phases;
mod readiness;
mod settings;
mod signals;
mod state;
mod tasks;
mod watchdog;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

pub use builder::Builder;
pub use duration::MAX_DURATION;
pub use error::{Error, ErrorKind};
pub use handle::Shutdown;
pub use outcome::{Outcome, exit_code};
pub use readiness::Readiness;
pub use settings::{DEFAULT_TIMEOUT, KUBERNETES_DEFAULT_DELAY, MIN_DRAIN_BUDGET, ShutdownSettings};
pub use state::FORCED_EXIT_FLUSH_LIMIT;
pub use tasks::TaskOutput;
