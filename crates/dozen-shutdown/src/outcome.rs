use std::fmt;
use std::process::{ExitCode, Termination};

/// Exit codes used by this crate, as a table in one place.
///
/// | code | meaning |
/// |---:|---|
/// | 0 | [`CLEAN`](exit_code::CLEAN): graceful stop, every phase within its budget |
/// | 70 | [`TASK_FAILED`](exit_code::TASK_FAILED): shutdown was started by a failed or panicked task (`EX_SOFTWARE` in `sysexits.h`) |
/// | 124 | [`DEADLINE_EXCEEDED`](exit_code::DEADLINE_EXCEEDED): the deadline or a hook's budget ran out (the code `timeout(1)` uses) |
/// | 128 + signal | forced by a second OS signal during shutdown: 130 for SIGINT, 131 for SIGQUIT, 143 for SIGTERM |
pub mod exit_code {
    /// A clean graceful stop.
    pub const CLEAN: u8 = 0;
    /// Shutdown was started by a failed or panicked task, or by
    /// [`Shutdown::trigger_failure`](crate::Shutdown::trigger_failure).
    pub const TASK_FAILED: u8 = 70;
    /// The overall deadline passed (the watchdog ended the process, or tasks
    /// were still running when the drain budget ran out), or a teardown hook
    /// overran its budget.
    pub const DEADLINE_EXCEEDED: u8 = 124;
    /// A second SIGINT during shutdown (128 + 2).
    pub const FORCED_SIGINT: u8 = 130;
    /// A second SIGQUIT during shutdown (128 + 3).
    pub const FORCED_SIGQUIT: u8 = 131;
    /// A second SIGTERM during shutdown (128 + 15).
    pub const FORCED_SIGTERM: u8 = 143;
}

/// How a shutdown ended, returned by [`Shutdown::wait`](crate::Shutdown::wait).
///
/// Return it from `main` (it implements [`Termination`]) or convert it into
/// an [`ExitCode`]. A forced exit by a second signal and the watchdog's exit
/// end the process directly and are never returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Every phase finished within its budget: exit code 0.
    Clean,
    /// Shutdown was started by a failed or panicked task: exit code 70.
    TaskFailed,
    /// Tasks were still running when the drain budget ran out, or a teardown
    /// hook overran its budget: exit code 124.
    DeadlineExceeded,
}

impl Outcome {
    /// The process exit code for this outcome.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Clean => exit_code::CLEAN,
            Self::TaskFailed => exit_code::TASK_FAILED,
            Self::DeadlineExceeded => exit_code::DEADLINE_EXCEEDED,
        }
    }

    /// Whether this is [`Outcome::Clean`].
    #[must_use]
    pub const fn is_clean(self) -> bool {
        matches!(self, Self::Clean)
    }

    /// Ends the process now with [`code`](Self::code), without waiting for
    /// the async runtime to shut down (which waits for every `spawn_blocking`
    /// task).
    pub fn exit(self) -> ! {
        std::process::exit(i32::from(self.code()))
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::TaskFailed => "task failed",
            Self::DeadlineExceeded => "deadline exceeded",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        Self::from(outcome.code())
    }
}

impl Termination for Outcome {
    fn report(self) -> ExitCode {
        self.into()
    }
}
