//! The exit codes of a process run by [`Service::run`](super::Service::run),
//! in one table.
//!
//! | code | when |
//! |---:|---|
//! | 0 | [`CLEAN`]: a graceful stop (also after a signal during start-up), `--help`, `--version`, `config` |
//! | 1 | [`START_FAILED`]: start-up failed (the port could not be bound, the web function returned an error, the runtime could not start) |
//! | 2 | [`USAGE`]: unknown command or argument; the usage is on stderr |
//! | 69 | `jobs` only: the job queue could not be opened, or its store failed (`EX_UNAVAILABLE`) |
//! | 70 | [`TASK_FAILED`]: a process type's function, or another tracked task, returned an error or panicked; or the runtime made no progress for [`WEDGED_AFTER`](super::WEDGED_AFTER) |
//! | 78 | [`CONFIG`]: invalid configuration; every problem is listed on stderr, nothing on stdout |
//! | 124 | [`DEADLINE_EXCEEDED`]: shutdown overran `SHUTDOWN_TIMEOUT` or a teardown budget |
//! | 130, 131, 143 | [`FORCED_SIGINT`], [`FORCED_SIGQUIT`], [`FORCED_SIGTERM`]: a second signal during shutdown ended the process at once (128 + signal); 143 also for `migrate` and `jobs` stopped by a signal, so a stopped Job never counts as done |

pub use dozen_shutdown::exit_code::{
    CLEAN, DEADLINE_EXCEEDED, FORCED_SIGINT, FORCED_SIGQUIT, FORCED_SIGTERM, TASK_FAILED,
};

/// Start-up failed.
pub const START_FAILED: u8 = 1;
/// Unknown command or argument (as shells and `sysexits.h`'s `EX_USAGE`
/// neighbours use 2).
pub const USAGE: u8 = 2;
/// Invalid configuration (`EX_CONFIG` in `sysexits.h`).
pub const CONFIG: u8 = 78;
