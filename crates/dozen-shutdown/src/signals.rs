//! The signal thread: the first SIGTERM, SIGINT or SIGQUIT starts shutdown
//! (or joins one already started from code); a second OS signal ends the
//! process at once.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::thread;

use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::low_level::pipe;

use crate::Error;

/// The signals that start shutdown, and a second of which ends the process.
const SIGNALS: [i32; 3] = [SIGTERM, SIGINT, SIGQUIT];

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
/// Deliveries are counted, not signals: signal-hook's [`Signals`] keeps one
/// pending flag per signal, so a second SIGTERM that arrives before the
/// thread has read the first (`kill -TERM $pid; kill -TERM $pid`) would merge
/// into it. Each delivery also sends one datagram on a socket pair, which
/// datagrams never merge; [`Signals`] then tells which signal it was.
///
/// The thread is not a runtime worker, so a second signal ends the process
/// even when every worker is blocked. Only OS signals count towards the
/// second one: after [`Shutdown::trigger`](crate::Shutdown::trigger) or a
/// failed task, the first SIGTERM still lets the drain and teardown run.
pub(crate) fn install(
    on_first: impl FnOnce(i32) + Send + 'static,
    on_second: impl FnOnce(i32) + Send + 'static,
) -> Result<(), Error> {
    // Registered first, so that its flag is set when the datagram of the
    // same delivery arrives (signal-hook runs actions in registration order).
    let mut signals =
        Signals::new(SIGNALS).map_err(|source| Error::setup("the signal handlers", source))?;
    let (deliveries, sender) =
        UnixDatagram::pair().map_err(|source| Error::setup("the signal socket", source))?;
    for signal in SIGNALS {
        let sender = sender
            .try_clone()
            .map_err(|source| Error::setup("the signal socket", source))?;
        pipe::register(signal, sender)
            .map_err(|source| Error::setup("the signal handlers", source))?;
    }
    thread::Builder::new()
        .name("dozen-shutdown-signals".into())
        .spawn(move || {
            let mut arrived = VecDeque::new();
            let mut last = None;
            let mut next = || {
                let mut byte = [0_u8; 1];
                loop {
                    match deliveries.recv(&mut byte) {
                        // Registering sends an empty datagram, to tell a
                        // socket from a pipe; a delivery sends one byte.
                        Ok(0) => {}
                        Ok(_) => break,
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return None,
                    }
                }
                arrived.extend(signals.pending());
                // None pending: a second delivery of the signal whose flag
                // was read with the first.
                last = arrived.pop_front().or(last);
                last
            };
            if let Some(first) = next() {
                on_first(first);
            }
            if let Some(second) = next() {
                on_second(second);
            }
        })
        .map_err(|source| Error::setup("the signal thread", source))?;
    Ok(())
}
