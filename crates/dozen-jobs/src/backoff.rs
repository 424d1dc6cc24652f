//! Delays between attempts: exponential, capped, with jitter.

use std::time::Duration;

/// The delay after failed attempt `attempt` (from 1): `min` doubled for
/// each earlier failure, at most `max`, then drawn uniformly from its upper
/// half, so that jobs failing together (a backing service down) do not come
/// back together.
pub(crate) fn delay(attempt: u32, min: Duration, max: Duration) -> Duration {
    let doublings = attempt.saturating_sub(1).min(40);
    let full = min
        .checked_mul(1 << doublings.min(31))
        .unwrap_or(Duration::MAX)
        .min(max.max(min));
    let half = full / 2;
    half + full.saturating_sub(half).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_cap_with_jitter() {
        let s = Duration::from_secs;
        let check = |attempt: u32, low: Duration, high: Duration| {
            for _ in 0..200 {
                let d = delay(attempt, s(1), s(60));
                assert!(low <= d && d <= high, "attempt {attempt}: {d:?}");
            }
        };
        check(1, Duration::from_millis(500), s(1));
        check(2, s(1), s(2));
        check(5, s(8), s(16));
        check(7, s(30), s(60));
        check(u32::MAX, s(30), s(60));
        assert_eq!(delay(3, Duration::ZERO, s(60)), Duration::ZERO);
    }
}
