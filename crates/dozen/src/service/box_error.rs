//! [`BoxError`]: the error of an app's step, whatever its type.

use std::error::Error;

/// An error a step returns, logged before the process ends.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;
