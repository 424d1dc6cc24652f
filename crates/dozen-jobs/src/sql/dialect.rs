//! The SQL dialects, and what differs between them.

use std::sync::Arc;

use sqlx::AssertSqlSafe;

use crate::error::Error;

/// The SQL dialect of the queue's database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB (10.6 or later, for `SKIP LOCKED`).
    MySql,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// The dialect of a database URL (`postgres://`, `mysql://`,
    /// `mariadb://`, `sqlite:`).
    ///
    /// # Errors
    ///
    /// Another scheme; the message shows the URL with its password hidden.
    pub fn from_url(url: &dozen_backing::ServiceUrl) -> Result<Self, Error> {
        use dozen_backing::Kind;
        match url.kind() {
            Kind::Postgres => Ok(Self::Postgres),
            Kind::MySql => Ok(Self::MySql),
            Kind::Sqlite => Ok(Self::Sqlite),
            _ => Err(Error::invalid(format!(
                "{url}: dozen-jobs needs a postgres, mysql, mariadb or sqlite URL"
            ))),
        }
    }

    /// The database's now in milliseconds since the Unix epoch, as SQL: all
    /// queue times come from the one clock every worker shares.
    pub(crate) fn now_ms(self) -> &'static str {
        match self {
            Self::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            Self::MySql => "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        }
    }

    /// `sql`, written with `?` placeholders, in this dialect's syntax.
    pub(crate) fn prepare(self, sql: &str) -> Sql {
        let text = match self {
            Self::MySql | Self::Sqlite => sql.to_owned(),
            Self::Postgres => {
                let mut out = String::with_capacity(sql.len() + 8);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        };
        Sql(Arc::from(text))
    }
}

/// One statement, prepared for a dialect; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Sql(Arc<str>);

impl Sql {
    /// The statement, for `sqlx::query`.
    pub(crate) fn q(&self) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(Arc::clone(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let check = |d: Dialect, expected: &str| {
            assert_eq!(&*d.prepare("a = ? AND b = ?").0, expected);
        };
        check(Dialect::Postgres, "a = $1 AND b = $2");
        check(Dialect::MySql, "a = ? AND b = ?");
        check(Dialect::Sqlite, "a = ? AND b = ?");
    }
}
