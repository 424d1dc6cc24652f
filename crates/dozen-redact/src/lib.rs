#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod params;
mod registry;
mod search;
mod text;

pub use params::is_secret_param;
pub use registry::{MIN_SECRET_LEN, Secrets, register, secrets};
pub use text::{redact_client_urls, redact_query, redact_urls, starts_with_url};

/// What every dozen crate writes in place of a secret.
pub const MARKER: &str = "***";
