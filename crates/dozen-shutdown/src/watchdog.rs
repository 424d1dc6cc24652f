//! The watchdog: an OS thread that ends the process at the deadline.

use std::thread;
use std::time::Instant;

/// Starts the watchdog: `on_deadline` runs on its own thread at `deadline`
/// (and is expected to end the process).
///
/// It runs outside the async runtime, so neither a stuck future nor a
/// `spawn_blocking` task (which the runtime waits for when dropped) can keep
/// the process alive past the deadline.
pub(crate) fn spawn(deadline: Instant, on_deadline: impl FnOnce() + Send + 'static) {
    let started = thread::Builder::new()
        .name("dozen-shutdown-watchdog".into())
        .spawn(move || {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                thread::sleep(left);
            }
            on_deadline();
        });
    if let Err(error) = started {
        tracing::error!(%error, "could not start the shutdown watchdog");
    }
}
