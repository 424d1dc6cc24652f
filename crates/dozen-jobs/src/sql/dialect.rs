//! The SQL dialects: dozen-backing's, which prepares the queue's statements as it does an
//! app's.

pub use dozen_backing::{Dialect, Sql};

/// The dialect of the queue's database URL, or an error naming the URL (its password hidden).
#[cfg(feature = "any")]
pub(crate) fn of(url: &dozen_backing::ServiceUrl) -> Result<Dialect, crate::error::Error> {
    Dialect::of(url).ok_or_else(|| {
        crate::error::Error::invalid(format!(
            "{url}: dozen-jobs needs a postgres, mysql, mariadb or sqlite URL"
        ))
    })
}
