//! [`TransactionMode`]: whether a migration runs inside a transaction, as its
//! file says.

use refinery::Migration;

/// The marker a migration file puts on its first line to run outside a
/// transaction (sqlx's convention).
pub(crate) const NO_TRANSACTION: &str = "-- no-transaction";

/// The SQL of `migration` as it is sent to the database: without the byte order mark an
/// editor may save at the start of a file, which no database reads as white space
/// (`\u{feff}CREATE TABLE` is a syntax error on each of them).
pub(crate) fn sql_of(migration: &Migration) -> &str {
    migration
        .sql()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}')
}

/// How a migration runs.
///
/// A migration whose first line is `-- no-transaction` (sqlx's marker) runs
/// outside a transaction, for statements that cannot run inside one, such as
/// PostgreSQL's `CREATE INDEX CONCURRENTLY`. It still runs under the
/// migration lock, and its history row is written only after its SQL
/// succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransactionMode {
    /// In its own transaction with its history row (PostgreSQL, SQLite; on
    /// MySQL/MariaDB, DDL commits implicitly, and the in-progress marker
    /// covers it).
    Transaction,
    /// Outside a transaction, marked `-- no-transaction`.
    NoTransaction,
}

impl TransactionMode {
    /// The mode the migration's first line asks for.
    #[must_use]
    pub fn of(migration: &Migration) -> Self {
        let first = sql_of(migration)
            .trim_start()
            .lines()
            .next()
            .unwrap_or_default();
        if first.trim_end() == NO_TRANSACTION {
            Self::NoTransaction
        } else {
            Self::Transaction
        }
    }

    /// `"transaction"` or `"no-transaction"`, as `migrate plan` prints it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::NoTransaction => "no-transaction",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_decides() {
        let check = |sql: &str, expected: TransactionMode| {
            let m = Migration::unapplied("V1__x", sql).expect("valid name");
            assert_eq!(TransactionMode::of(&m), expected, "{sql:?}");
        };
        use TransactionMode::{NoTransaction, Transaction};
        check(
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a)",
            NoTransaction,
        );
        check("\n  -- no-transaction  \nVACUUM", NoTransaction);
        check("\u{feff}-- no-transaction\nVACUUM", NoTransaction);
        check("CREATE TABLE t (a INT)", Transaction);
        check("CREATE TABLE t (a INT);\n-- no-transaction", Transaction);
        check("-- no-transactions\nVACUUM", Transaction);
        check("-- No-Transaction\nVACUUM", Transaction);
        check("", Transaction);
    }
}
