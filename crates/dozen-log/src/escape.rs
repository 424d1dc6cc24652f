//! JSON string escaping and cutting, shared by the field recorder, the line assembly and the
//! panic hook. A leaf.

use std::fmt;

/// Appends `s` as a JSON string, quotes included.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// Whether byte `b` must be escaped in a JSON string (the JSON form `dozen_redact` registers for
/// a secret escapes exactly these).
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends the JSON escape of `s` (without quotes).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Most strings need no escape: check 16 bytes at a time without branching, which the
    // compiler vectorizes, and copy the string whole.
    let clean = bytes
        .chunks(16)
        .all(|chunk| !chunk.iter().fold(false, |acc, &b| acc | needs_escape(b)));
    if clean {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
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
