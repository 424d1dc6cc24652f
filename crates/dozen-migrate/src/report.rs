//! What a run reports: [`Progress`] while it runs, [`Report`] when it is done.

use std::time::Duration;

use refinery::{Migration, SchemaVersion};

/// What [`Migrator::apply_with`](crate::Migrator::apply_with) reports while it runs.
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Still waiting for another process's lock (every few seconds).
    Waiting {
        /// Who holds it, where the database can tell (a PostgreSQL backend
        /// pid and application name, a MySQL connection id).
        holder: Option<&'a str>,
        /// Time spent waiting so far.
        waited: Duration,
    },
    /// The lock is taken, after waiting this long for it.
    Locked {
        /// Time spent waiting for the lock.
        waited: Duration,
    },
    /// A migration is about to run.
    Applying {
        /// The migration.
        migration: &'a Migration,
    },
    /// A migration ran and its history row is written.
    Applied {
        /// The migration.
        migration: &'a Migration,
        /// How long it took, history row included.
        duration: Duration,
    },
}

/// One migration a run applied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// Its version.
    pub version: SchemaVersion,
    /// Its name.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The migrations applied, in order; empty when the schema was up to date
    /// (for example because another replica migrated it first).
    pub applied: Vec<Applied>,
    /// Time spent waiting for the lock.
    pub lock_wait: Duration,
    /// Applied versions newer than every embedded one, accepted with
    /// `MIGRATE_ALLOW_NEWER` (empty otherwise: they fail the run).
    pub newer: Vec<SchemaVersion>,
}
