//! MySQL and MariaDB: refinery's traits over a sqlx connection, `GET_LOCK`, and
//! the in-progress marker that detects a half-applied migration.

use refinery::{Migration, SchemaVersion};
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, Connection as _};

use crate::history;
use crate::transaction::TransactionMode;

/// The table holding the in-progress marker, one row per history table.
///
/// It is dozen-migrate's own: refinery's history table keeps refinery's layout.
pub(crate) const STATE_TABLE: &str = "dozen_migrate_state";

crate::driver::sqlx_driver::sqlx_driver!(
    /// refinery's `AsyncMigrate` over a sqlx MySQL/MariaDB connection.
    ///
    /// `C` is anything that derefs to a [`MySqlConnection`]: the connection itself,
    /// a `PoolConnection<MySql>` or a `&mut MySqlConnection`. refinery's runner used
    /// through it takes no lock and leaves no in-progress marker; use
    /// [`Migrator`](crate::Migrator) for both.
    MySqlDriver,
    MySqlConnection,
    sqlx::mysql::MySqlRow,
    missing_table = is_missing_table,
    dollar_placeholders = false
);

fn is_missing_table(e: &sqlx::Error) -> bool {
    // ER_NO_SUCH_TABLE
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42S02"))
}

pub(crate) async fn ensure_tables(
    conn: &mut MySqlConnection,
    table: &str,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(history::create_table_sql(table)))
        .execute(&mut *conn)
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
             history_table VARCHAR(255) PRIMARY KEY,
             version BIGINT NOT NULL,
             name VARCHAR(255) NOT NULL,
             checksum VARCHAR(255) NOT NULL,
             started_on VARCHAR(255) NOT NULL)"
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// A migration recorded as started and not finished.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    pub(crate) version: SchemaVersion,
    pub(crate) name: String,
    pub(crate) checksum: String,
    pub(crate) started_on: String,
}

pub(crate) async fn read_marker(
    conn: &mut MySqlConnection,
    table: &str,
) -> Result<Option<Marker>, sqlx::Error> {
    let row: Result<Option<(i64, String, String, String)>, _> =
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT version, name, checksum, started_on FROM {STATE_TABLE} WHERE history_table = ?"
        )))
        .bind(table)
        .fetch_optional(conn)
        .await;
    match row {
        Ok(Some((version, name, checksum, started_on))) => Ok(Some(Marker {
            version: SchemaVersion::try_from(version).map_err(|_| {
                sqlx::Error::Decode(format!("{STATE_TABLE} holds an invalid version").into())
            })?,
            name,
            checksum,
            started_on,
        })),
        Ok(None) => Ok(None),
        Err(e) if is_missing_table(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn clear_marker(
    conn: &mut MySqlConnection,
    table: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {STATE_TABLE} WHERE history_table = ?"
    )))
    .bind(table)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the marker, runs the migration, then writes the history row and
/// clears the marker in one transaction.
///
/// A DML-only migration is atomic with its history row. DDL commits implicitly,
/// so when the process dies or a statement fails after some DDL ran, the marker
/// stays behind and the next run refuses to continue.
///
/// A `-- no-transaction` migration runs before that transaction opens, on
/// its own; the marker covers it the same way.
pub(crate) async fn apply(
    conn: &mut MySqlConnection,
    table: &str,
    m: &Migration,
    mode: TransactionMode,
) -> Result<(), sqlx::Error> {
    let (version, name, started_on, checksum) = history::row_values(m);
    sqlx::query(AssertSqlSafe(format!(
        "REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, ?, ?)"
    )))
    .bind(table)
    .bind(version)
    .bind(name)
    .bind(checksum)
    .bind(started_on)
    .execute(&mut *conn)
    .await?;
    let no_transaction = mode == TransactionMode::NoTransaction;
    if no_transaction {
        sqlx::raw_sql(AssertSqlSafe(crate::transaction::sql_of(m)))
            .execute(&mut *conn)
            .await?;
    }
    let mut tx = conn.begin().await?;
    let result = async {
        if no_transaction {
            record(&mut tx, table, m).await?;
        } else {
            run_and_record(&mut tx, table, m).await?;
        }
        clear_marker(&mut tx, table).await
    }
    .await;
    match result {
        Ok(()) => tx.commit().await,
        Err(e) => {
            // Undo what is undoable; the marker (committed before) stays.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// `repair --applied`: the history row for the marked migration, marker cleared.
pub(crate) async fn record_applied(
    conn: &mut MySqlConnection,
    table: &str,
    m: &Migration,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    record(&mut tx, table, m).await?;
    clear_marker(&mut tx, table).await?;
    tx.commit().await
}

/// The `GET_LOCK` name: server-wide, so it includes the database (the one
/// named in `table`, else `DATABASE()`); both folded to lower case so that
/// `History`, `history` and `db.history` share one lock; hashed, because MySQL
/// limits lock names to 64 characters.
pub(crate) async fn lock_name(
    conn: &mut MySqlConnection,
    table: &str,
) -> Result<String, sqlx::Error> {
    let db: Option<String> = if table.contains('.') {
        None
    } else {
        sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(conn)
            .await?
    };
    let (schema, name) = history::resolved_name(table, db.as_deref());
    let h = history::fnv1a(&["dozen-migrate", &schema, &name]);
    Ok(format!("dozen-migrate:{h:016x}"))
}

/// `GET_LOCK(name, timeout)`: true when taken within `timeout_secs`.
pub(crate) async fn get_lock(
    conn: &mut MySqlConnection,
    name: &str,
    timeout_secs: i64,
) -> Result<bool, sqlx::Error> {
    let got: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, ?) AS SIGNED)")
        .bind(name)
        .bind(timeout_secs)
        .fetch_one(conn)
        .await?;
    Ok(got == Some(1))
}

pub(crate) async fn release_lock(
    conn: &mut MySqlConnection,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let released: Option<i64> = sqlx::query_scalar("SELECT CAST(RELEASE_LOCK(?) AS SIGNED)")
        .bind(name)
        .fetch_one(conn)
        .await?;
    Ok(released == Some(1))
}

/// Who holds the lock: `IS_USED_LOCK`'s connection id, with user and host when
/// the process list shows them.
pub(crate) async fn holder(
    conn: &mut MySqlConnection,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    let Some(id) = id else { return Ok(None) };
    let who: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT CAST(USER AS CHAR), CAST(HOST AS CHAR) FROM information_schema.PROCESSLIST WHERE ID = ?",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .unwrap_or(None);
    Ok(Some(match who {
        Some((Some(user), Some(host))) => format!("connection {id}, {user}@{host}"),
        _ => format!("connection {id}"),
    }))
}
