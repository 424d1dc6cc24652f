//! Field recording shared by the layers: values are serialized to JSON once, when recorded.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

use crate::cloud::{RENAMED_PREFIX, is_reserved};
use crate::escape::{JsonEscape, escape_into};
use crate::stackdriver::{self, INSERT_ID, OPERATION, OperationMember};
use crate::trace::parse_hex;

/// A span's `trace_id` or `span_id` value read as an id: hex of the right length, and not all
/// zeros, which the W3C format calls invalid; anything else stays an ordinary field.
fn parse_id<const N: usize>(s: &str) -> Option<[u8; N]> {
    parse_hex::<N>(s).filter(|id| id.iter().any(|b| *b != 0))
}

/// Where a field goes in the JSON line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// A top-level field.
    Plain,
    /// `labels.<key>`: a string in `logging.googleapis.com/labels`.
    Label,
    /// `httpRequest.<key>`: a member of the `httpRequest` object.
    Http,
}

/// How a value is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// Its own JSON type; an error as an object with its chain.
    Any,
    /// Its own JSON type; an error as a string (an `httpRequest` member).
    Scalar,
    /// A string whatever its type (a label, the insert id, an operation's id).
    Text,
}

/// Where a recorded field goes: its key in the line, and how its value is written.
#[derive(Clone, Copy, Debug)]
struct Route {
    key: &'static str,
    kind: Kind,
    shape: Shape,
    /// A member of `logging.googleapis.com/operation`, kept aside in [`Operation`].
    operation: Option<OperationMember>,
}

/// The members of `logging.googleapis.com/operation` seen on a span or an event, as JSON
/// values (`id` and `producer` strings, `first` and `last` bools).
#[derive(Clone, Default, Debug)]
pub(crate) struct Operation {
    id: Option<String>,
    producer: Option<String>,
    first: Option<bool>,
    last: Option<bool>,
}

impl Operation {
    /// Takes from `outer` the members this one lacks.
    fn fill_from(&mut self, outer: &Operation) {
        if self.id.is_none() {
            self.id.clone_from(&outer.id);
        }
        if self.producer.is_none() {
            self.producer.clone_from(&outer.producer);
        }
        self.first = self.first.or(outer.first);
        self.last = self.last.or(outer.last);
    }

    fn write(&self, out: &mut String) {
        let mut sep = '{';
        let strings = [("id", &self.id), ("producer", &self.producer)];
        for (name, value) in strings {
            if let Some(v) = value {
                out.push(sep);
                out.push('"');
                out.push_str(name);
                out.push_str("\":");
                out.push_str(v);
                sep = ',';
            }
        }
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if let Some(v) = value {
                out.push(sep);
                out.push('"');
                out.push_str(name);
                out.push_str(if v { "\":true" } else { "\":false" });
                sep = ',';
            }
        }
        out.push('}');
    }
}

/// The trace keys of a line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceParts {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: Option<[u8; 8]>,
    pub(crate) sampled: Option<bool>,
}

/// One recorded field: its name and where it sits in [`FieldSet::buf`], as the member of a
/// JSON object it becomes (`,"key":value`, from `member`) and as a JSON value (from `start`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) key: &'static str,
    pub(crate) kind: Kind,
    /// The key is one the line owns: the field is written as `field.<key>`.
    pub(crate) reserved: bool,
    /// The [`name_bit`] of the key as written.
    pub(crate) bit: u64,
    pub(crate) member: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// Fields serialized to JSON values, stored once per span (in its extensions) and reused per
/// event in a thread-local scratch buffer.
#[derive(Default, Debug)]
pub(crate) struct FieldSet {
    pub(crate) buf: String,
    pub(crate) entries: Vec<Entry>,
    /// A bit per key length of `entries` (see [`length_bit`]): a key whose bit is not set has
    /// no entry yet.
    lengths: u64,
    /// Parts of a trace context seen on this span (`trace_id`, `span_id`, `trace_sampled`).
    pub(crate) trace_id: Option<[u8; 16]>,
    pub(crate) span_id: Option<[u8; 8]>,
    pub(crate) sampled: Option<bool>,
    /// The operation members seen (boxed: rare, and a span's set stays small).
    operation: Option<Box<Operation>>,
    /// Where `message` and `severity` are in `entries`, if recorded.
    pub(crate) message: Option<usize>,
    pub(crate) severity: Option<usize>,
}

impl FieldSet {
    pub(crate) const fn new() -> Self {
        Self {
            buf: String::new(),
            entries: Vec::new(),
            lengths: 0,
            trace_id: None,
            span_id: None,
            sampled: None,
            operation: None,
            message: None,
            severity: None,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
        self.lengths = 0;
        self.trace_id = None;
        self.span_id = None;
        self.sampled = None;
        self.operation = None;
        self.message = None;
        self.severity = None;
    }

    pub(crate) fn value(&self, e: &Entry) -> &str {
        &self.buf[e.start as usize..e.end as usize]
    }

    /// `,"key":value`, the entry as a member of the object it goes in: the line, its labels or
    /// its `httpRequest`.
    pub(crate) fn member(&self, e: &Entry) -> &str {
        &self.buf[e.member as usize..e.end as usize]
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The trace of this span, if it carries a trace id (the span id and the sampled flag may
    /// be missing, as in an `X-Cloud-Trace-Context` without them).
    pub(crate) fn trace(&self) -> Option<TraceParts> {
        let trace_id = self.trace_id.filter(|id| *id != [0; 16])?;
        Some(TraceParts {
            trace_id,
            span_id: self.span_id.filter(|id| *id != [0; 8]),
            sampled: self.sampled,
        })
    }

    /// Records the values of a span or an event.
    pub(crate) fn recorder(&mut self, is_span: bool) -> Recorder<'_> {
        Recorder {
            set: self,
            is_span,
            keys: None,
        }
    }

    /// Records the values of an event (or of a span, with a cache made by
    /// [`KeyCache::for_spans`]), taking each field's key from `keys` (and keeping it there)
    /// instead of working it out again.
    pub(crate) fn cached_recorder<'a>(&'a mut self, keys: &'a mut KeyCache) -> Recorder<'a> {
        Recorder {
            set: self,
            is_span: keys.is_span,
            keys: Some(keys),
        }
    }

    /// Takes the values recorded in `from` (outside any lock) into this set, replacing earlier
    /// values of the same fields.
    pub(crate) fn merge(&mut self, from: &FieldSet) {
        for e in &from.entries {
            if e.key == OPERATION {
                continue;
            }
            let member = self.buf.len();
            self.buf.push_str(from.member(e));
            let entry = Entry {
                member: to_u32(member),
                start: to_u32(member) + (e.start - e.member),
                end: to_u32(self.buf.len()),
                ..*e
            };
            self.put(entry);
        }
        self.trace_id = from.trace_id.or(self.trace_id);
        self.span_id = from.span_id.or(self.span_id);
        self.sampled = from.sampled.or(self.sampled);
        if let Some(op) = &from.operation {
            let mut merged = (**op).clone();
            if let Some(old) = &self.operation {
                merged.fill_from(old);
            }
            self.operation = Some(Box::new(merged));
            self.store_operation();
        }
        self.compact();
    }

    /// Whether an operation member was recorded here.
    pub(crate) fn has_operation(&self) -> bool {
        self.operation.is_some()
    }

    /// Completes this set's operation with the members of `outer` (an enclosing span's) that it
    /// lacks, so that an event's `operation.first = true` keeps its span's `id` and `producer`.
    pub(crate) fn fill_operation_from(&mut self, outer: &FieldSet) {
        if let (Some(op), Some(outer)) = (&mut self.operation, &outer.operation) {
            op.fill_from(outer);
            self.store_operation();
        }
    }

    /// Writes the operation as the `logging.googleapis.com/operation` entry.
    fn store_operation(&mut self) {
        let Some(op) = &self.operation else { return };
        let member = self.buf.len();
        push_member_key(&mut self.buf, OPERATION);
        let start = self.buf.len();
        op.write(&mut self.buf);
        let entry = Entry {
            key: OPERATION,
            kind: Kind::Plain,
            reserved: false,
            bit: name_bit(false, OPERATION),
            member: to_u32(member),
            start: to_u32(start),
            end: to_u32(self.buf.len()),
        };
        self.put(entry);
    }

    /// Files `entry`, replacing an earlier one of the same key (then `true`), and notes where
    /// `message` and `severity` are.
    fn put(&mut self, entry: Entry) -> bool {
        let bit = length_bit(entry.key);
        let old = if self.lengths & bit == 0 {
            None
        } else {
            self.entries.iter().position(|old| old.key == entry.key)
        };
        self.lengths |= bit;
        let (at, replaced) = match old {
            Some(at) => {
                self.entries[at] = entry;
                (at, true)
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1, false)
            }
        };
        // Both are keys the line owns, so only a reserved entry can be one.
        if entry.reserved {
            match entry.key {
                "message" => self.message = Some(at),
                "severity" => self.severity = Some(at),
                _ => {}
            }
        }
        replaced
    }

    /// Drops the bytes of replaced values once they outweigh the live ones.
    fn compact(&mut self) {
        let live: usize = self
            .entries
            .iter()
            .map(|e| (e.end - e.member) as usize)
            .sum();
        if self.buf.len() <= 2 * live + 1024 {
            return;
        }
        let mut buf = String::with_capacity(live);
        for e in &mut self.entries {
            let member = to_u32(buf.len());
            buf.push_str(&self.buf[e.member as usize..e.end as usize]);
            e.start = member + (e.start - e.member);
            e.member = member;
            e.end = to_u32(buf.len());
        }
        self.buf = buf;
    }
}

/// One of 64 bits for the length of `key`: equal keys have equal bits.
fn length_bit(key: &str) -> u64 {
    1 << (key.len() % 64)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends `,"NAME":` for a member named `name` (escaped).
fn push_member_key(out: &mut String, name: &str) {
    out.push_str(",\"");
    escape_into(out, name);
    out.push_str("\":");
}

/// A [`Visit`] that appends each value as JSON to a [`FieldSet`].
pub(crate) struct Recorder<'a> {
    set: &'a mut FieldSet,
    is_span: bool,
    keys: Option<&'a mut KeyCache>,
}

/// Where a field of a given name goes, and the start of its member (`,"key":`), which is the
/// same for every value of the field.
#[derive(Clone, Debug)]
struct Key {
    route: Route,
    /// The key is one the line owns: written as `field.<key>`.
    reserved: bool,
    /// The [`name_bit`] of the key as written.
    bit: u64,
    /// An `httpRequest` member whose value may be rewritten ([`stackdriver::http_value`]).
    rewritten: bool,
    prefix: String,
}

impl Key {
    fn new(name: &'static str, is_span: bool) -> Self {
        let route = route(name, is_span);
        // A plain field written as text is the insert id, a key the line owns by design.
        let reserved =
            route.kind == Kind::Plain && route.shape == Shape::Any && is_reserved(route.key);
        let mut prefix = String::new();
        match route.kind {
            Kind::Plain if reserved => {
                prefix.push_str(",\"");
                prefix.push_str(RENAMED_PREFIX);
                escape_into(&mut prefix, route.key);
                prefix.push_str("\":");
            }
            Kind::Plain => push_member_key(&mut prefix, route.key),
            Kind::Label => push_member_key(&mut prefix, &route.key["labels.".len()..]),
            Kind::Http => push_member_key(&mut prefix, &route.key["httpRequest.".len()..]),
        }
        Self {
            route,
            reserved,
            bit: name_bit(reserved, route.key),
            rewritten: route.kind == Kind::Http && stackdriver::is_rewritten(route.key),
            prefix,
        }
    }
}

/// The number of field names whose [`Key`] a [`KeyCache`] keeps.
const KEY_SLOTS: usize = 128;

/// How many slots a name may use: the slots of one set.
const KEY_WAYS: usize = 4;

/// The [`Key`]s of the fields recorded last on a thread, one per field name, in a four-way
/// table. A slot is found by the address and length of the field's `&'static str` name: a
/// static string never changes, so an equal address and length is an equal name, and the key
/// kept for it is the key of the field being recorded. Events and spans keep caches of their
/// own, since `insert_id` routes differently on a span.
#[derive(Default)]
pub(crate) struct KeyCache {
    slots: Vec<Option<(&'static str, Key)>>,
    is_span: bool,
}

impl KeyCache {
    /// A cache of event field keys.
    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            is_span: false,
        }
    }

    /// A cache of span field keys.
    pub(crate) const fn for_spans() -> Self {
        Self {
            slots: Vec::new(),
            is_span: true,
        }
    }

    /// The key of a field named `name`, worked out when not kept.
    fn get(&mut self, name: &'static str) -> &Key {
        // The slot a multiplicative hash of its address and length picks (the product's top
        // bits, which all bits of the input move), then the other slots of its set, so that up
        // to four names of one event that hash alike all stay: where static strings land is
        // up to the linker, and a thrashing slot would cost a key per field per event.
        let first = Self::home(name);
        let at = if self.holds(first, name) {
            first
        } else {
            self.find_or_fill(first, name)
        };
        &self.slots[at]
            .get_or_insert_with(|| Self::fresh(name, self.is_span))
            .1
    }

    /// The slot a multiplicative hash of the address and length of `name` picks.
    fn home(name: &'static str) -> usize {
        let input = (name.as_ptr().addr() ^ name.len()) as u64;
        let hash = input.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (hash >> (u64::BITS - KEY_SLOTS.trailing_zeros())) as usize
    }

    fn holds(&self, at: usize, name: &'static str) -> bool {
        self.slots
            .get(at)
            .is_some_and(|slot| slot.as_ref().is_some_and(|(n, _)| std::ptr::eq(*n, name)))
    }

    /// The slot of `name` when another slot of the set of `first` holds it; else works out
    /// its key into `first` if free (where the next look finds it at once), else into the first
    /// free slot of that set, else into `first`.
    #[cold]
    #[inline(never)]
    fn find_or_fill(&mut self, first: usize, name: &'static str) -> usize {
        let set = first & !(KEY_WAYS - 1);
        let ways = set..set + KEY_WAYS;
        if let Some(at) = ways.clone().find(|&at| self.holds(at, name)) {
            return at;
        }
        if self.slots.is_empty() {
            self.slots.resize_with(KEY_SLOTS, Default::default);
        }
        let at = std::iter::once(first)
            .chain(ways)
            .find(|&at| self.slots[at].is_none())
            .unwrap_or(first);
        self.slots[at] = Some(Self::fresh(name, self.is_span));
        at
    }

    #[cold]
    #[inline(never)]
    fn fresh(name: &'static str, is_span: bool) -> (&'static str, Key) {
        (name, Key::new(name, is_span))
    }
}

/// Where the field `key` goes: dozen-log's own `labels.*` and `httpRequest.*`, and
/// tracing-stackdriver's `http_request.*`, `insert_id` (of an event) and `operation.*`.
fn route(key: &'static str, is_span: bool) -> Route {
    let plain = Route {
        key,
        kind: Kind::Plain,
        shape: Shape::Any,
        operation: None,
    };
    let http = |key| Route {
        key,
        kind: Kind::Http,
        shape: Shape::Scalar,
        operation: None,
    };
    // One byte decides for almost every field which rule may apply.
    match key.as_bytes().first() {
        Some(b'l') if key.starts_with("labels.") && key.len() > "labels.".len() => Route {
            kind: Kind::Label,
            shape: Shape::Text,
            ..plain
        },
        Some(b'h') if key.starts_with("httpRequest.") && key.len() > "httpRequest.".len() => {
            http(key)
        }
        Some(b'h') => stackdriver::http_request_key(key).map_or(plain, http),
        Some(b'i') if key == "insert_id" && !is_span => Route {
            key: INSERT_ID,
            shape: Shape::Text,
            ..plain
        },
        Some(b'o') => match stackdriver::operation_member(key) {
            Some(m @ (OperationMember::Id | OperationMember::Producer)) => Route {
                shape: Shape::Text,
                operation: Some(m),
                ..plain
            },
            m => Route {
                operation: m,
                ..plain
            },
        },
        _ => plain,
    }
}

impl Recorder<'_> {
    /// Writes one value with `write` and files it under `field` (replacing an earlier value).
    fn push(&mut self, field: &Field, write: impl FnOnce(&mut String, Shape)) {
        let fresh;
        let key = match &mut self.keys {
            Some(keys) => keys.get(field.name()),
            None => {
                fresh = Key::new(field.name(), self.is_span);
                &fresh
            }
        };
        let (route, reserved, bit, rewritten) = (key.route, key.reserved, key.bit, key.rewritten);
        let member = self.set.buf.len();
        let buf = &mut self.set.buf;
        buf.push_str(&key.prefix);
        let start = buf.len();
        write(buf, route.shape);
        if rewritten && let Some(v) = stackdriver::http_value(route.key, &self.set.buf[start..]) {
            self.set.buf.truncate(start);
            self.set.buf.push_str(&v);
        }
        let entry = Entry {
            key: route.key,
            kind: route.kind,
            reserved,
            bit,
            member: to_u32(member),
            start: to_u32(start),
            end: to_u32(self.set.buf.len()),
        };
        if let Some(op_member) = route.operation
            && self.take_operation(op_member, &entry)
        {
            return;
        }
        if self.is_span && self.lift_trace(&entry) {
            self.set.buf.truncate(member);
            return;
        }
        if self.set.put(entry) {
            self.set.compact();
        }
    }

    /// Takes the value of `entry`, the last written, into the set's operation; `false` (the
    /// field stays ordinary) for a `first` or `last` that is not a bool.
    fn take_operation(&mut self, member: OperationMember, entry: &Entry) -> bool {
        let value = &self.set.buf[entry.start as usize..entry.end as usize];
        let op = self.set.operation.get_or_insert_default();
        match member {
            OperationMember::Id => op.id = Some(value.to_owned()),
            OperationMember::Producer => op.producer = Some(value.to_owned()),
            OperationMember::First | OperationMember::Last => {
                let flag = match value {
                    "true" => true,
                    "false" => false,
                    _ => return false,
                };
                if member == OperationMember::First {
                    op.first = Some(flag);
                } else {
                    op.last = Some(flag);
                }
            }
        }
        self.set.buf.truncate(entry.member as usize);
        self.set.store_operation();
        true
    }

    /// Takes `trace_id`, `span_id` (JSON strings of lower-case hex) and `trace_sampled` (a JSON
    /// bool) out of the span's fields into its trace context.
    fn lift_trace(&mut self, e: &Entry) -> bool {
        let v = self.set.value(e);
        let unquoted = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        match e.key {
            "trace_id" => match unquoted.and_then(parse_id::<16>) {
                Some(id) => self.set.trace_id = Some(id),
                None => return false,
            },
            "span_id" => match unquoted.and_then(parse_id::<8>) {
                Some(id) => self.set.span_id = Some(id),
                None => return false,
            },
            "trace_sampled" => match v {
                "true" => self.set.sampled = Some(true),
                "false" => self.set.sampled = Some(false),
                _ => return false,
            },
            _ => return false,
        }
        true
    }
}

/// Writes `raw` (already JSON: a number or a bool) quoted when the field is a label, whose values
/// must be strings.
fn push_scalar(out: &mut String, shape: Shape, raw: &str) {
    if shape == Shape::Text {
        out.push('"');
        out.push_str(raw);
        out.push('"');
    } else {
        out.push_str(raw);
    }
}

/// The largest integer magnitude a double holds exactly (2^53 - 1): Cloud Logging parses JSON
/// numbers as doubles, so a larger one is written as a string of its digits.
const MAX_EXACT_INTEGER: u64 = (1 << 53) - 1;

/// Writes the decimal `digits` of an integer of `magnitude`: a number when a double holds it
/// exactly, a string otherwise.
fn push_int(out: &mut String, shape: Shape, digits: &str, magnitude: u64) {
    if magnitude <= MAX_EXACT_INTEGER {
        push_scalar(out, shape, digits);
    } else {
        out.push('"');
        out.push_str(digits);
        out.push('"');
    }
}

/// The most bytes of one recorded string, error or `Debug` value (escaped): no line can hold
/// more, and formatting stops there, so a huge value costs bounded memory.
pub(crate) const VALUE_CAP: usize = 1024 * 1024;

impl Visit for Recorder<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, |out, shape| {
            if value.is_finite() {
                let quoted = shape == Shape::Text;
                if quoted {
                    out.push('"');
                }
                crate::float::push_finite_f64(out, value);
                if quoted {
                    out.push('"');
                }
            } else if value.is_nan() {
                out.push_str("\"NaN\"");
            } else if value > 0.0 {
                out.push_str("\"Infinity\"");
            } else {
                out.push_str("\"-Infinity\"");
            }
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, |out, shape| {
            push_int(
                out,
                shape,
                itoa::Buffer::new().format(value),
                value.unsigned_abs(),
            );
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, |out, shape| {
            push_int(out, shape, itoa::Buffer::new().format(value), value);
        });
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push(field, |out, shape| {
            let magnitude = u64::try_from(value.unsigned_abs()).unwrap_or(u64::MAX);
            push_int(out, shape, itoa::Buffer::new().format(value), magnitude);
        });
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push(field, |out, shape| {
            let magnitude = u64::try_from(value).unwrap_or(u64::MAX);
            push_int(out, shape, itoa::Buffer::new().format(value), magnitude);
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        // A span's trace flag, taken without writing it first (as `lift_trace` would).
        if self.is_span && field.name() == "trace_sampled" {
            self.set.sampled = Some(value);
            return;
        }
        self.push(field, |out, shape| {
            push_scalar(out, shape, if value { "true" } else { "false" });
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // A span's trace ids, parsed without writing them first (as `lift_trace` would): every
        // request span has two.
        if self.is_span {
            match field.name() {
                "trace_id" if let Some(id) = parse_id::<16>(value) => {
                    self.set.trace_id = Some(id);
                    return;
                }
                "span_id" if let Some(id) = parse_id::<8>(value) => {
                    self.set.span_id = Some(id);
                    return;
                }
                _ => {}
            }
        }
        self.push(field, |out, _| {
            let end = out.len() + VALUE_CAP;
            out.push('"');
            let _ = JsonEscape::capped(out, end).write_str(value);
            out.push('"');
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        self.push(field, |out, shape| {
            if shape != Shape::Any {
                // Labels and httpRequest members hold plain strings.
                let end = out.len() + VALUE_CAP;
                out.push('"');
                let _ = write!(JsonEscape::capped(out, end), "{value}");
                out.push('"');
                return;
            }
            let start = out.len();
            out.push_str("{\"message\":\"");
            let _ = write!(JsonEscape::capped(out, start + VALUE_CAP), "{value}");
            out.push_str("\",\"sources\":[");
            let mut source = value.source();
            let mut first = true;
            while let Some(s) = source {
                if out.len() - start >= VALUE_CAP {
                    break;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push('"');
                let _ = write!(JsonEscape::capped(out, start + VALUE_CAP), "{s}");
                out.push('"');
                source = s.source();
            }
            out.push_str("]}");
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, |out, _| {
            let end = out.len() + VALUE_CAP;
            out.push('"');
            let _ = write!(JsonEscape::capped(out, end), "{value:?}");
            out.push('"');
        });
    }
}

/// One of 64 bits for the written name of a top-level key (`field.<key>` when `renamed`), from
/// its length and its first and last bytes: equal names have equal bits.
pub(crate) fn name_bit(renamed: bool, key: &str) -> u64 {
    let bytes = key.as_bytes();
    let (len, first) = if renamed {
        (bytes.len() + RENAMED_PREFIX.len(), b'f')
    } else {
        (bytes.len(), bytes.first().copied().unwrap_or(0))
    };
    let last = bytes
        .last()
        .copied()
        .unwrap_or(if renamed { b'.' } else { 0 });
    let hash = len
        .wrapping_mul(7)
        .wrapping_add(usize::from(first).wrapping_mul(3))
        .wrapping_add(usize::from(last));
    1 << (hash % 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_filed_again_replaces_its_entry_whatever_its_length() {
        let mut set = FieldSet::new();
        let mut keys = std::collections::HashSet::new();
        // Names of 0 to 90 bytes, so that many share a length and lengths 64 apart share a bit;
        // each name three times, from strings of their own.
        for i in 0..300 {
            let n = i % 100;
            let name = format!("{}{n}", "k".repeat(n % 89));
            let key: &'static str = Box::leak(name.clone().into_boxed_str());
            let entry = Entry {
                key,
                kind: Kind::Plain,
                reserved: false,
                bit: 0,
                member: 0,
                start: 0,
                end: 0,
            };
            assert_eq!(set.put(entry), !keys.insert(name), "{key}");
            assert_eq!(set.entries.len(), keys.len());
        }
    }

    /// Names that share a slot, names that share an address (a prefix of another), a name
    /// recorded as a span field and as an event field: each always gets its own key.
    #[test]
    fn the_key_cache_answers_each_name_with_its_own_key() {
        let text: &'static str =
            Box::leak("insert_idlabels.alabels.ab".repeat(40).into_boxed_str());
        let mut names: Vec<&'static str> = (0..400)
            .map(|i| -> &'static str { Box::leak(format!("f{i}").into_boxed_str()) })
            .collect();
        // Prefixes of one allocation: equal addresses, different lengths.
        names.extend((1..text.len()).step_by(7).map(|end| &text[..end]));
        names.extend([&text[..9], &text[9..17], &text[9..18]]);
        for is_span in [false, true] {
            let mut cache = if is_span {
                KeyCache::for_spans()
            } else {
                KeyCache::new()
            };
            for round in 0..3 {
                for &name in names.iter().cycle().skip(round * 37).take(names.len()) {
                    let expected = Key::new(name, is_span);
                    let got = cache.get(name);
                    assert_eq!(got.route.key, expected.route.key, "{name} {is_span}");
                    assert_eq!(got.prefix, expected.prefix, "{name} {is_span}");
                    assert_eq!(got.rewritten, expected.rewritten, "{name}");
                }
            }
        }
        // Four names that hash to one slot all stay, whatever their order.
        let mut homes = vec![Vec::new(); KEY_SLOTS];
        let alike = (0..)
            .map(|i| -> &'static str { Box::leak(format!("g{i}").into_boxed_str()) })
            .find_map(|name| {
                let set = &mut homes[KeyCache::home(name)];
                set.push(name);
                (set.len() == KEY_WAYS).then(|| set.clone())
            })
            .unwrap();
        let mut cache = KeyCache::new();
        for name in alike.iter().chain(alike.iter().rev()) {
            cache.get(name);
        }
        for name in &alike {
            assert!(
                (0..KEY_SLOTS).any(|at| cache.holds(at, name)),
                "{name} was evicted by a name of its own slot"
            );
        }
        // `insert_id` is the entry's insert id on an event and a field of its own on a span.
        assert_ne!(
            KeyCache::new().get(&text[..9]).route.key,
            KeyCache::for_spans().get(&text[..9]).route.key
        );
    }
}
