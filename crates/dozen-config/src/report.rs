//! The redacted report of what a load read.

use std::fmt;

use dozen_redact::{MARKER, redact_urls};

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueSource {
    /// The variable itself (or, with the `dotenv` feature, a `.env` file's
    /// entry for it, which stands in for the environment).
    Environment,
    /// The file named by its `_FILE` variable.
    File,
    /// Neither was set: the field's default (or `None`) applies.
    Default,
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueSource::Environment => "environment",
            ValueSource::File => "file",
            ValueSource::Default => "default",
        })
    }
}

/// One variable a load read: its name, where the value came from, and the
/// value as text with secrets hidden.
///
/// A [`Secret`](crate::Secret) and anything read through `X_FILE` are shown
/// as [`dozen_redact::MARKER`] (`***`); any other value is shown with every
/// URL in it redacted by [`dozen_redact::redact_urls`] (passwords, tokens,
/// secret query parameters and fragments, in every URL of a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    var: String,
    source: ValueSource,
    value: Option<String>,
    secret: bool,
}

impl ReportEntry {
    pub(crate) fn new(var: &str, source: ValueSource, value: Option<&str>, secret: bool) -> Self {
        Self {
            var: var.to_owned(),
            source,
            value: value.map(|v| {
                if secret || source == ValueSource::File {
                    MARKER.to_owned()
                } else {
                    redact_urls(v).into_owned()
                }
            }),
            secret,
        }
    }

    pub(crate) fn redact(&mut self) {
        self.secret = true;
        if self.value.is_some() {
            self.value = Some(MARKER.to_owned());
        }
    }

    /// For a value read as a map (`key=value,key2=value2`): hides the value
    /// of every key whose name marks a secret
    /// ([`dozen_redact::is_secret_param`]), as in a URL's query.
    pub(crate) fn redact_map(&mut self) {
        if self.secret || self.source == ValueSource::File {
            return;
        }
        if let Some(value) = &mut self.value {
            *value = redact_pairs(value);
        }
    }

    /// The full variable name, such as `APP_DB__PORT`.
    #[must_use]
    pub fn var(&self) -> &str {
        &self.var
    }

    /// Where the value came from.
    #[must_use]
    pub fn source(&self) -> ValueSource {
        self.source
    }

    /// The value as text: `***` for a [`Secret`](crate::Secret) and for a
    /// value read through `X_FILE`, every URL redacted
    /// ([`dozen_redact::redact_urls`]) otherwise, `None` for a default.
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Whether the field is a [`Secret`](crate::Secret).
    #[must_use]
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Display for ReportEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source == ValueSource::File {
            // Where it came from, never what.
            return write!(f, "{var}={MARKER} (from {var}_FILE)", var = self.var);
        }
        match &self.value {
            Some(v) if needs_quotes(v) => write!(f, "{}={v:?} ({})", self.var, self.source),
            Some(v) => write!(f, "{}={v} ({})", self.var, self.source),
            None => write!(f, "{} ({})", self.var, self.source),
        }
    }
}

/// `text`, a list of `key=value` items split on unescaped commas, with the
/// value of each item whose key marks a secret replaced by [`MARKER`] up to
/// the next unescaped comma.
fn redact_pairs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let end = item_end(rest);
        let (item, next) = rest.split_at(end);
        match item.split_once('=') {
            Some((key, value))
                if !value.trim().is_empty() && dozen_redact::is_secret_param(key.trim()) =>
            {
                out.push_str(key);
                out.push('=');
                out.push_str(MARKER);
            }
            _ => out.push_str(item),
        }
        match next.strip_prefix(',') {
            Some(after) => {
                out.push(',');
                rest = after;
            }
            None => return out,
        }
    }
}

/// Where the list item at the start of `text` ends: at its first comma not
/// escaped as `\,`, or at the end.
fn item_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if bytes.get(i + 1) == Some(&b',') => i += 2,
            b',' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn needs_quotes(v: &str) -> bool {
    v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '(' | ')'))
}

/// What a load read, for logging the effective configuration at start-up.
///
/// `Display` writes it on one line; [`entries`](Report::entries) gives the
/// same as data for structured logging.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Config {
///     port: u16,
///     password: dozen_config::Secret<String>,
///     workers: Option<u8>,
/// }
///
/// let (_config, report) = dozen_config::prefixed("APP_")
///     .from_iter_with_report::<_, Config>([
///         ("APP_PORT".to_string(), "8080".to_string()),
///         ("APP_PASSWORD".to_string(), "hunter2".to_string()),
///     ])
///     .unwrap();
/// assert_eq!(
///     report.to_string(),
///     "APP_PORT=8080 (environment), APP_PASSWORD=*** (environment), APP_WORKERS (default)",
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    entries: Vec<ReportEntry>,
}

impl Report {
    pub(crate) fn new(entries: Vec<ReportEntry>) -> Self {
        Self { entries }
    }

    /// The variables, in field order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &ReportEntry> + '_ {
        self.entries.iter()
    }

    /// The report for a person at a terminal: only the variables that were set (from the
    /// environment or a `_FILE`), then how many others are at their defaults. The full
    /// report ([`Display`](fmt::Display) of the `Report`) is for machines, in JSON logs.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Config {
    ///     port: Option<u16>,
    ///     workers: Option<u8>,
    ///     log_format: Option<String>,
    /// }
    ///
    /// let (_, report) = dozen_config::Loader::new()
    ///     .from_iter_with_report::<_, Config>([("PORT".to_string(), "9000".to_string())])
    ///     .unwrap();
    /// assert_eq!(report.set_only().to_string(), "PORT=9000, 2 more at their defaults");
    /// ```
    #[must_use]
    pub fn set_only(&self) -> SetOnly<'_> {
        SetOnly(self)
    }
}

/// Reports of several loads, as one (an app that loads its settings in parts).
impl Extend<ReportEntry> for Report {
    fn extend<I: IntoIterator<Item = ReportEntry>>(&mut self, entries: I) {
        self.entries.extend(entries);
    }
}

impl IntoIterator for Report {
    type Item = ReportEntry;
    type IntoIter = std::vec::IntoIter<ReportEntry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// [`Report::set_only`]: the variables that were set, and a count of the rest.
#[derive(Debug, Clone, Copy)]
pub struct SetOnly<'a>(&'a Report);

impl fmt::Display for SetOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut defaults = 0;
        let mut sep = "";
        for entry in &self.0.entries {
            if entry.source == ValueSource::Default {
                defaults += 1;
                continue;
            }
            f.write_str(sep)?;
            let var = &entry.var;
            match (&entry.value, entry.source) {
                (_, ValueSource::File) => write!(f, "{var}={MARKER} (from {var}_FILE)")?,
                (Some(v), _) if needs_quotes(v) => write!(f, "{var}={v:?}")?,
                (Some(v), _) => write!(f, "{var}={v}")?,
                (None, _) => f.write_str(var)?,
            }
            sep = ", ";
        }
        match (sep.is_empty(), defaults) {
            (true, 0) => f.write_str("no variables"),
            (true, n) => write!(f, "all {n} at their defaults"),
            (false, 0) => Ok(()),
            (false, n) => write!(f, "{sep}{n} more at their defaults"),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(entry, f)?;
        }
        Ok(())
    }
}
