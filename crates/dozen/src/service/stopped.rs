//! [`Stopped`]: the error of a start-up step that shutdown interrupted, and
//! [`Phases`], which says once where start-up stopped.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Shutdown began while a start-up step (`phase`) was running: the step was
/// dropped where it stood, and the step's caller ends without running what
/// came after. Not a failure: the process exits with its shutdown's code.
#[derive(Debug)]
pub(crate) struct Stopped {
    pub(crate) phase: &'static str,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shutdown began during start-up ({})", self.phase)
    }
}

impl std::error::Error for Stopped {}

/// The start-up phase a process is in, so that the one line saying where
/// shutdown stopped it names the innermost phase (`connect` within the web
/// function's `start`), whichever race notices the signal first. Cheap to
/// clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Phases {
    /// The phase running, and whether the stop has been logged.
    state: Arc<Mutex<(Option<&'static str>, bool)>>,
}

impl Phases {
    #[cfg_attr(
        not(dozen_database),
        allow(dead_code, reason = "used by the database's start-up")
    )]
    fn enter(&self, phase: &'static str) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).0 = Some(phase);
    }

    /// Whether shutdown stopped start-up. Asked when a step returns an
    /// error, instead of the error's type: the app may have wrapped the
    /// [`Stopped`] it got (in a string, which keeps no source), and a stop
    /// is still not a failure.
    pub(crate) fn were_stopped(&self) -> bool {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1
    }

    /// Logs, once, that shutdown stopped start-up in the phase running
    /// (`outer` when no inner one is).
    pub(crate) fn stopped(&self, outer: &'static str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.1 {
            state.1 = true;
            let phase = state.0.unwrap_or(outer);
            tracing::info!(phase, "shutdown began during start-up; stopping there");
        }
    }
}

/// Runs start-up step `work` (`phase` names it in the log) unless shutdown
/// begins first: then `work` is dropped where it stands, the log says so
/// (once, through `phases`), and the error is [`Stopped`]. When both
/// happen, shutdown wins.
#[cfg_attr(
    not(dozen_database),
    allow(dead_code, reason = "used by the database's start-up")
)]
pub(crate) async fn unless_shutdown<T>(
    shutdown: &dozen_shutdown::Shutdown,
    phases: &Phases,
    phase: &'static str,
    work: impl Future<Output = T>,
) -> Result<T, Stopped> {
    phases.enter(phase);
    match shutdown.run_until_shutdown(work).await {
        Some(done) => Ok(done),
        None => {
            phases.stopped(phase);
            Err(Stopped { phase })
        }
    }
}

/// Holds the drain open while the web start-up runs, so that the line
/// saying where shutdown stopped it comes before `shutdown finished`: a
/// tracked task (`start-up`) that ends when this is dropped.
pub(crate) struct Starting {
    _held: tokio::sync::oneshot::Sender<()>,
}

impl Starting {
    pub(crate) fn new(shutdown: &dozen_shutdown::Shutdown) -> Self {
        let (held, released) = tokio::sync::oneshot::channel::<()>();
        shutdown.spawn("start-up", async move {
            // Dropping the sender is the release.
            let _ = released.await;
        });
        Self { _held: held }
    }
}
