#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod cloud;
mod error;
mod escape;
mod fields;
mod float;
mod guard;
mod json;
mod log_bridge;
mod mask;
#[cfg(feature = "opentelemetry")]
mod otel;
mod panic;
mod pretty;
mod settings;
mod spans;
mod stackdriver;
mod time;
mod trace;
mod writer;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

pub use builder::Builder;
pub use error::{Error, ErrorKind};
pub use guard::Guard;
pub use json::JsonLayer;
pub use pretty::PrettyLayer;
pub use settings::{Format, LogSettings, Queue};
pub use trace::TraceContext;
pub use writer::{FLUSH_TIMEOUT, Flusher};

/// Sets up logging with the defaults of [`LogSettings`] for the whole process: filter `info`,
/// pretty on a terminal and JSON otherwise, the executable's name as the service, no project.
///
/// Installs the subscriber as the global default and the panic hook. Keep the returned
/// [`Guard`] alive until the end of `main`: dropping it flushes the output.
///
/// This function reads no environment variable. To follow `RUST_LOG`, `LOG_FORMAT` and the
/// others, load a [`LogSettings`] with a configuration loader (dozen-config) and hand it to
/// [`Builder::settings`].
///
/// # Errors
///
/// A global subscriber that is already set. See [`Builder::init`].
pub fn init() -> Result<Guard, Error> {
    Builder::new().init()
}

/// The JSON layer on standard output, to compose with other layers yourself.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::EnvFilter::new("info"))
///     .with(dozen_log::json_layer().with_service("billing", "2.0.1"));
/// # let _ = subscriber;
/// ```
#[must_use]
pub fn json_layer() -> JsonLayer {
    JsonLayer::new()
}

/// The pretty layer on standard output, to compose with other layers yourself.
#[must_use]
pub fn pretty_layer() -> PrettyLayer<fn() -> std::io::Stdout> {
    PrettyLayer::new()
}
