//! [`TableName`]: the history table's name, checked once, where it is given.

use std::fmt;

use serde::de::{self, Unexpected};

use crate::error::{Error, Repr};

/// The name of the history table, `name` or `schema.name`: ASCII letters,
/// digits and `_`, each part at most 63 characters and not a reserved SQL
/// word. The default is refinery's, `refinery_schema_history`.
///
/// The lock is keyed by the table as the database resolves the name: folded
/// to lower case and in its schema (PostgreSQL: the schema holding it on the
/// `search_path`, else `current_schema()`; MySQL/MariaDB: `DATABASE()`), so
/// `History`, `history` and `public.history` take one lock.
///
/// ```
/// use dozen_migrate::{ErrorKind, TableName};
///
/// assert_eq!(TableName::new("app.history")?.as_str(), "app.history");
/// assert_eq!(TableName::new("user").unwrap_err().kind(), ErrorKind::InvalidTableName);
/// # Ok::<(), dozen_migrate::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableName(String);

impl TableName {
    /// Checks `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidTableName`](crate::ErrorKind::InvalidTableName)
    /// unless each part is an ASCII identifier, or when a part is a reserved
    /// SQL word (such as `user`, `order`, `select`), which no statement could
    /// name unquoted.
    pub fn new(name: &str) -> Result<Self, Error> {
        if !valid(name) {
            return Err(Repr::InvalidTableName.into());
        }
        if let Some(word) = reserved_part(name) {
            return Err(Repr::ReservedTableName {
                word: word.to_owned(),
            }
            .into());
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TableName {
    fn default() -> Self {
        Self(String::from("refinery_schema_history"))
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TableName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A configuration loader such as dozen-config shows `MIGRATE_TABLE: a
/// reserved SQL word (another name, such as history)`, never the value.
impl<'de> de::Deserialize<'de> for TableName {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = TableName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table name such as history or app.history")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TableName, E> {
                if !valid(v) {
                    return Err(E::invalid_value(
                        Unexpected::Other("not a table name"),
                        &"ASCII letters, digits and _, optionally schema.table",
                    ));
                }
                if reserved_part(v).is_some() {
                    return Err(E::invalid_value(
                        Unexpected::Other("a reserved SQL word"),
                        &"another name, such as history",
                    ));
                }
                Ok(TableName(v.to_owned()))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Accepts `name` or `schema.name`, each an ASCII identifier.
fn valid(name: &str) -> bool {
    let ident = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && s.len() <= 63
    };
    match name.split_once('.') {
        Some((schema, table)) => ident(schema) && ident(table),
        None => ident(name),
    }
}

/// Words that PostgreSQL, MySQL/MariaDB or SQLite reserve (or that the SQL
/// standard does and one of them enforces): unquoted, each is a syntax error
/// as a table name on at least one of the three, so the migrator refuses them
/// when it is built rather than at the first statement.
const RESERVED: &[&str] = &[
    "add",
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "before",
    "between",
    "binary",
    "both",
    "by",
    "call",
    "cascade",
    "case",
    "cast",
    "change",
    "check",
    "collate",
    "column",
    "commit",
    "concurrently",
    "condition",
    "constraint",
    "continue",
    "convert",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "database",
    "databases",
    "default",
    "deferrable",
    "delete",
    "desc",
    "describe",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exists",
    "explain",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "function",
    "grant",
    "group",
    "having",
    "if",
    "ilike",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "keys",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "lock",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "overlaps",
    "partition",
    "placing",
    "primary",
    "procedure",
    "range",
    "read",
    "recursive",
    "references",
    "release",
    "rename",
    "repeat",
    "replace",
    "require",
    "return",
    "returning",
    "revoke",
    "right",
    "rollback",
    "row",
    "rows",
    "schema",
    "select",
    "session_user",
    "set",
    "show",
    "similar",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "transaction",
    "trigger",
    "true",
    "union",
    "unique",
    "unlock",
    "update",
    "usage",
    "user",
    "using",
    "values",
    "variadic",
    "verbose",
    "when",
    "where",
    "while",
    "window",
    "with",
    "write",
];

/// The first part of `name` (`name` or `schema.name`) that is a reserved word,
/// compared without regard to case.
fn reserved_part(name: &str) -> Option<&str> {
    name.split('.')
        .find(|part| RESERVED.contains(&part.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        let check = |name: &str, ok: bool| assert_eq!(valid(name), ok, "{name}");
        check("refinery_schema_history", true);
        check("app.history", true);
        check("_h1", true);
        check("", false);
        check("1abc", false);
        check("a;drop table x", false);
        check("a.b.c", false);
        check("a-b", false);
        check(&"x".repeat(64), false);
    }

    #[test]
    fn reserved_words_are_found_in_either_part() {
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(reserved_part(name), expected, "{name}");
        };
        check("user", Some("user"));
        check("ORDER", Some("ORDER"));
        check("app.Select", Some("Select"));
        check("user.history", Some("user"));
        check("history", None);
        check("users", None);
        check("refinery_schema_history", None);
    }
}
