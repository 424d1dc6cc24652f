//! Text parsing: a variable's text as a `bool`, a `char`, a list or a
//! `key=value` item. Plain functions over text; the deserializer decides what
//! to do when they fail.

/// `true`/`1`/`yes`/`on` and the opposites, in any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "1", "yes", "on"];
    const FALSE: [&str; 4] = ["false", "0", "no", "off"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

/// Splits a list on unescaped commas (`\,` is a comma) and trims each item.
/// The empty string is the empty list.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    if !text.contains('\\') {
        return text.split(',').map(|item| item.trim().to_owned()).collect();
    }
    let mut items = Vec::new();
    let mut item = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                item.push(',');
                chars.next();
            }
            ',' => items.push(std::mem::take(&mut item)),
            c => item.push(c),
        }
    }
    items.push(item);
    for item in &mut items {
        let trimmed = item.trim();
        if trimmed.len() != item.len() {
            *item = trimmed.to_owned();
        }
    }
    items
}

/// One `key=value` item of a map, both sides trimmed; `None` without a `=`.
pub(crate) fn split_pair(item: &str) -> Option<(String, String)> {
    let (key, value) = item.split_once('=')?;
    Some((key.trim().to_owned(), value.trim().to_owned()))
}

/// A text of exactly one character.
pub(crate) fn parse_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}
