//! The process-wide registry of secret values, and masking them in text.
//!
//! Invariants: no code other than an `Arc` swap runs while [`SNAPSHOT`]'s write lock is
//! held, and no code other than a compare, a push or a clone while [`VALUES`]'s is; a
//! reader waits for [`VALUES`] only outside a panic (a panic hook keeps the snapshot it
//! has when another thread holds it), so a reader can never wait on a thread that
//! panicked under either, and a value registered is masked from the next line on, even
//! while other threads register. Registering only records the value: the searcher
//! is rebuilt once, by the first reader after a change, so registering `n` values costs
//! `O(n)` each rather than rebuilding it every time.
//!
//! Masking searches every form of every value in one pass ([`Searcher`]), so a line
//! without a secret costs one scan whatever the number of forms.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock, TryLockError};

use crate::search::Searcher;

/// Values shorter than this many bytes are not registered (see the crate documentation).
pub const MIN_SECRET_LEN: usize = 6;

/// The raw values, in registration order; guarded separately from the snapshot so that
/// building a new snapshot happens outside the snapshot's lock.
static VALUES: Mutex<Vec<Box<str>>> = Mutex::new(Vec::new());

/// The searcher readers use, and the generation it was built for.
static SNAPSHOT: LazyLock<RwLock<(u64, Secrets)>> =
    LazyLock::new(|| RwLock::new((0, Secrets::default())));

/// Bumped on every registration (under [`VALUES`]'s lock); 0 means nothing is registered.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CACHE: RefCell<(u64, Secrets)> = RefCell::new((0, Secrets::default()));
}

/// Registers `value` as a secret for the life of the process; returns whether it was
/// added (`false` when it is shorter than [`MIN_SECRET_LEN`] or already registered).
///
/// Besides the value as given, its JSON-escaped and percent-encoded forms are masked, and the
/// JSON escape of its JSON escape: a `Debug` of a string escapes quotes and backslashes as JSON
/// does, and a JSON log line escapes that again.
pub fn register(value: &str) -> bool {
    if value.len() < MIN_SECRET_LEN {
        return false;
    }
    let mut values = VALUES.lock().unwrap_or_else(PoisonError::into_inner);
    if values.iter().any(|v| **v == *value) {
        return false;
    }
    values.push(value.into());
    GENERATION.fetch_add(1, Ordering::Release);
    true
}

/// The searcher for `values`: each value in every form it takes, each form once.
fn build(values: &[Box<str>]) -> Secrets {
    let mut seen = std::collections::HashSet::with_capacity(values.len() * 4);
    let mut forms: Vec<String> = Vec::with_capacity(values.len() * 4);
    for v in values {
        let escaped = json_escaped(v);
        let twice = json_escaped(&escaped);
        for form in [v.to_string(), escaped, twice, percent_encoded(v)] {
            if seen.insert(form.clone()) {
                forms.push(form);
            }
        }
    }
    if forms.is_empty() {
        return Secrets::default();
    }
    Secrets {
        searcher: Some(Arc::new(Searcher::new(&forms))),
    }
}

/// The registered secrets as they are now: cheap to call on every log line (one atomic
/// load when nothing changed since this thread last asked).
pub fn secrets() -> Secrets {
    let generation = GENERATION.load(Ordering::Acquire);
    if generation == 0 {
        return Secrets::default();
    }
    CACHE
        .try_with(|cache| match cache.try_borrow_mut() {
            Ok(mut cache) => {
                if cache.0 != generation {
                    *cache = load(generation);
                }
                cache.1.clone()
            }
            Err(_) => load(generation).1,
        })
        .unwrap_or_else(|_| load(generation).1)
}

/// The snapshot for `generation` (or a later one), built now if it is stale; with its
/// generation, which is older than asked when another thread holds [`VALUES`].
fn load(generation: u64) -> (u64, Secrets) {
    {
        let snapshot = SNAPSHOT.read().unwrap_or_else(PoisonError::into_inner);
        if snapshot.0 >= generation {
            return snapshot.clone();
        }
    }
    // Outside a panic, wait for a registration in progress: it holds the lock only to
    // compare and push (or to clone the list), never while running other code, and the
    // value it adds must be masked from the next line on. A panic hook takes what it can
    // get instead, since the panicking thread might be the one holding the lock.
    let locked = if std::thread::panicking() {
        match VALUES.try_lock() {
            Ok(values) => Ok(values),
            Err(TryLockError::Poisoned(values)) => Ok(values.into_inner()),
            Err(TryLockError::WouldBlock) => Err(()),
        }
    } else {
        Ok(VALUES.lock().unwrap_or_else(PoisonError::into_inner))
    };
    let Ok(values) = locked else {
        return SNAPSHOT
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
    };
    let (built_for, values) = (GENERATION.load(Ordering::Acquire), values.clone());
    let next = build(&values);
    let mut snapshot = SNAPSHOT.write().unwrap_or_else(PoisonError::into_inner);
    if snapshot.0 < built_for {
        *snapshot = (built_for, next);
    }
    snapshot.clone()
}

/// A snapshot of the registered secrets, from [`secrets`].
#[derive(Clone, Default)]
pub struct Secrets {
    searcher: Option<Arc<Searcher>>,
}

impl Secrets {
    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.searcher.is_none()
    }

    /// `text` with every occurrence of a registered secret replaced by [`MARKER`]:
    /// occurrences that overlap by one marker, adjacent ones by a marker each. The result
    /// holds no registered value in any of its forms, even one that replacing brought
    /// together.
    ///
    /// [`MARKER`]: crate::MARKER
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(searcher) = &self.searcher else {
            return Cow::Borrowed(text);
        };
        let Some(bytes) = searcher.mask(text.as_bytes()) else {
            return Cow::Borrowed(text);
        };
        // Runs of whole UTF-8 substrings were replaced by ASCII, so the bytes stay UTF-8.
        Cow::Owned(
            String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// Replaces, in place, every occurrence of a registered secret in `buf` by
    /// [`MARKER`], as [`Secrets::mask`] does; returns whether anything was replaced. `buf`
    /// stays valid UTF-8 if it was.
    ///
    /// [`MARKER`]: crate::MARKER
    pub fn mask_bytes(&self, buf: &mut Vec<u8>) -> bool {
        let Some(searcher) = &self.searcher else {
            return false;
        };
        let Some(masked) = searcher.mask(buf) else {
            return false;
        };
        *buf = masked;
        true
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.searcher.as_ref().map_or(0, |s| s.len());
        write!(f, "Secrets({n} forms, values hidden)")
    }
}

/// `value` as it appears inside a JSON string.
fn json_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // As serde_json and dozen-log write it: DEL and above stay as they are.
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// `value` with every byte but the unreserved ones percent-encoded, as it appears in a URL.
fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
