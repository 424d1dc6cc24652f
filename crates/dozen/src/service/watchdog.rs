//! Liveness for a wedged runtime: a heartbeat task on the runtime and a
//! thread of its own that watches it. When the runtime makes no progress
//! for [`WEDGED_AFTER`] (every worker blocked by a handler that blocks, a
//! deadlock, a standard output that nobody reads), no probe could be answered
//! anyway: the process logs it, flushes its logs and exits 70, and Kubernetes
//! restarts it at once instead of after its liveness probe's failure threshold.
//! Writing that line never holds up the exit by more than
//! [`FLUSH_TIMEOUT`](dozen_log::FLUSH_TIMEOUT).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::exit_code;

/// How long the runtime may make no progress before the process exits 70:
/// 10 s, far above any scheduling delay of a healthy runtime.
pub const WEDGED_AFTER: Duration = Duration::from_secs(10);

/// How often the heartbeat task beats.
const BEAT: Duration = Duration::from_millis(100);
/// How often the watchdog thread looks.
const LOOK: Duration = Duration::from_millis(500);

/// The watchdog of a runtime; dropping it stops the thread's watch.
pub(crate) struct Watchdog {
    stopped: Arc<AtomicBool>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Release);
    }
}

/// Starts the heartbeat on `runtime` and the thread that watches it;
/// `flush` runs before the exit.
pub(crate) fn start(
    runtime: &tokio::runtime::Runtime,
    flush: impl Fn() + Send + 'static,
) -> Watchdog {
    let origin = Instant::now();
    let millis = move || u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX);
    let beat = Arc::new(AtomicU64::new(millis()));
    let stopped = Arc::new(AtomicBool::new(false));
    let beating = Arc::clone(&beat);
    runtime.spawn(async move {
        loop {
            beating.store(millis(), Ordering::Release);
            tokio::time::sleep(BEAT).await;
        }
    });
    let watching = Arc::clone(&stopped);
    let spawned = std::thread::Builder::new()
        .name("dozen-watchdog".to_owned())
        .spawn(move || {
            while !watching.load(Ordering::Acquire) {
                std::thread::sleep(LOOK);
                let silent =
                    Duration::from_millis(millis().saturating_sub(beat.load(Ordering::Acquire)));
                if silent > WEDGED_AFTER && !watching.load(Ordering::Acquire) {
                    exit_wedged(silent, flush);
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no watchdog thread: a wedged runtime will not be noticed");
    }
    Watchdog { stopped }
}

/// What the watchdog says when it ends the process.
const WEDGED: &str =
    "the async runtime made no progress (a blocking call on every worker?); exiting";

/// Logs why, flushes and exits 70, whatever the state of the output.
///
/// The runtime may be wedged by the output itself: with standard output a pipe
/// that nobody reads, every worker blocks writing a line while holding its lock,
/// and so would the watchdog. So the line is written and flushed on a thread of
/// its own, waited for at most [`FLUSH_TIMEOUT`](dozen_log::FLUSH_TIMEOUT); when
/// it does not get through, the reason goes to standard error (waited for
/// briefly too), and the process exits either way.
fn exit_wedged(silent: Duration, flush: impl Fn() + Send + 'static) -> ! {
    let silent_ms = u64::try_from(silent.as_millis()).unwrap_or(u64::MAX);
    let logged = within(dozen_log::FLUSH_TIMEOUT, "dozen-watchdog-log", move || {
        tracing::error!(silent_ms, "{WEDGED}");
        flush();
    });
    if !logged {
        within(STDERR_WAIT, "dozen-watchdog-stderr", move || {
            let line = format!(
                "{{\"severity\":\"ERROR\",\"message\":\"{WEDGED}\",\"silent_ms\":{silent_ms},\
                 \"stdout\":\"blocked: the line above could not be written\"}}\n"
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        });
    }
    std::process::exit(i32::from(exit_code::TASK_FAILED))
}

/// How long the watchdog waits for its line on standard error.
const STDERR_WAIT: Duration = Duration::from_millis(500);

/// Runs `work` on a thread named `name` and waits for it at most `wait`:
/// whether it finished in time. A thread that cannot be started counts as not.
fn within(wait: Duration, name: &str, work: impl FnOnce() + Send + 'static) -> bool {
    let (done, finished) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            work();
            let _ = done.send(());
        });
    spawned.is_ok() && finished.recv_timeout(wait).is_ok()
}
