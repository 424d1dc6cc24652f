//! SQLite: refinery's traits over a sqlx connection, and the write lock.
//!
//! A run holds `BEGIN IMMEDIATE` from start to end: SQLite's own write lock,
//! which the operating system releases when the process dies and which SQLite
//! rolls back from its journal. Each migration runs inside a savepoint, so a
//! failing one is undone and the ones before it are kept.

use refinery::Migration;
use sqlx::AssertSqlSafe;
use sqlx::sqlite::SqliteConnection;

use crate::history;
use crate::transaction::TransactionMode;

crate::driver::sqlx_driver::sqlx_driver!(
    /// refinery's `AsyncMigrate` over a sqlx SQLite connection.
    ///
    /// `C` is anything that derefs to a [`SqliteConnection`]: the connection itself,
    /// a `PoolConnection<Sqlite>` or a `&mut SqliteConnection`. refinery's runner
    /// used through it takes no lock; use [`Migrator`](crate::Migrator) for that.
    SqliteDriver,
    SqliteConnection,
    sqlx::sqlite::SqliteRow,
    missing_table = |e| matches!(e, sqlx::Error::Database(d) if d.message().starts_with("no such table")),
    dollar_placeholders = true
);

pub(crate) async fn ensure_table(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(history::create_table_sql(table)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs the migration and writes its history row inside a savepoint of the
/// run's transaction.
///
/// A `-- no-transaction` migration (`VACUUM`, some `PRAGMA`s) cannot run
/// inside it, and SQLite's write lock is that transaction: the run commits
/// what it applied so far, runs the migration and writes its row on their
/// own, and takes the write lock again. Another migrator starting in that
/// moment could run the same migration too, so keep such migrations
/// idempotent, as `VACUUM` and `PRAGMA` are.
pub(crate) async fn apply(
    conn: &mut SqliteConnection,
    table: &str,
    m: &Migration,
    mode: TransactionMode,
) -> Result<(), sqlx::Error> {
    if mode == TransactionMode::NoTransaction {
        commit(conn).await?;
        let result = run_and_record(conn, table, m).await;
        let relocked = try_begin_immediate(conn).await;
        result?;
        return match relocked? {
            true => Ok(()),
            false => Err(sqlx::Error::Protocol(String::from(
                "another connection took the write lock during a no-transaction migration",
            ))),
        };
    }
    sqlx::raw_sql("SAVEPOINT dozen_migrate")
        .execute(&mut *conn)
        .await?;
    let result = run_and_record(conn, table, m).await;
    match result {
        Ok(()) => {
            sqlx::raw_sql("RELEASE dozen_migrate").execute(conn).await?;
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::raw_sql("ROLLBACK TO dozen_migrate; RELEASE dozen_migrate")
                .execute(conn)
                .await;
            Err(e)
        }
    }
}

pub(crate) async fn busy_timeout(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(conn)
        .await
}

pub(crate) async fn set_busy_timeout(
    conn: &mut SqliteConnection,
    ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(format!("PRAGMA busy_timeout = {ms}")))
        .execute(conn)
        .await?;
    Ok(())
}

/// `BEGIN IMMEDIATE`: true when this connection now holds the write lock,
/// false when another connection holds it (after SQLite's busy timeout).
pub(crate) async fn try_begin_immediate(conn: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    match sqlx::raw_sql("BEGIN IMMEDIATE").execute(conn).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if is_busy(e.code().as_deref()) => Ok(false),
        Err(e) => Err(e),
    }
}

fn is_busy(code: Option<&str>) -> bool {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

pub(crate) async fn commit(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("COMMIT").execute(conn).await?;
    Ok(())
}
