//! [`Plan`]: what the next run would apply, SQL included.

use refinery::SchemaVersion;

use crate::transaction::TransactionMode;

/// What the next run would apply: see [`Migrator::plan`](crate::Migrator::plan).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The newest applied version.
    pub current: Option<SchemaVersion>,
    /// The version the run stops at (the `--target`, else the newest embedded).
    pub target: Option<SchemaVersion>,
    /// The migrations it would apply, in order.
    pub steps: Vec<Step>,
}

/// One migration of a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// Its version.
    pub version: SchemaVersion,
    /// Its name.
    pub name: String,
    /// Inside a transaction or not (`-- no-transaction`).
    pub mode: TransactionMode,
    /// Its SQL, as embedded.
    pub sql: String,
}
