//! Liveness for a wedged runtime: a heartbeat task on the runtime and a
//! thread of its own that watches it. When the runtime makes no progress
//! for [`WEDGED_AFTER`] (every worker blocked by a handler that blocks, a
//! deadlock), no probe could be answered anyway: the process logs it,
//! flushes its logs and exits 70, and Kubernetes restarts it at once
//! instead of after its liveness probe's failure threshold.

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
                let silent = Duration::from_millis(millis().saturating_sub(beat.load(Ordering::Acquire)));
                if silent > WEDGED_AFTER && !watching.load(Ordering::Acquire) {
                    tracing::error!(
                        silent_ms = u64::try_from(silent.as_millis()).unwrap_or(u64::MAX),
                        "the async runtime made no progress (a blocking call on every worker?); exiting"
                    );
                    flush();
                    std::process::exit(i32::from(exit_code::TASK_FAILED));
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no watchdog thread: a wedged runtime will not be noticed");
    }
    Watchdog { stopped }
}
