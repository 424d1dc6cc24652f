//! Redacting URLs inside arbitrary text.

use std::borrow::Cow;

use crate::{MARKER, is_secret_param};

/// Schemes whose lone user info (`postgres://app@db`) is a user name, shown as written.
/// In any other scheme it may be a token (`nats://TOKEN@host`) and is hidden.
const USER_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "pgsql",
    "mysql",
    "mariadb",
    "redis",
    "rediss",
    "valkey",
    "valkeys",
    "amqp",
    "amqps",
    "mongodb",
    "mongodb+srv",
    "sqlite",
    "http",
    "https",
    "ftp",
    "ssh",
];

/// `text` with every URL in it redacted: the password (`user:***@`), a NATS token
/// (`nats://***@`: a lone user info is shown only for schemes known to take a user name
/// there, such as `postgres` and `redis`), the values of secret query parameters ([`is_secret_param`]) and the
/// fragment (`#***`). Everything else is kept as written.
///
/// A URL starts at a scheme followed by `://` and ends at white space, a control
/// character, or a `,` or `;` that starts another URL, so each URL of a list is redacted.
/// Its user info is read as the `url` crate (and so every driver) reads it: up to the last
/// `@` before the first `/`, `?` or `#`. When that authority is not a valid `host:port`
/// and an `@` comes later, everything from its first `:` to the last `@` is hidden
/// instead: a password with an unencoded `/`, `?` or `#` is still hidden whole, since
/// hiding too much is the safe side. A URL inside another one (`?next=https://…`) is
/// redacted too.
///
/// ```
/// use dozen_redact::redact_urls;
///
/// assert_eq!(
///     redact_urls("a=nats://s3cr3t@nats:4222,redis://:pw@cache?db=1#frag"),
///     "a=nats://***@nats:4222,redis://:***@cache?db=1#***",
/// );
/// assert!(matches!(redact_urls("no url here"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    redact_urls_at(text, 0)
}

/// How deep URLs inside URLs are followed; deeper text is hidden whole.
const MAX_DEPTH: usize = 4;

fn redact_urls_at(text: &str, depth: usize) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = memchr::memmem::find(&bytes[search..], b"://") {
        let sep = search + found;
        let start = scheme_start(bytes, sep);
        if start == sep {
            search = sep + 3;
            continue;
        }
        let end = url_end(bytes, sep + 3);
        let url = &text[start..end];
        let redacted = if depth >= MAX_DEPTH {
            Cow::Owned(format!("{}://{MARKER}", &url[..sep - start]))
        } else {
            redact_one(url, sep - start, depth)
        };
        if let Cow::Owned(r) = redacted {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(&r);
            copied = end;
        }
        search = end.max(sep + 3);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Appends `query` (without its `?`) to `out` with the value of every secret parameter
/// replaced by [`MARKER`]; returns whether anything was hidden. Names are compared
/// after percent-decoding, so `pass%77ord=` is caught too.
///
/// ```
/// let mut out = String::new();
/// assert!(dozen_redact::redact_query("page=2&access_token=abc&x", &mut out));
/// assert_eq!(out, "page=2&access_token=***&x");
/// ```
pub fn redact_query(query: &str, out: &mut String) -> bool {
    redact_query_at(query, out, 0)
}

fn redact_query_at(query: &str, out: &mut String, depth: usize) -> bool {
    let mut hid = false;
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, value)) if !value.is_empty() && is_secret_param(&decode_name(key)) => {
                // The name may hold a URL of its own (`next://u:p@h?pass=x`).
                push_nested(out, key, depth);
                out.push('=');
                out.push_str(MARKER);
                hid = true;
            }
            _ => hid |= push_nested(out, pair, depth),
        }
    }
    hid
}

/// Appends `text`, with any URL inside it redacted; returns whether anything was hidden.
fn push_nested(out: &mut String, text: &str, depth: usize) -> bool {
    match redact_urls_at(text, depth + 1) {
        Cow::Borrowed(same) => {
            out.push_str(same);
            false
        }
        Cow::Owned(redacted) => {
            out.push_str(&redacted);
            true
        }
    }
}

/// The start of the scheme that ends at `sep`, or `sep` when there is none.
fn scheme_start(bytes: &[u8], sep: usize) -> usize {
    let mut start = sep;
    while start > 0 && is_scheme_byte(bytes[start - 1]) {
        start -= 1;
    }
    // A scheme starts with a letter.
    while start < sep && !bytes[start].is_ascii_alphabetic() {
        start += 1;
    }
    start
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Where the URL whose body starts at `from` ends.
fn url_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() || b.is_ascii_control() => return i,
            b',' | b';' if starts_url(&bytes[i + 1..]) => return i,
            _ => i += 1,
        }
    }
    i
}

/// Whether `bytes` starts with `scheme://`.
fn starts_url(bytes: &[u8]) -> bool {
    let n = bytes.iter().take_while(|b| is_scheme_byte(**b)).count();
    n > 0 && bytes[0].is_ascii_alphabetic() && bytes[n..].starts_with(b"://")
}

/// One URL, `scheme_len` bytes of scheme then `://`.
fn redact_one(url: &str, scheme_len: usize, depth: usize) -> Cow<'_, str> {
    let scheme = &url[..scheme_len];
    let body_start = scheme_len + 3;
    let body = &url[body_start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..body_start]);
    let mut hid = false;
    let authority_end = body.find(['/', '?', '#', '\\']).unwrap_or(body.len());
    let authority = &body[..authority_end];
    let userinfo_end = match authority.rfind('@') {
        Some(at) => Some(at),
        // `u:p?ss@h`: not a host and port, so the `@` further on ends a password.
        None if !is_host_port(authority) => body.rfind('@').filter(|at| *at > authority_end),
        None => None,
    };
    let mut rest = body;
    // Where the hidden user info swallowed the start of the query or fragment (only in
    // the fallback for a broken authority), what follows the `@` belongs to it.
    let mut swallowed = None;
    if let Some(at) = userinfo_end {
        let userinfo = &body[..at];
        if userinfo.contains('#') {
            swallowed = Some('#');
        } else if userinfo.contains('?') {
            swallowed = Some('?');
        }
        if let Some(colon) = userinfo.find(':') {
            out.push_str(&userinfo[..colon]);
            out.push(':');
            out.push_str(MARKER);
            hid = true;
        } else if !userinfo.is_empty()
            && !USER_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme))
        {
            out.push_str(MARKER);
            hid = true;
        } else {
            out.push_str(userinfo);
        }
        out.push('@');
        rest = &body[at + 1..];
    }
    if swallowed == Some('#') {
        if !rest.is_empty() {
            out.push_str(MARKER);
        }
        return Cow::Owned(out);
    }
    let (before_fragment, fragment) = match rest.find('#') {
        Some(h) => (&rest[..h], Some(&rest[h + 1..])),
        None => (rest, None),
    };
    let query_start = match swallowed {
        Some(_) => Some(0),
        None => before_fragment.find('?').map(|q| q + 1),
    };
    match query_start {
        Some(0) => hid |= redact_query_at(before_fragment, &mut out, depth),
        Some(q) => {
            hid |= push_nested(&mut out, &before_fragment[..q], depth);
            hid |= redact_query_at(&before_fragment[q..], &mut out, depth);
        }
        None => hid |= push_nested(&mut out, before_fragment, depth),
    }
    match fragment {
        Some(f) if !f.is_empty() => {
            out.push('#');
            out.push_str(MARKER);
            hid = true;
        }
        Some(_) => out.push('#'),
        None => {}
    }
    if hid {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(url)
    }
}

/// Whether `authority` (with no `@`) reads as a host with an optional numeric port.
fn is_host_port(authority: &str) -> bool {
    let after_ipv6 = match authority.rfind(']') {
        Some(close) => &authority[close + 1..],
        None => authority,
    };
    match after_ipv6.rfind(':') {
        Some(colon) => {
            let port = &after_ipv6[colon + 1..];
            port.bytes().all(|b| b.is_ascii_digit()) && !after_ipv6[..colon].contains(':')
        }
        None => true,
    }
}

/// A query parameter's name with `+` and percent escapes decoded.
fn decode_name(key: &str) -> Cow<'_, str> {
    if !key.contains(['%', '+']) {
        return Cow::Borrowed(key);
    }
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}
