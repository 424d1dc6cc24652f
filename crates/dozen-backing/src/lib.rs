#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "_sqlx")]
mod dialect;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "any"))]
mod driver_url;
mod error;
#[cfg(feature = "_sqlx")]
mod pool;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(feature = "_retry")]
mod retry;
mod service_url;
#[cfg(feature = "_sqlx")]
mod settings;

pub use error::{Error, ErrorKind};
pub use service_url::{Kind, ServiceUrl};

#[cfg(feature = "_sqlx")]
#[cfg_attr(
    docsrs,
    doc(cfg(any(
        feature = "postgres",
        feature = "mysql",
        feature = "sqlite",
        feature = "any"
    )))
)]
pub use {
    dialect::{Dialect, Sql},
    pool::{Driver, Probe, connect, connect_lazy, ping},
    settings::PoolSettings,
};

#[cfg(feature = "any")]
#[cfg_attr(docsrs, doc(cfg(feature = "any")))]
pub use pool::{Any, AnyPool};
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use pool::{MySql, MySqlPool};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use pool::{PgPool, Postgres};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use pool::{Sqlite, SqlitePool};
