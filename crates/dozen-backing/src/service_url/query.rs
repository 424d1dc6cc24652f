//! The query string of a URL as the drivers read it: its pairs as written, and values
//! decoded the way the drivers decode them.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// `s` percent-decoded, with invalid UTF-8 replaced.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

/// The parameters of a raw query string: each pair as written, its value as written, and
/// its name decoded (`+` and percent escapes).
pub(crate) fn raw_params(query: &str) -> impl Iterator<Item = (&str, Option<&str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (key, value) = match pair.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (pair, None),
        };
        let name = url::form_urlencoded::parse(key.as_bytes())
            .next()
            .map(|(k, _)| k)
            .unwrap_or_default();
        (pair, value, name)
    })
}

/// A query value as the drivers decode it (`+` is a space, then percent escapes).
pub(crate) fn decode_value(value: &str) -> String {
    url::form_urlencoded::parse(format!("x={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
