//! JSON string escaping and cutting, shared by the field recorder, the line assembly and the
//! panic hook. A leaf.

use std::fmt;

/// Appends `s` as a JSON string, quotes included.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// For each byte, the character after the backslash of its short escape (`"`, `\\`, `n`, `r`,
/// `t`), `u` for the other control characters (written `\u00XX`), or 0 when the byte is written
/// as it is. These are exactly the bytes the JSON form `dozen_redact` registers for a secret
/// escapes.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of the 8 bytes of `word` must be escaped: a byte below 0x20, a `"` or a `\`.
/// Exact (no false positive): a borrow only leaves a byte that is itself below the bound.
#[inline]
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes below n: (b - n) borrows into the high bit, which b itself does not have.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    (control | quote | backslash) & HIGH != 0
}

/// Whether any byte of `bytes` must be escaped, read in words: 8-byte words, the last one
/// overlapping the one before; two overlapping 4-byte halves below 8 bytes; bytes below 4.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let word = |at: usize| {
        bytes[at..]
            .first_chunk::<8>()
            .map(|w| u64::from_le_bytes(*w))
    };
    let half = |at: usize| {
        bytes[at..]
            .first_chunk::<4>()
            .map(|w| u32::from_le_bytes(*w))
    };
    let len = bytes.len();
    if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            if word(at).is_some_and(word_needs_escape) {
                return true;
            }
            at += 8;
        }
        word(len - 8).is_some_and(word_needs_escape)
    } else if len >= 4 {
        match (half(0), half(len - 4)) {
            (Some(a), Some(b)) => word_needs_escape(u64::from(a) | (u64::from(b) << 32)),
            _ => true,
        }
    } else {
        bytes.iter().any(|&b| ESCAPE[usize::from(b)] != 0)
    }
}

/// Appends the JSON escape of `s` (without quotes).
///
/// Runs of bytes that need no escape are copied whole; they are found 8 bytes at a time, so a
/// string without escapes (nearly all of them) costs a few instructions per 8 bytes.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        while let Some(word) = bytes[i..].first_chunk::<8>()
            && !word_needs_escape(u64::from_le_bytes(*word))
        {
            i += 8;
        }
        // The escape is within the next 8 bytes, or there is none before the end.
        let stop = bytes.len().min(i + 8);
        while i < stop && ESCAPE[usize::from(bytes[i])] == 0 {
            i += 1;
        }
        if i == stop {
            continue;
        }
        let b = bytes[i];
        out.push_str(&s[start..i]);
        match ESCAPE[usize::from(b)] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            short => {
                out.push('\\');
                out.push(char::from(short));
            }
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn floor_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A `fmt::Write` adapter that JSON-escapes everything written through it, up to a length of
/// the output: past it, formatting stops with an error (an escape is never split).
pub(crate) struct JsonEscape<'a> {
    out: &'a mut String,
    end: usize,
}

impl<'a> JsonEscape<'a> {
    /// Escapes into `out` until `out` is `end` bytes long.
    pub(crate) fn capped(out: &'a mut String, end: usize) -> Self {
        Self { out, end }
    }
}

impl fmt::Write for JsonEscape<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // An escape is at most 6 bytes per input byte: far from the cap, no need to look.
        if self.out.len().saturating_add(s.len().saturating_mul(6)) <= self.end {
            escape_into(self.out, s);
            return Ok(());
        }
        self.write_near_cap(s)
    }
}

impl JsonEscape<'_> {
    #[cold]
    fn write_near_cap(&mut self, s: &str) -> fmt::Result {
        let before = self.out.len();
        let room = self.end.saturating_sub(before);
        // Escaping only lengthens: what is past the room in `s` can never be kept.
        let fits = floor_char_boundary(s, room);
        escape_into(self.out, fits);
        if self.out.len() <= self.end && fits.len() == s.len() {
            return Ok(());
        }
        // Over the cap: keep only whole escapes and characters up to it.
        let kept = cut_escaped(&self.out[before..], room).len();
        self.out.truncate(before + kept);
        Err(fmt::Error)
    }
}

/// The longest prefix of the escaped JSON string content `s` of at most `max` bytes that ends
/// neither inside a UTF-8 character nor inside an escape sequence.
pub(crate) fn cut_escaped(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut last_ok = 0;
    while i < bytes.len() {
        let step = if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') {
                6
            } else {
                2
            }
        } else {
            let mut n = 1;
            while i + n < bytes.len() && !s.is_char_boundary(i + n) {
                n += 1;
            }
            n
        };
        if i + step > max {
            break;
        }
        i += step;
        last_ok = i;
    }
    &s[..last_ok]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escape of `s` by serde_json, one character at a time, with its two short forms this
    /// crate does not use (`\b`, `\f`) written as `\u0008` and `\u000c`.
    fn serde_json_escape(s: &str) -> String {
        s.chars()
            .map(|c| {
                let quoted = serde_json::to_string(&c.to_string()).expect("a string serializes");
                match &quoted[1..quoted.len() - 1] {
                    "\\b" => "\\u0008".to_owned(),
                    "\\f" => "\\u000c".to_owned(),
                    other => other.to_owned(),
                }
            })
            .collect()
    }

    fn check_escape(s: &str) {
        let mut out = String::from("prefix");
        escape_into(&mut out, s);
        assert_eq!(&out[6..], serde_json_escape(s), "{s:?}");
        let parsed: String =
            serde_json::from_str(&format!("\"{}\"", &out[6..])).expect("valid JSON");
        assert_eq!(parsed, s);
    }

    #[test]
    fn every_byte_that_needs_it_is_escaped_as_serde_json_does() {
        for b in 0..0x80u8 {
            let c = char::from(b);
            check_escape(&c.to_string());
            check_escape(&format!("ab{c}cd"));
        }
        for s in [
            "",
            "plain",
            "\u{7f}",
            "é",
            "日本語",
            "🦀",
            "\u{2028}\u{2029}",
            "a\"b\\c",
        ] {
            check_escape(s);
        }
    }

    #[test]
    fn escapes_at_every_position_around_the_8_byte_words() {
        let fill = ["a", "é", "日", "🦀"];
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{8}", "\u{c}"] {
            for len in 0..34 {
                for at in 0..=len {
                    for f in fill {
                        let mut s = f.repeat(len);
                        let cut = (0..=at.min(s.len())).rev().find(|&i| s.is_char_boundary(i));
                        s.insert_str(cut.unwrap_or(0), special);
                        check_escape(&s);
                    }
                }
            }
        }
    }

    #[test]
    fn long_runs_with_escapes_between_them() {
        let mut s = String::new();
        for i in 0..300u32 {
            s.push_str(&"x".repeat((i % 19) as usize));
            s.push(char::from_u32(i % 0x22).unwrap_or('?'));
            s.push_str("ü€");
        }
        check_escape(&s);
        // Every control byte, one after the other, and again between runs.
        let controls: String = (0..0x20u8).map(char::from).collect();
        check_escape(&controls);
        check_escape(
            &controls
                .chars()
                .map(|c| format!("{c}run of text"))
                .collect::<String>(),
        );
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_as_serde_json_does(s in "[\\x00-\\x24\\x5ca-zé日🦀\\x7f]{0,80}") {
            check_escape(&s);
        }
    }

    #[test]
    fn cut_escaped_never_splits_an_escape_or_a_char() {
        fn check(s: &str, max: usize, expected: &str) {
            assert_eq!(cut_escaped(s, max), expected, "{s:?} cut at {max}");
        }
        check("abc", 5, "abc");
        check("abcdef", 3, "abc");
        check("ab\\ncd", 3, "ab");
        check("ab\\ncd", 4, "ab\\n");
        check("a\\u001fb", 5, "a");
        check("a\\u001fb", 7, "a\\u001f");
        check("aé", 2, "a");
        check("aé", 3, "aé");
    }
}
