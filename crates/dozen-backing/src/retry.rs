//! Connect with retry: exponential backoff with jitter up to a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::service_url::ServiceUrl;

/// The first pause between attempts.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest pause between attempts.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Why one attempt failed: its class and a message already scrubbed of secrets.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) detail: String,
}

/// The pause before the next attempt: `delay` with "equal jitter", half fixed and half
/// random, so replicas that start together do not retry in step.
fn jittered(delay: Duration) -> Duration {
    let half = delay / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half.saturating_add(Duration::from_nanos(fastrand::u64(0..=nanos)))
}

/// The pause after `delay`: doubled, at most [`MAX_DELAY`].
fn next_delay(delay: Duration) -> Duration {
    delay.saturating_mul(2).min(MAX_DELAY)
}

/// When a retry loop started at `started` with `timeout` must stop; `None` when that is
/// beyond what an `Instant` can hold, which means never.
fn deadline_of(started: Instant, timeout: Duration) -> Option<Instant> {
    started.checked_add(timeout)
}

/// What is left of `deadline` at `now`: zero once it passed, [`Duration::MAX`] without one.
fn remaining_at(deadline: Option<Instant>, now: Instant) -> Duration {
    deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(now))
}

/// Runs `attempt` until it succeeds, fails with a class that is not transient, or
/// `timeout` has passed since the call; each failure is logged with the redacted URL, its
/// class, the attempt number and the pause before the next one.
pub(crate) async fn retry<T, F, Fut>(
    what: &'static str,
    url: &ServiceUrl,
    timeout: Duration,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    // No arithmetic here can panic, whatever `timeout` is (a property test holds it).
    let started = Instant::now();
    let deadline = deadline_of(started, timeout);
    let mut delay = FIRST_DELAY;
    let mut attempts = 0_u32;
    loop {
        attempts = attempts.saturating_add(1);
        let remaining = remaining_at(deadline, Instant::now());
        let outcome = match tokio::time::timeout(remaining, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure {
                kind: ErrorKind::TimedOut,
                detail: "no answer before the deadline".to_owned(),
            }),
        };
        let failure = match outcome {
            Ok(value) => {
                tracing::info!(
                    url = %url,
                    attempt = attempts,
                    elapsed = ?started.elapsed(),
                    "connected to {what}"
                );
                return Ok(value);
            }
            Err(failure) => failure,
        };
        let remaining = remaining_at(deadline, Instant::now());
        if !failure.kind.is_transient() {
            tracing::error!(
                url = %url,
                error.class = failure.kind.as_str(),
                error.message = %failure.detail,
                attempt = attempts,
                "cannot connect to {what}, not retrying"
            );
            return Err(Error::new(
                failure.kind,
                format!(
                    "cannot connect to {url}: {}: {}",
                    failure.kind, failure.detail
                ),
            )
            .with_attempts(attempts));
        }
        if remaining.is_zero() {
            tracing::error!(
                url = %url,
                error.class = failure.kind.as_str(),
                error.message = %failure.detail,
                attempt = attempts,
                "cannot connect to {what}, giving up at the deadline"
            );
            return Err(Error::new(
                failure.kind,
                format!(
                    "cannot connect to {url} within {timeout:?}: {}: {}",
                    failure.kind, failure.detail
                ),
            )
            .with_attempts(attempts));
        }
        let pause = jittered(delay).min(remaining);
        tracing::warn!(
            url = %url,
            error.class = failure.kind.as_str(),
            error.message = %failure.detail,
            attempt = attempts,
            next_delay = ?pause,
            "cannot connect to {what} yet, retrying"
        );
        tokio::time::sleep(pause).await;
        delay = next_delay(delay);
    }
}

/// Runs one health check within `timeout`: `Ok` when `check` succeeds in time, else an error
/// of the class `classify` gives (or [`ErrorKind::TimedOut`]).
pub(crate) async fn health_check<E: std::fmt::Display>(
    timeout: Duration,
    check: impl Future<Output = Result<(), E>>,
    classify: impl FnOnce(&E) -> ErrorKind,
) -> Result<(), Error> {
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            let kind = classify(&e);
            // A check has no URL at hand to scrub the driver's message with: the secrets
            // every `ServiceUrl` registered, and any URL in the text, are hidden instead.
            let message = format!("health check failed: {kind}: {e}");
            let message = dozen_redact::secrets().mask(&message).into_owned();
            Err(Error::new(kind, dozen_redact::redact_urls(&message)))
        }
        Err(_) => Err(Error::new(
            ErrorKind::TimedOut,
            format!("health check failed: no answer within {timeout:?}"),
        )),
    }
}

/// The class of an I/O error met while connecting.
pub(crate) fn classify_io(error: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match error.kind() {
        // A Unix socket that does not exist yet is a server that has not started yet.
        Io::ConnectionRefused | Io::NotFound | Io::AddrNotAvailable => ErrorKind::Refused,
        Io::TimedOut => ErrorKind::TimedOut,
        Io::ConnectionReset
        | Io::ConnectionAborted
        | Io::NotConnected
        | Io::BrokenPipe
        | Io::UnexpectedEof
        | Io::HostUnreachable
        | Io::NetworkUnreachable
        | Io::NetworkDown => ErrorKind::Network,
        _ if is_dns_failure(error) => ErrorKind::Dns,
        _ => ErrorKind::Other,
    }
}

/// The standard library reports a failed name lookup as an uncategorized I/O error
/// whose text starts with this.
fn is_dns_failure(error: &std::io::Error) -> bool {
    let text = error.to_string();
    text.contains("failed to lookup address")
        || text.contains("Name or service not known")
        || text.contains("nodename nor servname")
        || text.contains("Temporary failure in name resolution")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_whole_delay() {
        for ms in [1, 100, 5_000] {
            let delay = Duration::from_millis(ms);
            for _ in 0..100 {
                let pause = jittered(delay);
                assert!(
                    pause >= delay / 2 && pause <= delay,
                    "{pause:?} for {delay:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// No duration, however large, panics the retry loop's arithmetic.
        #[test]
        fn retry_arithmetic_never_panics(
            secs in proptest::prelude::any::<u64>(),
            nanos in 0_u32..1_000_000_000,
            elapsed_secs in proptest::prelude::any::<u64>(),
        ) {
            let timeout = Duration::new(secs, nanos);
            let started = Instant::now();
            let deadline = deadline_of(started, timeout);
            if let Some(deadline) = deadline {
                proptest::prop_assert_eq!(deadline.duration_since(started), timeout);
            }
            let now = started.checked_add(Duration::from_secs(elapsed_secs)).unwrap_or(started);
            let remaining = remaining_at(deadline, now);
            proptest::prop_assert!(remaining <= timeout || deadline.is_none());
            let pause = jittered(timeout).min(remaining);
            proptest::prop_assert!(pause <= timeout);
            proptest::prop_assert!(next_delay(timeout) <= MAX_DELAY);
        }
    }

    #[test]
    fn io_errors_are_classified() {
        use std::io::{Error as E, ErrorKind as Io};
        let check = |e: E, kind: ErrorKind| assert_eq!(classify_io(&e), kind, "{e}");
        check(E::from(Io::ConnectionRefused), ErrorKind::Refused);
        check(E::from(Io::NotFound), ErrorKind::Refused);
        check(E::from(Io::ConnectionReset), ErrorKind::Network);
        check(E::from(Io::TimedOut), ErrorKind::TimedOut);
        check(
            E::other("failed to lookup address information: Name or service not known"),
            ErrorKind::Dns,
        );
        check(E::from(Io::PermissionDenied), ErrorKind::Other);
    }
}
