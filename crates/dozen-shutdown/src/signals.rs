//! The signal thread: the first SIGTERM, SIGINT or SIGQUIT starts shutdown
//! (or joins one already started from code); a second OS signal ends the
//! process at once.

use std::thread;

use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::Error;

/// The signal's name for a log line.
pub(crate) fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        _ => "signal",
    }
}

/// Installs the handlers and starts the thread that reads them: it calls
/// `on_first` with the first signal and `on_second` with the second (which
/// is expected to end the process).
///
/// The thread is not a runtime worker, so a second signal ends the process
/// even when every worker is blocked. Only OS signals count towards the
/// second one: after [`Shutdown::trigger`](crate::Shutdown::trigger) or a
/// failed task, the first SIGTERM still lets the drain and teardown run.
pub(crate) fn install(
    on_first: impl FnOnce(i32) + Send + 'static,
    on_second: impl FnOnce(i32) + Send + 'static,
) -> Result<(), Error> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGQUIT])
        .map_err(|source| Error::setup("the signal handlers", source))?;
    thread::Builder::new()
        .name("dozen-shutdown-signals".into())
        .spawn(move || {
            let mut forever = signals.forever();
            if let Some(first) = forever.next() {
                on_first(first);
            }
            if let Some(second) = forever.next() {
                on_second(second);
            }
        })
        .map_err(|source| Error::setup("the signal thread", source))?;
    Ok(())
}
