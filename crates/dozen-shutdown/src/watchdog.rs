//! The watchdog: an OS thread that ends the process at the deadline.

use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crate::duration::millis;
use crate::exit_code;
use crate::shutdown::Inner;

/// Starts the watchdog for a shutdown that began now and must end by `deadline`.
///
/// It runs outside the async runtime, so neither a stuck future nor a
/// `spawn_blocking` task (which the runtime waits for when dropped) can keep
/// the process alive past the deadline.
pub(crate) fn spawn(inner: Arc<Inner>, deadline: Instant) {
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
            let report = Arc::clone(&inner);
            inner.forced_exit(i32::from(exit_code::DEADLINE_EXCEEDED), move || {
                let running = report.running_tasks();
                tracing::error!(
                    phase = "watchdog",
                    elapsed_ms = millis(report.elapsed()),
                    tasks = running.len(),
                    running = ?running,
                    code = exit_code::DEADLINE_EXCEEDED,
                    "shutdown deadline passed; ending the process"
                );
            });
        });
    if let Err(error) = started {
        tracing::error!(%error, "could not start the shutdown watchdog");
    }
}
