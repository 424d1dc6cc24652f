//! The serde `Deserializer` over the environment.
//!
//! Variables are looked up one field at a time (`std::env::var_os`), never by
//! copying the whole environment, except where a scan is unavoidable: strict
//! mode, `#[serde(flatten)]`, and telling whether an absent field has nested
//! variables (`APP_DB__*`).
//!
//! Collecting every error: a derived `Deserialize` stops at the first error it
//! sees. So the deserializer records each problem itself and hands the visitor
//! a placeholder that it accepts (`1` for an integer, `false`, a string from a
//! short list of candidates), and the visitor never sees an error of ours.
//! Where the placeholder cannot be chosen before the visitor has been consumed
//! (a string a foreign type rejects, a required field that was not yielded),
//! the load aborts with a private signal, remembers what it learned, and
//! starts again from the top. A load with nothing wrong runs exactly once.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, MapAccess, SeqAccess, Visitor};

use crate::describe::Shape;
use crate::error::{Problem, ProblemKind};
use crate::report::{ReportEntry, ValueSource};

/// The newtype name through which [`crate::Secret`] tells the deserializer
/// that a value is a secret.
pub(crate) const SECRET: &str = "dozen_config::Secret";

/// Files named by `X_FILE` are read up to this size.
const MAX_FILE: u64 = 1024 * 1024;

/// Strings offered to a visitor that rejected (or never got) the real value,
/// in order, until one is accepted.
pub(crate) const CANDIDATES: &[&str] = &[
    "0",
    "a",
    "",
    "false",
    "0.0.0.0",
    "0.0.0.0:0",
    "http://localhost/",
    "00000000-0000-0000-0000-000000000000",
    "1970-01-01T00:00:00Z",
];

/// Where the variables come from.
#[derive(Debug, Default, Clone)]
pub(crate) struct Source {
    /// Look in the process environment first.
    pub(crate) process: bool,
    /// Then here: the pairs of `from_iter`, or the entries of `.env` files.
    /// A hash map with std's default hasher: a hand-written FxHash saved
    /// nothing on a load from the process environment (the `config` bench
    /// group), where this map is empty.
    pub(crate) map: Map,
}

enum Raw<'s> {
    Absent,
    Text(Cow<'s, str>),
    NotUnicode,
}

impl Source {
    fn get(&self, name: &str) -> Raw<'_> {
        if self.process
            && valid_name(name)
            && let Some(value) = std::env::var_os(name)
        {
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
}

/// Variable names to values.
pub(crate) type Map = HashMap<String, String>;

/// `std::env::var_os` returns `None` for these on current platforms; checking
/// first keeps it that way on every platform.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0'])
}

/// The value of one variable, looked up once.
#[derive(Clone)]
pub(crate) enum Fetched<'s> {
    Absent,
    Value {
        /// Borrowed from `from_iter`'s pairs, owned from the environment.
        text: Cow<'s, str>,
        from: ValueSource,
    },
    /// Set but unusable; the problem is already recorded.
    Bad,
}

/// What the deserializer learned in earlier runs of the same load.
#[derive(Default)]
struct Memo {
    /// Absent fields to yield anyway (the type requires them): var -> field.
    force: HashMap<String, &'static str>,
    /// Values (var, or var#item) the visitor rejected -> next candidate.
    failed: HashMap<String, usize>,
    /// Under `#[serde(flatten)]`: the kind of value the type wants, what it
    /// expects, and whether it rejected the value.
    flat: HashMap<String, (FlatKind, String, bool)>,
    /// Values (var, or var#item) a field's own check refused after they
    /// parsed, with its reason and expectation (`too large`, `at most 1h`).
    refused: HashMap<String, (String, String)>,
    names: Option<Vec<String>>,
    changes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FlatKind {
    Bool,
    Int,
    Float,
    Seq,
    /// A string the type rejected: offer candidates.
    Str,
    /// A string the type accepts.
    Plain,
}

/// What one run records.
#[derive(Default)]
struct Run {
    problems: Vec<Problem>,
    entries: Vec<ReportEntry>,
    /// Strict mode: every name a field reads.
    known: Vec<String>,
    /// Strict mode: prefixes read as maps, where any name is accepted.
    open: Vec<String>,
    /// Values handed out as strings under `#[serde(flatten)]`.
    flat_yielded: Vec<(String, String)>,
    /// Values read as `Secret`s or from files, registered if the load
    /// succeeds.
    secrets: Vec<String>,
    last_var: String,
    complete: bool,
}

pub(crate) struct Ctx<'s> {
    source: &'s Source,
    shape: Arc<Shape>,
    prefix_len: usize,
    report: bool,
    strict: bool,
    memo: RefCell<Memo>,
    run: RefCell<Run>,
    scratch: RefCell<String>,
}

/// The outcome of a load: the value, or the problems; and the report entries.
pub(crate) struct Loaded<T> {
    pub(crate) result: Result<T, Vec<Problem>>,
    pub(crate) entries: Vec<ReportEntry>,
}

pub(crate) fn load<T: DeserializeOwned>(
    source: &Source,
    prefix: &str,
    strict: bool,
    report: bool,
) -> Loaded<T> {
    let ctx = Ctx {
        source,
        shape: crate::describe::shape::<T>(),
        prefix_len: prefix.len(),
        report,
        strict,
        memo: RefCell::default(),
        run: RefCell::default(),
        scratch: RefCell::default(),
    };
    // Each rerun learns at least one thing about a finite set of fields and
    // candidates; the bound only guards against a Deserialize impl that
    // behaves differently on every call.
    for _ in 0..1000 {
        let before = ctx.memo.borrow().changes;
        *ctx.run.borrow_mut() = Run::default();
        let result = T::deserialize(StructDe {
            ctx: &ctx,
            prefix: prefix.to_owned(),
        });
        let progressed = ctx.memo.borrow().changes != before;
        match result {
            Err(DeError::Abort) if progressed => continue,
            Ok(value) => {
                ctx.run.borrow_mut().complete = true;
                ctx.check_strict(prefix);
                let run = ctx.run.take();
                return Loaded {
                    result: if run.problems.is_empty() {
                        // Registered with dozen-redact so that a log line
                        // that echoes one (a driver's error, say) has it
                        // masked. Only the values of a load that succeeded:
                        // a failed one is not used.
                        for secret in &run.secrets {
                            dozen_redact::register(secret);
                        }
                        Ok(value)
                    } else {
                        Err(run.problems)
                    },
                    entries: run.entries,
                };
            }
            Err(err) => return ctx.give_up(prefix, &err),
        }
    }
    ctx.give_up(prefix, &DeError::Abort)
}

impl<'s> Ctx<'s> {
    fn give_up<T>(&self, prefix: &str, err: &DeError) -> Loaded<T> {
        let mut run = self.run.take();
        if run.problems.is_empty() {
            // An error we could not place on a field: name the last variable
            // read, never the error's own text (it may quote the value).
            let var = if run.last_var.is_empty() {
                prefix.to_owned()
            } else {
                std::mem::take(&mut run.last_var)
            };
            let expected = match err {
                DeError::Other { expected, .. } => expected.as_deref().map(hint),
                _ => None,
            };
            run.problems.push(Problem::new(
                var,
                ProblemKind::Invalid {
                    expected: expected.unwrap_or_else(|| "a value this field accepts".into()),
                    item: None,
                },
            ));
        }
        Loaded {
            result: Err(run.problems),
            entries: run.entries,
        }
    }

    /// Notes a value read as a `Secret` or from a file, as read and trimmed.
    fn note_secret(&self, text: &str) {
        let mut run = self.run.borrow_mut();
        run.secrets.push(text.to_owned());
        let trimmed = text.trim();
        if trimmed.len() != text.len() {
            run.secrets.push(trimmed.to_owned());
        }
    }

    fn problem(&self, var: &str, kind: ProblemKind) {
        self.run.borrow_mut().problems.push(Problem::new(var, kind));
    }

    fn fetch(&self, var: &str) -> Fetched<'s> {
        let file = {
            // A buffer kept across fields: the `_FILE` name is looked up for
            // every field and almost never set.
            let mut file_var = self.scratch.borrow_mut();
            file_var.clear();
            file_var.push_str(var);
            file_var.push_str("_FILE");
            if self.strict {
                let mut run = self.run.borrow_mut();
                run.known.push(var.to_owned());
                run.known.push(file_var.clone());
            }
            self.source.get(&file_var)
        };
        let file_var = || format!("{var}_FILE");
        match (self.source.get(var), file) {
            (Raw::Absent, Raw::Absent) => Fetched::Absent,
            (Raw::Text(text), Raw::Absent) => Fetched::Value {
                text,
                from: ValueSource::Environment,
            },
            (Raw::NotUnicode, Raw::Absent) => {
                self.problem(var, ProblemKind::NotUnicode);
                Fetched::Bad
            }
            (Raw::Absent, Raw::NotUnicode) => {
                self.problem(&file_var(), ProblemKind::NotUnicode);
                Fetched::Bad
            }
            (Raw::Absent, Raw::Text(path)) => match read_file(&path) {
                Ok(text) => {
                    self.note_secret(&text);
                    Fetched::Value {
                        text: Cow::Owned(text),
                        from: ValueSource::File,
                    }
                }
                Err(kind) => {
                    self.problem(&file_var(), kind);
                    Fetched::Bad
                }
            },
            (_, _) => {
                self.problem(
                    var,
                    ProblemKind::Conflict {
                        file_var: file_var(),
                    },
                );
                Fetched::Bad
            }
        }
    }

    /// The names in the process environment, sorted; read once per load,
    /// and only when needed.
    fn process_names(&self) -> std::cell::Ref<'_, Vec<String>> {
        if self.memo.borrow().names.is_none() {
            let mut names: Vec<String> = std::env::vars_os()
                .filter_map(|(name, _)| name.into_string().ok())
                .collect();
            names.sort_unstable();
            self.memo.borrow_mut().names = Some(names);
        }
        std::cell::Ref::map(self.memo.borrow(), |memo| {
            memo.names.as_ref().expect("set just above")
        })
    }

    /// Whether any variable starts with `var__`.
    fn has_children(&self, var: &str) -> bool {
        let mut prefix = String::with_capacity(var.len() + 2);
        prefix.push_str(var);
        prefix.push_str("__");
        let in_map = self.source.map.keys().any(|name| name.starts_with(&prefix));
        if in_map || !self.source.process {
            return in_map;
        }
        let names = self.process_names();
        let at = names.partition_point(|name| name.as_str() < prefix.as_str());
        names.get(at).is_some_and(|name| name.starts_with(&prefix))
    }

    /// Every variable name starting with `prefix`, sorted.
    fn names_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .source
            .map
            .keys()
            .filter(|name| name.starts_with(prefix))
            .cloned()
            .collect();
        if self.source.process {
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

    fn forced(&self, var: &str) -> bool {
        self.memo.borrow().force.contains_key(var)
    }

    fn force(&self, var: String, field: &'static str) {
        let mut memo = self.memo.borrow_mut();
        if memo.force.insert(var, field).is_none() {
            memo.changes += 1;
        }
    }

    fn candidate(&self, key: &str) -> Option<usize> {
        self.memo.borrow().failed.get(key).copied()
    }

    /// An error raised after our deserializer handed out a value the
    /// visitor accepted (`#[serde(try_from)]`, `deserialize_with`): the
    /// value is treated as rejected, and the next run offers candidates.
    fn after_value<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        match result {
            Err(err @ DeError::Other { .. }) => {
                let var = self.run.borrow().last_var.clone();
                self.note_refusal(&var, &err);
                let next = self.candidate(&var).map_or(0, |c| c + 1);
                self.set_candidate(var, next);
                Err(DeError::Abort)
            }
            other => other,
        }
    }

    /// Keeps the reason of an `invalid_value(Unexpected::Other(reason),
    /// &expected)` raised by a field's own check, to report it next run.
    fn note_refusal(&self, key: &str, err: &DeError) {
        if let DeError::Other {
            expected: Some(expected),
            unexpected: Some(Unexpected::Other(reason)),
        } = err
        {
            self.memo
                .borrow_mut()
                .refused
                .insert(key.to_owned(), (reason.clone(), expected.clone()));
        }
    }

    fn any_failed(&self) -> bool {
        !self.memo.borrow().failed.is_empty()
    }

    fn set_candidate(&self, key: String, next: usize) {
        let mut memo = self.memo.borrow_mut();
        if next <= CANDIDATES.len() && memo.failed.insert(key, next) != Some(next) {
            memo.changes += 1;
        }
    }

    fn entry(&self, var: &str, fetched: &Fetched<'_>, secret: bool) {
        if self.report {
            let (value, source) = match fetched {
                Fetched::Value { text, from } => (Some(&**text), *from),
                Fetched::Absent | Fetched::Bad => (None, ValueSource::Default),
            };
            let mut run = self.run.borrow_mut();
            if run.entries.last().is_some_and(|e| e.var() == var) {
                return;
            }
            run.entries
                .push(ReportEntry::new(var, source, value, secret));
        }
    }

    fn mark_secret(&self, var: &str) {
        if self.report {
            let mut run = self.run.borrow_mut();
            if let Some(entry) = run.entries.iter_mut().rev().find(|e| e.var() == var) {
                entry.redact();
            }
        }
    }

    fn mark_map(&self, var: &str) {
        if self.report {
            let mut run = self.run.borrow_mut();
            if let Some(entry) = run.entries.iter_mut().rev().find(|e| e.var() == var) {
                entry.redact_map();
            }
        }
    }

    fn check_strict(&self, prefix: &str) {
        if !self.strict {
            return;
        }
        let names = self.names_with_prefix(prefix);
        let mut run = self.run.borrow_mut();
        run.known.sort_unstable();
        let mut unknown = Vec::new();
        for name in &names {
            let known = run.known.binary_search(name).is_ok()
                || run.open.iter().any(|open| name.starts_with(open.as_str()));
            if !known {
                let suggestion = crate::suggest::nearest(name, &run.known);
                unknown.push(Problem::new(
                    name.as_str(),
                    ProblemKind::Unknown { suggestion },
                ));
            }
        }
        run.problems.extend(unknown);
    }
}

fn read_file(path: &str) -> Result<String, ProblemKind> {
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

/// `prefix` + `FIELD`, upper-cased.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    let mut var = String::with_capacity(prefix.len() + field.len());
    var.push_str(prefix);
    if field.is_ascii() {
        var.push_str(field);
        var[prefix.len()..].make_ascii_uppercase();
    } else {
        var.push_str(&field.to_uppercase());
    }
    var
}

// ---------------------------------------------------------------------------
// The private error type that visitors see.

/// What the derived code and foreign `Deserialize` impls get from us.
///
/// It never carries a custom message, which may quote the value; the value a
/// visitor reports as unexpected is kept only to tell which variable a
/// `#[serde(flatten)]` failure belongs to, and never shown.
pub(crate) enum DeError {
    /// Stop this run; the driver starts again with what the memo learned.
    Abort,
    MissingField(&'static str),
    Other {
        expected: Option<String>,
        unexpected: Option<Unexpected>,
    },
}

pub(crate) enum Unexpected {
    Str(String),
    /// `de::Unexpected::Other`: a description a field's own check chose.
    Other(String),
    Unsigned(u64),
    Signed(i64),
    Float,
    Bool(bool),
}

impl fmt::Debug for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Abort => f.write_str("configuration load restarted"),
            DeError::MissingField(field) => write!(f, "missing field `{field}`"),
            DeError::Other {
                expected: Some(expected),
                ..
            } => write!(f, "invalid value, expected {expected}"),
            DeError::Other { expected: None, .. } => f.write_str("invalid value"),
        }
    }
}

impl std::error::Error for DeError {}

impl DeError {
    fn from_unexpected(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        let unexpected = match unexp {
            de::Unexpected::Str(s) => Some(Unexpected::Str(s.to_owned())),
            de::Unexpected::Unsigned(n) => Some(Unexpected::Unsigned(n)),
            de::Unexpected::Signed(n) => Some(Unexpected::Signed(n)),
            de::Unexpected::Float(_) => Some(Unexpected::Float),
            de::Unexpected::Bool(b) => Some(Unexpected::Bool(b)),
            de::Unexpected::Other(what) => Some(Unexpected::Other(what.to_owned())),
            _ => None,
        };
        DeError::Other {
            expected: Some(exp.to_string()),
            unexpected,
        }
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        DeError::Other {
            expected: None,
            unexpected: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::from_unexpected(unexp, exp)
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn Expected) -> Self {
        Self::from_unexpected(unexp, exp)
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::MissingField(field)
    }
}

/// A friendlier text for what a visitor expects.
pub(crate) fn hint(expected: &str) -> String {
    match expected {
        "a duration" => "a duration such as 30s or 1m 30s".into(),
        "a string representing an URL" => "a URL such as https://example.com/".into(),
        "IP address" => "an IP address such as 127.0.0.1".into(),
        "IPv4 address" => "an IPv4 address such as 127.0.0.1".into(),
        "IPv6 address" => "an IPv6 address such as ::1".into(),
        "socket address" => "a socket address such as 0.0.0.0:8080".into(),
        "path string" => "a path".into(),
        "a boolean" => BOOL_HINT.into(),
        "f32" | "f64" => "a number".into(),
        "a character" | "a char" => "a single character".into(),
        other => int_hint(other).unwrap_or_else(|| other.to_owned()),
    }
}

const BOOL_HINT: &str = "true or false (also 1/0, yes/no, on/off)";

fn int_hint(ty: &str) -> Option<String> {
    macro_rules! range {
        ($($t:ident)*) => {
            match ty {
                $(stringify!($t) => Some(format!("an integer from {} to {}", $t::MIN, $t::MAX)),)*
                _ => None,
            }
        };
    }
    range!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize)
}

fn flat_kind(expected: &str) -> FlatKind {
    match expected {
        "a boolean" => FlatKind::Bool,
        "f32" | "f64" => FlatKind::Float,
        "a sequence" => FlatKind::Seq,
        other if int_hint(other).is_some() => FlatKind::Int,
        _ => FlatKind::Str,
    }
}

fn expecting(visitor: &dyn Expected) -> String {
    hint(&visitor.to_string())
}

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

/// The `Deserializer` methods that the loader and the tracer implement alike:
/// every string-like method goes through `self.string`, tuples are lists,
/// and units need no value.
macro_rules! common_methods {
    () => {
        fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.string(visitor)
        }

        fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            visitor.visit_unit()
        }

        fn deserialize_tuple<V: Visitor<'de>>(
            self,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, DeError> {
            self.deserialize_seq(visitor)
        }
    };
}
pub(crate) use common_methods;

// ---------------------------------------------------------------------------
// A struct (or the top level): fields become variables.

struct StructDe<'c, 's> {
    ctx: &'c Ctx<'s>,
    /// `APP_` at the top, `APP_DB__` for a nested struct.
    prefix: String,
}

impl StructDe<'_, '_> {
    /// A required field was not yielded: yield it next time.
    fn catch<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        match result {
            Err(DeError::MissingField(field)) => {
                self.ctx.force(join(&self.prefix, field), field);
                Err(DeError::Abort)
            }
            other => other,
        }
    }

    fn catch_flat<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        let result = self.catch(result);
        let Err(DeError::Other {
            expected: Some(expected),
            unexpected: Some(unexpected),
        }) = &result
        else {
            return result;
        };
        // A value handed out as a string under #[serde(flatten)] was not
        // what the type wanted: find which, and retry with the right kind
        // (or, if the type rejected it, with a placeholder).
        let ctx = self.ctx;
        let run = ctx.run.borrow();
        let mut memo = ctx.memo.borrow_mut();
        let matches = |var: &String, text: &String, plain: bool| {
            let state = memo
                .flat
                .get(var)
                .map(|(kind, _, rejected)| (*kind, *rejected));
            match (unexpected, state) {
                (Unexpected::Str(s), Some((FlatKind::Plain, _))) => plain && s == text,
                (Unexpected::Str(s), None | Some((FlatKind::Str, _))) => !plain && s == text,
                (Unexpected::Unsigned(n), Some((FlatKind::Int, false))) => {
                    text.trim().parse() == Ok(*n)
                }
                (Unexpected::Signed(n), Some((FlatKind::Int, false))) => {
                    text.trim().parse() == Ok(*n)
                }
                (Unexpected::Float, Some((FlatKind::Float, false))) => true,
                (Unexpected::Bool(b), Some((FlatKind::Bool, false))) => {
                    parse_bool(text.trim()) == Some(*b)
                }
                _ => false,
            }
        };
        // Several values may be equal: take the first that can still learn
        // something; a wrong guess is corrected by the next rejection.
        let culprit = [false, true].into_iter().find_map(|plain| {
            run.flat_yielded
                .iter()
                .find(|(var, text)| matches(var, text, plain))
                .map(|(var, _)| var.clone())
        });
        let mut found = false;
        if let Some(var) = culprit {
            let wanted = flat_kind(expected);
            let next = match memo.flat.get(&var).cloned() {
                None => Some((wanted, expected.clone(), wanted == FlatKind::Str)),
                Some((FlatKind::Plain, ..)) => Some((FlatKind::Str, expected.clone(), true)),
                Some((FlatKind::Str, ..)) => {
                    let next = memo.failed.get(&var).map_or(1, |n| n + 1);
                    if next < CANDIDATES.len() {
                        memo.failed.insert(var.clone(), next);
                        found = true;
                    }
                    None
                }
                Some((kind, _, _)) if kind == wanted => Some((kind, expected.clone(), true)),
                Some(_) if wanted == FlatKind::Str => {
                    Some((FlatKind::Plain, expected.clone(), false))
                }
                Some(_) => Some((wanted, expected.clone(), false)),
            };
            if let Some(next) = next {
                memo.flat.insert(var, next);
                found = true;
            }
            if found {
                memo.changes += 1;
            }
        }
        drop(memo);
        drop(run);
        if found { Err(DeError::Abort) } else { result }
    }

    fn deserialize_map_mode<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let ctx = self.ctx;
        let mut keys: Vec<(String, String)> = Vec::new(); // (key, var)
        {
            for name in &ctx.names_with_prefix(&self.prefix) {
                let rest = &name[self.prefix.len()..];
                // `X_FILE` is offered as itself, not as `X` read from the
                // file: serde does not say which variables a flattened type
                // reads, and reading the file of every `*_FILE` variable in
                // the environment (TF_CLI_CONFIG_FILE, SSL_CERT_FILE, ...)
                // would read other programs' files and fail on theirs. A
                // required `X` is learned from serde's missing-field error
                // and then fetched with its `X_FILE` (the `force` list below).
                let segment = match rest.find("__") {
                    Some(end) => &rest[..end],
                    None => rest,
                };
                if segment.is_empty() {
                    continue;
                }
                let var = format!("{}{segment}", self.prefix);
                if !keys.iter().any(|(_, v)| *v == var) {
                    keys.push((segment.to_lowercase(), var));
                }
            }
        }
        {
            let memo = ctx.memo.borrow();
            for (var, field) in &memo.force {
                if let Some(rest) = var.strip_prefix(self.prefix.as_str())
                    && !rest.contains("__")
                    && !keys.iter().any(|(k, _)| k == field)
                {
                    keys.push(((*field).to_owned(), var.clone()));
                }
            }
        }
        if ctx.strict {
            ctx.run.borrow_mut().open.push(self.prefix.clone());
        }
        let result = visitor.visit_map(FlatAccess {
            ctx,
            keys: keys.into_iter(),
            pending: None,
        });
        self.catch_flat(result)
    }
}

impl<'de> de::Deserializer<'de> for StructDe<'_, '_> {
    type Error = DeError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = visitor.visit_map(Fields {
            ctx: self.ctx,
            prefix: &self.prefix,
            fields: fields.iter(),
            pending: None,
        });
        self.catch(result)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_map_mode(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// A tuple of structs where a struct is expected (at the top level): each
    /// reads the same prefix, so settings structs from several crates compose
    /// without `#[serde(flatten)]`, which hides their field names.
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_seq(SameLevel {
            left: len,
            next: || StructDe {
                ctx: self.ctx,
                prefix: self.prefix.clone(),
            },
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple_struct map enum
        identifier ignored_any
    }
}

/// The structs of a top-level tuple, all read at the same prefix: `left`
/// elements, each deserialized from what `next` makes (the loader's and the
/// tracer's struct deserializers alike).
pub(crate) struct SameLevel<F> {
    pub(crate) left: usize,
    pub(crate) next: F,
}

impl<'de, F, D> SeqAccess<'de> for SameLevel<F>
where
    F: FnMut() -> D,
    D: de::Deserializer<'de, Error = DeError>,
{
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize((self.next)()).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The fields of a struct, each yielded only if its variable (or a nested
/// one) is set, so that `#[serde(default)]` and `Option` see absent fields
/// as absent.
struct Fields<'c, 's, 'p> {
    ctx: &'c Ctx<'s>,
    prefix: &'p str,
    fields: std::slice::Iter<'static, &'static str>,
    pending: Option<(String, Fetched<'s>)>,
}

impl<'de> MapAccess<'de> for Fields<'_, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for field in self.fields.by_ref() {
            let var = join(self.prefix, field);
            let fetched = self.ctx.fetch(&var);
            let present = match fetched {
                Fetched::Absent => {
                    self.ctx.forced(&var)
                        || (self.ctx.shape.may_nest(&var[self.ctx.prefix_len..])
                            && self.ctx.has_children(&var))
                }
                _ => true,
            };
            if present {
                self.pending = Some((var, fetched));
                return seed
                    .deserialize(de::value::BorrowedStrDeserializer::new(field))
                    .map(Some);
            }
            self.ctx.entry(&var, &Fetched::Absent, false);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((var, fetched)) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let result = seed.deserialize(ValueDe::new(self.ctx, var, fetched, None));
        self.ctx.after_value(result)
    }
}

/// The variables under a prefix, for a struct deserialized as a map
/// (`#[serde(flatten)]`) or a map at the top level.
struct FlatAccess<'c, 's> {
    ctx: &'c Ctx<'s>,
    keys: std::vec::IntoIter<(String, String)>,
    pending: Option<String>,
}

impl<'de> MapAccess<'de> for FlatAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, var)) = self.keys.next() else {
            return Ok(None);
        };
        self.pending = Some(var);
        seed.deserialize(de::value::StringDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(var) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let fetched = self.ctx.fetch(&var);
        let result = seed.deserialize(ValueDe::new(self.ctx, var, fetched, None));
        self.ctx.after_value(result)
    }
}

// ---------------------------------------------------------------------------
// One value: a variable, or an item of a list or map.

struct ValueDe<'c, 's> {
    ctx: &'c Ctx<'s>,
    var: String,
    fetched: Fetched<'s>,
    /// The position in a list or map.
    item: Option<usize>,
    secret: bool,
}

macro_rules! integers {
    ($($method:ident $ty:ident $visit:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let parsed = self.scalar(&visitor, |s| s.parse::<$ty>().ok());
            self.offer(parsed, 1, |v| visitor.$visit(v))
        }
    )*};
}

impl<'c, 's> ValueDe<'c, 's> {
    fn new(ctx: &'c Ctx<'s>, var: String, fetched: Fetched<'s>, item: Option<usize>) -> Self {
        var.clone_into(&mut ctx.run.borrow_mut().last_var);
        Self {
            ctx,
            var,
            fetched,
            item,
            secret: false,
        }
    }

    fn key(&self) -> String {
        match self.item {
            Some(i) => format!("{}#{i}", self.var),
            None => self.var.clone(),
        }
    }

    fn entry(&self) {
        if self.item.is_none() {
            self.ctx.entry(&self.var, &self.fetched, self.secret);
        }
    }

    fn problem(&self, kind: ProblemKind) {
        self.ctx.problem(&self.var, kind);
    }

    fn invalid(&self, expected: String) {
        let refused = self.ctx.memo.borrow().refused.get(&self.key()).cloned();
        // A check that names what the visitor itself expects is the visitor
        // saying the text does not parse (`Unexpected::Other("text")`).
        if let Some((reason, check)) = refused
            && hint(&check) != expected
            && !self.quotes_value(&reason)
            && !self.quotes_value(&check)
        {
            return self.problem(ProblemKind::Refused {
                reason,
                expected: check,
                item: self.item,
            });
        }
        self.problem(ProblemKind::Invalid {
            expected,
            item: self.item,
        });
    }

    /// Whether a text from a field's own check contains the value, which
    /// then must not be shown.
    fn quotes_value(&self, text: &str) -> bool {
        match &self.fetched {
            Fetched::Value { text: value, .. } => {
                let value = value.trim();
                !value.is_empty() && text.contains(value)
            }
            Fetched::Absent | Fetched::Bad => false,
        }
    }

    /// Parses a scalar, recording a problem (and returning `None`) if it is
    /// absent, empty or invalid, or if the visitor rejected it before.
    fn scalar<T>(&self, visitor: &dyn Expected, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                let text = text.trim();
                if text.is_empty() {
                    self.problem(ProblemKind::Empty {
                        expected: expecting(visitor),
                    });
                    return None;
                }
                match parse(text) {
                    Some(_)
                        if self.ctx.any_failed() && self.ctx.candidate(&self.key()).is_some() =>
                    {
                        self.invalid(expecting(visitor));
                        None
                    }
                    Some(value) => Some(value),
                    None => {
                        self.invalid(expecting(visitor));
                        None
                    }
                }
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        }
    }

    /// Hands the parsed value (or the placeholder) to the visitor. If the
    /// visitor rejects a parsed value (a `NonZeroU16` given 0, a range check
    /// in a `TryFrom`), the value is remembered as failed and the load runs
    /// again, recording the problem and using the placeholder.
    fn offer<T, R>(
        &self,
        parsed: Option<T>,
        placeholder: T,
        visit: impl FnOnce(T) -> Result<R, DeError>,
    ) -> Result<R, DeError> {
        let was_parsed = parsed.is_some();
        match visit(parsed.unwrap_or(placeholder)) {
            Ok(value) => Ok(value),
            Err(DeError::Abort) => Err(DeError::Abort),
            Err(err) if was_parsed => {
                self.ctx.note_refusal(&self.key(), &err);
                self.ctx.set_candidate(self.key(), 0);
                Err(DeError::Abort)
            }
            // The placeholder itself was rejected: the problem is recorded,
            // but nothing more can be learned from this field.
            Err(_) => Err(DeError::Abort),
        }
    }

    /// A string for the visitor: the value, or (if it was rejected before, or
    /// is absent) a candidate it may accept, after recording the problem.
    fn string<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let candidate = if self.ctx.any_failed() {
            self.ctx.candidate(&self.key())
        } else {
            None
        };
        if let (Fetched::Value { text, .. }, None) = (&self.fetched, candidate) {
            self.entry();
            return match visitor.visit_str(&text[..]) {
                Ok(value) => Ok(value),
                Err(DeError::Abort) => Err(DeError::Abort),
                Err(err) => {
                    self.ctx.note_refusal(&self.key(), &err);
                    self.ctx.set_candidate(self.key(), 0);
                    Err(DeError::Abort)
                }
            };
        }
        match &self.fetched {
            Fetched::Value { text, .. } if text.trim().is_empty() => {
                self.entry();
                self.problem(ProblemKind::Empty {
                    expected: expecting(&visitor),
                });
            }
            Fetched::Value { .. } => {
                self.entry();
                self.invalid(expecting(&visitor));
            }
            Fetched::Absent => self.problem(ProblemKind::Missing),
            Fetched::Bad => {}
        }
        let index = candidate.unwrap_or(0);
        let Some(placeholder) = CANDIDATES.get(index) else {
            return Err(DeError::Abort);
        };
        match visitor.visit_str::<DeError>(placeholder) {
            Ok(value) => Ok(value),
            Err(_) => {
                self.ctx.set_candidate(self.key(), index + 1);
                Err(DeError::Abort)
            }
        }
    }

    /// A value handed out without a type (`deserialize_any`): under
    /// `#[serde(flatten)]` serde buffers it before it knows the type, so the
    /// kind learned from an earlier run decides how it is offered.
    ///
    /// Its type is unknown here, so is whether it is a [`crate::Secret`]:
    /// the report shows it redacted.
    fn untyped<'de, V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        self.secret = true;
        if matches!(self.fetched, Fetched::Absent) && self.ctx.has_children(&self.var) {
            let prefix = format!("{}__", self.var);
            return StructDe {
                ctx: self.ctx,
                prefix,
            }
            .deserialize_map_mode(visitor);
        }
        let flat = self.ctx.memo.borrow().flat.get(&self.var).cloned();
        let flat = flat.filter(|(kind, ..)| *kind != FlatKind::Plain);
        let Some((kind, expected, rejected)) = flat else {
            if let Fetched::Value { text, .. } = &self.fetched
                && self.item.is_none()
            {
                self.ctx
                    .run
                    .borrow_mut()
                    .flat_yielded
                    .push((self.var.clone(), text.to_string()));
            }
            return self.string(visitor);
        };
        let expected = hint(&expected);
        let text = match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                Some(text.trim())
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        };
        if text.is_some_and(str::is_empty) && kind != FlatKind::Seq {
            self.problem(ProblemKind::Empty {
                expected: expected.clone(),
            });
        } else if rejected && text.is_some() {
            self.invalid(expected.clone());
        }
        let text = text.filter(|t| !t.is_empty() && !rejected);
        let remember = |text: &str| {
            self.ctx
                .run
                .borrow_mut()
                .flat_yielded
                .push((self.var.clone(), text.to_owned()));
        };
        if matches!(kind, FlatKind::Bool | FlatKind::Int | FlatKind::Float) {
            remember(text.unwrap_or(""));
        }
        match kind {
            FlatKind::Bool => match text.map(parse_bool) {
                Some(Some(b)) => visitor.visit_bool(b),
                Some(None) => {
                    self.invalid(expected);
                    visitor.visit_bool(false)
                }
                None => visitor.visit_bool(false),
            },
            FlatKind::Int => match text.map(|t| (t.parse::<u64>().ok(), t.parse::<i64>().ok())) {
                Some((Some(n), _)) => visitor.visit_u64(n),
                Some((None, Some(n))) => visitor.visit_i64(n),
                Some((None, None)) => {
                    self.invalid(expected);
                    visitor.visit_u64(1)
                }
                None => visitor.visit_u64(1),
            },
            FlatKind::Float => match text.map(str::parse::<f64>) {
                Some(Ok(n)) => visitor.visit_f64(n),
                Some(Err(_)) => {
                    self.invalid(expected);
                    visitor.visit_f64(1.0)
                }
                None => visitor.visit_f64(1.0),
            },
            FlatKind::Seq => {
                let items = text.map(split_list).unwrap_or_default();
                visitor.visit_seq(de::value::SeqDeserializer::new(items.into_iter()))
            }
            FlatKind::Str | FlatKind::Plain => {
                let index = self.ctx.candidate(&self.var).unwrap_or(0);
                let placeholder = CANDIDATES.get(index).copied().unwrap_or("");
                remember(placeholder);
                visitor.visit_str(placeholder)
            }
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'_, '_> {
    type Error = DeError;

    common_methods!();

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.untyped(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, parse_bool);
        self.offer(parsed, false, |v| visitor.visit_bool(v))
    }

    integers! {
        deserialize_i8 i8 visit_i8
        deserialize_i16 i16 visit_i16
        deserialize_i32 i32 visit_i32
        deserialize_i64 i64 visit_i64
        deserialize_i128 i128 visit_i128
        deserialize_u8 u8 visit_u8
        deserialize_u16 u16 visit_u16
        deserialize_u32 u32 visit_u32
        deserialize_u64 u64 visit_u64
        deserialize_u128 u128 visit_u128
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, |s| s.parse::<f32>().ok());
        self.offer(parsed, 1.0, |v| visitor.visit_f32(v))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, |s| s.parse::<f64>().ok());
        self.offer(parsed, 1.0, |v| visitor.visit_f64(v))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let parsed = self.scalar(&visitor, |s| {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        });
        self.offer(parsed, 'a', |v| visitor.visit_char(v))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.fetched {
            Fetched::Value { text, .. } if text.is_empty() => {
                self.entry();
                visitor.visit_none()
            }
            Fetched::Value { .. } => visitor.visit_some(self),
            Fetched::Absent if self.item.is_none() && self.ctx.has_children(&self.var) => {
                visitor.visit_some(self)
            }
            Fetched::Absent | Fetched::Bad => visitor.visit_none(),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SECRET {
            self.secret = true;
            self.ctx.mark_secret(&self.var);
            if let Fetched::Value { text, .. } = &self.fetched {
                self.ctx.note_secret(text);
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items = match &self.fetched {
            Fetched::Value { text, .. } if self.item.is_none() => {
                self.entry();
                split_list(text)
            }
            Fetched::Value { .. } => {
                self.invalid("a single value (lists do not nest)".into());
                Vec::new()
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                Vec::new()
            }
            Fetched::Bad => Vec::new(),
        };
        visitor.visit_seq(Items {
            ctx: self.ctx,
            var: &self.var,
            items: items.into_iter().enumerate(),
            secret: self.secret,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.fetched {
            Fetched::Value { text, .. } if self.item.is_none() => {
                self.entry();
                self.ctx.mark_map(&self.var);
                let mut pairs = Vec::new();
                for (i, item) in split_list(text).into_iter().enumerate() {
                    match item.split_once('=') {
                        Some((k, v)) => pairs.push((i, k.trim().to_owned(), v.trim().to_owned())),
                        None => self.problem(ProblemKind::Invalid {
                            expected: "key=value".into(),
                            item: Some(i),
                        }),
                    }
                }
                visitor.visit_map(Pairs {
                    ctx: self.ctx,
                    var: &self.var,
                    pairs: pairs.into_iter(),
                    value: None,
                    secret: self.secret,
                })
            }
            Fetched::Value { .. } => {
                self.invalid("a single value (maps do not nest in lists)".into());
                visitor.visit_map(de::value::MapDeserializer::new(std::iter::empty::<(
                    String,
                    String,
                )>()))
            }
            // A struct with #[serde(flatten)] inside, or a map given as
            // nested variables.
            Fetched::Absent | Fetched::Bad => StructDe {
                ctx: self.ctx,
                prefix: format!("{}__", self.var),
            }
            .deserialize_map_mode(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if self.item.is_some() {
            self.invalid("a single value (structs do not nest in lists)".into());
            return Err(DeError::Abort);
        }
        StructDe {
            ctx: self.ctx,
            prefix: format!("{}__", self.var),
        }
        .deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let expected = || match variants {
            [one] => format!("`{one}`"),
            _ => format!("one of {}", variants.join(", ")),
        };
        let chosen = match &self.fetched {
            Fetched::Value { text, .. } => {
                self.entry();
                let text = text.trim();
                if let Some(v) = variants.iter().find(|v| **v == text) {
                    Some(*v)
                } else if text.is_empty() {
                    self.problem(ProblemKind::Empty {
                        expected: expected(),
                    });
                    None
                } else {
                    self.invalid(expected());
                    None
                }
            }
            Fetched::Absent => {
                self.problem(ProblemKind::Missing);
                None
            }
            Fetched::Bad => None,
        };
        let Some(variant) = chosen.or_else(|| variants.first().copied()) else {
            return Err(DeError::Abort);
        };
        visitor.visit_enum(de::value::BorrowedStrDeserializer::new(variant))
    }
}

struct Items<'c, 's, 'v> {
    ctx: &'c Ctx<'s>,
    var: &'v str,
    items: std::iter::Enumerate<std::vec::IntoIter<String>>,
    secret: bool,
}

impl<'de> SeqAccess<'de> for Items<'_, '_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((i, text)) = self.items.next() else {
            return Ok(None);
        };
        if self.secret {
            self.ctx.note_secret(&text);
        }
        let mut item = ValueDe::new(
            self.ctx,
            self.var.to_owned(),
            Fetched::Value {
                text: Cow::Owned(text),
                from: ValueSource::Environment,
            },
            Some(i),
        );
        item.secret = self.secret;
        seed.deserialize(item).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Pairs<'c, 's, 'v> {
    ctx: &'c Ctx<'s>,
    var: &'v str,
    pairs: std::vec::IntoIter<(usize, String, String)>,
    value: Option<(usize, String)>,
    secret: bool,
}

impl Pairs<'_, '_, '_> {
    fn item<'c, 's>(&self, ctx: &'c Ctx<'s>, i: usize, text: String) -> ValueDe<'c, 's> {
        if self.secret {
            self.ctx.note_secret(&text);
        }
        let mut item = ValueDe::new(
            ctx,
            self.var.to_owned(),
            Fetched::Value {
                text: Cow::Owned(text),
                from: ValueSource::Environment,
            },
            Some(i),
        );
        item.secret = self.secret;
        item
    }
}

impl<'de> MapAccess<'de> for Pairs<'_, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((i, key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        self.value = Some((i, value));
        seed.deserialize(self.item(self.ctx, i, key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((i, text)) = self.value.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        seed.deserialize(self.item(self.ctx, i, text))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}
