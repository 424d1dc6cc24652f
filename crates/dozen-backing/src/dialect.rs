//! The SQL dialects of the three databases a URL can name, and what differs between them in SQL
//! written once for all three.

use std::fmt::Write as _;
use std::sync::Arc;

use sqlx::AssertSqlSafe;

use crate::{Kind, ServiceUrl};

/// The SQL dialect of a database: what differs in SQL written once for PostgreSQL,
/// MySQL/MariaDB and SQLite, as an app on `sqlx::AnyPool` writes it (the placeholders, the
/// database's clock). dozen-jobs prepares its statements with it too.
///
/// ```
/// use dozen_backing::{Dialect, ServiceUrl};
///
/// let url = ServiceUrl::parse("postgres://app:secret@db/app").unwrap();
/// let dialect = Dialect::of(&url).unwrap();
/// let sql = dialect.prepare("SELECT title FROM todos WHERE id = ? AND owner = ?");
/// assert_eq!(sql.as_str(), "SELECT title FROM todos WHERE id = $1 AND owner = $2");
/// // let row = sqlx::query(sql.q()).bind(id).bind(owner).fetch_one(&pool).await?;
/// assert_eq!(Dialect::of(&ServiceUrl::parse("redis://cache").unwrap()), None);
/// ```
///
/// Exhaustive, so that an app can match on it: these are the databases sqlx drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// The dialect of `url` (`postgres://`, `mysql://`, `mariadb://`, `sqlite:`), or `None` for
    /// a URL of another kind, for the caller to name the variable it came from.
    #[must_use]
    pub fn of(url: &ServiceUrl) -> Option<Self> {
        match url.kind() {
            Kind::Postgres => Some(Self::Postgres),
            Kind::MySql => Some(Self::MySql),
            Kind::Sqlite => Some(Self::Sqlite),
            _ => None,
        }
    }

    /// The database's current time in milliseconds since the Unix epoch, as an SQL expression
    /// of a 64-bit integer: the clock every replica shares, for leases and deadlines that no
    /// replica's own clock may skew.
    #[must_use]
    pub fn now_ms_sql(self) -> &'static str {
        match self {
            Self::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            Self::MySql => "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        }
    }

    /// `sql`, written with `?` placeholders, in this dialect's syntax: numbered `$1`, `$2`, ...
    /// for PostgreSQL, unchanged for the others. A `?` inside a quoted string (`'…'`), a quoted
    /// name (`"…"`, `` `…` ``) or a comment (`-- …` to the end of the line, `/* … */`) is
    /// text, not a placeholder; any other is one. Not understood, so best left out of such
    /// statements: PostgreSQL's dollar-quoted strings (`$$…$$`), its `E'…'` strings with a
    /// backslash-escaped quote, and its jsonb operators `?`, `?|` and `?&` (write
    /// `jsonb_exists` and the like). Prepare each statement once, at start-up: the result is
    /// cheap to clone.
    ///
    /// ```
    /// use dozen_backing::Dialect;
    ///
    /// let sql = Dialect::Postgres.prepare("UPDATE t SET note = 'why?' WHERE id = ? -- and?");
    /// assert_eq!(sql.as_str(), "UPDATE t SET note = 'why?' WHERE id = $1 -- and?");
    /// assert_eq!(Dialect::MySql.prepare("SELECT ?").as_str(), "SELECT ?");
    /// ```
    #[must_use]
    pub fn prepare(self, sql: &str) -> Sql {
        let text = match self {
            Self::MySql | Self::Sqlite => sql.to_owned(),
            Self::Postgres => number_placeholders(sql),
        };
        Sql(Arc::from(text))
    }
}

/// Where [`number_placeholders`] is in the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Code,
    /// Inside quotes that this character closes.
    Quoted(char),
    LineComment,
    BlockComment,
}

/// `sql` with each `?` in code (not in quotes or a comment) written `$1`, `$2`, ...
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0_u32;
    let mut at = At::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match at {
            At::Code => match (c, next) {
                ('?', _) => {
                    n += 1;
                    let _ = write!(out, "${n}");
                    continue;
                }
                ('\'' | '"' | '`', _) => at = At::Quoted(c),
                ('-', Some('-')) => at = At::LineComment,
                ('/', Some('*')) => {
                    // The `*` is the comment's, not the start of its end.
                    out.push_str("/*");
                    chars.next();
                    at = At::BlockComment;
                    continue;
                }
                _ => {}
            },
            // A doubled quote (`'it''s'`) closes and opens again: the same.
            At::Quoted(close) if c == close => at = At::Code,
            At::LineComment if c == '\n' => at = At::Code,
            At::BlockComment if c == '*' && next == Some('/') => {
                out.push_str("*/");
                chars.next();
                at = At::Code;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// One SQL statement, prepared for a dialect by [`Dialect::prepare`]; cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sql(Arc<str>);

impl Sql {
    /// The statement, for `sqlx::query(sql.q())`: written by the app, not built from input.
    #[must_use]
    pub fn q(&self) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(Arc::clone(&self.0))
    }

    /// The statement's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        let check = |d: Dialect, expected: &str| {
            assert_eq!(d.prepare("a = ? AND b = ?").as_str(), expected);
        };
        check(Dialect::Postgres, "a = $1 AND b = $2");
        check(Dialect::MySql, "a = ? AND b = ?");
        check(Dialect::Sqlite, "a = ? AND b = ?");
    }

    #[test]
    fn a_question_mark_in_quotes_is_text() {
        let sql = Dialect::Postgres
            .prepare("SELECT 'a?', \"b?\", 'it''s?', ? FROM t WHERE x = ? AND y = 'z?' AND w = ?");
        assert_eq!(
            sql.as_str(),
            "SELECT 'a?', \"b?\", 'it''s?', $1 FROM t WHERE x = $2 AND y = 'z?' AND w = $3"
        );
        let commented = Dialect::Postgres.prepare(
            "SELECT ? -- the job's lease?\nFROM t /* why? it's */ WHERE a = ? /*/ ? */ AND b = ?",
        );
        assert_eq!(
            commented.as_str(),
            "SELECT $1 -- the job's lease?\nFROM t /* why? it's */ WHERE a = $2 /*/ ? */ AND b = $3"
        );
        // A `-` or `/` alone is an operator.
        let ops = Dialect::Postgres.prepare("SELECT ? - ?, ? / ?");
        assert_eq!(ops.as_str(), "SELECT $1 - $2, $3 / $4");
        let many = Dialect::Postgres.prepare(&"?,".repeat(12));
        assert!(many.as_str().ends_with("$11,$12,"), "{}", many.as_str());
    }

    #[test]
    fn the_dialect_is_the_urls_kind() {
        let of = |url: &str| Dialect::of(&ServiceUrl::parse(url).expect(url));
        assert_eq!(of("postgres://db/app"), Some(Dialect::Postgres));
        assert_eq!(of("postgresql://db/app"), Some(Dialect::Postgres));
        assert_eq!(of("mysql://db/app"), Some(Dialect::MySql));
        assert_eq!(of("mariadb://db/app"), Some(Dialect::MySql));
        assert_eq!(of("sqlite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(of("redis://cache"), None);
        assert_eq!(of("nats://nats:4222"), None);
    }
}
