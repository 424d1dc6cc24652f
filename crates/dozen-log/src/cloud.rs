//! The Cloud Logging vocabulary: severities, the keys a line owns, the Error Reporting `@type`,
//! the size limit of an entry. A leaf: it knows nothing of how lines are assembled.

use std::time::Duration;

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

/// Appends `d` as Cloud Logging's `Duration` (`1.234567s`): seconds with 3, 6 or 9 fractional
/// digits.
pub(crate) fn push_duration(out: &mut String, d: Duration) {
    out.push_str(itoa::Buffer::new().format(d.as_secs()));
    let nanos = d.subsec_nanos();
    let (mut fraction, digits) = if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1000) {
        (nanos / 1000, 6)
    } else {
        (nanos, 9)
    };
    // Zero-padded by hand: every request line has a latency, and `{:03}` costs more than the
    // rest of this function.
    let mut buf = *b".000000000s";
    for at in (1..=digits).rev() {
        buf[at] = b'0' + u8::try_from(fraction % 10).unwrap_or(0);
        fraction /= 10;
    }
    buf[digits + 1] = b's';
    out.push_str(std::str::from_utf8(&buf[..digits + 2]).unwrap_or_default());
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

    #[test]
    fn durations_use_3_6_or_9_digits() {
        fn check(d: Duration, expected: &str) {
            let mut s = String::new();
            push_duration(&mut s, d);
            assert_eq!(s, expected);
        }
        check(Duration::from_millis(12), "0.012s");
        check(Duration::from_micros(1_500_001), "1.500001s");
        check(Duration::from_nanos(3), "0.000000003s");
        check(Duration::ZERO, "0.000s");
    }
}
