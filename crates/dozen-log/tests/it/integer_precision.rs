//! Identity and precision: an integer that a double cannot hold exactly (beyond ±(2^53 − 1),
//! Cloud Logging parses numbers as doubles) is written as a JSON string of its decimal digits;
//! smaller ones stay numbers, whatever their Rust type.

use tracing_subscriber::prelude::*;

use crate::{Capture, parse_strict};

const SAFE: u64 = (1 << 53) - 1;

#[test]
fn integers_beyond_the_exact_range_of_a_double_are_strings() {
    let capture = Capture::default();
    let layer = dozen_log::json_layer().with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("s", span_id_big = u64::MAX);
        let _e = span.enter();
        tracing::info!(
            u_safe = SAFE,
            u_over = SAFE + 1,
            u_max = u64::MAX,
            i_safe = -(SAFE as i64),
            i_under = -(SAFE as i64) - 1,
            i_min = i64::MIN,
            i_over = i64::MAX,
            u128_small = 7u128,
            u128_big = u128::MAX,
            i128_small = -7i128,
            i128_big = i128::MIN,
            httpRequest.responseSize = u64::MAX,
            "numbers"
        );
    });
    let out = capture.take();
    let v = parse_strict(out.trim_end()).unwrap();
    let check = |key: &str, expected: serde_json::Value| {
        assert_eq!(v[key], expected, "{key} in {out}");
    };
    check("u_safe", SAFE.into());
    check("u_over", (SAFE + 1).to_string().into());
    check("u_max", u64::MAX.to_string().into());
    check("i_safe", (-(SAFE as i64)).into());
    check("i_under", (-(SAFE as i64) - 1).to_string().into());
    check("i_min", i64::MIN.to_string().into());
    check("i_over", i64::MAX.to_string().into());
    check("u128_small", 7.into());
    check("u128_big", u128::MAX.to_string().into());
    check("i128_small", (-7).into());
    check("i128_big", i128::MIN.to_string().into());
    check("span_id_big", u64::MAX.to_string().into());
    assert_eq!(
        v["httpRequest"]["responseSize"],
        u64::MAX.to_string(),
        "{out}"
    );
}
