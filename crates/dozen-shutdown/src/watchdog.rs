//! The watchdog: an OS thread that ends the process at the deadline.

use std::sync::Arc;
use std::thread;
use std::time::Instant;

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
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                thread::sleep(deadline - now);
            }
            let running = inner.running_tasks();
            tracing::error!(
                phase = "watchdog",
                elapsed_ms = u64::try_from(inner.elapsed().as_millis()).unwrap_or(u64::MAX),
                tasks = running.len(),
                running = ?running,
                code = exit_code::DEADLINE_EXCEEDED,
                "shutdown deadline passed; ending the process"
            );
            inner.before_forced_exit();
            std::process::exit(i32::from(exit_code::DEADLINE_EXCEEDED));
        });
    if let Err(error) = started {
        tracing::error!(%error, "could not start the shutdown watchdog");
    }
}
