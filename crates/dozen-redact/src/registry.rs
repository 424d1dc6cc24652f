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
/// Besides the value as given, its JSON-escaped forms are masked (once, and the JSON escape of
/// its JSON escape: a `Debug` of a string escapes quotes and backslashes as JSON does, and a
/// JSON log line escapes that again) and the forms URL encoders write it in: every byte but
/// RFC 3986's unreserved ones percent-encoded, every byte but letters and digits, the `url`
/// crate's user info (`set_password`: `p@ss!word-42` as `p%40ss!word-42`) and
/// `application/x-www-form-urlencoded` (`append_pair`: a space as `+`), hex digits in upper
/// case.
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

/// The searcher for `values`: each value in every form it takes.
fn build(values: &[Box<str>]) -> Secrets {
    let forms = forms(values);
    if forms.is_empty() {
        return Secrets::default();
    }
    Secrets {
        searcher: Some(Arc::new(Searcher::new(&forms))),
    }
}

/// Every form of every value of `values`, each form once.
fn forms(values: &[Box<str>]) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(values.len() * 7);
    let mut forms: Vec<String> = Vec::with_capacity(values.len() * 7);
    for v in values {
        let escaped = json_escaped(v);
        let twice = json_escaped(&escaped);
        let url_forms = URL_FORMS.map(|encoding| url_encoded(v, encoding));
        for form in [v.to_string(), escaped, twice].into_iter().chain(url_forms) {
            if seen.insert(form.clone()) {
                forms.push(form);
            }
        }
    }
    forms
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

/// How a URL encoder writes a byte: which ASCII bytes it keeps as they are, and whether it
/// writes a space as `+`. Every other byte, every non-ASCII one included, becomes `%XX`.
#[derive(Clone, Copy)]
struct Encoding {
    /// Kept as written, besides ASCII letters and digits.
    kept: &'static [u8],
    /// A space written as `+`.
    plus: bool,
}

/// The forms a value takes in a URL, each an encoder's in wide use in Rust. Each writes its
/// hex digits in upper case, as RFC 3986 (2.1) asks of producers and as the `url` crate,
/// `percent-encoding`, Go's `net/url` and Python's `urllib.parse` do; a lower-case form would
/// double the forms of every value that has one, for encoders few services meet.
const URL_FORMS: [Encoding; 4] = [
    // Every byte but RFC 3986's unreserved ones (2.3), as Python's `quote(v, safe="")` does.
    Encoding {
        kept: b"-._~",
        plus: false,
    },
    // Every byte but letters and digits: `percent-encoding`'s `NON_ALPHANUMERIC`, the set
    // Rust code most often builds a URL with by hand.
    Encoding {
        kept: b"",
        plus: false,
    },
    // The `url` crate's user info (its `USERINFO` set, which `set_password`, `set_username`
    // and the parser use): it keeps `!$%&'()*+,` besides the unreserved bytes, so a password
    // `p@ss!word-42` is written `p%40ss!word-42`.
    Encoding {
        kept: b"-._~!$%&'()*+,",
        plus: false,
    },
    // `application/x-www-form-urlencoded` as `form_urlencoded` writes it (the `url` crate's
    // `query_pairs_mut().append_pair`, serde_urlencoded): `*-._` kept, a space as `+`, even
    // `~` encoded.
    Encoding {
        kept: b"*-._",
        plus: true,
    },
];

/// `value` as `encoding` writes it in a URL.
fn url_encoded(value: &str, encoding: Encoding) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || encoding.kept.contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && encoding.plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Masking as [`secrets`] returns it, built by [`build`] from a list of each test's own
    //! rather than from the process-wide one, so that no test sees another's values.

    use proptest::prelude::*;

    use super::*;
    use crate::search::tests::{naive, teddy_here, texts_of};

    /// `count` values that chain: each ends as the next starts (`k00 "x" \ k01`, `k01 "x" \
    /// k02`, …), and each takes five forms, raw, JSON-escaped once and twice, percent-encoded
    /// and form-encoded, so that twenty of them are more than Teddy's 64 patterns.
    fn chained(count: usize) -> Vec<Box<str>> {
        (0..count)
            .map(|i| format!("k{i:02} \"x\" \\ k{:02}", i + 1).into())
            .collect()
    }

    /// Checks that the secrets built from `values` mask `text` as `expected`, as the reference
    /// and the finders do with every form of the values, and that no form is left.
    #[track_caller]
    fn check(values: &[Box<str>], text: &str, expected: &str) {
        let forms = forms(values);
        let masked = build(values).mask(text);
        assert_eq!(masked, expected, "text {text:?}");
        let reference = naive(&forms, text.as_bytes());
        assert_eq!(
            reference.as_deref().unwrap_or(text.as_bytes()),
            expected.as_bytes(),
            "the reference, text {text:?}"
        );
        let finders = Searcher::with_finders(&forms).mask(text.as_bytes());
        assert_eq!(finders, reference, "the finders, text {text:?}");
        for form in &forms {
            assert!(
                !masked.contains(form.as_str()),
                "{form:?} left in {masked:?}"
            );
        }
    }

    #[test]
    fn above_64_forms_the_finders_mask_as_the_reference_does() {
        let mut values = chained(20);
        values.extend(
            [
                "gate-key-7f3a",
                "7f3a-tail-key",
                "tok-tok-tok",
                "pfx-secret-9",
                "pfx-secret-9-longer",
                "naïve-pässwörd",
                "join-me",
                "***-tail",
            ]
            .map(Box::from),
        );
        assert!(forms(&values).len() > 64, "{} forms", forms(&values).len());
        let secrets = build(&values);
        assert!(!secrets.searcher.as_ref().unwrap().is_packed());
        let table = [
            // Nothing found.
            ("", ""),
            ("k00 \"x\" \\ k0", "k00 \"x\" \\ k0"),
            // A value at the start, the end, as the whole line.
            ("k03 \"x\" \\ k04 tail", "*** tail"),
            ("head k19 \"x\" \\ k20", "head ***"),
            ("k07 \"x\" \\ k08", "***"),
            // Values that overlap, a chain of all twenty too: one marker.
            ("a k00 \"x\" \\ k01 \"x\" \\ k02 b", "a *** b"),
            (&chained_line(), "***"),
            ("a gate-key-7f3a-tail-key b", "a *** b"),
            ("tok-tok-tok-tok end", "*** end"),
            // Adjacent ones: a marker each.
            ("k05 \"x\" \\ k06k05 \"x\" \\ k06", "******"),
            ("pfx-secret-9pfx-secret-9-longer", "******"),
            // One a prefix of another: the longer hidden whole.
            ("pfx-secret-9-longer and pfx-secret-9", "*** and ***"),
            // Each form, overlapping in that form too.
            (r#"{"m":"k10 \"x\" \\ k11 \"x\" \\ k12"}"#, r#"{"m":"***"}"#),
            (
                r#"{"m":"Some(\"k10 \\\"x\\\" \\\\ k11\")"}"#,
                r#"{"m":"Some(\"***\")"}"#,
            ),
            (
                "?p=k11%20%22x%22%20%5C%20k12%20%22x%22%20%5C%20k13",
                "?p=***",
            ),
            ("?p=na%C3%AFve-p%C3%A4ssw%C3%B6rd&x", "?p=***&x"),
            // A value that replacing brings together.
            ("join-me-tail", "***"),
        ];
        for (text, expected) in table {
            check(&values, text, expected);
        }
        // Every form of every value, as the line, at its start and at its end.
        for form in forms(&values) {
            check(&values, &form, "***");
            check(&values, &format!("{form} end"), "*** end");
            check(&values, &format!("head {form}"), "head ***");
        }
    }

    /// Every value of [`chained`]`(20)` in one line, each overlapping the next.
    fn chained_line() -> String {
        let mut line = String::from("k00");
        for i in 1..=20 {
            line.push_str(&format!(" \"x\" \\ k{i:02}"));
        }
        line
    }

    /// A few values or many, from an alphabet that JSON and percent-encoding escape, so that
    /// their forms overlap and number from one to well above 64; and texts made of their
    /// forms, pieces of them and filler.
    fn values_and_text() -> impl Strategy<Value = (Vec<Box<str>>, String)> {
        prop::collection::vec("[ab\"\\\\ é@!~*-]{6,9}", 1..30).prop_flat_map(|values| {
            let values: Vec<Box<str>> = values.into_iter().map(Box::from).collect();
            let text = texts_of(forms(&values), "[ab\"\\\\ é%+@]{0,3}");
            (Just(values), text)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        /// Each URL form is what its encoder writes, for any value.
        #[test]
        fn the_url_forms_are_what_the_encoders_write(value in "\\PC{0,12}|[ -~]{0,12}") {
            use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
            let [unreserved, alphanumeric, userinfo, form] =
                URL_FORMS.map(|encoding| url_encoded(&value, encoding));
            let mut url = url::Url::parse("postgres://u@h/d").unwrap();
            url.set_password(Some(&value)).unwrap();
            prop_assert_eq!(url.password().unwrap_or(""), userinfo);
            let serialized: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            prop_assert_eq!(form, serialized);
            prop_assert_eq!(alphanumeric, utf8_percent_encode(&value, NON_ALPHANUMERIC).to_string());
            const UNRESERVED: &percent_encoding::AsciiSet =
                &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
            prop_assert_eq!(unreserved, utf8_percent_encode(&value, UNRESERVED).to_string());
        }

        #[test]
        fn masks_every_form_as_the_reference_does((values, text) in values_and_text()) {
            let forms = forms(&values);
            let secrets = build(&values);
            let packed = secrets.searcher.as_ref().unwrap().is_packed();
            prop_assert_eq!(packed, forms.len() <= 64 && teddy_here());
            let masked = secrets.mask(&text);
            let reference = naive(&forms, text.as_bytes());
            prop_assert_eq!(masked.as_bytes(), reference.as_deref().unwrap_or(text.as_bytes()));
            let finders = Searcher::with_finders(&forms).mask(text.as_bytes());
            prop_assert_eq!(finders, reference);
            for form in &forms {
                prop_assert!(!masked.contains(form.as_str()), "{:?} left in {:?}", form, masked);
            }
        }
    }
}
