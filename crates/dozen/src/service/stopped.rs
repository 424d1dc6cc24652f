//! [`Stopped`]: the error of a start-up step that shutdown interrupted.

use std::fmt;

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

/// Runs start-up step `work` (`phase` names it in the log) unless shutdown
/// begins first: then `work` is dropped where it stands, the log says so,
/// and the error is [`Stopped`]. When both happen, shutdown wins.
#[cfg_attr(
    not(dozen_database),
    allow(dead_code, reason = "used by the database's start-up")
)]
pub(crate) async fn unless_shutdown<T>(
    shutdown: &dozen_shutdown::Shutdown,
    phase: &'static str,
    work: impl Future<Output = T>,
) -> Result<T, Stopped> {
    match shutdown.run_until_shutdown(work).await {
        Some(done) => Ok(done),
        None => {
            tracing::info!(phase, "shutdown began during start-up; stopping there");
            Err(Stopped { phase })
        }
    }
}

/// Whether `error` is a [`Stopped`].
pub(crate) fn is_stopped(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<Stopped>()
}
