//! The trace header parsers accept every valid `traceparent` and `X-Cloud-Trace-Context` of a
//! table and refuse every malformed one, and what they accept formats back to the same context.

use dozen_log::TraceContext;

const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Parses `header` with `parse` and compares (trace id, span id, sampled) with `expected`.
fn check(
    parse: fn(&str) -> Option<TraceContext>,
    header: &str,
    expected: Option<(&str, &str, bool)>,
) {
    let got = parse(header).map(|c| (c.trace_id_hex(), c.span_id_hex(), c.sampled()));
    let expected = expected.map(|(t, s, o)| (t.to_owned(), s.to_owned(), o));
    assert_eq!(got, expected, "{header:?}");
}

#[test]
fn traceparent() {
    let check = |header, expected| check(TraceContext::from_traceparent, header, expected);
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        Some((T, "00f067aa0ba902b7", true)),
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        Some((T, "00f067aa0ba902b7", false)),
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
        Some((T, "00f067aa0ba902b7", true)),
    );
    check(
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
        Some((T, "00f067aa0ba902b7", true)),
    );
    // A future version may append fields.
    check(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        Some((T, "00f067aa0ba902b7", true)),
    );
    // Malformed: ignored.
    check("", None);
    check("00", None);
    check("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", None);
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        None,
    );
    check(
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        None,
    );
    check(
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        None,
    );
    check(
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        None,
    );
    check(
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        None,
    );
    check(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-é0f067aa0ba902b-01",
        None,
    );
}

#[test]
fn cloud_trace_context() {
    let check = |header, expected| check(TraceContext::from_cloud_trace_context, header, expected);
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/1;o=1",
        Some((T, "0000000000000001", true)),
    );
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/1;o=0",
        Some((T, "0000000000000001", false)),
    );
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/1",
        Some((T, "0000000000000001", false)),
    );
    // Decimal span id written as 16 hex digits.
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/12345678901234567890;o=1",
        Some((T, "ab54a98ceb1f0ad2", true)),
    );
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/18446744073709551615",
        Some((T, "ffffffffffffffff", false)),
    );
    check(
        "4BF92F3577B34DA6A3CE929D0E0E4736/255;o=1",
        Some((T, "00000000000000ff", true)),
    );
    // Malformed: ignored.
    check("", None);
    check("4bf92f3577b34da6a3ce929d0e0e4736", None);
    check("4bf92f3577b34da6a3ce929d0e0e4736/", None);
    check("4bf92f3577b34da6a3ce929d0e0e4736/0;o=1", None);
    check(
        "4bf92f3577b34da6a3ce929d0e0e4736/18446744073709551616",
        None,
    );
    check("4bf92f3577b34da6a3ce929d0e0e4736/-1", None);
    check("4bf92f3577b34da6a3ce929d0e0e4736/abc", None);
    check("4bf92f3577b34da6a3ce929d0e0e4736/1;o=2", None);
    check("4bf92f3577b34da6a3ce929d0e0e473/1;o=1", None);
    check("00000000000000000000000000000000/1;o=1", None);
    check("xyz92f3577b34da6a3ce929d0e0e4736/1;o=1", None);
}

#[test]
fn formats_round_trip() {
    let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let ctx = TraceContext::from_traceparent(header).unwrap();
    assert_eq!(ctx.to_traceparent(), header);
    assert_eq!(ctx.to_string(), header);
    let unsampled = TraceContext::new(ctx.trace_id(), ctx.span_id(), false).unwrap();
    assert!(unsampled.to_traceparent().ends_with("-00"));
    assert!(TraceContext::new([0; 16], [1; 8], true).is_none());
}
