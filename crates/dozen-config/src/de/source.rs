//! Source lookup: where a variable's text comes from (the process
//! environment, then the pairs of `from_iter` or the `.env` entries), the
//! file an `X_FILE` variable names, and the list of names under a prefix.
//!
//! Variables are looked up one at a time (`std::env::var_os`), never by
//! copying the whole environment, except where a scan is unavoidable: strict
//! mode, `#[serde(flatten)]`, and telling whether an absent field has nested
//! variables (`APP_DB__*`). The scan is made once per load. Nothing here
//! changes the environment.
//!
//! Why not one scan for every load, and a lookup in it per field: with 80
//! variables, `std::env::vars_os` costs about 84,000 instructions (it copies
//! each name and value into an allocation of its own), more than the 40
//! `getenv` calls of a 20-field struct (about 58,000, `X` and `X_FILE` for
//! each field). Both grow with the size of the environment, so a scan would
//! pay off only for structs of some 30 fields and more.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use crate::error::ProblemKind;

/// Files named by `X_FILE` are read up to this size.
const MAX_FILE: u64 = 1024 * 1024;

/// Variable names to values.
pub(crate) type Map = HashMap<String, String>;

/// Where the variables come from.
#[derive(Debug, Default)]
pub(crate) struct Source<'p> {
    /// Look in the process environment first.
    process: bool,
    /// Every name looked up starts with it: a scan keeps only those.
    prefix: &'p str,
    /// Then here: the pairs of `from_iter`, or the entries of `.env` files.
    /// A hash map with std's default hasher: a hand-written FxHash saved
    /// nothing on a load from the process environment, where this is empty.
    map: Map,
    /// The names in the process environment under the prefix, sorted;
    /// scanned once, and only when needed.
    process_names: OnceCell<Vec<String>>,
}

/// The text of one variable, as found.
pub(crate) enum Raw<'s> {
    Absent,
    Text(Cow<'s, str>),
    NotUnicode,
}

impl<'p> Source<'p> {
    /// The process environment (if `process`), then `map`; every name looked
    /// up starts with `prefix`.
    pub(crate) fn new(process: bool, prefix: &'p str, map: Map) -> Self {
        Self {
            process,
            prefix,
            map,
            process_names: OnceCell::new(),
        }
    }

    /// Variable `var` and its twin `file_var` (`var` + `_FILE`), whose
    /// names are checked in one pass: the twin holds the same characters.
    pub(crate) fn get_with_file(&self, var: &str, file_var: &str) -> (Raw<'_>, Raw<'_>) {
        let process = self.process && !has_forbidden_byte(var);
        (
            self.get(var, process && !var.is_empty()),
            self.get(file_var, process),
        )
    }

    fn get(&self, name: &str, process: bool) -> Raw<'_> {
        if process && let Some(value) = std::env::var_os(name) {
            return match value.into_string() {
                Ok(text) => Raw::Text(Cow::Owned(text)),
                Err(_) => Raw::NotUnicode,
            };
        }
        match self.map.get(name) {
            Some(text) => Raw::Text(Cow::Borrowed(text)),
            None => Raw::Absent,
        }
    }

    fn process_names(&self) -> &[String] {
        self.process_names.get_or_init(|| {
            let prefix = self.prefix.as_bytes();
            let mut names: Vec<String> = std::env::vars_os()
                .filter(|(name, _)| name.as_encoded_bytes().starts_with(prefix))
                .filter_map(|(name, _)| name.into_string().ok())
                .collect();
            names.sort_unstable();
            names
        })
    }

    /// Whether any variable starts with `var__`.
    pub(crate) fn has_children(&self, var: &str) -> bool {
        let mut prefix = String::with_capacity(var.len() + 2);
        prefix.push_str(var);
        prefix.push_str("__");
        let in_map = self.map.keys().any(|name| name.starts_with(&prefix));
        if in_map || !self.process {
            return in_map;
        }
        let names = self.process_names();
        let at = names.partition_point(|name| name.as_str() < prefix.as_str());
        names.get(at).is_some_and(|name| name.starts_with(&prefix))
    }

    /// Every variable name starting with `prefix`, sorted.
    pub(crate) fn names_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .map
            .keys()
            .filter(|name| name.starts_with(prefix))
            .cloned()
            .collect();
        if self.process {
            let process = self.process_names();
            let at = process.partition_point(|name| name.as_str() < prefix);
            names.extend(
                process[at..]
                    .iter()
                    .take_while(|name| name.starts_with(prefix))
                    .cloned(),
            );
        }
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// `std::env::var_os` returns `None` for a name holding `=` or NUL (or an
/// empty one) on current platforms; checking first keeps it that way on
/// every platform. Bytes, not chars: both are ASCII.
fn has_forbidden_byte(name: &str) -> bool {
    // Without an early exit, which lets the loop run on whole words.
    name.bytes()
        .fold(false, |found, b| found | (b == b'=') | (b == 0))
}

/// Reads the file an `X_FILE` variable names: at most 1 MiB of UTF-8, one
/// trailing newline (`\n` or `\r\n`) removed.
pub(crate) fn read_file(path: &str) -> Result<String, ProblemKind> {
    let unreadable = |reason: String| ProblemKind::Unreadable {
        path: PathBuf::from(path),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.kind().to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.kind().to_string()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(ProblemKind::TooLarge {
            path: PathBuf::from(path),
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|_| unreadable("not valid UTF-8".into()))?;
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    Ok(text)
}
