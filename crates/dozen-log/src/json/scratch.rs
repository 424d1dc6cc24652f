//! The per-thread buffers of a line being built: the fields of the event and its spans, in the
//! order and with the precedence the line keeps.

use std::cell::RefCell;

use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::line::LocationCache;
use crate::cloud::RENAMED_PREFIX;
use crate::fields::{Entry, FieldSet, KeyCache, Kind, TraceParts, name_bit};
use crate::spans::for_each_stored;
use crate::time::SecondsCache;

/// Per-thread buffers reused by every event, so a line costs no allocation once warm.
pub(crate) struct Scratch {
    pub(super) event: FieldSet,
    pub(super) fields: String,
    /// The top-level fields written, in order: where each ends in `fields`, and its key,
    /// renamed (`field.<key>`) or not.
    pub(super) written: Vec<Written>,
    pub(super) labels: String,
    label_count: usize,
    pub(super) http: String,
    /// A bit per top-level key written (see [`name_bit`]): a key whose bit is not set was not
    /// written, and needs no search.
    seen_bits: u64,
    seen_labels: Vec<&'static str>,
    seen_http: Vec<&'static str>,
    pub(super) trace: Option<TraceParts>,
    pub(super) time: SecondsCache,
    pub(super) locations: LocationCache,
    /// The keys of recent event fields.
    pub(super) keys: KeyCache,
    pub(crate) out: String,
}

impl Scratch {
    pub(crate) const fn new() -> Self {
        Self {
            event: FieldSet::new(),
            fields: String::new(),
            written: Vec::new(),
            labels: String::new(),
            label_count: 0,
            http: String::new(),
            seen_bits: 0,
            seen_labels: Vec::new(),
            seen_http: Vec::new(),
            trace: None,
            time: SecondsCache::new(),
            locations: LocationCache::new(),
            keys: KeyCache::new(),
            out: String::new(),
        }
    }

    pub(crate) fn begin(&mut self) {
        self.event.clear();
        self.fields.clear();
        self.written.clear();
        self.labels.clear();
        self.label_count = 0;
        self.http.clear();
        self.seen_bits = 0;
        self.seen_labels.clear();
        self.seen_http.clear();
        self.trace = None;
        self.out.clear();
    }

    /// Keeps a huge line's buffers from living on in every thread.
    pub(super) fn end(&mut self) {
        const KEEP: usize = 64 * 1024;
        for s in [
            &mut self.out,
            &mut self.fields,
            &mut self.event.buf,
            &mut self.labels,
            &mut self.http,
        ] {
            if s.capacity() > 4 * KEEP {
                s.clear();
                s.shrink_to(KEEP);
            }
        }
    }

    /// Adds the fields of one field set (the event's first, then spans from the innermost out),
    /// but those for which `skip(index, entry)` holds; the first of two equal keys wins.
    pub(super) fn add(&mut self, set: &FieldSet, skip: impl Fn(usize, &Entry) -> bool) {
        for (i, e) in set.entries.iter().enumerate() {
            if skip(i, e) {
                continue;
            }
            let member = set.member(e);
            match e.kind {
                Kind::Plain => self.add_plain(e, member),
                Kind::Label => {
                    if self.label_count >= 64 || self.seen_labels.contains(&e.key) {
                        continue;
                    }
                    self.seen_labels.push(e.key);
                    self.label_count += 1;
                    self.labels.push_str(member);
                }
                Kind::Http => {
                    if self.seen_http.contains(&e.key) {
                        continue;
                    }
                    self.seen_http.push(e.key);
                    self.http.push_str(member);
                }
            }
        }
        if self.trace.is_none() {
            self.trace = set.trace();
        }
    }

    /// Adds a top-level field, `,"key":value` in `member`, unless one of the same name (renamed
    /// or not) was written.
    fn add_plain(&mut self, e: &Entry, member: &str) {
        if !self.is_new(e.reserved, e.key, e.bit) {
            return;
        }
        self.fields.push_str(member);
        self.note_written(e.reserved, e.key);
    }

    /// Whether the top-level key `key` (as `field.<key>` when `renamed`), whose [`name_bit`] is
    /// `bit`, is not written yet; its bit is then noted.
    // Inlined by hand: after an unrelated change in dozen-redact, rustc stopped inlining it
    // into `add_plain`, and an event cost about 120 instructions more (4,021 to 4,142 in
    // benches/log-masking.sh); `#[inline]` alone did not bring it back.
    #[inline(always)]
    fn is_new(&mut self, renamed: bool, key: &str, bit: u64) -> bool {
        if self.seen_bits & bit != 0
            && self.written.iter().any(|w| match (w.renamed, renamed) {
                (false, false) | (true, true) => w.key == key,
                (true, false) => key.strip_prefix(RENAMED_PREFIX) == Some(w.key),
                (false, true) => w.key.strip_prefix(RENAMED_PREFIX) == Some(key),
            })
        {
            return false;
        }
        self.seen_bits |= bit;
        true
    }

    /// Notes the top-level key just written at the end of `fields`.
    fn note_written(&mut self, renamed: bool, key: &'static str) {
        self.written.push(Written {
            end: self.fields.len(),
            renamed,
            key,
        });
    }

    /// Adds the fields and trace context of every span in `scope`, innermost first.
    pub(crate) fn add_spans<'a, R: LookupSpan<'a> + 'a>(
        &mut self,
        scope: impl Iterator<Item = SpanRef<'a, R>>,
    ) {
        for_each_stored(scope, |set| self.add(set, |_, _| false));
    }
}

/// A top-level field written in [`Scratch::fields`].
pub(super) struct Written {
    /// Where it ends in `fields`.
    pub(super) end: usize,
    /// Its key is written `field.<key>`.
    renamed: bool,
    key: &'static str,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// Runs `f` with this thread's scratch buffers, or fresh ones when they are in use (a writer that
/// logs) or gone (thread teardown).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let r = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut s) => {
            let f = f.take().unwrap_or_else(|| unreachable!());
            let r = f(&mut s);
            s.end();
            Some(r)
        }
        Err(_) => None,
    });
    match r {
        Ok(Some(r)) => r,
        _ => {
            let f = f.take().unwrap_or_else(|| unreachable!("f runs once"));
            f(&mut Scratch::new())
        }
    }
}

impl Scratch {
    /// Adds a top-level field written by `value`, unless a span already gave one of that name.
    pub(crate) fn push_field(&mut self, key: &'static str, value: impl FnOnce(&mut String)) {
        if !self.is_new(false, key, name_bit(false, key)) {
            return;
        }
        self.fields.push_str(",\"");
        self.fields.push_str(key);
        self.fields.push_str("\":");
        value(&mut self.fields);
        self.note_written(false, key);
    }

    pub(crate) fn trace(&self) -> Option<TraceParts> {
        self.trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_first_exactly_when_its_written_name_is_new() {
        let mut keys: Vec<(bool, &'static str)> = vec![
            (false, "a"),
            (true, "time"),
            (false, "field.time"),
            (false, "time"),
            (true, "time"),
            (false, ""),
            (true, ""),
            (false, "field."),
            (false, "field.a"),
            (true, "a"),
        ];
        // Enough names that many share a bit.
        for i in 0..300 {
            let key: &'static str = Box::leak(format!("k{}", i % 150).into_boxed_str());
            keys.push((i % 7 == 0, key));
        }
        let mut s = Scratch::new();
        let mut names = std::collections::HashSet::new();
        for (renamed, key) in keys {
            let name = if renamed {
                format!("{RENAMED_PREFIX}{key}")
            } else {
                key.to_owned()
            };
            let new = s.is_new(renamed, key, name_bit(renamed, key));
            if new {
                s.note_written(renamed, key);
            }
            assert_eq!(new, names.insert(name), "{renamed} {key:?}");
        }
    }
}
