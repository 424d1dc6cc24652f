//! Reading single variables for the `from_env` and `from_lookup` functions
//! of the settings structs, with errors that name the variable and never its
//! value.

use std::ffi::OsString;
use std::time::Duration;

use crate::Error;
use crate::duration::{self, Problem};

/// Variables looked up by a closure (`std::env::var_os` in production).
pub(crate) struct Lookup<F>(pub(crate) F);

impl<F: FnMut(&str) -> Option<OsString>> Lookup<F> {
    /// The trimmed text of `variable`; `None` when unset or empty.
    fn text(&mut self, variable: &'static str) -> Result<Option<String>, Error> {
        let Some(raw) = (self.0)(variable) else {
            return Ok(None);
        };
        let raw = raw
            .into_string()
            .map_err(|_| Error::NotUnicode { variable })?;
        let trimmed = raw.trim();
        Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
    }

    /// A humantime duration of at most [`MAX_DURATION`](crate::MAX_DURATION).
    pub(crate) fn duration(&mut self, variable: &'static str) -> Result<Option<Duration>, Error> {
        let Some(text) = self.text(variable)? else {
            return Ok(None);
        };
        duration::parse(&text)
            .map(Some)
            .map_err(|problem| match problem {
                Problem::Syntax => Error::InvalidDuration { variable },
                Problem::TooLong => Error::OutOfRange {
                    variable,
                    expected: problem.expected(),
                },
            })
    }

    /// A whole number that fits a `u32`.
    #[cfg(feature = "axum")]
    pub(crate) fn number(&mut self, variable: &'static str) -> Result<Option<u32>, Error> {
        let Some(text) = self.text(variable)? else {
            return Ok(None);
        };
        text.parse()
            .map(Some)
            .map_err(|_| Error::InvalidNumber { variable })
    }
}
