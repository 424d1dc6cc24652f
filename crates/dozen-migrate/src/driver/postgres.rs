//! PostgreSQL: refinery's traits over a sqlx connection, and the advisory lock.

use refinery::Migration;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;

use crate::history;
use crate::transaction::TransactionMode;

crate::driver::sqlx_driver::sqlx_driver!(
    /// refinery's `AsyncMigrate` over a sqlx PostgreSQL connection.
    ///
    /// `C` is anything that derefs to a [`PgConnection`]: the connection itself, a
    /// `PoolConnection<Postgres>` or a `&mut PgConnection`. With it, refinery's own
    /// runner works over sqlx (`runner.run_async(&mut PgDriver::new(conn))`), though
    /// without the lock that [`Migrator`](crate::Migrator) takes.
    PgDriver,
    PgConnection,
    sqlx::postgres::PgRow,
    // undefined_table, or undefined schema for a qualified name
    missing_table = |e| matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("42P01" | "3F000"))),
    dollar_placeholders = true
);

pub(crate) async fn create_table(conn: &mut PgConnection, table: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(history::create_table_sql(table)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs the migration and writes its history row in one transaction; a
/// `-- no-transaction` migration runs on its own and its row is written
/// only once it succeeded.
///
/// The transaction takes two round trips (four with one statement each):
/// `BEGIN` and the migration, then its history row and `COMMIT`. Not one:
/// the server runs a whole script even when the client is gone, so a killed
/// or cancelled run would still commit; between the two, it waits for the
/// client, finds it gone and rolls back. A failing statement ends its script
/// with the transaction aborted: it is rolled back.
///
/// PostgreSQL runs a string of several statements sent at once in one
/// implicit transaction, so a non-transactional migration holds one
/// statement (such as `CREATE INDEX CONCURRENTLY`).
pub(crate) async fn apply(
    conn: &mut PgConnection,
    table: &str,
    m: &Migration,
    mode: TransactionMode,
) -> Result<(), sqlx::Error> {
    if mode == TransactionMode::NoTransaction {
        return run_and_record(conn, table, m).await;
    }
    // The newline before `;` ends a last line that is a `--` comment.
    let run = format!("BEGIN;\n{}\n;", crate::transaction::sql_of(m));
    let record = format!("{};\nCOMMIT;", history::insert_literal_sql(table, m));
    let mut result = sqlx::raw_sql(AssertSqlSafe(run)).execute(&mut *conn).await;
    if result.is_ok() {
        result = sqlx::raw_sql(AssertSqlSafe(record))
            .execute(&mut *conn)
            .await;
    }
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            // A failure at COMMIT has ended the transaction already; the
            // ROLLBACK then only warns.
            let _ = sqlx::raw_sql("ROLLBACK").execute(conn).await;
            Err(e)
        }
    }
}

/// The indexes marked INVALID in this database (outside the system
/// schemas), named as the search path resolves them: what a failed or
/// still-running `CREATE INDEX CONCURRENTLY` leaves.
pub(crate) async fn invalid_indexes(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT i.indexrelid::regclass::text FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND n.nspname NOT LIKE 'pg\\_toast%' \
         ORDER BY 1",
    )
    .fetch_all(conn)
    .await
}

/// The advisory lock key for `table` as this connection's database resolves
/// it: an unquoted name folded to lower case, in its schema (the schema that
/// holds the table on the `search_path`, else `current_schema()`), so that
/// `History`, `history` and `public.history` share one key. Stable across
/// releases and processes: the default table in `public` keeps the key that
/// earlier releases took.
pub(crate) async fn lock_key(conn: &mut PgConnection, table: &str) -> Result<i64, sqlx::Error> {
    let default_schema: Option<String> = if table.contains('.') {
        None
    } else {
        sqlx::query_scalar(
            "SELECT COALESCE((SELECT n.nspname::text FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)), \
             current_schema()::text)",
        )
        .bind(table)
        .fetch_one(conn)
        .await?
    };
    let (schema, name) = history::resolved_name(table, default_schema.as_deref());
    Ok(key_of(&schema, &name))
}

fn key_of(schema: &str, name: &str) -> i64 {
    let hash = if schema == "public" {
        history::fnv1a(&["dozen-migrate", name])
    } else {
        history::fnv1a(&["dozen-migrate", &format!("{schema}.{name}")])
    };
    i64::from_ne_bytes(hash.to_ne_bytes())
}

pub(crate) async fn try_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

pub(crate) async fn unlock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Who holds the lock: its backend pid and application_name.
pub(crate) async fn holder(
    conn: &mut PgConnection,
    key: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(i32, Option<String>)> = sqlx::query_as(
        "SELECT l.pid, a.application_name \
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND l.classid::bigint = (($1::bigint >> 32) & 4294967295) \
           AND l.objid::bigint = ($1::bigint & 4294967295) \
           AND l.objsubid = 1 \
         LIMIT 1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(pid, app)| match app.filter(|a| !a.is_empty()) {
        Some(app) => format!("pid {pid}, application_name {app:?}"),
        None => format!("pid {pid}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::key_of;

    #[test]
    fn the_default_table_in_public_keeps_its_key() {
        // The key every earlier release took for `refinery_schema_history`:
        // a release and its successor migrating at once must exclude each other.
        assert_eq!(
            key_of("public", "refinery_schema_history"),
            i64::from_ne_bytes(0xd383_eab6_99cb_7857_u64.to_ne_bytes())
        );
        assert_ne!(key_of("app", "history"), key_of("public", "history"));
    }
}
