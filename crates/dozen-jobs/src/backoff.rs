//! Delays between attempts: exponential, capped, with jitter, never below
//! the minimum nor above the maximum.

use std::time::Duration;

/// The delay after failed attempt `attempt` (from 1): drawn uniformly from
/// the upper half of `min` doubled `attempt` times, that is from
/// `[min, 2 min]` after the first failure, `[2 min, 4 min]` after the second,
/// and so on. The top is capped at `max`, and the bottom never falls below
/// `min`, so the delay is always within `[min, max]` (a `max` below `min`
/// counts as `min`). The draw spreads jobs that failed together (a backing
/// service down), so that they do not come back together, at the cap too.
pub(crate) fn delay(attempt: u32, min: Duration, max: Duration) -> Duration {
    let cap = max.max(min);
    let doublings = attempt.clamp(1, 31);
    let high = min
        .checked_mul(1 << doublings)
        .unwrap_or(Duration::MAX)
        .min(cap);
    let low = (high / 2).max(min);
    let spread = high.saturating_sub(low);
    // `mul_f64` panics when the product rounds past `Duration::MAX`.
    let jitter = Duration::try_from_secs_f64(spread.as_secs_f64() * fastrand::f64())
        .unwrap_or(spread)
        .min(spread);
    low.saturating_add(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: usize = 500;

    #[test]
    fn delays_double_within_their_cap_with_jitter() {
        let s = Duration::from_secs;
        let check = |attempt: u32, low: Duration, high: Duration| {
            let delays: Vec<_> = (0..SAMPLES).map(|_| delay(attempt, s(1), s(60))).collect();
            for d in &delays {
                assert!(low <= *d && *d <= high, "attempt {attempt}: {d:?}");
            }
            // Jittered: not all the same.
            assert!(delays.iter().any(|d| *d != delays[0]), "attempt {attempt}");
        };
        check(1, s(1), s(2));
        check(2, s(2), s(4));
        check(5, s(16), s(32));
        check(6, s(30), s(60));
        check(7, s(30), s(60));
        check(u32::MAX, s(30), s(60));
        assert_eq!(delay(3, Duration::ZERO, s(60)), Duration::ZERO);
    }

    #[test]
    fn a_delay_is_never_below_the_minimum_nor_above_the_maximum() {
        let ms = Duration::from_millis;
        let day = Duration::from_secs(86_400);
        let bounds = [
            (ms(20), ms(100)),
            (ms(1000), ms(60_000)),
            (ms(10_000), ms(3_600_000)),
            (ms(10_000), ms(15_000)),
            (ms(10_000), ms(10_000)),
            (day, day),
            (ms(1), day),
            (ms(0), ms(0)),
        ];
        for (min, max) in bounds {
            for attempt in (0..=64).chain([u32::MAX - 1, u32::MAX]) {
                for _ in 0..SAMPLES {
                    let d = delay(attempt, min, max);
                    assert!(
                        min <= d && d <= max,
                        "attempt {attempt}, min {min:?}, max {max:?}: {d:?}"
                    );
                }
            }
        }
        // A maximum below the minimum counts as the minimum.
        assert_eq!(delay(1, ms(500), ms(100)), ms(500));
        assert_eq!(delay(9, ms(500), ms(100)), ms(500));
        // Durations at the type's end neither panic nor wrap.
        let d = delay(u32::MAX, Duration::MAX / 4, Duration::MAX);
        assert!(d >= Duration::MAX / 4);
    }
}
