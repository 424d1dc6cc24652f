//! What one load knows: the memo that carries what a run learned into the
//! next, what the current run records (problems, report entries, the names
//! strict mode knows, secrets to register), and the fetch of one variable
//! with its `_FILE` twin.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use super::signal::{CANDIDATES, DeError, Unexpected};
use super::source::{Raw, Source, read_file};
use crate::error::{Problem, ProblemKind};
use crate::report::{ReportEntry, ValueSource};
use crate::suggest;

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
pub(crate) struct Memo {
    /// Absent fields to yield anyway (the type requires them): var -> field.
    pub(crate) force: HashMap<String, &'static str>,
    /// Values (var, or var#item) the visitor rejected -> next candidate.
    pub(crate) failed: HashMap<String, usize>,
    /// Under `#[serde(flatten)]`: the kind of value the type wants, what it
    /// expects, and whether it rejected the value.
    pub(crate) flat: HashMap<String, (FlatKind, String, bool)>,
    /// Values (var, or var#item) a field's own check refused after they
    /// parsed, with its reason and expectation (`too large`, `at most 1h`).
    pub(crate) refused: HashMap<String, (String, String)>,
    pub(crate) changes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FlatKind {
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
pub(crate) struct Run {
    pub(crate) problems: Vec<Problem>,
    pub(crate) entries: Vec<ReportEntry>,
    /// Strict mode: every name a field reads (without its `_FILE` twin).
    pub(crate) known: Vec<String>,
    /// Strict mode: prefixes read as maps, where any name is accepted.
    pub(crate) open: Vec<String>,
    /// Values handed out as strings under `#[serde(flatten)]`.
    pub(crate) flat_yielded: Vec<(String, String)>,
    /// Values read as `Secret`s or from files, registered if the load
    /// succeeds.
    pub(crate) secrets: Vec<String>,
    /// How many `Secret`s given as nested variables (a struct or a map) are being read:
    /// while any is, every value read is a secret too.
    pub(crate) secret_scope: u32,
    pub(crate) last_var: String,
    pub(crate) complete: bool,
}

pub(crate) struct Ctx<'s> {
    pub(crate) source: &'s Source<'s>,
    /// Whether a variable (relative to the prefix) may have nested
    /// variables under it, from the shape of the type.
    pub(crate) may_nest: &'s dyn Fn(&str) -> bool,
    pub(crate) prefix_len: usize,
    pub(crate) report: bool,
    pub(crate) strict: bool,
    pub(crate) memo: RefCell<Memo>,
    pub(crate) run: RefCell<Run>,
    /// A buffer kept across fields for the `_FILE` name.
    pub(crate) scratch: RefCell<String>,
}

impl<'s> Ctx<'s> {
    /// Notes a value read as a `Secret` or from a file, as read and trimmed.
    pub(crate) fn note_secret(&self, text: &str) {
        let mut run = self.run.borrow_mut();
        run.secrets.push(text.to_owned());
        let trimmed = text.trim();
        if trimmed.len() != text.len() {
            run.secrets.push(trimmed.to_owned());
        }
    }

    pub(crate) fn problem(&self, var: &str, kind: ProblemKind) {
        self.run
            .borrow_mut()
            .problems
            .push(Problem::from_kind(var, kind));
    }

    pub(crate) fn fetch(&self, var: &str) -> Fetched<'s> {
        let (raw, file) = {
            // A buffer kept across fields: the `_FILE` name is looked up for
            // every field and almost never set.
            let mut file_var = self.scratch.borrow_mut();
            file_var.clear();
            file_var.push_str(var);
            file_var.push_str("_FILE");
            if self.strict {
                // `X_FILE` is known with `X`: see `check_strict`.
                self.run.borrow_mut().known.push(var.to_owned());
            }
            self.source.get_with_file(var, &file_var)
        };
        let file_var = || format!("{var}_FILE");
        match (raw, file) {
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

    pub(crate) fn forced(&self, var: &str) -> bool {
        self.memo.borrow().force.contains_key(var)
    }

    pub(crate) fn force(&self, var: String, field: &'static str) {
        let mut memo = self.memo.borrow_mut();
        if memo.force.insert(var, field).is_none() {
            memo.changes += 1;
        }
    }

    pub(crate) fn candidate(&self, key: &str) -> Option<usize> {
        self.memo.borrow().failed.get(key).copied()
    }

    /// An error raised after our deserializer handed out a value the
    /// visitor accepted (`#[serde(try_from)]`, `deserialize_with`): the
    /// value is treated as rejected, and the next run offers candidates.
    pub(crate) fn after_value<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
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
    pub(crate) fn note_refusal(&self, key: &str, err: &DeError) {
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

    pub(crate) fn any_failed(&self) -> bool {
        !self.memo.borrow().failed.is_empty()
    }

    pub(crate) fn set_candidate(&self, key: String, next: usize) {
        let mut memo = self.memo.borrow_mut();
        if next <= CANDIDATES.len() && memo.failed.insert(key, next) != Some(next) {
            memo.changes += 1;
        }
    }

    pub(crate) fn entry(&self, var: &str, fetched: &Fetched<'_>, secret: bool) {
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

    pub(crate) fn mark_secret(&self, var: &str) {
        if self.report {
            let mut run = self.run.borrow_mut();
            if let Some(entry) = run.entries.iter_mut().rev().find(|e| e.var() == var) {
                entry.redact();
            }
        }
    }

    pub(crate) fn mark_map(&self, var: &str) {
        if self.report {
            let mut run = self.run.borrow_mut();
            if let Some(entry) = run.entries.iter_mut().rev().find(|e| e.var() == var) {
                entry.redact_map();
            }
        }
    }

    pub(crate) fn check_strict(&self, prefix: &str) {
        if !self.strict {
            return;
        }
        let names = self.source.names_with_prefix(prefix);
        let mut run = self.run.borrow_mut();
        run.known.sort_unstable();
        let is_known = |name: &str| run.known.binary_search_by(|k| k.as_str().cmp(name)).is_ok();
        // Every name a field reads, with its `_FILE` twin, sorted: made only
        // for a suggestion, which is rare.
        let mut candidates: Option<Vec<String>> = None;
        let mut unknown = Vec::new();
        for name in &names {
            let known = is_known(name)
                || name.strip_suffix("_FILE").is_some_and(is_known)
                || run.open.iter().any(|open| name.starts_with(open.as_str()));
            if !known {
                let candidates = candidates.get_or_insert_with(|| {
                    let mut all: Vec<String> = run
                        .known
                        .iter()
                        .flat_map(|var| [var.clone(), format!("{var}_FILE")])
                        .collect();
                    all.sort_unstable();
                    all
                });
                let suggestion = suggest::nearest(name, candidates);
                unknown.push(Problem::from_kind(
                    name.as_str(),
                    ProblemKind::Unknown { suggestion },
                ));
            }
        }
        run.problems.extend(unknown);
    }
}
