//! Doubles written as ryu writes them (the shortest decimal that reads back as the same double),
//! with a fast path for the usual ones: a few decimal places, such as a latency of 12.5 ms. A leaf.

/// The powers of ten the fast path tries (all exact doubles).
const SCALES: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10_000.0];

/// 2^52: a double below it has an ulp below 1 (below `10^-j` once scaled by `10^j`).
const BOUND: f64 = 4_503_599_627_370_496.0;

/// Appends finite `v` exactly as `ryu::Buffer::format_finite` writes it.
pub(crate) fn push_finite_f64(out: &mut String, v: f64) {
    if !push_short(out, v) {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

/// Appends `v` when it is `m / 10^j` for an integer `m` of at most 2^52 and `j` at most 4, with
/// the smallest such `j`; `false`, with nothing written, for any other `v`.
///
/// This is ryu's output. `m / 10^j == v` says that `v` is the double nearest to `m·10^-j` (the
/// division is correctly rounded), so that decimal is in `v`'s rounding interval (the reals that
/// read back as `v`). That interval is one ulp wide, and an ulp of `v` is at most `|v|·2^-52`,
/// so below `10^-j` (equal only for `v = 2^52`, whose neighbouring integers are still outside):
/// it holds no other multiple of `10^-j`. Any decimal with no more significant digits than `m`
/// is such a multiple or below `|v| / 10`, so `m·10^-j` is the one shortest decimal there, the
/// one ryu picks. (With `m` up to 2^53 the interval can hold two: 88594627778986.95 and .96.)
/// ryu writes it positionally: an integer (below 10^16 here) as `m.0`, otherwise `m`'s digits
/// with a point, or after `0.` and fewer than 5 zeros when `|v| < 1`.
fn push_short(out: &mut String, v: f64) -> bool {
    let a = v.abs();
    for (j, scale) in SCALES.into_iter().enumerate() {
        let scaled = a * scale;
        if scaled >= BOUND {
            return false;
        }
        // Rounds to the nearest integer: `scaled + 0.5` is below 2^52 + 1, and `as` truncates.
        let m = (scaled + 0.5) as u64;
        let back = m as f64 / scale;
        if back.to_bits() != a.to_bits() {
            continue;
        }
        if j > 0 && m.is_multiple_of(10) {
            // Not the smallest j after all (cannot happen; ryu decides then).
            return false;
        }
        if v.is_sign_negative() {
            out.push('-');
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(m);
        if j == 0 {
            out.push_str(digits);
            out.push_str(".0");
        } else if let Some(int_len) = digits.len().checked_sub(j).filter(|&n| n > 0) {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        } else {
            out.push_str("0.");
            out.push_str(&"0000"[..j - digits.len()]);
            out.push_str(digits);
        }
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64) {
        let mut out = String::new();
        push_finite_f64(&mut out, v);
        assert_eq!(out, ryu::Buffer::new().format_finite(v), "{v:e}");
    }

    #[test]
    fn writes_what_ryu_writes() {
        let edges = [
            0.0,
            -0.0,
            12.5,
            -12.5,
            0.1,
            0.2,
            0.3,
            0.1 + 0.2,
            1e-4,
            1.2e-4,
            1e-5,
            0.000_123_4,
            0.999_95,
            9.999_9,
            99_999.999_9,
            1e15 + 0.5,
            88_594_627_778_986.95,
            88_594_627_778_986.96,
            1e15,
            1e16,
            123_456_789_012.345_6,
            4_503_599_627_370_495.5,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            9_007_199_254_740_993.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            5e-324,
        ];
        for v in edges {
            check(v);
            check(-v);
        }
    }

    #[test]
    fn writes_what_ryu_writes_for_every_short_decimal() {
        // Every m / 10^j for m in a range at each scale, and their neighbours.
        for j in 0..=6 {
            let scale = 10f64.powi(j);
            for m in (0..20_000u32).chain((1u32 << 20) - 50..(1u32 << 20) + 50) {
                let v = f64::from(m) / scale;
                check(v);
                check(f64::from_bits(v.to_bits() + 1));
                check(f64::from_bits(v.to_bits().saturating_sub(1)));
            }
        }
    }

    #[test]
    fn writes_what_ryu_writes_where_the_ulp_nears_the_last_digit() {
        for j in 0..=5 {
            let scale = 10f64.powi(j);
            for m in ((1u64 << 52) - 3000..(1 << 52) + 3000).chain((1 << 53) - 3000..1 << 53) {
                check(m as f64 / scale);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_double_is_written_as_ryu_writes_it(bits: u64) {
            let v = f64::from_bits(bits);
            if v.is_finite() {
                check(v);
            }
        }

        #[test]
        fn any_short_decimal_is_written_as_ryu_writes_it(m in 0u64..(1 << 53), j in 0i32..8) {
            let v = m as f64 / 10f64.powi(j);
            check(v);
        }
    }
}
