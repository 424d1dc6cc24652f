//! The trace context carried by a request span: trace id, span id and the sampled flag.

use std::fmt;

/// A W3C / Cloud Trace context: a 16-byte trace id, an 8-byte span id and the sampled flag.
///
/// Put one on a span with [`TraceContext::record`] (or declare the fields `trace_id`, `span_id` and
/// `trace_sampled` yourself); the JSON layer lifts them out of every event inside that span into
/// `logging.googleapis.com/trace`, `logging.googleapis.com/spanId` and
/// `logging.googleapis.com/trace_sampled`.
///
/// ```
/// use dozen_log::TraceContext;
///
/// let ctx = TraceContext::from_traceparent(
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// ).unwrap();
/// assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(ctx.span_id_hex(), "00f067aa0ba902b7");
/// assert!(ctx.sampled());
///
/// // X-Cloud-Trace-Context carries a decimal span id.
/// let ctx = TraceContext::from_cloud_trace_context("4bf92f3577b34da6a3ce929d0e0e4736/1;o=0").unwrap();
/// assert_eq!(ctx.span_id_hex(), "0000000000000001");
/// assert!(!ctx.sampled());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    sampled: bool,
}

impl TraceContext {
    /// A context from its parts; `None` when the trace id or the span id is all zeroes (both are
    /// invalid by the W3C specification).
    #[must_use]
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8], sampled: bool) -> Option<Self> {
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled,
        })
    }

    /// The 16-byte trace id.
    #[must_use]
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The 8-byte span id.
    #[must_use]
    pub fn span_id(&self) -> [u8; 8] {
        self.span_id
    }

    /// Whether the caller sampled this trace.
    #[must_use]
    pub fn sampled(&self) -> bool {
        self.sampled
    }

    /// The trace id as 32 lower-case hex digits.
    #[must_use]
    pub fn trace_id_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        push_hex(&mut s, &self.trace_id);
        s
    }

    /// The span id as 16 lower-case hex digits.
    #[must_use]
    pub fn span_id_hex(&self) -> String {
        let mut s = String::with_capacity(16);
        push_hex(&mut s, &self.span_id);
        s
    }

    /// The trace id and the span id in lower-case hex, written into `buf` (no allocation: the
    /// request layer writes them for every request).
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "used by the request layer")
    )]
    pub(crate) fn hex_ids<'a>(&self, buf: &'a mut [u8; 48]) -> (&'a str, &'a str) {
        let (trace, span) = buf.split_at_mut(32);
        write_hex(trace, &self.trace_id);
        write_hex(span, &self.span_id);
        // Hex digits are ASCII.
        (
            std::str::from_utf8(trace).unwrap_or_default(),
            std::str::from_utf8(span).unwrap_or_default(),
        )
    }

    /// Parses a W3C `traceparent` header value: `VERSION-TRACEID-SPANID-FLAGS`.
    ///
    /// Version `00` must have exactly four parts; a later version may append parts, as the
    /// specification allows. Version `ff`, all-zero ids, upper-case or non-hex digits are rejected.
    #[must_use]
    pub fn from_traceparent(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        if version.len() != 2 || !is_lower_hex(version) || version == "ff" {
            return None;
        }
        if version == "00" && rest.is_some() {
            return None;
        }
        if flags.len() != 2 || !is_lower_hex(flags) {
            return None;
        }
        let trace_id = parse_hex::<16>(trace)?;
        let span_id = parse_hex::<8>(span)?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Self::new(trace_id, span_id, flags & 1 == 1)
    }

    /// Parses an `X-Cloud-Trace-Context` header value: `TRACE_ID/SPAN_ID;o=OPTIONS`, where the span
    /// id is decimal (an unsigned 64-bit number) and `;o=1` marks the trace as sampled.
    ///
    /// The span id and the options may be missing (`TRACE_ID` alone is accepted, as Google's
    /// load balancers and clients do); a missing span id yields `None` here because a context
    /// without a span id cannot be represented.
    #[must_use]
    pub fn from_cloud_trace_context(value: &str) -> Option<Self> {
        let value = value.trim();
        let (trace, rest) = value.split_once('/')?;
        let trace_id = parse_hex_any_case::<16>(trace)?;
        let (span, options) = match rest.split_once(';') {
            Some((span, options)) => (span, Some(options)),
            None => (rest, None),
        };
        if span.is_empty() || !span.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let span: u64 = span.parse().ok()?;
        let sampled = match options {
            None => false,
            Some("o=1") => true,
            Some("o=0") => false,
            Some(_) => return None,
        };
        Self::new(trace_id, span.to_be_bytes(), sampled)
    }

    /// The W3C `traceparent` value for this context (version `00`).
    #[must_use]
    pub fn to_traceparent(&self) -> String {
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        push_hex(&mut s, &self.trace_id);
        s.push('-');
        push_hex(&mut s, &self.span_id);
        s.push_str(if self.sampled { "-01" } else { "-00" });
        s
    }

    /// Records this context on `span`, which must declare the fields `trace_id`, `span_id` and
    /// `trace_sampled` (for example as `tracing::field::Empty`).
    ///
    /// ```
    /// # let ctx = dozen_log::TraceContext::new([1; 16], [2; 8], true).unwrap();
    /// let span = tracing::info_span!(
    ///     "job",
    ///     trace_id = tracing::field::Empty,
    ///     span_id = tracing::field::Empty,
    ///     trace_sampled = tracing::field::Empty,
    /// );
    /// ctx.record(&span);
    /// ```
    pub fn record(&self, span: &tracing::Span) {
        span.record("trace_id", self.trace_id_hex().as_str());
        span.record("span_id", self.span_id_hex().as_str());
        span.record("trace_sampled", self.sampled);
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("trace_id", &self.trace_id_hex())
            .field("span_id", &self.span_id_hex())
            .field("sampled", &self.sampled)
            .finish()
    }
}

impl fmt::Display for TraceContext {
    /// Writes the `traceparent` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_traceparent())
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes `bytes` as lower-case hex into `out`, two digits each.
#[cfg_attr(
    not(feature = "http"),
    allow(dead_code, reason = "used by the request layer")
)]
fn write_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
}

pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// Lower-case hex of exactly `2 * N` digits.
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    parse_hex_with(s, false)
}

fn parse_hex_any_case<const N: usize>(s: &str) -> Option<[u8; N]> {
    parse_hex_with(s, true)
}

/// The value of each byte as a hex digit: 0 to 15, `LOWER_ONLY` (upper-case `A` to `F`) or
/// `NOT_HEX`.
const HEX_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = UPPER | (10 + i as u8);
        i += 1;
    }
    table
};
const NOT_HEX: u8 = 0xff;
const UPPER: u8 = 0x10;

/// Exactly `2 * N` hex digits, upper-case ones only when `any_case`: one table lookup per
/// digit (every request with a trace header, and every request span, parses two ids).
fn parse_hex_with<const N: usize>(s: &str, any_case: bool) -> Option<[u8; N]> {
    let bytes = s.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let reject = if any_case {
        NOT_HEX & !UPPER & !0x0f
    } else {
        !0x0f
    };
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = HEX_VALUES[usize::from(pair[0])];
        let lo = HEX_VALUES[usize::from(pair[1])];
        if (hi | lo) & reject != 0 {
            return None;
        }
        *o = ((hi & 0x0f) << 4) | (lo & 0x0f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit reading the lookup table replaced.
    fn reference<const N: usize>(s: &str, any_case: bool) -> Option<[u8; N]> {
        let bytes = s.as_bytes();
        if bytes.len() != 2 * N {
            return None;
        }
        if !any_case && !is_lower_hex(s) {
            return None;
        }
        let mut out = [0u8; N];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            out[i] = u8::try_from(hi * 16 + lo).ok()?;
        }
        Some(out)
    }

    #[test]
    fn the_hex_table_reads_every_byte_as_the_reference_does() {
        for b in 0..=255u8 {
            for at in [0, 1, 6, 15] {
                let mut id = *b"0123456789abcdef";
                id[at] = b;
                let Ok(s) = std::str::from_utf8(&id) else {
                    assert_eq!(
                        parse_hex_with::<8>(&String::from_utf8_lossy(&id), true),
                        None
                    );
                    continue;
                };
                for any_case in [false, true] {
                    assert_eq!(
                        parse_hex_with::<8>(s, any_case),
                        reference::<8>(s, any_case),
                        "{s:?} any_case={any_case}"
                    );
                }
            }
        }
        assert_eq!(parse_hex::<2>("abc"), None);
        assert_eq!(parse_hex::<2>("ABCD"), None);
        assert_eq!(parse_hex_any_case::<2>("ABcd"), Some([0xab, 0xcd]));
    }

    #[test]
    fn hex_ids_are_the_lower_case_hex_of_both_ids() {
        let ctx = TraceContext::new([0xa5; 16], [0x0f, 1, 2, 3, 4, 5, 6, 0xff], true)
            .expect("non-zero ids");
        let mut buf = [0; 48];
        let (trace, span) = ctx.hex_ids(&mut buf);
        assert_eq!(trace, ctx.trace_id_hex());
        assert_eq!(span, "0f010203040506ff");
    }
}
