//! refinery's history table: its layout, its row format, and the comparison of
//! what is applied with what is embedded.

use refinery::{Migration, SchemaVersion};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Repr};

/// The SQL type refinery gives the `version` column (`int8` with refinery's
/// `int8-versions` feature, which changes [`SchemaVersion`]).
pub(crate) const VERSION_TYPE: &str = if size_of::<SchemaVersion>() == 8 {
    "int8"
} else {
    "int4"
};

/// refinery's `CREATE TABLE IF NOT EXISTS` for the history table, byte for byte
/// in the columns, so that refinery's own drivers accept a table we created.
pub(crate) fn create_table_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table}(
             version {VERSION_TYPE} PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));"
    )
}

pub(crate) fn select_sql(table: &str) -> String {
    format!("SELECT version, name, applied_on, checksum FROM {table} ORDER BY version ASC")
}

/// The insert with placeholders `$n` (PostgreSQL, SQLite) or `?` (MySQL).
pub(crate) fn insert_sql(table: &str, dollar: bool) -> String {
    if dollar {
        format!("INSERT INTO {table} (version, name, applied_on, checksum) VALUES ($1, $2, $3, $4)")
    } else {
        format!("INSERT INTO {table} (version, name, applied_on, checksum) VALUES (?, ?, ?, ?)")
    }
}

/// The insert with its values written out, for a script sent in one round
/// trip. Names come from refinery's file-name pattern (`\w+`), the other
/// values are digits and an RFC 3339 time; quotes are doubled all the same.
#[cfg(feature = "postgres")]
pub(crate) fn insert_literal_sql(table: &str, m: &Migration) -> String {
    let (version, name, applied_on, checksum) = row_values(m);
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    format!(
        "INSERT INTO {table} (version, name, applied_on, checksum) VALUES ({version}, {}, {}, {})",
        quoted(&name),
        quoted(&applied_on),
        quoted(&checksum)
    )
}

/// The values refinery writes: the version, the name, `applied_on` as RFC 3339
/// in UTC and the checksum as a decimal string.
pub(crate) fn row_values(m: &Migration) -> (i64, String, String, String) {
    let now = OffsetDateTime::now_utc();
    let applied_on = now
        .format(&Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"));
    (
        i64::from(m.version()),
        m.name().to_owned(),
        applied_on,
        m.checksum().to_string(),
    )
}

/// A history row back into refinery's [`Migration`], rejecting (instead of
/// panicking on, as refinery's drivers do) a malformed row.
pub(crate) fn parse_row(
    version: i64,
    name: Option<String>,
    applied_on: Option<String>,
    checksum: Option<String>,
) -> Result<Migration, sqlx::Error> {
    let bad = |what: &str| {
        sqlx::Error::Decode(
            format!("history row for version {version} has an invalid {what}").into(),
        )
    };
    let v = SchemaVersion::try_from(version).map_err(|_| bad("version"))?;
    let applied_on = applied_on
        .as_deref()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .ok_or_else(|| bad("applied_on"))?;
    let checksum = checksum
        .as_deref()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| bad("checksum"))?;
    Ok(Migration::applied(
        v,
        name.unwrap_or_default(),
        applied_on,
        checksum,
    ))
}

/// The history table as the database resolves an unquoted name: `schema`
/// (given, or the database's default) and the table, both folded to lower
/// case. PostgreSQL folds unquoted names; MySQL/MariaDB may not (with
/// `lower_case_table_names=0`), and then two names that differ only in case
/// share one lock: safe, if stricter than needed.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn resolved_name(table: &str, default_schema: Option<&str>) -> (String, String) {
    let (schema, name) = match table.split_once('.') {
        Some((schema, name)) => (Some(schema), name),
        None => (default_schema, table),
    };
    (
        schema.unwrap_or_default().to_ascii_lowercase(),
        name.to_ascii_lowercase(),
    )
}

/// FNV-1a, 64 bits: a stable hash for lock keys (std's hashers may change
/// between Rust releases, and two releases of an app must agree on the key).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // A separator no UTF-8 string contains, so ("ab", "c") != ("a", "bc").
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Where one migration stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied, with the same name and checksum as the embedded migration.
    Applied {
        /// When it was applied (RFC 3339, as refinery writes it).
        applied_on: String,
    },
    /// Embedded and not applied yet: the next run applies it.
    Pending,
    /// Applied under the same version with another name or checksum.
    Divergent {
        /// The name in the history table.
        applied_name: String,
    },
    /// Applied, but not embedded in this binary.
    Unknown,
    /// Embedded, never applied, and older than the newest applied migration.
    OutOfOrder,
    /// Started and never finished on MySQL/MariaDB: possibly half applied,
    /// until [`Migrator::repair`](crate::Migrator::repair) resolves it.
    InProgress {
        /// When it was started (RFC 3339).
        started_on: String,
    },
}

/// One migration in a [`Status`](crate::Status).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The migration version.
    pub version: SchemaVersion,
    /// The migration name (the embedded one, or the recorded one for [`State::Unknown`]).
    pub name: String,
    /// Where it stands.
    pub state: State,
}

/// Compares the history with the embedded set, in version order, by refinery's
/// rules (a `U` migration may be applied out of order, a `V` migration may not).
pub(crate) fn compare(applied: &[Migration], embedded: &[Migration]) -> Vec<Entry> {
    let current = applied.iter().map(Migration::version).max();
    let mut entries = Vec::with_capacity(embedded.len().max(applied.len()));
    for a in applied {
        let state = match embedded.iter().find(|m| m.version() == a.version()) {
            None => State::Unknown,
            Some(m) if m.name() != a.name() || m.checksum() != a.checksum() => State::Divergent {
                applied_name: a.name().to_owned(),
            },
            Some(_) => State::Applied {
                applied_on: a
                    .applied_on()
                    .and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_default(),
            },
        };
        let name = match (&state, embedded.iter().find(|m| m.version() == a.version())) {
            (State::Divergent { .. }, Some(m)) => m.name().to_owned(),
            _ => a.name().to_owned(),
        };
        entries.push(Entry {
            version: a.version(),
            name,
            state,
        });
    }
    for m in embedded {
        if applied.iter().any(|a| a.version() == m.version()) {
            continue;
        }
        let older = current.is_some_and(|c| m.version() <= c);
        // refinery's `Type` is not exported; its Display is "V" or "U".
        let versioned = m.prefix().to_string() == "V";
        let state = if older && versioned {
            State::OutOfOrder
        } else {
            State::Pending
        };
        entries.push(Entry {
            version: m.version(),
            name: m.name().to_owned(),
            state,
        });
    }
    entries.sort_by_key(|e| e.version);
    entries
}

/// The applied versions newer than `latest` (the newest embedded one), which
/// a newer release ran.
pub(crate) fn newer(entries: &[Entry], latest: Option<SchemaVersion>) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| e.state == State::Unknown && latest.is_none_or(|l| e.version > l))
        .collect()
}

/// The first entry that forbids applying, as an error. Applied versions
/// newer than `latest` forbid it unless `allow_newer`; other unknown ones
/// (a deleted file) always do.
pub(crate) fn blocking_error(
    entries: &[Entry],
    latest: Option<SchemaVersion>,
    allow_newer: bool,
) -> Option<Error> {
    let first = entries.iter().find_map(|e| match &e.state {
        State::Divergent { applied_name } => Some(Error::from(Repr::Divergent {
            version: e.version,
            applied_name: applied_name.clone(),
            embedded_name: e.name.clone(),
        })),
        State::Unknown if latest.is_some_and(|l| e.version <= l) => {
            Some(Error::from(Repr::Unknown {
                version: e.version,
                name: e.name.clone(),
            }))
        }
        State::OutOfOrder => Some(Error::from(Repr::OutOfOrder {
            version: e.version,
            name: e.name.clone(),
        })),
        State::Applied { .. } | State::Pending | State::Unknown | State::InProgress { .. } => None,
    });
    first.or_else(|| {
        let newer = newer(entries, latest);
        (!allow_newer && !newer.is_empty()).then(|| {
            Error::from(Repr::Newer {
                versions: newer.iter().map(|e| (e.version, e.name.clone())).collect(),
                latest,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn names_resolve_folded_and_qualified() {
        let check = |table: &str, default: Option<&str>, expected: (&str, &str)| {
            let (schema, name) = resolved_name(table, default);
            assert_eq!((schema.as_str(), name.as_str()), expected, "{table}");
        };
        check("History", Some("public"), ("public", "history"));
        check("history", Some("public"), ("public", "history"));
        check("public.history", Some("other"), ("public", "history"));
        check("App.HISTORY", None, ("app", "history"));
        check("history", None, ("", "history"));
    }

    #[test]
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn fnv_is_stable() {
        // The published FNV-1a test vectors ...
        assert_eq!(fnv1a(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&["foobar"]), 0x8594_4171_f739_67e8);
        // ... and the default PostgreSQL lock key. Changing it changes the key
        // every deployed release agrees on: never do it.
        assert_eq!(
            fnv1a(&["dozen-migrate", "refinery_schema_history"]),
            0xd383_eab6_99cb_7857
        );
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }
}
