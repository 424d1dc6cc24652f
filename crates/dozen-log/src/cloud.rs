//! The Cloud Logging vocabulary: severities, the keys a line owns, the Error Reporting `@type`,
//! the size limit of an entry. A leaf: it knows nothing of how lines are assembled.

use tracing::Level;

/// The largest line written: Cloud Logging accepts entries up to 256 KB.
pub(crate) const MAX_LINE_BYTES: usize = 256 * 1024;

/// The `@type` that makes Error Reporting pick an entry up.
pub(crate) const REPORTED_ERROR_EVENT: &str =
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";

/// Cloud Logging severities, in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Severity {
    Default,
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl Severity {
    const ALL: [Self; 9] = [
        Self::Default,
        Self::Debug,
        Self::Info,
        Self::Notice,
        Self::Warning,
        Self::Error,
        Self::Critical,
        Self::Alert,
        Self::Emergency,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Notice => "NOTICE",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
            Self::Critical => "CRITICAL",
            Self::Alert => "ALERT",
            Self::Emergency => "EMERGENCY",
        }
    }

    pub(crate) fn from_level(level: &Level) -> Self {
        match *level {
            Level::TRACE | Level::DEBUG => Self::Debug,
            Level::INFO => Self::Info,
            Level::WARN => Self::Warning,
            _ => Self::Error,
        }
    }

    /// A severity name, in any case.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.name().eq_ignore_ascii_case(s))
    }
}

/// Keys the JSON line owns. A user field with one of these names is written as `field.<name>`.
pub(crate) fn is_reserved(key: &str) -> bool {
    matches!(
        key,
        "severity"
            | "message"
            | "time"
            | "target"
            | "httpRequest"
            | "@type"
            | "serviceContext"
            | "context"
            | "dozen.truncated"
    ) || key.starts_with("logging.googleapis.com/")
}

/// The prefix of a renamed user field.
pub(crate) const RENAMED_PREFIX: &str = "field.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_parse_in_any_case() {
        assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
        assert_eq!(Severity::parse("Notice"), Some(Severity::Notice));
        assert_eq!(Severity::parse("fatal"), None);
    }
}
