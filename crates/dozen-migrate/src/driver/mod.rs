//! One module per database, each with refinery's traits over a sqlx
//! connection (the public driver newtype) and the statements a locked run
//! needs: the lock, the history table, applying one migration.

mod sqlx_driver;

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
