//! The small JSON bodies of the health routes, written by hand: a status
//! and the names of failing checks.

use std::fmt::Write as _;

/// `{"status":"...","failing":["..."]}`, `failing` left out when empty.
pub(crate) fn json(status: &str, failing: &[String]) -> String {
    let mut out = String::with_capacity(32);
    out.push_str("{\"status\":");
    push_string(&mut out, status);
    if !failing.is_empty() {
        out.push_str(",\"failing\":[");
        for (i, name) in failing.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_string(&mut out, name);
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// A JSON string.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json() {
        assert_eq!(json("ready", &[]), r#"{"status":"ready"}"#);
        assert_eq!(
            json("failing", &["db".to_owned(), "a\"b\\\n".to_owned()]),
            r#"{"status":"failing","failing":["db","a\"b\\\u000a"]}"#
        );
    }
}
