//! Helpers shared by the fuzz targets: finding a secret in text, and deciding when its
//! presence in an output is legitimate rather than a leak.

use std::ops::Range;

/// Secrets shorter than this are not checked: too short to tell a leak from a coincidence,
/// and exempt from masking in dozen too (`dozen_redact::MIN_SECRET_LEN`).
pub const MIN_LEN: usize = dozen_redact::MIN_SECRET_LEN;

/// Byte offsets of every occurrence of `needle` in `haystack`, overlapping ones included.
pub fn occurrences(haystack: &str, needle: &str) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = haystack[from..].find(needle) {
        found.push(from + i);
        // Step one character, so overlapping occurrences count too.
        let step = haystack[from + i..]
            .chars()
            .next()
            .map_or(1, char::len_utf8);
        from += i + step;
    }
    found
}

/// Whether `needle` occurs in `haystack` anywhere but at the byte offsets `own`.
pub fn occurs_elsewhere(haystack: &str, needle: &str, own: &[usize]) -> bool {
    occurrences(haystack, needle)
        .iter()
        .any(|at| !own.contains(at))
}

/// `text` percent-decoded (lossily), as a driver or a person would read it.
pub fn decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `text` percent-decoded without turning `+` into a space (user info, not a form).
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where one secret sits in a URL: the spellings it may take (as written, as the `url`
/// crate serializes it, percent-decoded).
#[derive(Debug, Default, Clone)]
pub struct Slot {
    /// Every spelling of this secret.
    pub forms: Vec<String>,
}

impl Slot {
    /// A slot with these spellings, duplicates dropped.
    pub fn new(forms: impl IntoIterator<Item = String>) -> Self {
        let mut slot = Slot::default();
        for form in forms {
            if !slot.forms.contains(&form) {
                slot.forms.push(form);
            }
        }
        slot
    }
}

/// `text` with the bytes of `spans` blanked out (each character replaced by a NUL), so that
/// what is left is the text that is not secret.
pub fn blank(text: &str, spans: &[Range<usize>]) -> String {
    text.char_indices()
        .map(|(i, c)| {
            if spans.iter().any(|r| r.contains(&i)) {
                '\0'
            } else {
                c
            }
        })
        .collect()
}

/// Every spelling of every slot that is long enough to check, deduplicated.
pub fn candidates(slots: &[Slot]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for form in slots.iter().flat_map(|s| s.forms.iter()) {
        if form.len() >= MIN_LEN && !out.contains(form) {
            out.push(form.clone());
        }
    }
    out
}

/// A string as long as `s` that shares no character with it, to stand in for it.
pub fn filler(s: &str) -> String {
    let c = ['x', 'q', 'z', 'k']
        .into_iter()
        .find(|c| !s.contains(*c))
        .unwrap_or('x');
    std::iter::repeat_n(c, s.chars().count()).collect()
}

/// Whether `output` contains `s`, as written or as `Debug` escapes it, somewhere that does
/// not overlap a `***`: a secret shown in full never does, while the marker that replaced a
/// secret may, with the text around it, spell something that looks like one
/// (`password=***` contains the "secret" `password=**`).
pub fn shows(output: &str, s: &str) -> bool {
    let markers = occurrences(output, dozen_redact::MARKER);
    let overlaps = |at: usize, len: usize| {
        markers
            .iter()
            .any(|&m| m < at + len && at < m + dozen_redact::MARKER.len())
    };
    [s.to_owned(), s.escape_debug().to_string()]
        .iter()
        .any(|form| {
            occurrences(output, form)
                .iter()
                .any(|&at| !overlaps(at, form.len()))
        })
}

/// The user info of `url` as written: the user name and the password (after the first `:`),
/// as byte ranges of `url`, read as the URL standard does: the authority follows `scheme://`
/// and ends at the first `/`, `?`, `#` (or `\`), and the user info is what comes before
/// its last `@`.
pub fn raw_userinfo(url: &str) -> Option<(Range<usize>, Option<Range<usize>>)> {
    // `scheme://`: the first `:` ends the scheme, and `//` must follow it.
    let colon = url.find(':')?;
    if !url[colon + 1..].starts_with("//") {
        return None;
    }
    let from = colon + 3;
    let rest = &url[from..];
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let userinfo = &rest[..rest[..end].rfind('@')?];
    Some(match userinfo.find(':') {
        Some(c) => (from..from + c, Some(from + c + 1..from + userinfo.len())),
        None => (from..from + userinfo.len(), None),
    })
}

/// The values of the secret parameters ([`dozen_redact::is_secret_param`]) of the raw query
/// string `text[query]`, each as a byte range of `text`; empty values are no secret.
pub fn secret_params(text: &str, query: Range<usize>) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut at = query.start;
    for pair in text[query].split('&') {
        if let Some((key, value)) = pair.split_once('=')
            && !value.is_empty()
            && dozen_redact::is_secret_param(&decoded(key))
        {
            let from = at + key.len() + 1;
            found.push(from..from + value.len());
        }
        at += pair.len() + 1;
    }
    found
}

/// Where the secrets of `text`, read as a URL, are written: the password (or the lone user
/// name when `token` says it is a token, as for NATS) when `userinfo`, and the values of the
/// secret parameters of the query (which ends at `#`, or at the end when `query_to_end`, as
/// SQLite URLs are read).
pub fn secret_spans(
    text: &str,
    userinfo: bool,
    token: bool,
    query_to_end: bool,
) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    if userinfo {
        match raw_userinfo(text) {
            Some((_, Some(password))) => spans.push(password),
            Some((user, None)) if token && !user.is_empty() => spans.push(user),
            _ => {}
        }
    }
    if let Some(q) = text.find('?') {
        let end = if query_to_end {
            text.len()
        } else {
            text[q..].find('#').map_or(text.len(), |h| q + h)
        };
        spans.extend(secret_params(text, q + 1..end));
    }
    spans
}

/// The secrets written at `spans` of `text`, each with its percent-decoded spelling.
pub fn slots_at(text: &str, spans: &[Range<usize>]) -> Vec<Slot> {
    spans
        .iter()
        .map(|r| {
            Slot::new([
                text[r.clone()].to_owned(),
                percent_decoded(&text[r.clone()]),
            ])
        })
        .collect()
}

/// The secrets of a URL parsed by the `url` crate: the password, the lone user name when
/// `token` says it is a token (NATS), and the values of secret query parameters, each
/// serialized and decoded.
pub fn url_secrets(url: &url::Url, userinfo: bool, token: bool) -> Vec<Slot> {
    let mut slots = Vec::new();
    if userinfo {
        match url.password() {
            Some(p) => slots.push(Slot::new([p.to_owned(), percent_decoded(p)])),
            None if token && !url.username().is_empty() => {
                let u = url.username();
                slots.push(Slot::new([u.to_owned(), percent_decoded(u)]));
            }
            None => {}
        }
    }
    for (name, value) in url.query_pairs() {
        if dozen_redact::is_secret_param(&name) && !value.is_empty() {
            slots.push(Slot::new([value.into_owned()]));
        }
    }
    if let Some(query) = url.query() {
        let text = url.as_str();
        let from = text.len() - url.fragment().map_or(0, |f| f.len() + 1) - query.len();
        slots.extend(slots_at(
            text,
            &secret_params(text, from..from + query.len()),
        ));
    }
    slots
}

/// The secrets of the URLs in `text`, as written, with their byte offsets: the password, a
/// NATS token, and the values of secret query parameters.
///
/// A URL is any piece of `text` that starts at a scheme and `://`, ends at white space, a
/// control character, or a `,` or `;` that starts another URL (`scheme://`), and that the
/// `url` crate parses. Its password and token are taken only where a plain reading of the text agrees
/// with the `url` crate's.
pub fn url_secrets_in_text(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(i) = text[search..].find("://") {
        let sep = search + i;
        search = sep + 3;
        let mut start = sep;
        while start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || b"+-.".contains(&bytes[start - 1]))
        {
            start -= 1;
        }
        while start < sep && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        if start == sep {
            continue;
        }
        // White space or a control character ends a URL, and so does a `,` or `;` that
        // starts another URL (a list); nothing else does.
        let end = (sep + 3..bytes.len())
            .find(|&j| {
                let b = bytes[j];
                b.is_ascii_whitespace()
                    || b.is_ascii_control()
                    || (matches!(b, b',' | b';') && starts_url(&bytes[j + 1..]))
            })
            .unwrap_or(bytes.len());
        let candidate = &text[start..end];
        let Ok(url) = url::Url::parse(candidate) else {
            continue;
        };
        let mut spans = Vec::new();
        let token_scheme = ["nats", "tls"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(url.scheme()));
        match (raw_userinfo(candidate), url.password()) {
            (Some((_, Some(range))), Some(parsed))
                if percent_decoded(&candidate[range.clone()]) == percent_decoded(parsed) =>
            {
                spans.push(range);
            }
            (Some((user, None)), None)
                if token_scheme
                    && !url.username().is_empty()
                    && percent_decoded(&candidate[user.clone()])
                        == percent_decoded(url.username()) =>
            {
                spans.push(user);
            }
            _ => {}
        }
        if url.query().is_some()
            && let Some(q) = candidate.find('?')
            && candidate.find('#').is_none_or(|h| h > q)
        {
            let end = candidate.find('#').unwrap_or(candidate.len());
            spans.extend(secret_params(candidate, q + 1..end));
        }
        for range in spans {
            let entry = (start + range.start, &candidate[range]);
            if !found.contains(&entry) {
                found.push(entry);
            }
        }
    }
    found
}

/// Whether `bytes` starts with `scheme://`, the scheme starting with a letter.
fn starts_url(bytes: &[u8]) -> bool {
    let n = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b))
        .count();
    n > 0 && bytes[0].is_ascii_alphabetic() && bytes[n..].starts_with(b"://")
}
