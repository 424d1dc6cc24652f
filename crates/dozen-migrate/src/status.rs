//! [`Status`]: where every migration stands, compared with the embedded set.

use refinery::SchemaVersion;

use crate::error::{Error, Repr};
use crate::history::{self, Entry, State};

/// Where every migration stands: see [`Migrator::status`](crate::Migrator::status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub(crate) entries: Vec<Entry>,
    pub(crate) target: Option<SchemaVersion>,
    /// Whether applied migrations newer than `target` are accepted.
    pub(crate) allow_newer: bool,
    /// PostgreSQL indexes marked INVALID (a failed `CREATE INDEX CONCURRENTLY`).
    pub(crate) invalid_indexes: Vec<String>,
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

    /// The applied versions newer than every embedded one: a newer release
    /// ran them (see `MIGRATE_ALLOW_NEWER`).
    pub fn newer(&self) -> impl Iterator<Item = &Entry> {
        history::newer(&self.entries, self.target).into_iter()
    }

    /// PostgreSQL indexes marked INVALID, as `schema.name` where the schema
    /// is not `public`: what a failed (or still running) `CREATE INDEX
    /// CONCURRENTLY` leaves. Each one stops `validate` and a run of a
    /// non-transactional migration until it is dropped.
    #[must_use]
    pub fn invalid_indexes(&self) -> &[String] {
        &self.invalid_indexes
    }

    /// True when everything embedded is applied, unchanged, nothing else is
    /// (newer migrations too, when they are accepted), and no index is INVALID.
    #[must_use]
    pub fn is_up_to_date(&self) -> bool {
        self.invalid_indexes.is_empty()
            && self.entries.iter().all(|e| match e.state {
                State::Applied { .. } => true,
                State::Unknown => self.allow_newer && self.target.is_none_or(|t| e.version > t),
                _ => false,
            })
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
    /// half-applied migration, newer migrations unless they are accepted, an
    /// INVALID index.
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
            .or_else(|| history::blocking_error(&self.entries, self.target, self.allow_newer))
            .or_else(|| {
                self.invalid_indexes.first().map(|index| {
                    Error::from(Repr::InvalidIndex {
                        index: index.clone(),
                    })
                })
            })
    }
}
