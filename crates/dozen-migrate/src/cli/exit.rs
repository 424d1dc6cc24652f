//! Exit codes: what a Kubernetes Job or an init container acts on.

use crate::error::{Error, ErrorKind};
use crate::status::Status;

/// Done.
pub(super) const SUCCESS: u8 = 0;
/// A migration failed, the database is unreachable, or a deadline passed.
pub(super) const FAILURE: u8 = 1;
/// The arguments are wrong.
pub(super) const USAGE: u8 = 2;
/// `status --check` or `validate` found the schema not as embedded (or a
/// run refused to start for that reason).
pub(super) const CHECK_FAILED: u8 = 3;
/// A MySQL/MariaDB migration is half applied and needs `repair`.
pub(super) const DIRTY: u8 = 4;

/// The exit code of a command that failed with `error`.
pub(super) fn of_error(error: &Error) -> u8 {
    match error.kind() {
        ErrorKind::Usage => USAGE,
        ErrorKind::Dirty => DIRTY,
        ErrorKind::Divergent
        | ErrorKind::UnknownVersion
        | ErrorKind::OutOfOrder
        | ErrorKind::NewerVersions
        | ErrorKind::InvalidIndex => CHECK_FAILED,
        _ => FAILURE,
    }
}

/// The exit code of `status`: with `--check`, anything but an up-to-date
/// schema fails, a half-applied migration with its own code.
pub(super) fn of_status(status: &Status, check: bool) -> u8 {
    if !check || status.is_up_to_date() {
        SUCCESS
    } else if status
        .problem()
        .is_some_and(|e| e.kind() == ErrorKind::Dirty)
    {
        DIRTY
    } else {
        CHECK_FAILED
    }
}
