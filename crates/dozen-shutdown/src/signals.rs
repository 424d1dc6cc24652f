//! The signal thread: the first SIGTERM, SIGINT or SIGQUIT starts shutdown
//! (or joins one already started from code); a second OS signal ends the
//! process at once.

use std::sync::Arc;
use std::thread;

use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::Error;
use crate::duration::millis;
use crate::shutdown::Inner;

pub(crate) fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        _ => "signal",
    }
}

/// Installs the handlers and starts the thread that reads them.
///
/// The thread is not a runtime worker, so a second signal ends the process
/// even when every worker is blocked. Only OS signals count towards the
/// second one: after [`Shutdown::trigger`](crate::Shutdown::trigger) or a
/// failed task, the first SIGTERM still lets the drain and teardown run.
pub(crate) fn install(inner: Arc<Inner>) -> Result<(), Error> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGQUIT]).map_err(|source| Error::Setup {
        what: "signal handlers",
        source,
    })?;
    thread::Builder::new()
        .name("dozen-shutdown-signals".into())
        .spawn(move || {
            let mut signalled = false;
            for signal in signals.forever() {
                if signalled {
                    let code = 128 + signal;
                    let report = Arc::clone(&inner);
                    inner.forced_exit(code, move || {
                        tracing::warn!(
                            phase = "forced",
                            elapsed_ms = millis(report.elapsed()),
                            tasks = report.tasks_in_flight(),
                            signal = name(signal),
                            code,
                            "second signal during shutdown; exiting now"
                        );
                    });
                }
                signalled = true;
                inner.trigger_signal(signal);
            }
        })
        .map_err(|source| Error::Setup {
            what: "the signal thread",
            source,
        })?;
    Ok(())
}
