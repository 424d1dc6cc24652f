#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admin;
mod backend;
mod backoff;
mod context;
mod error;
mod job;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;
mod owner;
mod settings;
#[cfg(feature = "sql")]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "postgres",
        feature = "mysql",
        feature = "sqlite",
        feature = "any"
    )))
)]
pub mod sql;
mod worker;

pub use backend::{Admin, Backend, Claimed, Counts, DeadJob};
pub use context::JobContext;
pub use error::{BoxError, Error, ErrorKind};
pub use job::{
    DEFAULT_MAX_ATTEMPTS, Enqueued, Job, JobId, MAX_NAME_LEN, MAX_UNIQUE_KEY_LEN, Options,
};
pub use owner::owner_id;
pub use settings::{JobsSettings, MAX_CONCURRENCY};
pub use worker::Worker;
