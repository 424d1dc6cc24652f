//! [`Error`], opaque, and [`ErrorKind`], what a caller branches on.

use std::fmt;
use std::time::Duration;

use refinery::SchemaVersion;

/// Why a migration run, a status query or a command failed.
///
/// Branch on [`kind`](Self::kind); [`version`](Self::version) and
/// [`migration_name`](Self::migration_name) name the migration concerned,
/// [`var`](Self::var) the command-line flag. Messages are lower case and name
/// the migration version and the table involved; they never contain a
/// database URL, a password or the value of an argument.
pub struct Error(Box<Repr>);

/// What kind of failure an [`Error`] is: one variant per case a caller (or an
/// operator reading the exit code) acts on differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database could not be connected to (the URL is shown with its
    /// password hidden, in the error's source).
    Connect,
    /// The database URL names a scheme this build does not support.
    UnsupportedScheme,
    /// The database refused a statement outside a migration (reading the
    /// history, taking or releasing the lock).
    Database,
    /// A migration's SQL, or the history row written with it, failed; the
    /// migrations before it are applied and kept.
    MigrationFailed,
    /// The embedded migrations are not a valid set: two share a version.
    RepeatedVersion,
    /// The history table name is not a plain SQL identifier, or a part of it
    /// is a reserved SQL word.
    InvalidTableName,
    /// An applied migration has a different name or checksum than the
    /// embedded one of its version: the file was edited after it ran.
    Divergent,
    /// The database holds a migration this binary does not embed (a newer
    /// release migrated it, or a file was deleted).
    UnknownVersion,
    /// An embedded migration older than the newest applied one was never
    /// applied.
    OutOfOrder,
    /// A MySQL/MariaDB migration was started and never finished: its DDL may
    /// be half applied; fix it by hand and `repair` it.
    Dirty,
    /// `repair` named a version that is not marked in progress.
    NotInProgress,
    /// `repair --applied` named a version this binary does not embed.
    NotEmbedded,
    /// Another process held the migration lock past the lock timeout.
    LockTimeout,
    /// `wait` reached its deadline before the schema reached the embedded version.
    WaitTimeout,
    /// A command-line argument is wrong ([`Error::var`] names the flag).
    Usage,
    /// The database holds migrations newer than every embedded one (a newer
    /// release ran them, and this older one was rolled back to); accept them
    /// with `MIGRATE_ALLOW_NEWER` or `--allow-newer`.
    NewerVersions,
    /// PostgreSQL holds an INVALID index, left by a `CREATE INDEX
    /// CONCURRENTLY` that failed (or is still being built): drop it, then
    /// run the migration again.
    InvalidIndex,
    /// `baseline` was asked of a database that already has a history, or
    /// `adopt_sqlx` of one whose history records other migrations than sqlx's.
    HistoryExists,
    /// `--target` names a version below the newest applied one: migrations
    /// are never undone.
    TargetBelowCurrent,
    /// `adopt_sqlx` found no sqlx history: no `_sqlx_migrations` table (or
    /// the one named), or an empty one.
    NoSqlxHistory,
    /// `adopt_sqlx` found a sqlx migration recorded as failed (`success =
    /// false`): fix it with sqlx first.
    SqlxFailed,
    /// `adopt_sqlx` found sqlx's history and the embedded migrations apart: a
    /// version on one side only, a version too large for refinery, or SQL
    /// whose SHA-384 differs from sqlx's checksum.
    SqlxMismatch,
}

/// What went wrong, with its data; private, so that variants and fields can
/// change without a breaking release.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Repr {
    /// The database could not be reached or refused a statement outside a migration.
    #[error("database error while {action}")]
    Database {
        /// What dozen-migrate was doing, such as `"reading the migration history"`.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },

    /// The database could not be connected to.
    #[error("cannot connect to the database")]
    Connect {
        /// dozen-backing's error, which names the URL with its password hidden.
        #[source]
        source: dozen_backing::Error,
    },

    /// A migration's SQL (or the history row written with it) failed.
    #[error("migration V{version}__{name} failed")]
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
    ReservedTableName {
        /// The reserved part, as given.
        word: String,
    },

    /// The database holds a migration with the same version as an embedded one
    /// but a different name or checksum: the migration file was edited after it ran.
    #[error(
        "migration V{version} diverges: the database applied `{applied_name}`, this binary embeds `{embedded_name}` with a different name or checksum"
    )]
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
    NotInProgress {
        /// The version the operator named.
        version: SchemaVersion,
        /// The version actually marked in progress, if any.
        marked: Option<SchemaVersion>,
    },

    /// `repair --applied` named a version this binary does not embed.
    #[error("migration V{version} is not embedded in this binary")]
    NotEmbedded {
        /// The version the operator named.
        version: SchemaVersion,
    },

    /// Another process held the migration lock past the deadline.
    #[error("timed out after {waited:?} waiting for the migration lock{}", holder_suffix(holder.as_deref()))]
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
    UnsupportedScheme {
        /// The scheme, without anything after it.
        scheme: String,
        /// The schemes this build supports.
        enabled: &'static str,
    },

    /// The database holds migrations newer than every embedded one.
    #[error(
        "the database holds {} newer than this binary's latest ({}): {}; if the app was rolled back, \
         accept {} with MIGRATE_ALLOW_NEWER=true or --allow-newer",
        if versions.len() == 1 { "a migration" } else { "migrations" },
        latest.map_or_else(|| String::from("none"), |v| format!("V{v}")),
        versions.iter().map(|(v, n)| format!("V{v}__{n}")).collect::<Vec<_>>().join(", "),
        if versions.len() == 1 { "it" } else { "them" }
    )]
    Newer {
        /// The newer versions and their recorded names, in order.
        versions: Vec<(SchemaVersion, String)>,
        /// The newest embedded version.
        latest: Option<SchemaVersion>,
    },

    /// PostgreSQL holds an INVALID index.
    #[error(
        "index {index} is INVALID: a CREATE INDEX CONCURRENTLY failed or is still running; once no migration is \
         running, drop it with `DROP INDEX CONCURRENTLY {index}`, fix the cause (such as duplicate keys) and run \
         `migrate` again"
    )]
    InvalidIndex {
        /// The index, schema-qualified where it is not on the search path.
        index: String,
    },

    /// `baseline` on a database that already has a history.
    #[error(
        "baseline refused: the history table already records {count} migration{} (up to V{current}); \
         baseline is for a database with tables and no history",
        if *count == 1 { "" } else { "s" }
    )]
    HistoryExists {
        /// How many migrations the history records.
        count: usize,
        /// The newest of them.
        current: SchemaVersion,
    },

    /// `--target` below the newest applied version.
    #[error(
        "target V{target} is below the current version V{current}: migrations are never undone; \
         give V{current} or later"
    )]
    TargetBelowCurrent {
        /// The version asked for.
        target: SchemaVersion,
        /// The newest applied version.
        current: SchemaVersion,
    },

    /// `adopt_sqlx`: no sqlx history to adopt.
    #[error("adopt-sqlx refused: {}", if *missing {
        format!("there is no table `{table}` (sqlx's history); name sqlx's table if it has another name")
    } else {
        format!("`{table}` records no migration; there is nothing to adopt")
    })]
    NoSqlxHistory {
        /// sqlx's history table.
        table: String,
        /// Whether the table is missing (else empty).
        missing: bool,
    },

    /// `adopt_sqlx`: sqlx recorded a migration as failed.
    #[error(
        "adopt-sqlx refused: sqlx migration {version} ({description}) failed (success = false in `{table}`): \
         its changes may be half applied; complete or undo them by hand and resolve it with sqlx first"
    )]
    SqlxFailed {
        /// sqlx's history table.
        table: String,
        /// sqlx's version.
        version: i64,
        /// sqlx's description.
        description: String,
    },

    /// `adopt_sqlx`: a sqlx version that refinery's 32-bit versions cannot hold.
    #[error(
        "adopt-sqlx refused: sqlx migration {version} ({description}) does not fit refinery's 32-bit versions; \
         enable refinery's `int8-versions` feature in your refinery dependency"
    )]
    SqlxVersionTooLarge {
        /// sqlx's version.
        version: i64,
        /// sqlx's description.
        description: String,
    },

    /// `adopt_sqlx`: sqlx applied a migration this binary does not embed.
    #[error(
        "adopt-sqlx refused: sqlx migration {version} ({description}) is applied but not embedded in this binary \
         (embed it as V{version}__<name>.sql, its SQL unchanged)"
    )]
    SqlxNotEmbedded {
        /// sqlx's version.
        version: i64,
        /// sqlx's description.
        description: String,
    },

    /// `adopt_sqlx`: the embedded SQL is not what sqlx applied.
    #[error(
        "adopt-sqlx refused: the SQL of migration V{version}__{name} differs from what sqlx applied as \
         {version} ({description}): the SHA-384 checksums differ"
    )]
    SqlxChecksum {
        /// The version.
        version: SchemaVersion,
        /// The embedded migration's name.
        name: String,
        /// sqlx's description.
        description: String,
    },

    /// `adopt_sqlx`: an embedded migration older than sqlx's newest that
    /// sqlx never applied.
    #[error(
        "adopt-sqlx refused: migration V{version}__{name} is embedded but sqlx never applied it, \
         and it is older than sqlx's newest migration {newest}"
    )]
    SqlxNotApplied {
        /// The embedded migration's version.
        version: SchemaVersion,
        /// Its name.
        name: String,
        /// sqlx's newest version.
        newest: i64,
    },

    /// `adopt_sqlx` on a database whose history records other migrations.
    #[error(
        "adopt-sqlx refused: the history table already records {count} migration{} (up to V{current}) \
         that are not sqlx's; adopt-sqlx is for a database that sqlx alone migrated",
        if *count == 1 { "" } else { "s" }
    )]
    AdoptHistoryExists {
        /// How many migrations the history records.
        count: usize,
        /// The newest of them.
        current: SchemaVersion,
    },

    /// A command-line argument is wrong; the message names the flag.
    #[error("{message}")]
    Usage {
        /// The flag the problem is about, if it is about one.
        flag: Option<&'static str>,
        /// What is wrong, without the value.
        message: String,
    },
}

fn holder_suffix(holder: Option<&str>) -> String {
    holder.map_or_else(String::new, |h| format!(" (held by {h})"))
}

impl From<Repr> for Error {
    fn from(repr: Repr) -> Self {
        Self(Box::new(repr))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Error {
    pub(crate) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Repr::Database { action, source }.into()
    }

    pub(crate) fn usage(flag: Option<&'static str>, message: String) -> Self {
        Repr::Usage { flag, message }.into()
    }

    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Repr::Database { .. } => ErrorKind::Database,
            Repr::Connect { .. } => ErrorKind::Connect,
            Repr::MigrationFailed { .. } => ErrorKind::MigrationFailed,
            Repr::RepeatedVersion { .. } => ErrorKind::RepeatedVersion,
            Repr::InvalidTableName | Repr::ReservedTableName { .. } => ErrorKind::InvalidTableName,
            Repr::Divergent { .. } => ErrorKind::Divergent,
            Repr::Unknown { .. } => ErrorKind::UnknownVersion,
            Repr::OutOfOrder { .. } => ErrorKind::OutOfOrder,
            Repr::Dirty { .. } => ErrorKind::Dirty,
            Repr::NotInProgress { .. } => ErrorKind::NotInProgress,
            Repr::NotEmbedded { .. } => ErrorKind::NotEmbedded,
            Repr::LockTimeout { .. } => ErrorKind::LockTimeout,
            Repr::WaitTimeout { .. } => ErrorKind::WaitTimeout,
            Repr::UnsupportedScheme { .. } => ErrorKind::UnsupportedScheme,
            Repr::Usage { .. } => ErrorKind::Usage,
            Repr::Newer { .. } => ErrorKind::NewerVersions,
            Repr::InvalidIndex { .. } => ErrorKind::InvalidIndex,
            Repr::HistoryExists { .. } | Repr::AdoptHistoryExists { .. } => {
                ErrorKind::HistoryExists
            }
            Repr::NoSqlxHistory { .. } => ErrorKind::NoSqlxHistory,
            Repr::SqlxFailed { .. } => ErrorKind::SqlxFailed,
            Repr::SqlxVersionTooLarge { .. }
            | Repr::SqlxNotEmbedded { .. }
            | Repr::SqlxChecksum { .. }
            | Repr::SqlxNotApplied { .. } => ErrorKind::SqlxMismatch,
            Repr::TargetBelowCurrent { .. } => ErrorKind::TargetBelowCurrent,
        }
    }

    /// The command-line flag this error is about (such as `--lock-timeout`),
    /// if it is about one, or for [`ErrorKind::NewerVersions`] the variable
    /// that accepts them (`MIGRATE_ALLOW_NEWER`). Settings read from the
    /// environment are checked by the configuration loader, which names their
    /// variables itself.
    #[must_use]
    pub fn var(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Usage { flag, .. } => *flag,
            Repr::Newer { .. } => Some("MIGRATE_ALLOW_NEWER"),
            _ => None,
        }
    }

    /// The migration version this error is about, if it is about one (for
    /// [`ErrorKind::WaitTimeout`], the version the schema was waited for).
    #[must_use]
    pub fn version(&self) -> Option<SchemaVersion> {
        match &*self.0 {
            Repr::MigrationFailed { version, .. }
            | Repr::RepeatedVersion { version }
            | Repr::Divergent { version, .. }
            | Repr::Unknown { version, .. }
            | Repr::OutOfOrder { version, .. }
            | Repr::Dirty { version, .. }
            | Repr::NotInProgress { version, .. }
            | Repr::NotEmbedded { version }
            | Repr::WaitTimeout {
                target: version, ..
            }
            | Repr::TargetBelowCurrent {
                target: version, ..
            }
            | Repr::SqlxChecksum { version, .. }
            | Repr::SqlxNotApplied { version, .. } => Some(*version),
            // sqlx's versions are 64-bit; one refinery cannot hold is named
            // in the message only.
            Repr::SqlxFailed { version, .. }
            | Repr::SqlxVersionTooLarge { version, .. }
            | Repr::SqlxNotEmbedded { version, .. } => SchemaVersion::try_from(*version).ok(),
            Repr::Newer { versions, .. } => versions.first().map(|(v, _)| *v),
            _ => None,
        }
    }

    /// The name of the migration this error is about, when the error knows
    /// it (for [`ErrorKind::Divergent`], the name of the embedded one).
    #[must_use]
    pub fn migration_name(&self) -> Option<&str> {
        match &*self.0 {
            Repr::MigrationFailed { name, .. }
            | Repr::Unknown { name, .. }
            | Repr::OutOfOrder { name, .. }
            | Repr::Dirty { name, .. }
            | Repr::SqlxChecksum { name, .. }
            | Repr::SqlxNotApplied { name, .. }
            | Repr::Divergent {
                embedded_name: name,
                ..
            } => Some(name),
            _ => None,
        }
    }

    /// For [`ErrorKind::LockTimeout`]: who held the lock when the deadline
    /// passed, if the database says (a PostgreSQL backend pid, a MySQL
    /// connection id).
    #[must_use]
    pub fn lock_holder(&self) -> Option<&str> {
        match &*self.0 {
            Repr::LockTimeout { holder, .. } => holder.as_deref(),
            _ => None,
        }
    }

    /// For [`ErrorKind::LockTimeout`] and [`ErrorKind::WaitTimeout`]: how long
    /// this process waited.
    #[must_use]
    pub fn waited(&self) -> Option<Duration> {
        match &*self.0 {
            Repr::LockTimeout { waited, .. } | Repr::WaitTimeout { waited, .. } => Some(*waited),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_crosses_threads_and_names_its_flag() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
        let e = Error::usage(
            Some("--timeout"),
            String::from("--timeout: too large (at most 24h)"),
        );
        assert_eq!(
            (e.kind(), e.var(), e.version()),
            (ErrorKind::Usage, Some("--timeout"), None)
        );
        let e = Error::from(Repr::Dirty {
            version: 3,
            name: String::from("backfill"),
            started_on: String::from("2026-01-01T00:00:00Z"),
        });
        assert_eq!(
            (e.kind(), e.var(), e.version(), e.migration_name()),
            (ErrorKind::Dirty, None, Some(3), Some("backfill"))
        );
        assert!(
            e.to_string()
                .starts_with("migration V3__backfill was started")
        );
    }
}
