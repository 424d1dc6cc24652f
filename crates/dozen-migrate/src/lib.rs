#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adopt;
mod cli;
mod database;
mod driver;
mod duration;
mod error;
mod history;
mod migrator;
mod plan;
mod report;
mod session;
mod settings;
mod status;
mod table_name;
mod transaction;

pub use adopt::{Adopted, Adoption};
pub use cli::Cli;
pub use database::Database;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use driver::mysql::MySqlDriver;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use driver::postgres::PgDriver;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use driver::sqlite::SqliteDriver;
pub use error::{Error, ErrorKind};
pub use history::{Entry, State};
pub use migrator::{Migrator, Resolution};
pub use plan::{Plan, Step};
pub use report::{Applied, Progress, Report};
pub use settings::MigrateSettings;
pub use status::Status;
pub use table_name::TableName;
pub use transaction::TransactionMode;

/// refinery, whose `embed_migrations!`, [`Migration`](refinery::Migration) and
/// [`Runner`](refinery::Runner) this crate builds on.
pub use refinery;
