//! The refinery driver newtypes of every database come from this one macro, so
//! the three stay identical.

/// Defines `$name<C>`, refinery's `AsyncMigrate` over anything that derefs to
/// `$conn`, plus the module's `parse` (a history row) and `read_history`.
macro_rules! sqlx_driver {
    (
        $(#[$doc:meta])* $name:ident, $conn:ty, $row:ty,
        missing_table = $missing:expr, dollar_placeholders = $dollar:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<C = $conn>(C);

        impl<C> $name<C>
        where
            C: ::std::ops::DerefMut<Target = $conn> + Send,
        {
            /// Wraps a connection.
            pub fn new(conn: C) -> Self {
                Self(conn)
            }

            /// Returns the connection.
            pub fn into_inner(self) -> C {
                self.0
            }
        }

        impl<C> ::refinery_core::traits::r#async::AsyncTransaction for $name<C>
        where
            C: ::std::ops::DerefMut<Target = $conn> + Send,
        {
            type Error = ::sqlx::Error;

            async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
                &'a mut self,
                queries: T,
            ) -> Result<usize, Self::Error> {
                use ::sqlx::Connection as _;
                let mut tx = self.0.begin().await?;
                let mut count = 0;
                for query in queries {
                    ::sqlx::raw_sql(::sqlx::AssertSqlSafe(query))
                        .execute(&mut *tx)
                        .await?;
                    count += 1;
                }
                tx.commit().await?;
                Ok(count)
            }
        }

        impl<C> ::refinery_core::traits::r#async::AsyncQuery<Vec<::refinery::Migration>> for $name<C>
        where
            C: ::std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn query<'a>(
                &'a mut self,
                query: &'a str,
            ) -> Result<Vec<::refinery::Migration>, Self::Error> {
                let rows = ::sqlx::raw_sql(::sqlx::AssertSqlSafe(query))
                    .fetch_all(&mut *self.0)
                    .await?;
                rows.iter().map(parse).collect()
            }
        }

        impl<C> ::refinery_core::traits::r#async::AsyncMigrate for $name<C> where
            C: ::std::ops::DerefMut<Target = $conn> + Send
        {
        }

        /// A history row; `version` is `int4`, or `int8` with refinery's
        /// `int8-versions`.
        fn parse(row: &$row) -> Result<::refinery::Migration, ::sqlx::Error> {
            use ::sqlx::Row as _;
            let version = row
                .try_get::<i32, _>(0)
                .map(i64::from)
                .or_else(|_| row.try_get::<i64, _>(0))?;
            $crate::history::parse_row(version, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)
        }

        /// Writes `m`'s history row as refinery does; the caller owns the transaction.
        pub(crate) async fn record(
            conn: &mut $conn,
            table: &str,
            m: &::refinery::Migration,
        ) -> Result<(), ::sqlx::Error> {
            let (version, name, applied_on, checksum) = $crate::history::row_values(m);
            ::sqlx::query(::sqlx::AssertSqlSafe($crate::history::insert_sql(table, $dollar)))
                .bind(version)
                .bind(name)
                .bind(applied_on)
                .bind(checksum)
                .execute(conn)
                .await?;
            Ok(())
        }

        /// [`record`]s each of `ms` without running it (`baseline`); the
        /// caller owns the transaction.
        pub(crate) async fn record_all(
            conn: &mut $conn,
            table: &str,
            ms: &[&::refinery::Migration],
        ) -> Result<(), ::sqlx::Error> {
            for m in ms {
                record(&mut *conn, table, m).await?;
            }
            Ok(())
        }

        /// Runs `m`'s SQL, then [`record`]s it; the caller owns the transaction.
        pub(crate) async fn run_and_record(
            conn: &mut $conn,
            table: &str,
            m: &::refinery::Migration,
        ) -> Result<(), ::sqlx::Error> {
            ::sqlx::raw_sql(::sqlx::AssertSqlSafe($crate::transaction::sql_of(m)))
                .execute(&mut *conn)
                .await?;
            record(conn, table, m).await
        }

        /// The history, or `None` when the table does not exist yet.
        pub(crate) async fn read_history(
            conn: &mut $conn,
            table: &str,
        ) -> Result<Option<Vec<::refinery::Migration>>, ::sqlx::Error> {
            let missing: fn(&::sqlx::Error) -> bool = $missing;
            match ::sqlx::query(::sqlx::AssertSqlSafe($crate::history::select_sql(table)))
                .fetch_all(conn)
                .await
            {
                Ok(rows) => rows.iter().map(parse).collect::<Result<_, _>>().map(Some),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }

        /// sqlx's history (`adopt-sqlx`), or `None` when `table` does not exist.
        pub(crate) async fn read_sqlx_history(
            conn: &mut $conn,
            table: &str,
        ) -> Result<Option<Vec<$crate::adopt::SqlxRow>>, ::sqlx::Error> {
            use ::sqlx::Row as _;
            let missing: fn(&::sqlx::Error) -> bool = $missing;
            let select = format!(
                "SELECT version, description, success, checksum FROM {table} ORDER BY version"
            );
            match ::sqlx::query(::sqlx::AssertSqlSafe(select)).fetch_all(conn).await {
                Ok(rows) => rows
                    .iter()
                    .map(|r| {
                        Ok($crate::adopt::SqlxRow {
                            version: r.try_get(0)?,
                            description: r.try_get(1)?,
                            success: r.try_get(2)?,
                            checksum: r.try_get(3)?,
                        })
                    })
                    .collect::<Result<_, ::sqlx::Error>>()
                    .map(Some),
                Err(e) if missing(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
    };
}

pub(crate) use sqlx_driver;
