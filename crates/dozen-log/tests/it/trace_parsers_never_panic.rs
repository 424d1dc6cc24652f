//! The trace header parsers never panic, whatever they are fed: random strings, and valid
//! headers with one random edit (a character replaced, inserted or removed). Whatever they
//! accept formats back to a header they accept again as the same context.

use dozen_log::TraceContext;
use proptest::prelude::*;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CLOUD: &str = "4bf92f3577b34da6a3ce929d0e0e4736/18446744073709551615;o=1";

/// `base` with one edit at `at` (a char index, wrapped): replace, insert or remove.
fn edit(base: &str, at: usize, op: u8, c: char) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    let i = at % (chars.len() + 1);
    match op % 3 {
        0 if i < chars.len() => chars[i] = c,
        1 => chars.insert(i, c),
        _ if i < chars.len() => {
            chars.remove(i);
        }
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

fn check(header: &str) {
    if let Some(ctx) = TraceContext::from_traceparent(header) {
        assert_eq!(
            TraceContext::from_traceparent(&ctx.to_traceparent()),
            Some(ctx),
            "{header:?}"
        );
    }
    if let Some(ctx) = TraceContext::from_cloud_trace_context(header) {
        assert_eq!(
            TraceContext::from_traceparent(&ctx.to_traceparent()),
            Some(ctx),
            "{header:?}"
        );
    }
    let _ = format!("{:?}", TraceContext::from_traceparent(header));
}

/// Characters that matter to the parsers, and some that do not.
fn interesting() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '0', '9', 'a', 'f', 'g', 'A', 'F', '-', '/', ';', '=', 'o', ' ', '1'
        ]),
        any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn random_strings_never_panic(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn near_valid_headers_never_panic(
        base in prop::sample::select(vec![TRACEPARENT, CLOUD]),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), interesting()), 1..4),
    ) {
        let mut header = base.to_owned();
        for (at, op, c) in edits {
            header = edit(&header, at, op, c);
        }
        check(&header);
    }

    #[test]
    fn headers_built_from_parts_never_panic(
        version in "[0-9a-fA-F]{0,3}",
        trace in "[0-9a-fA-F]{0,33}",
        span in "[0-9a-fA-F]{0,17}",
        decimal in "[0-9]{0,22}",
        flags in "[0-9a-fA-F]{0,3}",
        option in "(o=[0-9]{0,2})?",
    ) {
        check(&format!("{version}-{trace}-{span}-{flags}"));
        check(&format!("{trace}/{decimal};{option}"));
        check(&format!("{trace}/{decimal}"));
    }
}
