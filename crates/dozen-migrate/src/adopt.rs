//! Adopting a database that `sqlx::migrate!` migrated: sqlx's history
//! (`_sqlx_migrations`) checked against the embedded migrations, version by
//! version, before refinery's history is written for it.
//!
//! The checks are pure (rows in, matches or an error out); reading the table
//! is the drivers' part, writing the history the session's.

use refinery::{Migration, SchemaVersion};
use sha2::{Digest as _, Sha384};

use crate::error::{Error, Repr};

/// The table sqlx's migrator keeps its history in, unless told otherwise.
pub(crate) const DEFAULT_SQLX_TABLE: &str = "_sqlx_migrations";

/// One row of sqlx's history table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SqlxRow {
    /// sqlx's version: a 64-bit integer, often a timestamp.
    pub(crate) version: i64,
    /// The file name after the version, `_` read as a space.
    pub(crate) description: String,
    /// False when the migration failed (MySQL/MariaDB keep such a row).
    pub(crate) success: bool,
    /// SHA-384 of the migration's SQL.
    pub(crate) checksum: Vec<u8>,
}

/// One migration recorded by [`Migrator::adopt_sqlx`](crate::Migrator::adopt_sqlx).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adopted {
    /// Its version, the same in both histories.
    pub version: SchemaVersion,
    /// The embedded migration's name (refinery's `V{version}__{name}.sql`).
    pub name: String,
    /// The description sqlx recorded (its file name with `_` read as a space);
    /// it may differ from `name`, the SQL may not.
    pub sqlx_description: String,
}

/// What [`Migrator::adopt_sqlx`](crate::Migrator::adopt_sqlx) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adoption {
    /// The migrations sqlx applied, in version order, now in refinery's history.
    pub migrations: Vec<Adopted>,
    /// True when refinery's history already recorded every one of them (an
    /// earlier adoption, or a retried one): nothing was written.
    pub already_adopted: bool,
}

/// SHA-384 of `sql`, as sqlx checksums a migration (without sqlx's
/// `ignored-chars` setting).
pub(crate) fn sqlx_checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

/// Matches sqlx's history with the embedded migrations: each sqlx row must
/// have succeeded, be embedded under its version and carry the SHA-384 of
/// that migration's SQL; each embedded migration not newer than sqlx's
/// newest must be in sqlx's history. The embedded migrations to record, each
/// with sqlx's description, in version order.
///
/// The first problem found is the error: a failed sqlx migration before any
/// other, then the rows in version order, then the embedded migrations.
pub(crate) fn matched<'m>(
    table: &str,
    sqlx: &[SqlxRow],
    embedded: &'m [Migration],
) -> Result<Vec<(&'m Migration, String)>, Error> {
    let Some(newest) = sqlx.iter().map(|r| r.version).max() else {
        return Err(Error::from(Repr::NoSqlxHistory {
            table: table.to_owned(),
            missing: false,
        }));
    };
    if let Some(r) = sqlx.iter().find(|r| !r.success) {
        return Err(Error::from(Repr::SqlxFailed {
            table: table.to_owned(),
            version: r.version,
            description: r.description.clone(),
        }));
    }
    let mut out = Vec::with_capacity(sqlx.len());
    for r in sqlx {
        let Some(version) = SchemaVersion::try_from(r.version).ok() else {
            return Err(Error::from(Repr::SqlxVersionTooLarge {
                version: r.version,
                description: r.description.clone(),
            }));
        };
        let Some(m) = embedded.iter().find(|m| m.version() == version) else {
            return Err(Error::from(Repr::SqlxNotEmbedded {
                version: r.version,
                description: r.description.clone(),
            }));
        };
        if sqlx_checksum(m.sql().unwrap_or_default()) != r.checksum {
            return Err(Error::from(Repr::SqlxChecksum {
                version,
                name: m.name().to_owned(),
                description: r.description.clone(),
            }));
        }
        out.push((m, r.description.clone()));
    }
    if let Some(m) = embedded.iter().find(|m| {
        i64::from(m.version()) <= newest
            && !sqlx.iter().any(|r| r.version == i64::from(m.version()))
    }) {
        return Err(Error::from(Repr::SqlxNotApplied {
            version: m.version(),
            name: m.name().to_owned(),
            newest,
        }));
    }
    out.sort_by_key(|(m, _)| m.version());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn row(version: i64, description: &str, sql: &str) -> SqlxRow {
        SqlxRow {
            version,
            description: description.to_owned(),
            success: true,
            checksum: sqlx_checksum(sql),
        }
    }

    fn migration(name: &str, sql: &str) -> Migration {
        Migration::unapplied(name, sql).expect("valid name")
    }

    #[test]
    fn sqlx_checksum_is_sha384_of_the_sql() {
        // The published SHA-384 of "abc" (FIPS 180-2, appendix D.1).
        let hex: String = sqlx_checksum("abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
    }

    #[test]
    fn sqlx_history_is_matched_version_by_version() {
        let a = "CREATE TABLE a (id INTEGER)";
        let b = "CREATE TABLE b (id INTEGER)";
        let c = "CREATE TABLE c (id INTEGER)";
        let embedded = [
            migration("V1__a", a),
            migration("V2__create_b", b),
            migration("V3__c", c),
        ];
        // (sqlx rows, Ok(versions adopted) or Err((kind, version, message start)))
        type Expected =
            Result<Vec<SchemaVersion>, (ErrorKind, Option<SchemaVersion>, &'static str)>;
        let check = |rows: Vec<SqlxRow>, expected: Expected| {
            let got = matched("_sqlx_migrations", &rows, &embedded);
            match (got, expected) {
                (Ok(got), Ok(e)) => {
                    assert_eq!(got.iter().map(|(m, _)| m.version()).collect::<Vec<_>>(), e);
                }
                (Err(got), Err((kind, version, message))) => {
                    assert_eq!((got.kind(), got.version()), (kind, version), "{got}");
                    assert!(got.to_string().starts_with(message), "{got}");
                }
                (got, e) => panic!("{rows:?}: got {got:?}, expected {e:?}"),
            }
        };
        // Everything, or a prefix (V3 is then pending); descriptions may differ.
        check(
            vec![row(1, "a", a), row(2, "b", b), row(3, "c", c)],
            Ok(vec![1, 2, 3]),
        );
        check(vec![row(2, "create b", b), row(1, "a", a)], Ok(vec![1, 2]));
        check(
            vec![],
            Err((
                ErrorKind::NoSqlxHistory,
                None,
                "adopt-sqlx refused: `_sqlx_migrations` records no migration",
            )),
        );
        let mut failed = row(2, "create b", b);
        failed.success = false;
        check(
            vec![row(1, "a", a), failed, row(9, "late", "SELECT 1")],
            Err((
                ErrorKind::SqlxFailed,
                Some(2),
                "adopt-sqlx refused: sqlx migration 2 (create b) failed",
            )),
        );
        check(
            vec![row(1, "a", a), row(4, "d", "CREATE TABLE d (id INTEGER)")],
            Err((
                ErrorKind::SqlxMismatch,
                Some(4),
                "adopt-sqlx refused: sqlx migration 4 (d) is applied but not embedded",
            )),
        );
        check(
            vec![row(1, "a", a), row(2, "b", "CREATE TABLE b (id BIGINT)")],
            Err((
                ErrorKind::SqlxMismatch,
                Some(2),
                "adopt-sqlx refused: the SQL of migration V2__create_b differs",
            )),
        );
        check(
            vec![row(1, "a", a), row(3, "c", c)],
            Err((
                ErrorKind::SqlxMismatch,
                Some(2),
                "adopt-sqlx refused: migration V2__create_b is embedded",
            )),
        );
        // A timestamp version needs refinery's 64-bit versions.
        let ts = row(20_240_101_120_000, "create users", a);
        if size_of::<SchemaVersion>() == 4 {
            check(
                vec![ts],
                Err((
                    ErrorKind::SqlxMismatch,
                    None,
                    "adopt-sqlx refused: sqlx migration 20240101120000 (create users) does not fit",
                )),
            );
        } else {
            check(
                vec![ts],
                Err((
                    ErrorKind::SqlxMismatch,
                    SchemaVersion::try_from(20_240_101_120_000_i64).ok(),
                    "adopt-sqlx refused: sqlx migration 20240101120000 (create users) is applied but not embedded",
                )),
            );
        }
    }
}
