#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "config")]
#[doc(inline)]
pub use dozen_config as config;

#[cfg(feature = "log")]
#[doc(inline)]
pub use dozen_log as log;

#[cfg(feature = "shutdown")]
#[doc(inline)]
pub use dozen_shutdown as shutdown;

#[cfg(feature = "backing")]
#[doc(inline)]
pub use dozen_backing as backing;

#[cfg(feature = "migrate")]
#[doc(inline)]
pub use dozen_migrate as migrate;

#[cfg(feature = "jobs")]
#[doc(inline)]
pub use dozen_jobs as jobs;

#[cfg(feature = "service")]
#[cfg_attr(docsrs, doc(cfg(feature = "service")))]
pub mod service;
