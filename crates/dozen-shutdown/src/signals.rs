//! The signal thread: the first SIGTERM, SIGINT or SIGQUIT starts shutdown;
//! another one during shutdown ends the process at once.

use std::sync::Arc;
use std::thread;

use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::Error;
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
/// even when every worker is blocked.
pub(crate) fn install(inner: Arc<Inner>) -> Result<(), Error> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGQUIT]).map_err(|source| Error::Setup {
        what: "signal handlers",
        source,
    })?;
    thread::Builder::new()
        .name("dozen-shutdown-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if inner.is_triggered() {
                    let code = 128 + signal;
                    tracing::warn!(
                        phase = "forced",
                        elapsed_ms = u64::try_from(inner.elapsed().as_millis()).unwrap_or(u64::MAX),
                        tasks = inner.tasks_in_flight(),
                        signal = name(signal),
                        code,
                        "second signal during shutdown; exiting now"
                    );
                    inner.before_forced_exit();
                    std::process::exit(code);
                }
                inner.trigger_signal(signal);
            }
        })
        .map_err(|source| Error::Setup {
            what: "the signal thread",
            source,
        })?;
    Ok(())
}
