//! Records of the `log` crate, seen through tracing-log: their real file, line and target.

use tracing::{Event, Metadata};

/// The fields tracing-log adds to an event made from a `log` record.
pub(crate) const FIELDS: [&str; 4] = ["log.target", "log.module_path", "log.file", "log.line"];

/// The metadata of the `log` record behind `event`, if there is one.
#[cfg(feature = "log")]
pub(crate) fn normalized_metadata<'a>(event: &'a Event<'a>) -> Option<Metadata<'a>> {
    tracing_log::NormalizeEvent::normalized_metadata(event)
}

#[cfg(not(feature = "log"))]
pub(crate) fn normalized_metadata<'a>(_event: &'a Event<'a>) -> Option<Metadata<'a>> {
    None
}

/// Sends `log` records to tracing, up to `max_level`. Another `log` logger already set wins; the
/// records then go there.
#[cfg(feature = "log")]
pub(crate) fn install(max_level: Option<tracing::level_filters::LevelFilter>) {
    use tracing::level_filters::LevelFilter;
    use tracing_log::log::LevelFilter as LogLevel;

    let level = match max_level {
        Some(LevelFilter::OFF) => LogLevel::Off,
        Some(LevelFilter::ERROR) => LogLevel::Error,
        Some(LevelFilter::WARN) => LogLevel::Warn,
        Some(LevelFilter::INFO) => LogLevel::Info,
        Some(LevelFilter::DEBUG) => LogLevel::Debug,
        _ => LogLevel::Trace,
    };
    let _ = tracing_log::LogTracer::builder()
        .with_max_level(level)
        .init();
}

#[cfg(not(feature = "log"))]
pub(crate) fn install(_max_level: Option<tracing::level_filters::LevelFilter>) {}
