//! `TraceContext::from_traceparent` and `TraceContext::from_cloud_trace_context` on arbitrary
//! text: they never panic, and what they accept re-formats to a valid `traceparent`
//! (`00-` 32 lower-case hex `-` 16 lower-case hex `-0[01]`, neither id all zeroes) that parses
//! back to the same context, with the ids the header carried.
#![no_main]

use dozen_log::TraceContext;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Some(ctx) = TraceContext::from_traceparent(input) {
        check_formats(&ctx);
        // The ids are the header's own, in the same (lower-case) spelling.
        let mut parts = input.trim().split('-');
        let _version = parts.next();
        assert_eq!(parts.next(), Some(ctx.trace_id_hex().as_str()));
        assert_eq!(parts.next(), Some(ctx.span_id_hex().as_str()));
        let flags = u8::from_str_radix(parts.next().expect("flags"), 16).expect("hex flags");
        assert_eq!(ctx.sampled(), flags & 1 == 1);
    }
    if let Some(ctx) = TraceContext::from_cloud_trace_context(input) {
        check_formats(&ctx);
        let (trace, rest) = input.trim().split_once('/').expect("a slash");
        assert_eq!(trace.to_ascii_lowercase(), ctx.trace_id_hex());
        let span = rest.split(';').next().expect("a span id");
        let span: u64 = span.parse().expect("a decimal span id");
        assert_eq!(span.to_be_bytes(), ctx.span_id());
        assert_eq!(ctx.sampled(), rest.ends_with(";o=1"));
    }
});

/// Every way a context shows itself is a valid `traceparent`, and that parses back to it.
fn check_formats(ctx: &TraceContext) {
    let tp = ctx.to_traceparent();
    assert_eq!(tp.len(), 55, "{tp}");
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "{tp}");
    assert_eq!(parts[0], "00");
    assert!(is_lower_hex(parts[1], 32), "{tp}");
    assert!(is_lower_hex(parts[2], 16), "{tp}");
    assert!(
        parts[1].bytes().any(|b| b != b'0'),
        "{tp}: all-zero trace id"
    );
    assert!(
        parts[2].bytes().any(|b| b != b'0'),
        "{tp}: all-zero span id"
    );
    assert_eq!(parts[3], if ctx.sampled() { "01" } else { "00" });
    assert_eq!(parts[1], ctx.trace_id_hex());
    assert_eq!(parts[2], ctx.span_id_hex());
    assert_eq!(ctx.to_string(), tp);
    assert_eq!(TraceContext::from_traceparent(&tp), Some(*ctx));
    assert_eq!(
        TraceContext::new(ctx.trace_id(), ctx.span_id(), ctx.sampled()),
        Some(*ctx)
    );
    let debug = format!("{ctx:?}");
    assert!(
        debug.contains(parts[1]) && debug.contains(parts[2]),
        "{debug}"
    );
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
