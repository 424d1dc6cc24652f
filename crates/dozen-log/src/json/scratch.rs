//! The per-thread buffers of a line being built: the fields of the event and its spans, in the
//! order and with the precedence the line keeps.

use std::cell::RefCell;

use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::cloud::RENAMED_PREFIX;
use crate::escape::escape_into;
use crate::fields::{Entry, FieldSet, Kind, TraceParts};
use crate::spans::for_each_stored;
use crate::time::SecondsCache;

/// Per-thread buffers reused by every event, so a line costs no allocation once warm.
pub(crate) struct Scratch {
    pub(super) event: FieldSet,
    pub(super) fields: String,
    pub(super) field_ends: Vec<usize>,
    pub(super) labels: String,
    label_count: usize,
    pub(super) http: String,
    seen: Vec<(bool, &'static str)>,
    seen_labels: Vec<&'static str>,
    seen_http: Vec<&'static str>,
    pub(super) trace: Option<TraceParts>,
    pub(super) time: SecondsCache,
    pub(crate) out: String,
}

impl Scratch {
    pub(crate) const fn new() -> Self {
        Self {
            event: FieldSet::new(),
            fields: String::new(),
            field_ends: Vec::new(),
            labels: String::new(),
            label_count: 0,
            http: String::new(),
            seen: Vec::new(),
            seen_labels: Vec::new(),
            seen_http: Vec::new(),
            trace: None,
            time: SecondsCache::new(),
            out: String::new(),
        }
    }

    pub(crate) fn begin(&mut self) {
        self.event.clear();
        self.fields.clear();
        self.field_ends.clear();
        self.labels.clear();
        self.label_count = 0;
        self.http.clear();
        self.seen.clear();
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

    /// Adds the fields of one field set (the event's first, then spans from the innermost out);
    /// the first of two equal keys wins.
    pub(super) fn add(&mut self, set: &FieldSet, skip: &[&str]) {
        for e in &set.entries {
            if skip.contains(&e.key) {
                continue;
            }
            let value = set.value(e);
            match e.kind {
                Kind::Plain => self.add_plain(e, value),
                Kind::Label => {
                    let sub = &e.key["labels.".len()..];
                    if self.label_count >= 64 || self.seen_labels.contains(&e.key) {
                        continue;
                    }
                    self.seen_labels.push(e.key);
                    self.label_count += 1;
                    push_member(&mut self.labels, sub, value);
                }
                Kind::Http => {
                    let sub = &e.key["httpRequest.".len()..];
                    if self.seen_http.contains(&e.key) {
                        continue;
                    }
                    self.seen_http.push(e.key);
                    push_member(&mut self.http, sub, value);
                }
            }
        }
        if self.trace.is_none() {
            self.trace = set.trace();
        }
    }

    fn add_plain(&mut self, e: &Entry, value: &str) {
        let renamed = e.reserved;
        let dup = self.seen.iter().any(|&(r, k)| match (r, renamed) {
            (false, false) | (true, true) => k == e.key,
            (true, false) => e.key.strip_prefix(RENAMED_PREFIX) == Some(k),
            (false, true) => k.strip_prefix(RENAMED_PREFIX) == Some(e.key),
        });
        if dup {
            return;
        }
        self.seen.push((renamed, e.key));
        self.fields.push_str(",\"");
        if renamed {
            self.fields.push_str(RENAMED_PREFIX);
        }
        escape_into(&mut self.fields, e.key);
        self.fields.push_str("\":");
        self.fields.push_str(value);
        self.field_ends.push(self.fields.len());
    }

    /// Adds the fields and trace context of every span in `scope`, innermost first.
    pub(crate) fn add_spans<'a, R: LookupSpan<'a> + 'a>(
        &mut self,
        scope: impl Iterator<Item = SpanRef<'a, R>>,
    ) {
        for_each_stored(scope, |set| self.add(set, &[]));
    }
}

fn push_member(out: &mut String, key: &str, value: &str) {
    out.push_str(",\"");
    escape_into(out, key);
    out.push_str("\":");
    out.push_str(value);
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
        if self.seen.iter().any(|&(r, k)| !r && k == key) {
            return;
        }
        self.seen.push((false, key));
        self.fields.push_str(",\"");
        self.fields.push_str(key);
        self.fields.push_str("\":");
        value(&mut self.fields);
        self.field_ends.push(self.fields.len());
    }

    pub(crate) fn trace(&self) -> Option<TraceParts> {
        self.trace
    }
}
