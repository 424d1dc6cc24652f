use std::time::Duration;

use refinery::SchemaVersion;

/// Why a migration run, a status query or a command failed.
///
/// Messages name the migration version and the table involved; they never
/// contain a database URL or a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be reached or refused a statement outside a migration.
    #[error("database error while {action}")]
    #[non_exhaustive]
    Database {
        /// What dozen-migrate was doing, such as `"reading the migration history"`.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// The database could not be connected to.
    #[error("cannot connect to the database")]
    #[non_exhaustive]
    Connect {
        /// dozen-backing's error, which names the URL with its password hidden.
        #[source]
        source: dozen_backing::Error,
    },

    /// A migration's SQL (or the history row written with it) failed.
    #[error("migration V{version}__{name} failed")]
    #[non_exhaustive]
    MigrationFailed {
        /// The version of the migration that failed.
        version: SchemaVersion,
        /// Its name.
        name: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// The embedded migrations are not a valid set (two files share a version).
    #[error("embedded migrations are invalid: migration version {version} appears more than once")]
    #[non_exhaustive]
    RepeatedVersion {
        /// The version that appears more than once.
        version: SchemaVersion,
    },

    /// The history table name is not a plain SQL identifier.
    #[error(
        "migration table name is invalid: use ASCII letters, digits and `_`, optionally one `.` between schema and table"
    )]
    InvalidTableName,

    /// A part of the history table name is a word PostgreSQL, MySQL/MariaDB
    /// or SQLite reserve (such as `user`, `order`, `select`), which no
    /// statement could name unquoted.
    #[error(
        "migration table name is invalid: `{word}` is a reserved SQL word (choose another name, such as `{word}_history`)"
    )]
    #[non_exhaustive]
    ReservedTableName {
        /// The reserved part, as given.
        word: String,
    },

    /// The database holds a migration with the same version as an embedded one
    /// but a different name or checksum: the migration file was edited after it ran.
    #[error(
        "migration V{version} diverges: the database applied `{applied_name}`, this binary embeds `{embedded_name}` with a different name or checksum"
    )]
    #[non_exhaustive]
    Divergent {
        /// The version in question.
        version: SchemaVersion,
        /// The name recorded in the history table.
        applied_name: String,
        /// The name of the embedded migration.
        embedded_name: String,
    },

    /// The database holds a migration this binary does not embed (a newer
    /// release migrated it, or a file was deleted).
    #[error(
        "migration V{version}__{name} is applied in the database but not embedded in this binary"
    )]
    #[non_exhaustive]
    Unknown {
        /// The version recorded in the history table.
        version: SchemaVersion,
        /// The name recorded in the history table.
        name: String,
    },

    /// An embedded versioned migration is older than the newest applied one but
    /// was never applied (refinery refuses to apply migrations out of order).
    #[error(
        "migration V{version}__{name} was never applied but is older than the newest applied migration"
    )]
    #[non_exhaustive]
    OutOfOrder {
        /// The embedded migration's version.
        version: SchemaVersion,
        /// The embedded migration's name.
        name: String,
    },

    /// A migration on MySQL/MariaDB was started but never recorded as finished:
    /// it failed or its process was killed, and its DDL may be half applied.
    #[error(
        "migration V{version}__{name} was started at {started_on} and never finished: its DDL may be half applied \
         (MySQL/MariaDB commit DDL statement by statement); check which of its statements took effect, complete or \
         undo them by hand, then run `migrate repair {version} --applied` or `migrate repair {version} --not-applied`"
    )]
    #[non_exhaustive]
    Dirty {
        /// The version that was in progress.
        version: SchemaVersion,
        /// Its name.
        name: String,
        /// When it was started (RFC 3339).
        started_on: String,
    },

    /// `repair` was asked to resolve a version that is not marked in progress.
    #[error("migration V{version} is not marked in progress{}", match marked {
        Some(v) => format!(" (V{v} is)"),
        None => String::from(" (nothing is)"),
    })]
    #[non_exhaustive]
    NotInProgress {
        /// The version the operator named.
        version: SchemaVersion,
        /// The version actually marked in progress, if any.
        marked: Option<SchemaVersion>,
    },

    /// `repair --applied` named a version this binary does not embed.
    #[error("migration V{version} is not embedded in this binary")]
    #[non_exhaustive]
    NotEmbedded {
        /// The version the operator named.
        version: SchemaVersion,
    },

    /// Another process held the migration lock past the deadline.
    #[error("timed out after {waited:?} waiting for the migration lock{}", holder_suffix(holder.as_deref()))]
    #[non_exhaustive]
    LockTimeout {
        /// How long this process waited.
        waited: Duration,
        /// Who held the lock when the deadline passed, if the database says.
        holder: Option<String>,
    },

    /// `wait` reached its deadline before the schema reached the embedded version.
    #[error("timed out after {waited:?} waiting for the schema to reach version {target}{}", match current {
        Some(v) => format!(" (it is at {v})"),
        None => String::from(" (no migration is applied)"),
    })]
    #[non_exhaustive]
    WaitTimeout {
        /// How long this process waited.
        waited: Duration,
        /// The newest applied version when the deadline passed.
        current: Option<SchemaVersion>,
        /// The newest embedded version.
        target: SchemaVersion,
    },

    /// A database URL names a scheme this build does not support.
    #[error("unsupported database URL scheme `{scheme}` (this build supports: {enabled})")]
    #[non_exhaustive]
    UnsupportedScheme {
        /// The scheme, without anything after it.
        scheme: String,
        /// The schemes this build supports.
        enabled: &'static str,
    },
}

fn holder_suffix(holder: Option<&str>) -> String {
    holder.map_or_else(String::new, |h| format!(" (held by {h})"))
}

impl Error {
    pub(crate) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }

    /// The migration version this error is about, if it is about one.
    #[must_use]
    pub fn version(&self) -> Option<SchemaVersion> {
        match self {
            Self::MigrationFailed { version, .. }
            | Self::RepeatedVersion { version }
            | Self::Divergent { version, .. }
            | Self::Unknown { version, .. }
            | Self::OutOfOrder { version, .. }
            | Self::Dirty { version, .. }
            | Self::NotInProgress { version, .. }
            | Self::NotEmbedded { version } => Some(*version),
            _ => None,
        }
    }
}
