//! Finding every form of every registered value in a line in one pass, and replacing what
//! is found by [`MARKER`]. A leaf: it knows patterns and bytes, not the registry.
//!
//! Entry point: [`Searcher::mask`]. Invariant: the text it returns holds none of the
//! patterns. Occurrences that overlap become one marker (a marker each would leave the
//! bytes between their starts visible), adjacent ones a marker each, and a pattern that
//! replacing brings together (one ending in `*` before a marker) is masked in a further
//! round.

use std::ops::Range;

use aho_corasick::{Span, packed};
use memchr::memmem::Finder;

use crate::MARKER;

/// Every pattern at once, leftmost-longest: a search reports, of the occurrences that
/// start leftmost, the longest, which covers the shorter ones that start there. No `Debug`:
/// the patterns are secrets.
pub(crate) struct Searcher {
    kind: Kind,
    patterns: usize,
}

enum Kind {
    /// Teddy, the packed SIMD searcher: up to 64 patterns in one scan. Called directly:
    /// through the automaton, which would use it as its prefilter, a 300-byte line without
    /// a secret costs about 120 instructions more than Teddy's 450.
    Packed(packed::Searcher),
    /// One memmem finder per pattern, where Teddy cannot be built: more than 64 patterns,
    /// or a CPU without SSSE3 (x86-64) or NEON (aarch64). Each search runs every finder;
    /// aho-corasick's automaton would search once, but adds a quarter of a megabyte to a
    /// service's binary for a case that few services meet.
    Finders(Vec<Finder<'static>>),
}

impl Kind {
    fn finders(patterns: &[String]) -> Kind {
        Kind::Finders(
            patterns
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect(),
        )
    }
}

impl Searcher {
    /// A searcher for `patterns`, which must be non-empty and each longer than [`MARKER`]
    /// (so that every round of [`Searcher::mask`] shortens the text).
    pub(crate) fn new(patterns: &[String]) -> Searcher {
        debug_assert!(patterns.iter().all(|p| p.len() > MARKER.len()));
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(patterns)
            .build();
        let kind = match packed {
            Some(packed) => Kind::Packed(packed),
            None => Kind::finders(patterns),
        };
        Searcher {
            kind,
            patterns: patterns.len(),
        }
    }

    /// A searcher for `patterns` that uses the finders however few they are, so that tests
    /// compare both kinds on the same input.
    #[cfg(test)]
    pub(crate) fn with_finders(patterns: &[String]) -> Searcher {
        Searcher {
            kind: Kind::finders(patterns),
            patterns: patterns.len(),
        }
    }

    /// Whether it searches with Teddy rather than the finders.
    #[cfg(test)]
    pub(crate) fn is_packed(&self) -> bool {
        matches!(self.kind, Kind::Packed(_))
    }

    /// How many patterns it searches for.
    pub(crate) fn len(&self) -> usize {
        self.patterns
    }

    /// The leftmost-longest occurrence starting at `from` or after.
    #[inline]
    fn find(&self, text: &[u8], from: usize) -> Option<Range<usize>> {
        match &self.kind {
            Kind::Packed(s) => s.find_in(text, Span::from(from..text.len())),
            Kind::Finders(finders) => {
                return finders
                    .iter()
                    .filter_map(|f| {
                        let start = from + f.find(&text[from..])?;
                        Some(start..start + f.needle().len())
                    })
                    .min_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
            }
        }
        .map(|m| m.range())
    }

    /// `text` masked round after round until no pattern occurs in it, or `None` when none
    /// did. Each round that finds one replaces a pattern by the shorter [`MARKER`], so
    /// rounds end.
    pub(crate) fn mask(&self, text: &[u8]) -> Option<Vec<u8>> {
        // The common case, a line without a secret, is this one search.
        let first = self.find(text, 0)?;
        let mut masked = Vec::with_capacity(text.len());
        self.mask_round(text, first, &mut masked);
        let mut again = Vec::new();
        while let Some(first) = self.find(&masked, 0) {
            again.clear();
            self.mask_round(&masked, first, &mut again);
            std::mem::swap(&mut masked, &mut again);
        }
        Some(masked)
    }

    /// Appends `text` to `out` with every maximal run of overlapping occurrences replaced
    /// by one [`MARKER`], `first` being the leftmost-longest occurrence.
    ///
    /// Searching again from one byte past each occurrence's start visits every position
    /// where an occurrence starts, with the longest one there.
    fn mask_round(&self, text: &[u8], first: Range<usize>, out: &mut Vec<u8>) {
        let mut last_start = first.start;
        let mut run = first;
        let mut copied = 0;
        loop {
            let next = self.find(text, last_start + 1);
            if let Some(m) = &next
                && m.start < run.end
            {
                run.end = run.end.max(m.end);
                last_start = m.start;
                continue;
            }
            out.extend_from_slice(&text[copied..run.start]);
            out.extend_from_slice(MARKER.as_bytes());
            copied = run.end;
            let Some(m) = next else { break };
            last_start = m.start;
            run = m;
        }
        out.extend_from_slice(&text[copied..]);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The reference: each pattern tried at each position, overlapping occurrences merged
    /// into one marker, round after round until none is left.
    pub(crate) fn naive(patterns: &[String], text: &[u8]) -> Option<Vec<u8>> {
        let mut text = text.to_vec();
        let mut any = false;
        loop {
            let mut found: Vec<(usize, usize)> = (0..text.len())
                .flat_map(|i| {
                    let text = &text;
                    patterns
                        .iter()
                        .filter(move |p| text[i..].starts_with(p.as_bytes()))
                        .map(move |p| (i, i + p.len()))
                })
                .collect();
            if found.is_empty() {
                return any.then_some(text);
            }
            any = true;
            found.sort_unstable();
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for (start, end) in found {
                match runs.last_mut() {
                    Some(run) if start < run.1 => run.1 = run.1.max(end),
                    _ => runs.push((start, end)),
                }
            }
            let mut out = Vec::new();
            let mut copied = 0;
            for (start, end) in runs {
                out.extend_from_slice(&text[copied..start]);
                out.extend_from_slice(MARKER.as_bytes());
                copied = end;
            }
            out.extend_from_slice(&text[copied..]);
            text = out;
        }
    }

    /// Whether [`Searcher::new`] builds Teddy for up to 64 patterns of 4 bytes or more on
    /// this CPU (as aho-corasick decides it: SSSE3 at run time, NEON at compile time).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn teddy_here() -> bool {
        std::arch::is_x86_feature_detected!("ssse3")
    }

    #[cfg(target_arch = "aarch64")]
    pub(crate) fn teddy_here() -> bool {
        cfg!(all(target_feature = "neon", target_endian = "little"))
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    pub(crate) fn teddy_here() -> bool {
        false
    }

    fn check(patterns: &[&str], text: &str, expected: &str) {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let searcher = Searcher::new(&patterns);
        if teddy_here() {
            assert!(searcher.is_packed(), "Teddy was not built");
        }
        let masked = searcher.mask(text.as_bytes());
        let got = masked
            .as_deref()
            .map_or(text, |m| std::str::from_utf8(m).unwrap());
        assert_eq!(got, expected, "patterns {patterns:?}, text {text:?}");
        assert_eq!(masked, naive(&patterns, text.as_bytes()), "the reference");
        let finders = Searcher::with_finders(&patterns).mask(text.as_bytes());
        assert_eq!(
            finders, masked,
            "the finders, patterns {patterns:?}, text {text:?}"
        );
    }

    #[test]
    fn masks_as_documented() {
        let table: &[(&[&str], &str, &str)] = &[
            // Nothing found: the text as it was.
            (&["secret"], "", ""),
            (&["secret"], "secre", "secre"),
            (&["secret"], "a secre-t line", "a secre-t line"),
            // At the start, the end, the whole line.
            (&["secret"], "secret", "***"),
            (&["secret"], "secret tail", "*** tail"),
            (&["secret"], "head secret", "head ***"),
            // Adjacent occurrences: a marker each.
            (&["secret"], "secretsecret", "******"),
            // Occurrences of one value that overlap: one marker, nothing of it left.
            (&["abcabc"], "abcabcabc", "***"),
            (&["aaaaaa"], "aaaaaaa", "***"),
            (&["aaaaaa"], "aaaaaaaaaaaa", "***"),
            // Two values that overlap, whichever way round.
            (&["wolf-pack", "pack-tail"], "a wolf-pack-tail b", "a *** b"),
            (&["pack-tail", "wolf-pack"], "a wolf-pack-tail b", "a *** b"),
            (&["1234567", "4567890", "7890abc"], "1234567890abc", "***"),
            // One a prefix, suffix or middle of another: the longer hidden whole.
            (
                &["prefix", "prefix-longer"],
                "prefix-longer prefix",
                "*** ***",
            ),
            (
                &["suffix", "longer-suffix"],
                "longer-suffix suffix",
                "*** ***",
            ),
            (&["middle", "a-middle-b"], "a-middle-bc", "***c"),
            // Multi-byte UTF-8, at either end.
            (&["pässwörd"], "pässwörd €", "*** €"),
            (&["pässwörd"], "€pässwörd", "€***"),
            (&["ü-ü-ü-ü"], "ü-ü-ü-ü-ü", "***"),
            // A value that replacing brings together is masked as well.
            (&["join-me", "***-tail"], "join-me-tail", "***"),
            (&["join-me", "**-tail"], "*join-me-tail", "*****"),
        ];
        for (patterns, text, expected) in table {
            check(patterns, text, expected);
        }
    }

    #[test]
    fn the_finders_mask_as_teddy_does() {
        // Above Teddy's limit of patterns, one finder per pattern searches instead.
        let mut patterns: Vec<String> = (0..200).map(|i| format!("filler-{i:03}")).collect();
        patterns.extend(["abcabc", "wolf-pack", "pack-tail"].map(String::from));
        let searcher = Searcher::new(&patterns);
        assert!(matches!(searcher.kind, Kind::Finders(_)));
        let text = b"abcabcabc filler-007filler-199 wolf-pack-tail";
        assert_eq!(searcher.mask(text).as_deref(), Some(&b"*** ****** ***"[..]));
        assert_eq!(searcher.mask(text), naive(&patterns, text));
    }

    /// Patterns from a small alphabet, so that they overlap, nest and repeat; and texts
    /// made of them, pieces of them and filler.
    fn patterns_and_text() -> impl Strategy<Value = (Vec<String>, Vec<u8>)> {
        let patterns = prop::collection::vec("[ab*é]{4,9}", 1..6);
        (patterns, 100..200usize).prop_flat_map(|(patterns, count)| {
            // Many of them, sometimes, to exercise the finders as well as Teddy.
            let patterns: Vec<String> = if count > 190 {
                (0..count)
                    .map(|i| format!("{}{i}", patterns[i % patterns.len()]))
                    .collect()
            } else {
                patterns
            };
            let text = texts_of(patterns.clone(), "[ab*é]{0,3}");
            (Just(patterns), text.prop_map(String::into_bytes))
        })
    }

    /// Texts made of `patterns`, the same without their first character, and filler that
    /// matches `filler`.
    pub(crate) fn texts_of(
        patterns: Vec<String>,
        filler: &'static str,
    ) -> impl Strategy<Value = String> {
        let piece = (any::<prop::sample::Index>(), 0..4u8, filler);
        prop::collection::vec(piece, 0..12).prop_map(move |pieces| {
            let mut text = String::new();
            for (index, what, filler) in pieces {
                let pattern = index.get(&patterns);
                match what {
                    0 | 1 => text.push_str(pattern),
                    2 => {
                        let cut = pattern.char_indices().nth(1).map_or(0, |(i, _)| i);
                        text.push_str(&pattern[cut..]);
                    }
                    _ => {}
                }
                text.push_str(&filler);
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn masks_as_the_reference_does((patterns, text) in patterns_and_text()) {
            let masked = Searcher::new(&patterns).mask(&text);
            prop_assert_eq!(&masked, &naive(&patterns, &text));
            // The finders on the same input, whichever kind `new` chose.
            prop_assert_eq!(&Searcher::with_finders(&patterns).mask(&text), &masked);
            let out = masked.unwrap_or(text);
            prop_assert!(std::str::from_utf8(&out).is_ok());
            for p in &patterns {
                prop_assert!(!out.windows(p.len()).any(|w| w == p.as_bytes()));
            }
        }
    }
}
