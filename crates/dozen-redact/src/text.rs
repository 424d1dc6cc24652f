//! Redacting URLs inside arbitrary text.

use std::borrow::Cow;
use std::ops::Range;

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
/// there, such as `postgres` and `redis`), the values of secret query parameters
/// ([`is_secret_param`]) and the fragment (`#***`). Everything else is kept as written.
///
/// A URL starts at a scheme followed by `://` and ends at white space, a control
/// character, or a `,` or `;` that starts another URL, so each URL of a list is redacted.
/// Its user info is read as the `url` crate (and so every driver) reads it: up to the last
/// `@` before the first `/`, `?` or `#` (or `\`, for `http`, `https`, `ws`, `wss`, `ftp` and
/// `file` only: `mysql://root:2024\Summer@db` hides `2024\Summer`). When that authority is
/// not a valid `host:port` and an `@` comes later, everything from its first `:` to the last
/// `@` is hidden instead: a password with an unencoded `/`, `?` or `#` is still hidden
/// whole, since hiding too much is the safe side.
///
/// A secret may hold white space or a control character, which the `url` crate takes as
/// part of it (it encodes a space, and drops a tab or a line break), so where such a byte
/// ends a URL:
///
/// - When the URL has not reached a `/`, `?` or `#`, has no `@` yet (or one followed by
///   something other than a `host:port`) and a `:` after its last `@` (`user:pass` or
///   `:pass`), and an `@` comes before the next `/`, `?` or `#` (or `\`, as above) of the
///   text, the URL goes on to the last such `@`: `postgres://app:hunter 22@db/app` hides
///   `hunter 22`.
///   When no `@` comes there, the URL goes on to the last `@` before the end of the line (or
///   the next `://`), since a password may hold a `/`, `?` or `#` too:
///   `postgres://app:pa ss/wd@db/app` hides `pa ss/wd`. Where a lone user info is hidden (a
///   token), the same holds without the `:`: `nats://my tok@nats` hides `my tok`. Ordinary
///   text pays for this only where a `host:port` (or, for a token scheme, a host) is followed
///   by words and then an `@`, either before the next `/`, `?` or `#` (line breaks
///   included, since a password may hold them) or later on the same line before another URL:
///   `redis://cache:6379 for bob@example.com` hides `6379 for bob`.
/// - When the value of a secret parameter reaches it, the value goes on to the next `&`, line
///   break or the end of the text, not to the next space: `?sslpassword=abc def ghi` hides
///   `abc def ghi`, and the parameters after that `&` are read too. Ordinary text pays for
///   this only after a secret value, the one place a secret with spaces cannot be told from
///   the words that follow it.
///
/// A query's parameters are separated by `&` or `;` (old HTML forms, and some servers, take
/// `;` too), and the value of a secret one runs to the next `&`: `?a=1;password=x` hides `x`,
/// and `?password=ab;cd` hides `ab;cd`.
///
/// Every `scheme://` in the text is read as the start of a URL of its own, so a URL
/// inside another one (`?next=https://…`) is redacted too; what each of them hides is
/// hidden in the result. After 256 of them, the rest of the text is hidden whole, unless the
/// text holds no `@`, `?` or `#`, and so nothing to hide.
///
/// ```
/// use dozen_redact::redact_urls;
///
/// assert_eq!(
///     redact_urls("a=nats://s3cr3t@nats:4222,redis://:pw@cache?db=1#frag"),
///     "a=nats://***@nats:4222,redis://:***@cache?db=1#***",
/// );
/// assert_eq!(
///     redact_urls("postgres://app:hunter 22@db/app?sslpassword=abc def&sslmode=require"),
///     "postgres://app:***@db/app?sslpassword=***&sslmode=require",
/// );
/// assert!(matches!(redact_urls("no url here"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    redact_with(text, Users::ByScheme)
}

/// [`redact_urls`], with every user info hidden whole, a user name too (`https://***@host`):
/// for the URLs a service logs about its clients (a request's URL, its `Referer`), where the
/// user part is never the service's own database user and may be a token
/// (`https://ghp_…@github.com/…`).
///
/// ```
/// use dozen_redact::redact_client_urls;
///
/// assert_eq!(
///     redact_client_urls("https://ghp_abc123@github.com/o/r?code=x#t"),
///     "https://***@github.com/o/r?code=***#***",
/// );
/// assert_eq!(redact_client_urls("https://bob:pw@h/"), "https://***@h/");
/// ```
pub fn redact_client_urls(text: &str) -> Cow<'_, str> {
    redact_with(text, Users::Hidden)
}

/// What becomes of a user name in a URL's user info.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Users {
    /// Shown for the schemes of [`USER_SCHEMES`], hidden in any other.
    ByScheme,
    /// Hidden in every scheme.
    Hidden,
}

/// [`redact_urls`] or [`redact_client_urls`], as `users` says.
fn redact_with(text: &str, users: Users) -> Cow<'_, str> {
    // Only user info (`@`), a query (`?`) or a fragment (`#`) is ever hidden: a text with none
    // of them is returned as it is after one fast scan.
    if memchr::memchr3(b'@', b'?', b'#', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    scan_urls(text, users)
}

/// [`redact_with`] without the fast path.
fn scan_urls(text: &str, users: Users) -> Cow<'_, str> {
    let mut spans = Vec::new();
    url_spans(text, 0, &mut spans, users);
    hide(text, spans)
}

/// Appends `query` (without its `?`) to `out` with the value of every secret parameter
/// replaced by [`MARKER`], and every URL inside it redacted as [`redact_urls`] does;
/// returns whether anything was hidden. Names are compared after percent-decoding, so
/// `pass%77ord=` is caught too.
///
/// ```
/// let mut out = String::new();
/// assert!(dozen_redact::redact_query("page=2&access_token=abc&x", &mut out));
/// assert_eq!(out, "page=2&access_token=***&x");
/// ```
pub fn redact_query(query: &str, out: &mut String) -> bool {
    let mut spans = Vec::new();
    query_spans(query, 0, &mut spans);
    url_spans(query, 0, &mut spans, Users::ByScheme);
    let hidden = !spans.is_empty();
    out.push_str(&hide(query, spans));
    hidden
}

/// How many `scheme://` starts one text may hold before the rest is hidden whole.
const MAX_URLS: usize = 256;

/// The spans (offset by `offset`) that hide the secrets of every URL in `text`.
fn url_spans(text: &str, offset: usize, spans: &mut Vec<Range<usize>>, users: Users) {
    let bytes = text.as_bytes();
    let mut search = 0;
    let mut urls = 0;
    while let Some(found) = memchr::memmem::find(&bytes[search..], b"://") {
        let sep = search + found;
        search = sep + 1;
        let start = scheme_start(bytes, sep);
        if start == sep {
            continue;
        }
        urls += 1;
        if urls > MAX_URLS {
            spans.push(offset + sep + 3..offset + text.len());
            return;
        }
        let scheme = &text[start..sep];
        let hides_lone_user = users == Users::Hidden || !is_user_scheme(scheme);
        let ends = AuthorityEnds::of(scheme);
        let end = spaced_userinfo_end(
            text,
            sep + 3,
            url_end(bytes, sep + 3),
            hides_lone_user,
            ends,
        );
        let open = one_url_spans(
            &text[start..end],
            sep - start,
            offset + start,
            spans,
            users,
            ends,
        );
        if open {
            spaced_query_spans(text, end, offset, spans);
        }
    }
}

/// Whether `b`, where [`url_end`] stopped, cut the URL at white space or a control byte
/// rather than at the start of another URL.
fn is_break(b: u8) -> bool {
    b.is_ascii_whitespace() || b.is_ascii_control()
}

/// Where the URL whose body starts at `body` ends, [`url_end`] having stopped at `end`: past
/// white space and control bytes in its user info (see [`redact_urls`]), to the end of the
/// host that follows the last `@` before the next `/`, `?`, `#` (or `\`, see [`AuthorityEnds`])
/// or, when there is none
/// there, before the end of the line or the next `://` (a password may hold a `/` too); `end`
/// itself when the URL did not stop at such a byte, or its authority holds no unmatched
/// `user:` (nor, when `hides_lone_user`, an unmatched lone user info, which may be a token).
fn spaced_userinfo_end(
    text: &str,
    body: usize,
    end: usize,
    hides_lone_user: bool,
    ends: AuthorityEnds,
) -> usize {
    let bytes = text.as_bytes();
    if end == bytes.len() || !is_break(bytes[end]) {
        return end;
    }
    let head = &text[body..end];
    if head.bytes().any(|b| ends.at(b)) {
        return end;
    }
    let after_user = match head.rfind('@') {
        Some(at) if is_host_port(&head[at + 1..]) => return end,
        Some(at) => &head[at + 1..],
        None => head,
    };
    let may_be_token = hides_lone_user && !head.contains('@');
    if !after_user.contains(':') && !may_be_token {
        return end;
    }
    // The last `@` before the next `/`, `?` or `#` (or `\`), where a host would end; failing
    // that, before the end of the line that follows (the breaks that cut the URL are part of
    // the secret), since the password itself may hold those.
    let host_end = bytes[end..]
        .iter()
        .position(|b| ends.at(*b))
        .map_or(bytes.len(), |i| end + i);
    let word = bytes[end..]
        .iter()
        .position(|b| !is_break(*b))
        .map_or(bytes.len(), |i| end + i);
    let line_end = memchr::memchr2(b'\n', b'\r', &bytes[word..]).map_or(bytes.len(), |i| word + i);
    // Nor past the next URL.
    let line_end =
        memchr::memmem::find(&bytes[word..line_end], b"://").map_or(line_end, |i| word + i);
    match memchr::memrchr(b'@', &bytes[end..host_end])
        .or_else(|| memchr::memrchr(b'@', &bytes[end..line_end.max(host_end)]))
    {
        Some(at) => url_end(bytes, end + at + 1),
        None => end,
    }
}

/// The spans (offset by `offset`) that hide the rest of a secret query value that white
/// space or a control byte at `cut` ended, and the values of the secret parameters after it:
/// up to the next `&`, line break or the end of `text`, and then the parameters after that
/// `&` as far as the next white space or control byte, and so on.
fn spaced_query_spans(text: &str, mut cut: usize, offset: usize, spans: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    while cut < bytes.len() && is_break(bytes[cut]) {
        let value_end =
            memchr::memchr3(b'&', b'\n', b'\r', &bytes[cut..]).map_or(bytes.len(), |i| cut + i);
        spans.push(offset + cut..offset + value_end);
        if bytes.get(value_end) != Some(&b'&') {
            return;
        }
        let pairs = value_end + 1;
        cut = url_end(bytes, pairs);
        if !query_spans(&text[pairs..cut], offset + pairs, spans) {
            return;
        }
    }
}

/// The spans that hide the secrets of `url` (`scheme_len` bytes of scheme, then `://`),
/// which starts at `offset`; returns whether the value of a secret parameter runs to its end.
fn one_url_spans(
    url: &str,
    scheme_len: usize,
    offset: usize,
    spans: &mut Vec<Range<usize>>,
    users: Users,
    ends: AuthorityEnds,
) -> bool {
    let scheme = &url[..scheme_len];
    let body_start = scheme_len + 3;
    let body = &url[body_start..];
    let at_body = |r: Range<usize>| offset + body_start + r.start..offset + body_start + r.end;
    let authority_end = body.bytes().position(|b| ends.at(b)).unwrap_or(body.len());
    let authority = &body[..authority_end];
    let userinfo_end = match authority.rfind('@') {
        Some(at) => Some(at),
        // `u:p?ss@h`: not a host and port, so the `@` further on ends a password.
        None if !is_host_port(authority) => body.rfind('@').filter(|at| *at > authority_end),
        None => None,
    };
    let mut rest_start = 0;
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
        if users == Users::Hidden {
            spans.push(at_body(0..at));
        } else if let Some(colon) = userinfo.find(':') {
            spans.push(at_body(colon + 1..at));
        } else if !userinfo.is_empty() && !is_user_scheme(scheme) {
            spans.push(at_body(0..at));
        }
        rest_start = at + 1;
    }
    let rest = &body[rest_start..];
    if swallowed == Some('#') {
        spans.push(at_body(rest_start..body.len()));
        return false;
    }
    let (before_fragment, fragment) = match rest.find('#') {
        Some(hash) => {
            spans.push(at_body(rest_start + hash + 1..body.len()));
            (&rest[..hash], true)
        }
        None => (rest, false),
    };
    let query_start = match swallowed {
        Some(_) => Some(0),
        None => before_fragment.find('?').map(|q| q + 1),
    };
    match query_start {
        Some(q) => {
            let query_offset = offset + body_start + rest_start + q;
            query_spans(&before_fragment[q..], query_offset, spans) && !fragment
        }
        None => false,
    }
}

/// The spans (offset by `offset`) of the values of the secret parameters of `query`;
/// returns whether one of them runs to the end of `query`.
fn query_spans(query: &str, offset: usize, spans: &mut Vec<Range<usize>>) -> bool {
    let mut open = false;
    let mut start = 0;
    for pair in query.split('&') {
        if let Some(value) = secret_value_start(pair) {
            spans.push(offset + start + value..offset + start + pair.len());
            open = start + pair.len() == query.len();
        }
        start += pair.len() + 1;
    }
    open
}

/// Where the value of a secret parameter starts in `pair` (one parameter as the `url` crate
/// splits a query, at `&`), if one does. Its name is read both ways: as the `url` crate reads
/// it, up to the first `=`, and as a server that splits at `;` too reads it, after any `;`;
/// either way, the value runs to the end of `pair`, so that `password=ab;cd` hides `ab;cd`
/// and `a=1;password=x` hides `x`.
fn secret_value_start(pair: &str) -> Option<usize> {
    let bytes = pair.as_bytes();
    let eq = memchr::memchr(b'=', bytes)?;
    if is_secret_param(&decode_name(&pair[..eq])) {
        return Some(eq + 1);
    }
    memchr::memchr_iter(b';', bytes).find_map(|semi| {
        let name = semi + 1;
        let end = name + memchr::memchr2(b'=', b';', &bytes[name..])?;
        (bytes[end] == b'=' && is_secret_param(&decode_name(&pair[name..end]))).then_some(end + 1)
    })
}

/// `text` with each span (merged where they overlap) replaced by [`MARKER`].
fn hide(text: &str, mut spans: Vec<Range<usize>>) -> Cow<'_, str> {
    spans.retain(|s| s.start < s.end);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut current = spans[0].clone();
    for span in spans.into_iter().skip(1) {
        if span.start <= current.end {
            current.end = current.end.max(span.end);
        } else {
            out.push_str(&text[copied..current.start]);
            out.push_str(MARKER);
            copied = current.end;
            current = span;
        }
    }
    out.push_str(&text[copied..current.start]);
    out.push_str(MARKER);
    out.push_str(&text[current.end..]);
    Cow::Owned(out)
}

/// The bytes that end a URL's authority, as the `url` crate (the URL standard) reads them:
/// `/`, `?` and `#`, and `\` too for its special schemes (`http`, `https`, `ws`, `wss`,
/// `ftp`, `file`) only. In `postgres://app:2024\Summer@db/app` the password is
/// `2024\Summer`, which every driver sends; stopping at the `\` there would read `app:2024`
/// as a host and port and leave the password in view.
#[derive(Clone, Copy)]
struct AuthorityEnds {
    backslash: bool,
}

impl AuthorityEnds {
    fn of(scheme: &str) -> Self {
        let special = ["http", "https", "ws", "wss", "ftp", "file"];
        Self {
            backslash: special.iter().any(|s| s.eq_ignore_ascii_case(scheme)),
        }
    }

    fn at(self, b: u8) -> bool {
        matches!(b, b'/' | b'?' | b'#') || (self.backslash && b == b'\\')
    }
}

/// Whether a lone user info in a URL of `scheme` is a user name ([`USER_SCHEMES`]).
fn is_user_scheme(scheme: &str) -> bool {
    USER_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme))
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

/// Whether `text` starts with a URL, as [`redact_urls`] reads one: a scheme (a letter, then
/// letters, digits, `+`, `-` or `.`) and `://`. A request path with a URL inside it
/// (`/login?next=https://app/`) does not.
///
/// ```
/// assert!(dozen_redact::starts_with_url("https://app.test/"));
/// assert!(!dozen_redact::starts_with_url("/login?next=https://app.test/"));
/// ```
#[must_use]
pub fn starts_with_url(text: &str) -> bool {
    starts_url(text.as_bytes())
}

/// Whether `bytes` starts with `scheme://`.
fn starts_url(bytes: &[u8]) -> bool {
    let n = bytes.iter().take_while(|b| is_scheme_byte(**b)).count();
    n > 0 && bytes[0].is_ascii_alphabetic() && bytes[n..].starts_with(b"://")
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The fast path answers as the scan would, for texts made of the bytes URLs are made
        /// of (with and without `@`, `?` and `#`).
        #[test]
        fn the_fast_path_agrees_with_the_scan(text in "(ab|:|/|@|\\?|#|=|&|pw|%|,| |x://|u:p@|\\.){0,40}") {
            prop_assert_eq!(redact_urls(&text), scan_urls(&text, Users::ByScheme));
            prop_assert_eq!(redact_client_urls(&text), scan_urls(&text, Users::Hidden));
        }
    }

    #[test]
    fn a_text_with_nothing_to_hide_is_kept_however_many_urls_it_holds() {
        let text = "a://host/path ".repeat(300);
        assert!(matches!(redact_urls(&text), Cow::Borrowed(_)));
        let with_secret = format!("{text}b://u:secret-pw@h");
        let out = redact_urls(&with_secret);
        assert!(!out.contains("secret-pw"), "{out}");
    }
}
