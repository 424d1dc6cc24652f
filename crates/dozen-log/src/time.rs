//! RFC 3339 timestamps in UTC with nanoseconds, without a date-time dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Broken-down UTC time.
pub(crate) struct Utc {
    pub(crate) year: u32,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) nanos: u32,
}

impl Utc {
    /// `t` in UTC; times before 1970 are written as the epoch.
    pub(crate) fn from_system_time(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            nanos: d.subsec_nanos(),
        }
    }
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        u32::try_from(y).unwrap_or(9999).min(9999),
        m as u32,
        d as u32,
    )
}

fn push_digits(out: &mut String, mut n: u32, width: usize) {
    let mut buf = [b'0'; 10];
    for i in (0..width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[..width] {
        out.push(char::from(b));
    }
}

/// Appends `t` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub(crate) fn push_rfc3339(out: &mut String, t: SystemTime) {
    let u = Utc::from_system_time(t);
    push_digits(out, u.year, 4);
    out.push('-');
    push_digits(out, u.month, 2);
    out.push('-');
    push_digits(out, u.day, 2);
    out.push('T');
    push_hms(out, &u);
    out.push('.');
    push_digits(out, u.nanos, 9);
    out.push('Z');
}

/// Appends `HH:MM:SS`.
pub(crate) fn push_hms(out: &mut String, u: &Utc) {
    push_digits(out, u.hour, 2);
    out.push(':');
    push_digits(out, u.minute, 2);
    out.push(':');
    push_digits(out, u.second, 2);
}

/// The date and time to the second of the last line, so that lines within one second only
/// format their nanoseconds.
#[derive(Default)]
pub(crate) struct SecondsCache {
    secs: Option<u64>,
    text: String,
}

impl SecondsCache {
    pub(crate) const fn new() -> Self {
        Self {
            secs: None,
            text: String::new(),
        }
    }

    /// Appends `t` as `push_rfc3339` does.
    pub(crate) fn push(&mut self, out: &mut String, t: SystemTime) {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        if self.secs != Some(d.as_secs()) {
            self.text.clear();
            push_rfc3339(
                &mut self.text,
                UNIX_EPOCH + Duration::from_secs(d.as_secs()),
            );
            self.text.truncate("YYYY-MM-DDTHH:MM:SS.".len());
            self.secs = Some(d.as_secs());
        }
        out.push_str(&self.text);
        // The nanoseconds with their leading zeros: the digits after the 1 of 1nnnnnnnnn.
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(1_000_000_000 + d.subsec_nanos());
        out.push_str(digits.get(1..).unwrap_or_default());
        out.push('Z');
    }
}

/// Appends the first `width` digits of the nanoseconds.
pub(crate) fn push_fraction(out: &mut String, nanos: u32, width: usize) {
    let mut n = nanos;
    for _ in width..9 {
        n /= 10;
    }
    push_digits(out, n, width);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_agrees_with_the_formatter() {
        let mut cache = SecondsCache::new();
        for (secs, nanos) in [(5, 1), (5, 999_999_999), (6, 0), (1_709_251_199, 7), (5, 3)] {
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            let (mut a, mut b) = (String::new(), String::new());
            push_rfc3339(&mut a, t);
            cache.push(&mut b, t);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn formats_known_instants() {
        fn check(secs: u64, nanos: u32, expected: &str) {
            let mut s = String::new();
            push_rfc3339(&mut s, UNIX_EPOCH + Duration::new(secs, nanos));
            assert_eq!(s, expected);
        }
        check(0, 0, "1970-01-01T00:00:00.000000000Z");
        check(951_782_400, 1, "2000-02-29T00:00:00.000000001Z");
        check(1_709_251_199, 999_999_999, "2024-02-29T23:59:59.999999999Z");
        check(1_798_761_600, 123_456_789, "2027-01-01T00:00:00.123456789Z");
        check(4_102_444_800, 0, "2100-01-01T00:00:00.000000000Z");
    }
}
