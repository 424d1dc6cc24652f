//! [`Status`]: where every migration stands, compared with the embedded set.

use refinery::SchemaVersion;

use crate::error::{Error, Repr};
use crate::history::{self, Entry, State};

/// Where every migration stands: see [`Migrator::status`](crate::Migrator::status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub(crate) entries: Vec<Entry>,
    pub(crate) target: Option<SchemaVersion>,
}

impl Status {
    /// Every migration, embedded or recorded, in version order.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The migrations the next run would apply, in order: the dry run.
    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Pending))
    }

    /// The newest applied version.
    #[must_use]
    pub fn current_version(&self) -> Option<SchemaVersion> {
        self.entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    State::Applied { .. } | State::Divergent { .. } | State::Unknown
                )
            })
            .map(|e| e.version)
            .max()
    }

    /// The newest embedded version.
    #[must_use]
    pub fn target_version(&self) -> Option<SchemaVersion> {
        self.target
    }

    /// True when everything embedded is applied, unchanged, and nothing else is.
    #[must_use]
    pub fn is_up_to_date(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, State::Applied { .. }))
    }

    /// True when every embedded migration is applied unchanged; the database
    /// may hold newer migrations from a later release.
    #[must_use]
    pub fn has_reached_target(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, State::Applied { .. } | State::Unknown))
    }

    /// The first problem that stops a run: divergent, unknown, out-of-order or
    /// half-applied migration.
    #[must_use]
    pub fn problem(&self) -> Option<Error> {
        self.entries
            .iter()
            .find_map(|e| match &e.state {
                State::InProgress { started_on } => Some(Error::from(Repr::Dirty {
                    version: e.version,
                    name: e.name.clone(),
                    started_on: started_on.clone(),
                })),
                _ => None,
            })
            .or_else(|| history::blocking_error(&self.entries))
    }
}
